// Package mms decodes IEC 61850 / ISO 9506 MMS (Manufacturing Message
// Specification) over the OSI upper layers that carry it on ISO-on-TCP
// (RFC 1006, TCP port 102): ISO 8327-1 session SPDUs (CONNECT, ACCEPT,
// REFUSE, GIVE TOKENS + DATA TRANSFER, FINISH, DISCONNECT, ABORT), ISO
// 8823-1 presentation PPDUs (CP, CPA, CPR, ARU and fully encoded user data
// with its presentation context identifier), ISO 8650-1 ACSE APDUs (AARQ,
// AARE, RLRQ, RLRE, ABRT) and the MMS PDUs of ISO 9506-2 (initiate,
// confirmed request, response and error, unconfirmed, reject, cancel,
// conclude), BER-encoded.
//
// The package registers nothing: TPKT and COTP are the front end's, the
// s7comm dissector's session on port 102, which hands a connection's
// TSDUs to a Session once its first data shows the ISO session layer
// rather than S7comm. Every operation has Protocol "mms"; confirmed
// requests pair with their responses, errors and rejects by invokeID.
// See README.md for the services, classes, targets and what is not
// decoded.
package mms
