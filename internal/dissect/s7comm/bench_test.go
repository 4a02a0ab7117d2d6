package s7comm

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// A polling cycle as an HMI runs it: read var of DB1.DBW4 and M10.3
// (two items) and its answer.
const (
	pollRequest = "03 00 002b 02 f0 80 32 01 0000 0200 001a 0000 04 02 " +
		"12 0a 10 04 0001 0001 84 000020 12 0a 10 01 0001 0000 83 000053"
	pollAnswer = "03 00 0020 02 f0 80 32 03 0000 0200 0002 000b 00 00 04 02 ff 04 0010 1234 ff 03 0001 01"
)

func pollSession(tb testing.TB) *dissecttest.Poll {
	return dissecttest.NewPoll(Dissector{}, Port, dissecttest.Hex(tb, pollRequest), dissecttest.Hex(tb, pollAnswer))
}

func TestPollAllocs(t *testing.T) {
	pollSession(t).ZeroAllocs(t, func(op *dissect.Operation) bool {
		return op.FunctionName == "read_var" && op.Result.Status == dissect.StatusOK && len(op.Targets) == 2 && op.Targets[1].Name == "M10.3"
	})
}

func BenchmarkPoll(b *testing.B) { pollSession(b).Bench(b) }
