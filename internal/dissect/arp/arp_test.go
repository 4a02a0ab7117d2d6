package arp

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

var (
	hostMAC = [6]byte{0x00, 0x1b, 0x1b, 0x01, 0x02, 0x03}
	bcast   = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// Packets are written field by field from RFC 826: hardware type 1
// (Ethernet), protocol type 0x0800, hlen 6, plen 4, opcode, sender MAC,
// sender IP, target MAC, target IP.
func TestDissect(t *testing.T) {
	tests := []struct {
		name, in       string
		src            [6]byte
		fn             string
		code           int
		status         dissect.Status
		client, server string
		fact           string
		detail         bool
	}{
		{"request", "0001 0800 06 04 0001 001b1b010203 0a0a0114 000000000000 0a0a020a", hostMAC,
			"request", 1, dissect.StatusOK, "10.10.1.20", "10.10.2.10", "", false},
		{"reply", "0001 0800 06 04 0002 001b1b010203 0a0a020a 0080f40a0b0c 0a0a0114", hostMAC,
			"reply", 2, dissect.StatusOK, "10.10.2.10", "10.10.1.20", "10.10.2.10", false},
		{"gratuitous", "0001 0800 06 04 0001 001b1b010203 0a0a0132 000000000000 0a0a0132", hostMAC,
			"gratuitous", 1, dissect.StatusOK, "10.10.1.50", "10.10.1.50", "10.10.1.50", false},
		{"probe (RFC 5227)", "0001 0800 06 04 0001 001b1b010203 00000000 000000000000 0a0a0132", hostMAC,
			"probe", 1, dissect.StatusOK, "0.0.0.0", "10.10.1.50", "", false},
		{"sender differs from Ethernet source", "0001 0800 06 04 0002 0080f40a0b0c 0a0a0101 001b1b010203 0a0a0114", hostMAC,
			"reply", 2, dissect.StatusOK, "10.10.1.1", "10.10.1.20", "10.10.1.1", true},
		{"short", "0001 0800 06 04 0001 001b1b", hostMAC,
			"malformed", 0, dissect.StatusMalformed, "invalid IP", "invalid IP", "", false},
		{"not ethernet/ipv4", "0006 0800 06 04 0001 001b1b010203 0a0a0114 000000000000 0a0a020a", hostMAC,
			"request", 1, dissect.StatusMalformed, "invalid IP", "invalid IP", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c dissecttest.Collector
			ctx := &dissect.Context{Emitter: &c, Time: dissecttest.Start}
			Dissector{}.Dissect(&dissect.Frame{SrcMAC: tt.src, DstMAC: bcast, EtherType: 0x0806, Payload: dissecttest.Hex(t, tt.in)}, ctx)
			if len(c.Ops) != 1 {
				t.Fatalf("%d operations, want 1", len(c.Ops))
			}
			op := c.Ops[0]
			if op.FunctionName != tt.fn || op.FunctionCode != tt.code || op.Result.Status != tt.status {
				t.Errorf("function %s (%d) %v, want %s (%d) %v", op.FunctionName, op.FunctionCode, op.Result.Status, tt.fn, tt.code, tt.status)
			}
			if op.Client.IP.String() != tt.client || op.Server.IP.String() != tt.server {
				t.Errorf("client %v server %v, want %s %s", op.Client.IP, op.Server.IP, tt.client, tt.server)
			}
			fact := ""
			if len(op.Identity) > 0 {
				fact = op.Identity[0].Value
			}
			if fact != tt.fact {
				t.Errorf("identity %q, want %q", fact, tt.fact)
			}
			if (op.Detail != "") != tt.detail {
				t.Errorf("detail %q", op.Detail)
			}
		})
	}
}

// arpFrames returns the ARP packets (from the ARP header on) of the
// corpus's captures, for fuzz seeds.
func arpFrames(t testing.TB, max int) [][]byte {
	files, _ := filepath.Glob(filepath.Join(dissecttest.CorpusDir(), "*", "*", "capture.pcap*"))
	dec := decode.NewDecoder(decode.DefaultOptions)
	var out [][]byte
	var p decode.Packet
	for _, f := range files {
		src, err := capture.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		for len(out) < max {
			pkt, err := src.ReadPacket()
			if errors.Is(err, io.EOF) || err != nil {
				break
			}
			if dec.Decode(pkt.LinkType, pkt.Data, pkt.Timestamp, &p) == nil && p.Network == decode.NetARP && len(pkt.Data) >= 14 {
				out = append(out, append([]byte(nil), pkt.Data[14:]...))
			}
		}
		src.Close()
	}
	return out
}

func FuzzDissect(f *testing.F) {
	f.Add(dissecttest.Hex(f, "0001 0800 06 04 0002 001b1b010203 0a0a020a 0080f40a0b0c 0a0a0114"))
	f.Add([]byte{0, 1, 8, 0, 6, 4})
	for _, b := range arpFrames(f, 20) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		ctx := &dissect.Context{Emitter: dissect.EmitterFunc(func(*dissect.Operation) { n++ })}
		Dissector{}.Dissect(&dissect.Frame{SrcMAC: hostMAC, Payload: b}, ctx)
		if n != 1 {
			t.Fatalf("%d operations for one frame, want 1", n)
		}
	})
}
