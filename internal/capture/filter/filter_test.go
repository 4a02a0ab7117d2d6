package filter

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"

	"github.com/otwatch/otwatch/internal/testenv"
)

var allIPv4 = []string{"tcp4", "tcp4resp", "tcp4opt", "udp4", "udp4mb", "icmp4", "frag0", "frag1", "runt", "big"}

// net10 is every frame with an IPv4 or ARP address in 10.0.0.0/24.
var net10 = []string{"tcp4", "tcp4resp", "tcp4opt", "udp4mb", "icmp4", "arp", "frag0", "frag1", "big"}

// matchTests gives, for each expression, the frames of testFrames that it
// selects, worked out from pcap-filter(7) and the frames' contents. A nil
// want with a length bound is filled in from the frame lengths.
var matchTests = []struct {
	expr string
	want []string
	// minLen/maxLen, when set, select frames by length instead of want.
	minLen, maxLen int
}{
	{expr: "tcp", want: []string{"tcp4", "tcp4resp", "tcp4opt", "tcp6", "frag0", "frag1", "frag6"}},
	{expr: "udp", want: []string{"udp4", "udp4mb", "big"}},
	{expr: "icmp", want: []string{"icmp4"}},
	{expr: "icmp6", want: []string{"icmp6"}},
	{expr: "arp", want: []string{"arp"}},
	{expr: "ip", want: allIPv4},
	{expr: "ip6", want: []string{"tcp6", "icmp6", "frag6"}},
	{expr: "port 502", want: []string{"tcp4", "tcp4resp", "udp4mb", "tcp6", "frag0"}},
	{expr: "tcp port 502", want: []string{"tcp4", "tcp4resp", "tcp6", "frag0"}},
	{expr: "udp port 502", want: []string{"udp4mb"}},
	{expr: "tcp dst port 502", want: []string{"tcp4", "tcp6", "frag0"}},
	{expr: "src port 502", want: []string{"tcp4resp", "udp4mb"}},
	{expr: "port 22", want: []string{"tcp4opt"}},
	{expr: "tcp src port 1234", want: []string{"tcp4opt"}},
	{expr: "portrange 500-510", want: []string{"tcp4", "tcp4resp", "udp4mb", "tcp6", "frag0"}},
	{expr: "udp portrange 50-60", want: []string{"udp4"}},
	{expr: "udp dst portrange 3001-2999", want: []string{"udp4mb"}},
	{expr: "host 10.0.0.1", want: []string{"tcp4", "tcp4resp", "tcp4opt", "icmp4", "arp"}},
	{expr: "src host 10.0.0.1", want: []string{"tcp4", "tcp4opt", "icmp4", "arp"}},
	{expr: "dst host 10.0.0.2", want: []string{"tcp4", "icmp4", "arp"}},
	{expr: "ip host 10.0.0.2", want: []string{"tcp4", "tcp4resp", "icmp4"}},
	{expr: "arp dst host 10.0.0.2", want: []string{"arp"}},
	{expr: "host 2001:db8::2", want: []string{"tcp6"}},
	{expr: "ip6 src host fe80::1", want: []string{"icmp6"}},
	{expr: "net 10.0.0.0/24", want: net10},
	{expr: "net 10.0.0.0 mask 255.255.255.0", want: net10},
	{expr: "src and dst net 10.0.0.0/24", want: net10},
	{expr: "net 192.168.0.0/16", want: []string{"udp4"}},
	{expr: "dst net 2001:db8::/32", want: []string{"tcp6", "frag6"}},
	{expr: "ether host 02:00:00:00:00:05", want: []string{"udp4", "big"}},
	{expr: "ether src 02:00:00:00:00:03", want: []string{"udp4mb"}},
	{expr: "ether dst 02:00:00:00:00:03", want: []string{"tcp4opt", "qinq"}},
	{expr: "ether dst ff:ff:ff:ff:ff:ff", want: []string{"arp"}},
	{expr: "ether host 02:00:00:00:00:04", want: []string{"udp4", "udp4mb", "big"}},
	{expr: "ether src host aabb.ccdd.eeff or ether dst 02-00-00-00-00-01", want: []string{"tcp4resp"}},
	{expr: "vlan", want: []string{"vlan100", "qinq"}},
	{expr: "vlan 100", want: []string{"vlan100"}},
	{expr: "vlan 101", want: nil},
	{expr: "vlan 100 and tcp port 502", want: []string{"vlan100"}},
	{expr: "vlan 10 and vlan 20 and udp", want: []string{"qinq"}},
	{expr: "vlan and tcp", want: []string{"vlan100"}},
	{expr: "proto 17", want: []string{"udp4", "udp4mb", "big"}},
	{expr: "ip proto 1", want: []string{"icmp4"}},
	{expr: "ip6 proto 44", want: []string{"frag6"}},
	{expr: "ether proto 0x0806", want: []string{"arp"}},
	{expr: "ether proto 0x86dd", want: []string{"tcp6", "icmp6", "frag6"}},
	{expr: "greater 1000", minLen: 1000},
	{expr: "less 60", maxLen: 60},
	{expr: "host 10.0.0.1 and not port 22", want: []string{"tcp4", "tcp4resp", "icmp4", "arp"}},
	{expr: "port 502 or 22", want: []string{"tcp4", "tcp4resp", "udp4mb", "tcp6", "frag0", "tcp4opt"}},
	{expr: "host 10.0.0.1 or 10.0.0.9", want: []string{"tcp4", "tcp4resp", "tcp4opt", "icmp4", "arp", "big"}},
	// and/or have equal precedence, left to right: (tcp or udp) and host.
	{expr: "tcp or udp and host 10.0.0.1", want: []string{"tcp4", "tcp4resp", "tcp4opt"}},
	// The runt is an IPv4 frame, but reading its protocol field aborts the
	// program, which rejects the frame whatever the negations.
	{expr: "not tcp and ip", want: []string{"udp4", "udp4mb", "icmp4", "big"}},
	{expr: "!(tcp || udp) && ip", want: []string{"icmp4"}},
	{expr: "udp and (port 53 or 5353)", want: []string{"udp4"}},
	// The load past the end of the runt aborts the program: no match even under not.
	{expr: "ip and not net 10.0.0.0/8", want: []string{"udp4"}},
	{expr: "src or dst port 53", want: []string{"udp4"}},
	{expr: "ip6 and tcp", want: []string{"tcp6", "frag6"}},
	{expr: "ether proto 0x0800 and tcp portrange 0-1023", want: []string{"tcp4", "tcp4resp", "tcp4opt", "frag0"}},
	{expr: "", want: []string{"tcp4", "tcp4resp", "tcp4opt", "udp4", "udp4mb", "icmp4", "arp", "tcp6", "icmp6", "vlan100", "qinq", "frag0", "frag1", "frag6", "runt", "big"}},
}

