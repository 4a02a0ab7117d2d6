package baseline

import (
	"cmp"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// recordsByText returns b's records sorted as Records documents it, the
// plain way: comparing the fields one after the other, MACs by their text.
func recordsByText(b *Baseline) []Record {
	b.mu.RLock()
	out := make([]Record, 0, len(b.entries))
	for e, s := range b.entries {
		out = append(out, Record{e, *s})
	}
	b.mu.RUnlock()
	slices.SortFunc(out, func(x, y Record) int {
		return cmp.Or(
			cmp.Compare(x.Kind, y.Kind),
			x.Client.Compare(y.Client),
			x.Server.Compare(y.Server),
			cmp.Compare(x.MAC.String(), y.MAC.String()),
			cmp.Compare(x.Protocol, y.Protocol),
			cmp.Compare(x.Port, y.Port),
			cmp.Compare(x.Function, y.Function),
			cmp.Compare(x.Class, y.Class),
			cmp.Compare(x.Target, y.Target),
		)
	})
	return out
}

// TestRecordsOrder checks Records against the plain field-by-field order
// on entries that differ in one field at a time, where a shortcut could
// go wrong: IPv4 against IPv6, zones, MACs whose bytes differ high or low,
// the zero address and MAC, kinds that are not one of the package's.
func TestRecordsOrder(t *testing.T) {
	addrs := []netip.Addr{{}, netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.10"), netip.MustParseAddr("9.255.255.255"),
		netip.MustParseAddr("::ffff:10.0.0.2"), netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::1%eth0"),
		netip.MustParseAddr("fe80::1%eth1"), netip.MustParseAddr("2001:db8::1")}
	macs := []dissect.MAC{{}, {0, 0, 0, 0, 0, 0xff}, {0, 0, 0, 0, 1, 0}, {0xff, 0, 0, 0, 0, 0}, {0x0a, 0xbc, 0, 0, 0, 1}}
	kinds := []Kind{KindDevice, KindConnection, KindValue, "zzz", "Access", ""}
	strs := []string{"", "a", "B", "ab", "modbus"}
	b := New(0)
	t0 := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	n := 0
	for i, k := range kinds {
		for j, c := range addrs {
			for l, s := range addrs {
				e := Entry{Kind: k, Client: c, Server: s, MAC: macs[(i+j+l)%len(macs)], Protocol: strs[(j+l)%len(strs)],
					Port: uint16((i * j) % 3), Function: strs[l%len(strs)], Class: strs[(i+l)%len(strs)], Target: strs[j%len(strs)]}
				b.Observe(e, t0.Add(time.Duration(n)*time.Second), "learning")
				n++
				for _, m := range macs { // the same entry but for its MAC
					e.MAC = m
					b.Observe(e, t0, "learning")
				}
			}
		}
	}
	got, want := b.Records(), recordsByText(b)
	if len(got) != b.Len() || len(got) < n {
		t.Fatalf("%d records of %d entries, want at least %d", len(got), b.Len(), n)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d is %v (%+v), want %v (%+v)", i, got[i].Entry, got[i].Stats, want[i].Entry, want[i].Stats)
		}
	}
}

// TestHas checks Has against what was observed, and that a removed entry
// is gone.
func TestHas(t *testing.T) {
	b := New(2)
	t0 := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	dev := func(ip string) Entry { return Entry{Kind: KindDevice, Client: netip.MustParseAddr(ip)} }
	b.Observe(dev("10.0.0.1"), t0, "learning")
	b.Observe(dev("10.0.0.2"), t0, "learning")
	b.Observe(dev("10.0.0.3"), t0, "learning") // past max: dropped
	tests := []struct {
		e    Entry
		want bool
	}{
		{dev("10.0.0.1"), true},
		{dev("10.0.0.2"), true},
		{dev("10.0.0.3"), false},
		{Entry{Kind: KindConnection, Client: netip.MustParseAddr("10.0.0.1")}, false},
		{Entry{}, false},
	}
	for _, tt := range tests {
		if got := b.Has(tt.e); got != tt.want {
			t.Errorf("Has(%v) = %v, want %v", tt.e, got, tt.want)
		}
	}
	if b.Dropped() != 1 {
		t.Errorf("Dropped() = %d, want 1", b.Dropped())
	}
	if !b.Remove(dev("10.0.0.1")) || b.Has(dev("10.0.0.1")) || b.Remove(dev("10.0.0.1")) {
		t.Error("Remove of a present entry: still there, or removed twice")
	}
}
