// Package mqtt decodes MQTT, the publish/subscribe messaging protocol of
// IIoT gateways, historians and SCADA-to-cloud links: MQTT 3.1 (IBM/Eurotech
// "MQTT V3.1 Protocol Specification", protocol name "MQIsdp", level 3),
// OASIS "MQTT Version 3.1.1" (level 4) and OASIS "MQTT Version 5.0"
// (level 5), over TCP port 1883.
//
// A CONNECT and its CONNACK make one authentication operation; a PUBLISH
// and its acknowledgements (PUBACK, or PUBREC/PUBREL/PUBCOMP) one write (sent
// by a client) or read (delivered by the broker); SUBSCRIBE/SUBACK and
// UNSUBSCRIBE/UNSUBACK one read each; PINGREQ/PINGRESP one diagnostics
// operation. Message payloads and passwords are never kept or emitted.
package mqtt
