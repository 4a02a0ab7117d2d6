package tpkt

import (
	"encoding/hex"
	"strings"
	"testing"
)

func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "|", "").Replace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 1006 section 6: version 3, reserved 0, length of the whole frame.
func TestNext(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		tpdu     string
		err      error
	}{
		{"whole frame", "03 00 0007 02 f0 80", 7, "02f080", nil},
		{"frame and more", "03 00 0007 02 f0 80 03 00", 7, "02f080", nil},
		{"partial header", "03 00", 0, "", ErrIncomplete},
		{"partial body", "03 00 0010 02 f0 80", 0, "", ErrIncomplete},
		{"version 2", "02 00 0007 02 f0 80", 0, "", ErrVersion},
		{"reserved set", "03 01 0007 02 f0 80", 0, "", ErrVersion},
		{"length below 7", "03 00 0006 02 f0", 0, "", ErrLength},
		{"first byte wrong", "16", 0, "", ErrVersion},
	}
	for _, tt := range tests {
		tpdu, n, err := Next(hx(t, tt.in))
		if err != tt.err || n != tt.n || hex.EncodeToString(tpdu) != tt.tpdu {
			t.Errorf("%s: Next = %x, %d, %v; want %s, %d, %v", tt.name, tpdu, n, err, tt.tpdu, tt.n, tt.err)
		}
	}
}

// ISO 8073 section 13: fixed parts and parameters of CR, CC, DT, DR, ER.
func TestParse(t *testing.T) {
	var tp TPDU
	// CR: LI 17, E0, dst-ref 0, src-ref 1, class 0, TPDU size 2^10,
	// calling TSAP 0x0100, called TSAP 0x0102.
	if err := Parse(hx(t, "11 e0 0000 0001 00 c0 01 0a c1 02 0100 c2 02 0102"), &tp); err != nil {
		t.Fatal(err)
	}
	if tp.Type != TypeCR || tp.SrcRef != 1 || tp.Class != 0 || tp.TPDUSize != 1024 ||
		TSAPString(tp.CallingTSAP) != "0x0100" || TSAPString(tp.CalledTSAP) != "0x0102" || len(tp.Data) != 0 {
		t.Errorf("CR: %+v", tp)
	}
	// CC with text TSAPs, as S7comm-plus uses them.
	if err := Parse(hx(t, "1f d0 0001 0044 00 c0 01 0a c1 02 0620 c2 10 53494d415449432d524f4f542d484d49"), &tp); err != nil {
		t.Fatal(err)
	}
	if tp.Type != TypeCC || tp.DstRef != 1 || tp.SrcRef != 0x44 || TSAPString(tp.CalledTSAP) != "SIMATIC-ROOT-HMI" {
		t.Errorf("CC: %+v", tp)
	}
	// DT class 0: LI 2, F0, EOT | number 0, then user data.
	if err := Parse(hx(t, "02 f0 80 32 01"), &tp); err != nil || tp.Type != TypeDT || !tp.EOT || hex.EncodeToString(tp.Data) != "3201" {
		t.Errorf("DT: %+v %v", tp, err)
	}
	if err := Parse(hx(t, "02 f0 05 aa"), &tp); err != nil || tp.EOT || tp.Number != 5 {
		t.Errorf("DT without EOT: %+v %v", tp, err)
	}
	// DR: dst-ref, src-ref, reason 0x80 normal disconnect.
	if err := Parse(hx(t, "06 80 0001 0044 80"), &tp); err != nil || tp.Type != TypeDR || tp.Reason != 0x80 || DisconnectReason(tp.Reason) != "normal disconnect" {
		t.Errorf("DR: %+v %v", tp, err)
	}
	// ER: dst-ref, cause 2 invalid TPDU type, parameter C1 with the bad header.
	if err := Parse(hx(t, "08 70 0001 02 c1 02 0102"), &tp); err != nil || tp.Type != TypeER || RejectCause(tp.Reason) != "invalid TPDU type" {
		t.Errorf("ER: %+v %v", tp, err)
	}
	for _, bad := range []struct {
		in  string
		err error
	}{
		{"05 f0 80", ErrShort},
		{"ff f0 80", ErrShort},
		{"02 e0 00", ErrLI},
		{"02 40 00", ErrType},
		{"08 e0 0000 0001 00 c1 05", ErrParameter},
	} {
		if err := Parse(hx(t, bad.in), &tp); err != bad.err {
			t.Errorf("%s: %v, want %v", bad.in, err, bad.err)
		}
	}
}

