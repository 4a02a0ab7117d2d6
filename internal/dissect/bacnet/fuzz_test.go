package bacnet

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// FuzzSession feeds any bytes to a session: as a stream framed by the BVLC
// length, whole and split at any point (the same operations either way),
// and as UDP datagrams. No input may panic.
func FuzzSession(f *testing.F) {
	dissecttest.SeedFromCorpus(f, "bacnet", 60)
	dissecttest.SeedHex(f,
		"810a0011 0104 0005010c 0c00000005 1955",
		"810a0017 0100 30010c 0c00000005 1955 3e 444290999a 3f",
		"810b0018 0120ffff00ff 1000 c402000003 2201e0 9101 2163",
		"810a000d 0100 50020c 9101 911f",
		"810a001a 0104 0004590f 0c00800001 1955 3e4443340000 3f 4908",
		"810a0013 0104 00050411 0905 1901 2c00616263",
		"81040012 c0a80010bac0 0120ffff00ff 1008",
		"81050006 003c 81000006 0000",
		"810a001d 0108 0003010a 30070c 0c0200000a 194d 3e 7505 00504c4331 3f",
		"810a0014 0104 0205010e 0c02000001 1e094c1f 810a000d 0100 3c0100040e 0c",
		"810b0007 018000",
		"810b0013 "+iAmFrame, // the NPDU alone is a BACnet/Ethernet frame's payload
		"810b0008 0100 1008",
	)
	f.Fuzz(fuzzBody)
}

func fuzzBody(t *testing.T, data []byte) {
	dissecttest.FeedBothWays(t, Dissector{}, data)
	// The datagram path: the input cut into datagrams of 1 + data[0] bytes.
	{
		cut := 0
		if len(data) > 0 {
			cut = int(data[0])
		}
		flow := dissecttest.Flow(dissect.TransportUDP, Port)
		ctx := dissecttest.Context(flow, dissecttest.Discard)
		s := Dissector{}.NewSession(flow)
		for i := 0; i < len(data); i += 1 + cut {
			end := min(len(data), i+1+cut)
			if n, err := s.Feed(dissect.Direction(i&1), data[i:end], ctx); err != nil || n != end-i {
				t.Fatalf("datagram Feed = %d, %v", n, err)
			}
		}
		s.Close(ctx)
	}
	// The frame path: the input as the NPDU of a BACnet/Ethernet frame,
	// and, for inputs shaped as BVLL messages, the NPDU after the BVLC
	// header.
	d := &FrameDissector{}
	ctx := frameCtx(dissecttest.Discard)
	d.Dissect(&dissect.Frame{LLC: true, DSAP: SAP, SSAP: SAP, Payload: data}, ctx)
	if len(data) > bvlcHeaderLen {
		d.Dissect(&dissect.Frame{LLC: true, DSAP: SAP, SSAP: SAP, Payload: data[bvlcHeaderLen:]}, ctx)
	}
}
