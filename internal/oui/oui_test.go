package oui

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/testenv"
)

// dataDir returns the shared reference data folder ($OTWATCH_DATA, or
// ../shared/data next to the module root), or skips the test.
func dataDir(t testing.TB) string {
	t.Helper()
	testenv.Data(t, "oui/oui.csv", "IEEE OUI listings")
	return testenv.DataDir()
}

// registry is the IEEE listings read straight from the CSV files: prefix
// length → prefix → organisation name (first row of a duplicated block).
type registry map[int]map[uint64]string

func readRegistry(t *testing.T) registry {
	t.Helper()
	dir := dataDir(t)
	reg := registry{24: {}, 28: {}, 36: {}}
	for _, f := range []string{"oui.csv", "mam.csv", "oui36.csv", "iab.csv"} {
		fh, err := os.Open(filepath.Join(dir, "oui", f))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(fh).ReadAll()
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, r := range recs[1:] {
			bits := len(r[1]) * 4
			k, err := strconv.ParseUint(r[1], 16, 64)
			if err != nil || reg[bits] == nil {
				t.Fatalf("%s: bad assignment %q", f, r[1])
			}
			if _, dup := reg[bits][k]; !dup {
				reg[bits][k] = r[2]
			}
		}
	}
	return reg
}

// want returns the registry's name for mac by longest prefix.
func (r registry) want(mac [6]byte) (string, bool) {
	p := uint64(mac[0])<<40 | uint64(mac[1])<<32 | uint64(mac[2])<<24 | uint64(mac[3])<<16 | uint64(mac[4])<<8 | uint64(mac[5])
	for _, bits := range []int{36, 28, 24} {
		if n, ok := r[bits][p>>(48-bits)]; ok {
			return n, true
		}
	}
	return "", false
}

// macIn returns an address inside the block prefix/bits, the remaining
// bits filled with fill.
func macIn(prefix uint64, bits int, fill uint64) [6]byte {
	v := prefix<<(48-bits) | fill&(1<<(48-bits)-1)
	var m [6]byte
	for i := range 6 {
		m[i] = byte(v >> (40 - 8*i))
	}
	return m
}

// normalize folds a name the way the generator does (whitespace folded,
// trailing commas dropped), as the IEEE CSV rows are compared with it.
func normalize(s string) string {
	return strings.TrimRight(strings.Join(strings.Fields(s), " "), ", ")
}

// TestRegistryRows looks up an address inside every block of every IEEE
// CSV row and checks the name against the row that the longest prefix
// selects.
func TestRegistryRows(t *testing.T) {
	reg := readRegistry(t)
	n := 0
	for bits, m := range reg {
		for prefix := range m {
			for _, fill := range []uint64{0, 0xa5a5a5a5a5, ^uint64(0)} {
				mac := macIn(prefix, bits, fill)
				want, _ := reg.want(mac)
				if KindOf(mac) == Multicast {
					continue // registered blocks with the I/G bit set are group addresses
				}
				short, full, ok := Lookup(mac)
				n++
				if !ok || full != normalize(want) {
					t.Errorf("Lookup(%x) = %q, %v; registry says %q", mac, full, ok, want)
					continue
				}
				if short == "" || !strings.HasPrefix(full, short) {
					t.Errorf("Lookup(%x): short name %q is not a prefix of %q", mac, short, full)
				}
			}
		}
	}
	if n < 3*40000 {
		t.Errorf("only %d lookups checked", n)
	}
}

