package dissecttest

import (
	"testing"

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
