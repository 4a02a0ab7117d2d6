package snmp

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"

	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// datagram is one UDP datagram of a test capture (dissecttest.WriteUDP).
type datagram struct {
	src, dst       netip.AddrPort
	srcMAC, dstMAC net.HardwareAddr
	payload        gopacket.SerializableLayer
}

func writeUDP(t testing.TB, grams ...datagram) string {
	t.Helper()
	out := make([]dissecttest.Datagram, len(grams))
	for i, g := range grams {
		out[i] = dissecttest.Datagram{Src: g.src, Dst: g.dst, SrcMAC: g.srcMAC, DstMAC: g.dstMAC, Payload: g.payload}
	}
	return dissecttest.WriteUDP(t, out...)
}

var (
	corpusDir      = dissecttest.CorpusDir
	udpPayloads    = dissecttest.UDPPayloads
	tsharkFields   = dissecttest.TsharkFrames
	corpusCaptures = dissecttest.CorpusCaptures
)
