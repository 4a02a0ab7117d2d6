package mms_test

import (
	"fmt"
)

// exchange is one TSDU of the test conversation: its direction and
// bytes.
type exchange struct {
	toServer bool
	tsdu     []byte
}

func req(tsdu []byte) exchange  { return exchange{true, tsdu} }
func resp(tsdu []byte) exchange { return exchange{false, tsdu} }

// scenario is an IEC 61850 client session against an IED, every service
// of the brief once: association, discovery, reads, writes, datasets,
// files, program invocations, status, a report, a reject, release.
func scenario() []exchange {
	ld := "IED1LD0"
	many := make([]byte, 0, 4000)
	for i := range 150 {
		many = append(many, str("1a", fmt.Sprintf("LLN0$MX$Var%03d", i))...)
	}
	return []exchange{
		req(connectTSDU),
		resp(acceptTSDU),
		// identify [2] NULL; Identify-Response vendor, model, revision.
		req(dataTSDU(confReq(1, h("82 00")))),
		resp(dataTSDU(confResp(1, enc("a2", str("80", "otwatch labs"), str("81", "IED-9000"), str("82", "4.2.1"))))),
		// getNameList [1]: object class domain (9), scope vmd.
		req(dataTSDU(confReq(2, enc("a1", enc("a0", integer("80", 9)), enc("a1", h("80 00")))))),
		resp(dataTSDU(confResp(2, enc("a1", enc("a0", str("1a", ld), str("1a", "IED1PROT")), h("81 01 00"))))),
		// getNameList of named variables (0) in domain IED1LD0: a long
		// answer spread over several DT TPDUs and TCP segments.
		req(dataTSDU(confReq(3, enc("a1", enc("a0", integer("80", 0)), enc("a1", str("81", ld)))))),
		resp(dataTSDU(confResp(3, enc("a1", enc("a0", many), h("81 01 ff"))))),
		// getVariableAccessAttributes [6] name [0]; the answer: not
		// deletable, a structure with component Mod of integer [5] 8.
		req(dataTSDU(confReq(4, enc("a6", enc("a0", objName(ld, "LLN0")))))),
		resp(dataTSDU(confResp(4, enc("a6", h("80 01 00"), enc("a2", enc("a2", enc("a1", enc("30", str("80", "Mod"), enc("a1", h("85 01 08")))))))))),
		// read [4] of two variables; integer [5] values.
		req(dataTSDU(confReq(5, enc("a4", enc("a1", listOfVariable([2]string{ld, "LLN0$ST$Mod$stVal"}, [2]string{ld, "LLN0$ST$Beh$stVal"})))))),
		resp(dataTSDU(confResp(5, enc("a4", enc("a1", h("85 01 01"), h("85 01 01")))))),
		// read of a missing object: failure object-non-existent (10).
		req(dataTSDU(confReq(6, enc("a4", enc("a1", listOfVariable([2]string{ld, "LLN0$ST$Nope$stVal"})))))),
		resp(dataTSDU(confResp(6, enc("a4", enc("a1", h("80 01 0a")))))),
		// write [5]: refused with object-access-denied (3).
		req(dataTSDU(confReq(7, enc("a5", listOfVariable([2]string{ld, "CSWI1$CO$Pos$Oper"}), enc("a0", enc("a2", h("83 01 ff"))))))),
		resp(dataTSDU(confResp(7, enc("a5", h("80 01 03"))))),
		// write accepted.
		req(dataTSDU(confReq(8, enc("a5", listOfVariable([2]string{ld, "LLN0$BR$brcb01$RptEna"}), enc("a0", h("83 01 ff")))))),
		resp(dataTSDU(confResp(8, enc("a5", h("81 00"))))),
		// defineNamedVariableList [11]; response NULL.
		req(dataTSDU(confReq(9, enc("ab", objName(ld, "LLN0$DS1"),
			enc("a0", enc("30", enc("a0", objName(ld, "LLN0$ST$Mod"))), enc("30", enc("a0", objName(ld, "LLN0$ST$Beh")))))))),
		resp(dataTSDU(confResp(9, h("8b 00")))),
		// fileDirectory [77]: one entry, size 1024.
		req(dataTSDU(confReq(10, enc("bf4d", enc("a0", fileName("/COMTRADE/")))))),
		resp(dataTSDU(confResp(10, enc("bf4d", enc("a0", enc("30", enc("30", enc("a0", fileName("/COMTRADE/fault1.cfg")),
			enc("a1", integer("80", 1024))))), h("81 01 00"))))),
		// fileOpen [72], fileRead [73], fileClose [74].
		req(dataTSDU(confReq(11, enc("bf48", enc("a0", fileName("/COMTRADE/fault1.cfg")), integer("81", 0))))),
		resp(dataTSDU(confResp(11, enc("bf48", integer("80", 1), enc("a1", integer("80", 1024), str("81", "20260105080000Z")))))),
		req(dataTSDU(confReq(12, integer("9f49", 1)))),
		resp(dataTSDU(confResp(12, enc("bf49", str("80", "cfg data"), h("81 01 00"))))),
		req(dataTSDU(confReq(13, integer("9f4a", 1)))),
		resp(dataTSDU(confResp(13, h("9f4a 00")))),
		// fileDelete [76] refused: file (11) file-access-denied (6).
		req(dataTSDU(confReq(14, enc("bf4c", fileName("/COMTRADE/fault1.cfg"))))),
		resp(dataTSDU(confErr(14, 11, 6))),
		// obtainFile [46]: source and destination file.
		req(dataTSDU(confReq(15, enc("bf2e", enc("a1", fileName("fw.bin")), enc("a2", fileName("/fw.bin")))))),
		resp(dataTSDU(confResp(15, h("9f2e 00")))),
		// status [0] extendedDerivation false; Status-Response.
		req(dataTSDU(confReq(16, h("80 01 00")))),
		resp(dataTSDU(confResp(16, enc("a0", h("80 01 00"), h("81 01 00"))))),
		// start [40], stop [41], resume [42], reset [43] of "PI1".
		req(dataTSDU(confReq(17, enc("bf28", str("80", "PI1"))))),
		resp(dataTSDU(confResp(17, h("9f28 00")))),
		req(dataTSDU(confReq(18, enc("bf29", str("80", "PI1"))))),
		resp(dataTSDU(confResp(18, h("9f29 00")))),
		req(dataTSDU(confReq(19, enc("bf2a", str("80", "PI1"))))),
		resp(dataTSDU(confResp(19, h("9f2a 00")))),
		req(dataTSDU(confReq(20, enc("bf2b", str("80", "PI1"))))),
		resp(dataTSDU(confResp(20, h("9f2b 00")))),
		// informationReport [0]: list "RPT", report id, a value.
		resp(dataTSDU(enc("a3", enc("a0", enc("a1", str("80", "RPT")), enc("a0", str("8a", "IED1LD0/LLN0$BR$brcb01"), h("85 01 01")))))),
		// read rejected: confirmed-requestPDU [1] invalid-argument (4).
		req(dataTSDU(confReq(21, enc("a4", enc("a1", listOfVariable([2]string{ld, "LLN0$ST$Mod$stVal"})))))),
		resp(dataTSDU(enc("a4", integer("80", 21), integer("81", 4)))),
		req(concludeReq),
		resp(concludeResp),
		req(finishTSDU),
		resp(disconnectTSDU),
	}
}