func wantSet(t *testing.T, fs []testFrame, want []string, minLen, maxLen int) []string {
	t.Helper()
	if minLen > 0 || maxLen > 0 {
		var out []string
		for _, f := range fs {
			if (minLen == 0 || len(f.data) >= minLen) && (maxLen == 0 || len(f.data) <= maxLen) {
				out = append(out, f.name)
			}
		}
		return out
	}
	var out []string
	for _, f := range fs { // frame order
		if slices.Contains(want, f.name) {
			out = append(out, f.name)
		}
	}
	if len(out) != len(want) {
		t.Fatalf("want list %v names frames that do not exist", want)
	}
	return out
}

func TestCompileMatch(t *testing.T) {
	fs := testFrames(t)
	for _, tt := range matchTests {
		t.Run(tt.expr, func(t *testing.T) {
			prog, err := Compile(tt.expr, 65535)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.expr, err)
			}
			m, err := NewMatcher(prog)
			if err != nil {
				t.Fatalf("NewMatcher: %v", err)
			}
			var got []string
			for _, f := range fs {
				if m.Match(f.data) {
					got = append(got, f.name)
				}
				if m.Match(f.data) != Match(prog, f.data) {
					t.Errorf("Matcher.Match and Match disagree on %s", f.name)
				}
			}
			if want := wantSet(t, fs, tt.want, tt.minLen, tt.maxLen); !slices.Equal(got, want) {
				t.Errorf("%q matched %v, want %v", tt.expr, got, want)
			}
		})
	}
}

