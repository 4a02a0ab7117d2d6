// Package opcua decodes OPC UA binary over TCP: the UA Connection Protocol
// (UACP: Hello, Acknowledge, Error, ReverseHello; OPC 10000-6 "Mappings",
// section 7.1) and UA Secure Conversation (UASC: OpenSecureChannel,
// CloseSecureChannel and service messages; section 6.7), with the service
// encodings of OPC 10000-4 "Services" and the binary encoding ids of the
// specification's NodeIds.csv.
//
// A session frames the byte stream by the 8-byte message header, pairs
// Hello with Acknowledge (or Error), OpenSecureChannel requests with their
// responses and service requests with their responses by the request id
// of the sequence header, and emits one operation per pair: the service by
// name and class, the response header's service result as the result, the
// user identity token of ActivateSession, and the application descriptions
// of GetEndpoints and CreateSession as identity facts. Channels secured
// with a policy other than None are recognised and reported one operation
// per message without decoding their payload. The polling path (Read,
// Publish) allocates nothing.
package opcua