// TestSpecialAddresses checks group and locally administered addresses
// against the bits IEEE 802 defines (I/G is bit 0 of the first octet, U/L
// bit 1) and the standards' group addresses.
func TestSpecialAddresses(t *testing.T) {
	tests := []struct {
		mac   [6]byte
		kind  Kind
		short string
		ok    bool
	}{
		{[6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, Broadcast, BroadcastShort, true},
		{[6]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}, Multicast, "LLDP", true},
		{[6]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}, Multicast, "STP", true},
		{[6]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x08}, Multicast, "IEEE802.1", true},
		{[6]byte{0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa}, Multicast, "IPv4mcast", true},
		{[6]byte{0x01, 0x00, 0x5e, 0x80, 0x00, 0x01}, Multicast, MulticastShort, true}, // outside the 25-bit block
		{[6]byte{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}, Multicast, "IPv6mcast", true},
		{[6]byte{0x01, 0x0e, 0xcf, 0x00, 0x00, 0x00}, Multicast, "PROFINET", true},
		{[6]byte{0x01, 0x0c, 0xcd, 0x01, 0x00, 0x01}, Multicast, "GOOSE", true},
		{[6]byte{0x01, 0x0c, 0xcd, 0x04, 0x00, 0x01}, Multicast, "SV", true},
		{[6]byte{0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc}, Multicast, "CDP/VTP", true},
		{[6]byte{0x02, 0x42, 0xac, 0x11, 0x00, 0x02}, Local, LocalShort, true}, // a Docker bridge address
		{[6]byte{0xda, 0x00, 0x00, 0x00, 0x00, 0x01}, Local, LocalShort, true},
		{[6]byte{0x02, 0x60, 0x86, 0x00, 0x00, 0x01}, Local, "LOGIC", true}, // registered MA-L block with U/L set
	}
	for _, tt := range tests {
		if k := KindOf(tt.mac); k != tt.kind {
			t.Errorf("KindOf(%x) = %v, want %v", tt.mac, k, tt.kind)
		}
		short, _, ok := Lookup(tt.mac)
		if short != tt.short || ok != tt.ok {
			t.Errorf("Lookup(%x) = %q, %v; want %q, %v", tt.mac, short, ok, tt.short, tt.ok)
		}
		if v := Vendor(tt.mac); (tt.kind == Multicast || tt.kind == Broadcast || tt.short == LocalShort) && v != "" {
			t.Errorf("Vendor(%x) = %q, want none", tt.mac, v)
		}
	}
}

