package tls

import (
	"net/netip"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// conversation is one TCP connection written into a test capture by
// dissecttest.WriteTCP.
type conversation struct {
	client, server netip.AddrPort
	msgs           []message
	mss            int // 0: 1400
}

// message is the payload one side sends.
type message struct {
	toServer bool
	data     string
}

func c2s(s string) message { return message{true, s} }
func s2c(s string) message { return message{false, s} }

// writeCapture writes the conversations into a pcap in a temporary
// directory and returns its path.
func writeCapture(t testing.TB, convs ...conversation) string {
	t.Helper()
	out := make([]dissecttest.Conversation, len(convs))
	for i, c := range convs {
		out[i] = dissecttest.Conversation{Client: c.client, Server: c.server, MSS: c.mss}
		for _, m := range c.msgs {
			out[i].Msgs = append(out[i].Msgs, dissecttest.Message{ToServer: m.toServer, Data: m.data})
		}
	}
	return dissecttest.WriteTCP(t, out...)
}

var (
	tsharkFields = dissecttest.TsharkFields
	tsharkValues = dissecttest.TsharkValues
)
