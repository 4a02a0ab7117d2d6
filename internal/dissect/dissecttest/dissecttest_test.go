package dissecttest

import (
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// lines is a dissector of newline-terminated records, for testing the kit.
type lines struct{}

func (lines) Name() string                             { return "lines" }
func (lines) Probe([]byte) bool                        { return false }
func (lines) NewSession(*dissect.Flow) dissect.Session { return linesSession{} }

type linesSession struct{}

func (linesSession) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	n := 0
	for i, b := range data {
		if b == '\n' {
			op := ctx.Op("lines")
			op.FunctionName = string(data[n:i])
			ctx.Emit(op)
			n = i + 1
		}
	}
	return n, nil
}
func (linesSession) Gap(dissect.Direction, int, *dissect.Context) {}
func (linesSession) Close(*dissect.Context)                       {}

func TestFeederAndSplit(t *testing.T) {
	if got := Hex(t, "0001 |00 00\n 0a"); string(got) != "\x00\x01\x00\x00\x0a" {
		t.Errorf("Hex = %x", got)
	}
	var c Collector
	f := &Feeder{Session: linesSession{}, Ctx: Context(Flow(dissect.TransportTCP, 1), &c)}
	for _, chunk := range []string{"ab", "c\nd", "e\n", "f"} {
		f.Feed(dissect.ToServer, []byte(chunk))
	}
	if len(c.Ops) != 2 || c.Ops[0].FunctionName != "abc" || c.Ops[1].FunctionName != "de" {
		t.Errorf("operations %s", c.JSONL())
	}
	for cut := range 8 {
		FeedWholeAndSplit(t, lines{}, dissect.ToServer, []byte("one\ntwo\n"), cut)
	}
}

func TestBER(t *testing.T) {
	long := make([]byte, 200)
	longer := make([]byte, 300)
	tests := []struct {
		name  string
		id    byte
		parts [][]byte
		head  string // identifier and length octets, hex
	}{
		{"empty", 0x05, nil, "0500"},
		{"parts concatenated", 0x30, [][]byte{{1}, {2, 3}}, "3003"},
		{"short form up to 127", 0x04, [][]byte{long[:127]}, "047f"},
		{"one length octet", 0x04, [][]byte{long}, "0481c8"},
		{"two length octets", 0x04, [][]byte{longer}, "0482012c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BER(tt.id, tt.parts...)
			head := Hex(t, tt.head)
			n := 0
			for _, p := range tt.parts {
				n += len(p)
			}
			if len(got) != len(head)+n || string(got[:len(head)]) != string(head) {
				t.Errorf("BER = %x (%d octets), want header %s and %d content octets", got[:min(len(got), 8)], len(got), tt.head, n)
			}
		})
	}
}

func TestRunAndExpect(t *testing.T) {
	ops := Run(t, lines{}, dissect.TransportTCP, 7, []Chunk{
		{Dir: dissect.ToServer, Hex: "61 62"},
		{Dir: dissect.ToServer, At: time.Second, Hex: "0a 63 0a"},
	})
	Expect(t, "lines", ops, []Want{{Fn: "ab", Packets: 1}, {Fn: "c", Packets: 1}})
	if !ops[0].Time.Equal(Start.Add(time.Second)) || ops[0].Packets[0].Index != 1 {
		t.Errorf("operation at %v, packet %+v; want the second chunk's", ops[0].Time, ops[0].Packets[0])
	}
	msgs := FeedMessages(t, lines{}, 7, C2S("x\n"), S2C("y\n"))
	if len(msgs) != 2 || msgs[0].FunctionName != "x" || msgs[1].FunctionName != "y" {
		t.Errorf("FeedMessages operations %+v", msgs)
	}
}