// alnum lower-cases s and keeps only letters and digits.
func alnum(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestAgainstTshark writes one frame from an address in every registered
// unicast block to a pcap and compares our names with tshark's own
// resolution (Wireshark's manuf, built from IEEE listings two years newer
// than ours, so renamed and reassigned blocks legitimately differ):
// eth.src.oui_resolved is the MA-L organisation, compared in full; for
// MA-M/MA-S/IAB blocks tshark prints only an 8-character short name in
// eth.src_resolved, which must start our full name. Vendors common in
// plants must agree exactly.
func TestAgainstTshark(t *testing.T) {
	tshark := testenv.Program(t, "tshark", "tshark")
	reg := readRegistry(t)
	type probe struct {
		mac  [6]byte
		bits int
	}
	var probes []probe
	for bits, m := range reg {
		for prefix := range m {
			mac := macIn(prefix, bits, 0x123456789)
			if KindOf(mac) <= Local {
				probes = append(probes, probe{mac, bits})
			}
		}
	}
	path := filepath.Join(t.TempDir(), "oui.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	w := capture.NewWriter(bw, layers.LinkTypeEthernet, 0)
	frame := make([]byte, 60)
	copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	frame[12], frame[13] = 0x88, 0xb5 // IEEE 802 local experimental EtherType
	ts := time.Unix(1700000000, 0)
	for _, p := range probes {
		copy(frame[6:], p.mac[:])
		if err := w.WritePacket(ts, frame, len(frame)); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-E", "separator=|", "-e", "eth.src_resolved", "-e", "eth.src.oui_resolved").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != len(probes) {
		t.Fatalf("tshark printed %d lines for %d frames", len(lines), len(probes))
	}
	plant := map[[3]byte]bool{}
	for _, o := range [][3]byte{
		{0x00, 0x1b, 0x1b}, {0x00, 0x0e, 0x8c}, {0x00, 0x00, 0xbc}, {0x00, 0x1d, 0x9c}, {0x00, 0x80, 0xf4},
		{0x00, 0x90, 0xe8}, {0x00, 0x00, 0x0c}, {0x00, 0x30, 0xde}, {0x00, 0x01, 0x05}, {0x00, 0xa0, 0x45},
		{0x00, 0x80, 0x63}, {0xb8, 0x27, 0xeb}, {0x3c, 0xd9, 0x2b}, {0xf8, 0xb1, 0x56}, {0xb8, 0xac, 0x6f},
	} {
		plant[o] = true
	}
	// Plant vendors whose names legitimately differ: Wireshark's manuf
	// overrides the IEEE spelling (it takes precedence over the IEEE data
	// in make-manuf.py), so both name the same company.
	renamed := map[[3]byte]string{
		{0x00, 0x80, 0xf4}: "IEEE lists TELEMECANIQUE ELECTRIQUE, manuf Telemechanique Electrique",
		{0x00, 0x80, 0x63}: "IEEE lists Hirschmann Automation and Control GmbH, manuf Richard Hirschmann Gmbh & Co",
	}
	var agree, total int
	for i, l := range lines {
		p := probes[i]
		resolved, ouiName, _ := strings.Cut(l, "|")
		_, full, ok := Lookup(p.mac)
		var same bool
		switch {
		case !ok:
			t.Errorf("%x: registered block not found", p.mac)
			continue
		case p.bits == 24:
			same = alnum(ouiName) == alnum(full)
		default:
			short := resolved[:max(0, strings.LastIndexByte(resolved, '_'))]
			same = short != "" && strings.HasPrefix(alnum(full), alnum(short))
		}
		total++
		if same {
			agree++
		} else if o := [3]byte(p.mac[:3]); plant[o] && renamed[o] == "" {
			t.Errorf("%x: we say %q, tshark %q / %q", p.mac, full, resolved, ouiName)
		}
	}
	t.Logf("%d of %d blocks agree with tshark", agree, total)
	if agree < total*95/100 {
		t.Errorf("only %d of %d blocks agree with tshark", agree, total)
	}
}

// TestLookupAllocs pins that Lookup does not allocate.
func TestLookupAllocs(t *testing.T) {
	macs := [][6]byte{{0x00, 0x1b, 0x1b, 1, 2, 3}, {0x70, 0xb3, 0xd5, 0xf2, 0xf0, 1}, {0x01, 0x00, 0x5e, 0, 0, 1}, {0x02, 0, 0, 0, 0, 1}, {0xac, 0xde, 0x48, 0, 0, 1}}
	if a := testing.AllocsPerRun(100, func() {
		for _, m := range macs {
			Lookup(m)
		}
	}); a != 0 {
		t.Errorf("Lookup allocates %.1f times", a)
	}
}

// FuzzLookup checks that any address yields a consistent answer.
func FuzzLookup(f *testing.F) {
	for _, s := range []string{"001b1b6e42a9", "70b3d5f2f001", "01005e000001", "ffffffffffff", "020000000001", "000000000000"} {
		var m [6]byte
		fmt.Sscanf(s, "%x", &m)
		f.Add(m[:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m [6]byte
		copy(m[:], b)
		short, full, ok := Lookup(m)
		if ok != (full != "") || !strings.HasPrefix(full, short) && KindOf(m) < Multicast {
			t.Fatalf("Lookup(%x) = %q, %q, %v", m, short, full, ok)
		}
	})
}

// BenchmarkLookup measures a lookup that reaches the 24-bit table.
func BenchmarkLookup(b *testing.B) {
	m := [6]byte{0x00, 0x1b, 0x1b, 0x6e, 0x42, 0xa9}
	b.ReportAllocs()
	for b.Loop() {
		m[5]++
		Lookup(m)
	}
}