func TestResync(t *testing.T) {
	b := hx(t, "03 ff 00 03 00 0007 02 f0 80")
	if got := Resync(b); got != 3 {
		t.Errorf("Resync = %d, want 3", got)
	}
	if got := Resync(hx(t, "00 01 02")); got != 3 {
		t.Errorf("Resync without header = %d, want 3", got)
	}
}

func TestParseAllocs(t *testing.T) {
	b := hx(t, "11 e0 0000 0001 00 c0 01 0a c1 02 0100 c2 02 0102")
	var tp TPDU
	if a := testing.AllocsPerRun(100, func() { _ = Parse(b, &tp) }); a != 0 {
		t.Errorf("%v allocations, want 0", a)
	}
}

func BenchmarkNextParse(b *testing.B) {
	frame := hx(b, "03 00 001f 02 f0 80 32 01 0000 0200 000e 0000 04 01 12 0a 10 04 0001 0001 84 000020")
	var tp TPDU
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		tpdu, _, err := Next(frame)
		if err != nil || Parse(tpdu, &tp) != nil {
			b.Fatal("parse failed")
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"03 00 0016 11 e0 0000 0001 00 c0 01 0a c1 02 0100 c2 02 0102",
		"03 00 0007 02 f0 80",
		"03 00 000b 06 80 0001 0044 80",
		"03 00 000d 08 70 0001 02 c1 02 0102",
	} {
		f.Add(hx(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		Resync(b)
		tpdu, n, err := Next(b)
		if err != nil {
			return
		}
		if n > len(b) || len(tpdu) != n-HeaderLen {
			t.Fatalf("Next: n %d tpdu %d of %d", n, len(tpdu), len(b))
		}
		var tp TPDU
		if Parse(tpdu, &tp) == nil {
			_ = TSAPString(tp.CallingTSAP) + TSAPString(tp.CalledTSAP)
		}
	})
}

// ISO 8073 section 6.3: DT TPDUs with EOT clear continue a TSDU, the one
// with EOT set ends it.
func TestReassembler(t *testing.T) {
	type add struct {
		data string
		eot  bool
	}
	tests := []struct {
		name      string
		max       int
		adds      []add
		want      string // the TSDU of the last Add, "-" when none
		joined    bool
		truncated bool
	}{
		{"one DT", 16, []add{{"0102", true}}, "0102", false, false},
		{"three DTs", 16, []add{{"01", false}, {"02", false}, {"03", true}}, "010203", true, false},
		{"pending", 16, []add{{"01", false}}, "-", false, false},
		{"bounded", 3, []add{{"0102", false}, {"0304", true}}, "010203", true, true},
		{"bounded at an edge", 2, []add{{"0102", false}, {"03", false}, {"04", true}}, "0102", true, true},
		{"a TSDU after a truncated one", 2, []add{{"010203", false}, {"04", true}, {"05", false}, {"06", true}}, "0506", true, false},
	}
	for _, tt := range tests {
		r := Reassembler{Max: tt.max}
		var got []byte
		done := false
		for _, a := range tt.adds {
			got, done = r.Add(hx(t, a.data), a.eot)
		}
		g := "-"
		if done {
			g = hex.EncodeToString(got)
		}
		if g != tt.want || done && (r.Joined() != tt.joined || r.Truncated() != tt.truncated) || r.Pending() == done {
			t.Errorf("%s: %s joined %v truncated %v pending %v", tt.name, g, r.Joined(), r.Truncated(), r.Pending())
		}
	}
	// A single-DT TSDU is the DT's own bytes; Reset drops a partial one.
	r := Reassembler{Max: 8}
	in := hx(t, "0a0b")
	if got, _ := r.Add(in, true); &got[0] != &in[0] {
		t.Error("single DT copied")
	}
	r.Add(hx(t, "01"), false)
	r.Reset()
	if got, _ := r.Add(hx(t, "02"), true); r.Pending() || r.Joined() || hex.EncodeToString(got) != "02" {
		t.Errorf("after Reset: %x joined %v", got, r.Joined())
	}
}

func TestReassemblerAllocs(t *testing.T) {
	r := Reassembler{Max: 64}
	a, b := hx(t, "0102"), hx(t, "0304")
	r.Add(a, false)
	r.Add(b, true)
	if n := testing.AllocsPerRun(100, func() { r.Add(a, false); r.Add(b, true) }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}
