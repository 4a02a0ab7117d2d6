package dissecttest

import (
	"path/filepath"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
)

// SeedFromCorpus adds the TCP and UDP payloads of the shared corpus's
// captures of protocol ($OTWATCH_CORPUS/<protocol>/*/capture.pcap*) as
// seeds of f, at most max per capture. Without the corpus it adds
// nothing: fuzz seeding must not fail where the corpus is missing.
func SeedFromCorpus(f *testing.F, protocol string, max int) {
	if dir := CorpusDir(); dir != "" {
		SeedFromPcaps(f, filepath.Join(dir, protocol, "*", "capture.pcap*"), max)
	}
}

// SeedHex adds each hex text (see Hex) as a seed of f.
func SeedHex(f *testing.F, hexes ...string) {
	for _, s := range hexes {
		f.Add(Hex(f, s))
	}
}

// FeedBothWays is the body of a stream session's fuzz target: it runs
// FeedWholeAndSplit on data sent to the server, split at the value of its
// first byte, and on data sent to the client, split at seven times that.
func FeedBothWays(t *testing.T, d dissect.Dissector, data []byte) {
	t.Helper()
	cut := 0
	if len(data) > 0 {
		cut = int(data[0])
	}
	FeedWholeAndSplit(t, d, dissect.ToServer, data, cut)
	FeedWholeAndSplit(t, d, dissect.ToClient, data, cut*7)
}

// FeedDatagrams hands data as one datagram in each direction to a new
// session of d on a UDP flow to port and closes the session, dropping the
// operations: a fuzz target's check that no datagram panics.
func FeedDatagrams(d dissect.Dissector, port uint16, data []byte) {
	flow := Flow(dissect.TransportUDP, port)
	ctx := Context(flow, Discard)
	s := d.NewSession(flow)
	s.Feed(dissect.ToServer, data, ctx)
	s.Feed(dissect.ToClient, data, ctx)
	s.Close(ctx)
}