func TestCompileReturnsSnaplen(t *testing.T) {
	for _, tt := range []struct{ in, want uint32 }{{96, 96}, {0, 262144}} {
		prog, err := Compile("", int(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		ins, _ := bpf.Disassemble(prog)
		vm, err := bpf.NewVM(ins)
		if err != nil {
			t.Fatal(err)
		}
		n, err := vm.Run(make([]byte, 1<<19))
		if err != nil || uint32(n) != tt.want {
			t.Errorf("snaplen %d: program returned %d, %v; want %d", tt.in, n, err, tt.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		expr string
		col  int
	}{
		{"port", 5},
		{"host 10.0.0.1 and", 18},
		{"tcp[13] & 2 != 0", 4},
		{"(tcp", 5},
		{"tcp)", 4},
		{"net 10.0.0.1/24", 5},
		{"port 70000", 6},
		{"host example.com", 6},
		{"ether host 10.0.0.1", 12},
		{"tcp host 10.0.0.1", 1},
		{"portrange 5", 11},
		{"502", 1},
		{"10.0.0.2", 1},
		{"host 02:00:00:00:00:04", 6},
		{"vlan 5000", 6},
		{"ip proto 300", 10},
		{"tcp and and udp", 9},
		{"host 10.0.0.1/32", 6},
		{"icmp port 5", 6},
		{"src", 4},
		{strings.Repeat("(", 300) + "tcp" + strings.Repeat(")", 300), 201},
	}
	for _, tt := range tests {
		_, err := Compile(tt.expr, 0)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Compile(%q) error = %v, want a *SyntaxError", tt.expr, err)
			continue
		}
		if se.Column != tt.col {
			t.Errorf("Compile(%q): column %d (%v), want %d", tt.expr, se.Column, err, tt.col)
		}
	}
}

// TestFarJumps compiles an expression whose program is longer than an
// 8-bit conditional jump can cross and checks it still decides correctly.
func TestFarJumps(t *testing.T) {
	var parts []string
	for i := range 30 {
		parts = append(parts, "port "+strconv.Itoa(10000+i))
	}
	expr := "(" + strings.Join(parts, " or ") + ") or port 502"
	prog, err := Compile(expr, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) < 300 {
		t.Fatalf("program has %d instructions, want more than 255 to exercise far jumps", len(prog))
	}
	fs := testFrames(t)
	m, err := NewMatcher(prog)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		if m.Match(f.data) {
			got = append(got, f.name)
		}
	}
	if want := []string{"tcp4", "tcp4resp", "udp4mb", "tcp6", "frag0"}; !slices.Equal(got, want) {
		t.Errorf("matched %v, want %v", got, want)
	}
}

// TestTcpdumpOracle checks every expression of matchTests against tcpdump:
// the frames tcpdump selects from a pcap of testFrames must be those Match
// accepts.
func TestTcpdumpOracle(t *testing.T) {
	tcpdump := testenv.Program(t, "tcpdump", "tcpdump")
	fs := testFrames(t)
	path := filepath.Join(t.TempDir(), "frames.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	// Frame i is stamped i seconds after the epoch so tcpdump -tt names it.
	for i, fr := range fs {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(i), 0), CaptureLength: len(fr.data), Length: len(fr.data)}
		if err := w.WritePacket(ci, fr.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range matchTests {
		t.Run(tt.expr, func(t *testing.T) {
			args := []string{"-r", path, "-nn", "-tt"}
			if tt.expr != "" {
				args = append(args, tt.expr)
			}
			cmd := exec.Command(tcpdump, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("tcpdump %v: %v\n%s", args, err, stderr.String())
			}
			var want []string
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				line := sc.Text()
				if line == "" || line[0] == ' ' || line[0] == '\t' {
					continue
				}
				sec, _, _ := strings.Cut(line, ".")
				i, err := strconv.Atoi(sec)
				if err != nil || i < 0 || i >= len(fs) {
					t.Fatalf("cannot read a frame number from tcpdump line %q", line)
				}
				want = append(want, fs[i].name)
			}
			prog, err := Compile(tt.expr, 65535)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, fr := range fs {
				if Match(prog, fr.data) {
					got = append(got, fr.name)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%q: Match selected %v, tcpdump selected %v", tt.expr, got, want)
			}
		})
	}
}

func TestMatchAllocs(t *testing.T) {
	prog, err := Compile("host 10.0.0.1 and tcp port 502", 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMatcher(prog)
	if err != nil {
		t.Fatal(err)
	}
	frame := testFrames(t)[0].data
	if n := testing.AllocsPerRun(100, func() { m.Match(frame) }); n != 0 {
		t.Errorf("Matcher.Match allocates %v times per frame, want 0", n)
	}
}

func FuzzCompile(f *testing.F) {
	for _, tt := range matchTests {
		f.Add(tt.expr)
	}
	for _, s := range []string{"tcp[13] & 2 != 0", "((((", "not not not ip", "port 1-2", "portrange 1-", "net ::/0", "net 0.0.0.0/0", "host ::ffff:10.0.0.1", "ether host aabb.ccdd.eeff", "vlan 1 and vlan 2 and vlan 3 and ip"} {
		f.Add(s)
	}
	frames := testFrames(f)
	f.Fuzz(func(t *testing.T, expr string) {
		prog, err := Compile(expr, 0)
		if err != nil {
			return
		}
		if len(prog) == 0 || len(prog) > maxInsns {
			t.Fatalf("Compile(%q) returned %d instructions", expr, len(prog))
		}
		ins, ok := bpf.Disassemble(prog)
		if !ok {
			t.Fatalf("Compile(%q): program does not disassemble", expr)
		}
		vm, err := bpf.NewVM(ins)
		if err != nil {
			t.Fatalf("Compile(%q): VM rejects program: %v", expr, err)
		}
		for _, fr := range frames {
			if _, err := vm.Run(fr.data); err != nil {
				t.Fatalf("Compile(%q): run on %s: %v", expr, fr.name, err)
			}
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	frames := testFrames(b)
	for _, expr := range []string{"tcp port 502", "host 10.0.0.1 and not port 22", "vlan 100 and tcp port 502"} {
		b.Run(expr, func(b *testing.B) {
			prog, err := Compile(expr, 0)
			if err != nil {
				b.Fatal(err)
			}
			m, err := NewMatcher(prog)
			if err != nil {
				b.Fatal(err)
			}
			frame := frames[0].data
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				m.Match(frame)
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile("host 10.0.0.1 and (tcp port 502 or udp portrange 2222-2223) and not vlan", 0); err != nil {
			b.Fatal(err)
		}
	}
}
