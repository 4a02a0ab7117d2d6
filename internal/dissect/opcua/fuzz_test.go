package opcua

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// FuzzSession feeds any bytes, whole and split at any point, to a session
// in either direction: no panic, and the same operations either way.
func FuzzSession(f *testing.F) {
	dissecttest.SeedFromCorpus(f, "opcua", 30)
	const none = "http://opcfoundation.org/UA/SecurityPolicy#None"
	user := enc(nil).str("p").str("u").str("pw").null()
	for _, b := range [][]byte{
		hello("opc.tcp://plc:4840"),
		ack(),
		errMsg(0x80820000, "internal"),
		opn(none, 1, opnRequest(1)),
		opn(none, 1, opnResponse()),
		opn("http://opcfoundation.org/UA/SecurityPolicy#Basic256", 1, enc(nil).zero(40)),
		msg(2, readRequest(1, 3)),
		msg(2, readResponse(1, 0, 3)),
		msg(3, enc(nil).numeric(397).responseHeader(1, 0x80790000)),
		msg(4, enc(nil).numeric(467).requestHeader(1).null().null().i32(-1).i32(-1).numeric(324).u8(1).i32(int32(len(user))).raw(user...).null().null()),
		msg(5, enc(nil).numeric(431).responseHeader(7, 0).i32(1).endpoint("opc.tcp://plc:4840", "urn:a", "urn:b", "c")),
		append(chunk("MSG", 'C', 6, readResponse(1, 0, 3)[:10]), chunk("MSG", 'F', 6, readResponse(1, 0, 3)[10:])...),
		chunk("MSG", 'A', 6, enc(nil).u32(0x80080000).null()),
		chunk("CLO", 'F', 7, enc(nil).numeric(452).requestHeader(1)),
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dissecttest.FeedBothWays(t, Dissector{}, data)
	})
}
