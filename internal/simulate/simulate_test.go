package simulate

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/capture"
)

func generate(t testing.TB, opts Options) ([]byte, Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := Generate(&buf, opts)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", opts, err)
	}
	return buf.Bytes(), sum
}

func TestDeterminism(t *testing.T) {
	both := []string{ScenarioPortScan, ScenarioNewDevice}
	tests := []struct {
		name string
		a, b Options
		same bool
	}{
		{"same seed", Options{Seed: 1, Duration: time.Minute}, Options{Seed: 1, Duration: time.Minute}, true},
		{"same seed with scenarios", Options{Seed: 9, Duration: time.Minute, Scenarios: both}, Options{Seed: 9, Duration: time.Minute, Scenarios: both}, true},
		{"different seed", Options{Seed: 1, Duration: time.Minute}, Options{Seed: 2, Duration: time.Minute}, false},
		{"different scenarios", Options{Seed: 1, Duration: time.Minute}, Options{Seed: 1, Duration: time.Minute, Scenarios: both[:1]}, false},
		{"different start", Options{Seed: 1, Duration: time.Minute}, Options{Seed: 1, Duration: time.Minute, Start: DefaultStart.Add(time.Hour)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := generate(t, tt.a)
			b, _ := generate(t, tt.b)
			if got := bytes.Equal(a, b); got != tt.same {
				t.Errorf("bytes equal = %v, want %v (%d and %d bytes)", got, tt.same, len(a), len(b))
			}
		})
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"unknown scenario", Options{Scenarios: []string{"meltdown"}}, `unknown scenario "meltdown"`},
		{"twice", Options{Scenarios: []string{ScenarioPortScan, ScenarioPortScan}}, "given twice"},
		{"too short", Options{Duration: 10 * time.Second}, "shorter than"},
		{"too early", Options{Scenarios: []string{ScenarioPortScan}, ScenarioStart: map[string]time.Duration{ScenarioPortScan: time.Second}}, "does not fit"},
		{"too late", Options{Duration: time.Minute, Scenarios: []string{ScenarioNewDevice}, ScenarioStart: map[string]time.Duration{ScenarioNewDevice: 50 * time.Second}}, "does not fit"},
		{"unknown start", Options{ScenarioStart: map[string]time.Duration{"meltdown": time.Minute}}, "unknown scenario"},
		{"before 1970", Options{Start: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)}, "pcap time range"},
		{"fast poll", Options{PollInterval: time.Millisecond}, "at least 500ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generate(io.Discard, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "simulate: ") {
				t.Errorf("Generate error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

var errSink = errors.New("sink full")

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errSink
	}
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	_, err := Generate(&failWriter{n: 100 << 10}, Options{Duration: time.Minute})
	if !errors.Is(err, errSink) {
		t.Errorf("Generate to a failing writer = %v, want %v", err, errSink)
	}
}

// TestPcapFile reads the capture back with the project's pcap reader and
// checks the file header against the pcap format (magic 0xa1b23c4d written
// little-endian, version 2.4, link type 1) and the records against Summary.
func TestPcapFile(t *testing.T) {
	data, sum := generate(t, Options{Seed: 3, Duration: time.Minute, Scenarios: []string{ScenarioNewDevice}})
	if got, want := hex.EncodeToString(data[:8]), "4d3cb2a102000400"; got != want {
		t.Errorf("file header starts %s, want %s", got, want)
	}
	if got := binary.LittleEndian.Uint32(data[20:24]); got != 1 {
		t.Errorf("link type %d, want 1 (Ethernet)", got)
	}
	src, err := capture.NewReader(bytes.NewReader(data), "sim")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var n int
	var total int64
	var last time.Time
	for {
		p, err := src.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("packet %d: %v", n+1, err)
		}
		n++
		total += int64(len(p.Data))
		if p.LinkType != layers.LinkTypeEthernet || p.Length != len(p.Data) || len(p.Data) < 60 {
			t.Errorf("packet %d: link type %v, length %d, captured %d", n, p.LinkType, p.Length, len(p.Data))
		}
		if p.Timestamp.Before(last) || p.Timestamp.Before(sum.Start) || !p.Timestamp.Before(sum.End) {
			t.Errorf("packet %d at %v: out of order or outside [%v, %v)", n, p.Timestamp, sum.Start, sum.End)
		}
		last = p.Timestamp
	}
	if n != sum.Packets || total != sum.Bytes {
		t.Errorf("read %d packets, %d bytes; Summary says %d, %d", n, total, sum.Packets, sum.Bytes)
	}
	if want := int64(24 + 16*n); int64(len(data)) != want+total {
		t.Errorf("file is %d bytes, want header + records = %d", len(data), want+total)
	}
}

// TestDefaultSize keeps the default ten-minute capture within a few MB.
func TestDefaultSize(t *testing.T) {
	data, sum := generate(t, Options{Scenarios: []string{ScenarioPortScan, ScenarioNewDevice}})
	if len(data) > 4<<20 {
		t.Errorf("default capture is %d bytes, want at most 4 MiB", len(data))
	}
	if got := sum.End.Sub(sum.Start); got != 10*time.Minute || !sum.Start.Equal(time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("default capture spans %v from %v", got, sum.Start)
	}
}

func TestPlantAndScenarios(t *testing.T) {
	roles := map[Role]int{}
	subnets := map[Role]string{}
	for _, h := range Plant() {
		roles[h.Role]++
		if !h.Subnet.Contains(h.IP) {
			t.Errorf("%s: %v not in %v", h.Name, h.IP, h.Subnet)
		}
		if h.Role != RoleRouter {
			subnets[h.Role] = h.Subnet.String()
		} else if h.IP.As4()[3] != 1 || !bytes.Equal(h.MAC, Plant()[0].MAC) {
			t.Errorf("router interface %s at %v, %v: want .1 and one MAC", h.Name, h.IP, h.MAC)
		}
	}
	// The brief of the plant: two router interfaces, one workstation, two
	// HMIs, a historian on 10.10.1.0/24; three PLCs and an RTU on 10.10.2.0/24.
	want := map[Role]int{RoleRouter: 2, RoleEngineering: 1, RoleHMI: 2, RoleHistorian: 1, RolePLC: 3, RoleRTU: 1}
	for r, n := range want {
		if roles[r] != n {
			t.Errorf("%d hosts of role %s, want %d", roles[r], r, n)
		}
	}
	for r, s := range map[Role]string{RoleEngineering: "10.10.1.0/24", RoleHMI: "10.10.1.0/24", RoleHistorian: "10.10.1.0/24", RolePLC: "10.10.2.0/24", RoleRTU: "10.10.2.0/24"} {
		if subnets[r] != s {
			t.Errorf("role %s on %s, want %s", r, subnets[r], s)
		}
	}
	names := map[string]bool{}
	for _, sc := range Scenarios() {
		if names[sc.Name] || sc.Description == "" {
			t.Errorf("scenario %q duplicated or undescribed", sc.Name)
		}
		names[sc.Name] = true
	}
	if !names[ScenarioPortScan] || !names[ScenarioNewDevice] {
		t.Errorf("Scenarios() = %v, want portscan and new-device", Scenarios())
	}
}

func TestModbusADU(t *testing.T) {
	dev := newDevice(&node{}, 1, newTestRand(), time.Millisecond, time.Millisecond)
	dev.hr[0], dev.hr[1] = 0x1234, 0xabcd
	dev.coils = [numCoils]bool{true, false, true, 8: true, 15: true}
	// Expected bytes follow "MODBUS Application Protocol Specification
	// V1.1b3" sections 4.1, 6.1, 6.3, 6.6 and 7, and "MODBUS Messaging on
	// TCP/IP Implementation Guide V1.0b" section 3.1.3.
	tests := []struct {
		name    string
		req     []byte
		want    string
		wantADU string
	}{
		{"read holding", readRequest(fcReadHolding, 0, 2), "03 04 1234 abcd", "0007 0000 0006 01 03 0000 0002"},
		{"read coils", readRequest(fcReadCoils, 0, 16), "01 02 05 81", "0007 0000 0006 01 01 0000 0010"},
		{"read 3 coils", readRequest(fcReadCoils, 13, 3), "01 01 04", "0007 0000 0006 01 01 000d 0003"},
		{"read input", readRequest(fcReadInput, 5, 1), "04 02 0000", "0007 0000 0006 01 04 0005 0001"},
		{"write", writeRequest(9, 2), "06 0009 0002", "0007 0000 0006 01 06 0009 0002"},
		{"past the map", readRequest(fcReadHolding, badAddress, 2), "83 02", "0007 0000 0006 01 03 0400 0002"},
		{"coils past the map", readRequest(fcReadCoils, 10, 7), "81 02", "0007 0000 0006 01 01 000a 0007"},
		{"zero quantity", readRequest(fcReadHolding, 0, 0), "83 03", "0007 0000 0006 01 03 0000 0000"},
		{"too many", readRequest(fcReadHolding, 0, 126), "83 03", "0007 0000 0006 01 03 0000 007e"},
		{"unknown function", []byte{0x2b, 0x0e, 0x01, 0x00, 0x00}, "ab 01", "0007 0000 0006 01 2b 0e01 0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hex.EncodeToString(mbap(7, 1, tt.req)); got != strings.ReplaceAll(tt.wantADU, " ", "") {
				t.Errorf("request ADU = %s, want %s", got, tt.wantADU)
			}
			if got := hex.EncodeToString(dev.respond(tt.req)); got != strings.ReplaceAll(tt.want, " ", "") {
				t.Errorf("response PDU = %s, want %s", got, tt.want)
			}
		})
	}
	if dev.hr[9] != 2 {
		t.Errorf("after the write register 9 = %d, want 2", dev.hr[9])
	}
}

func BenchmarkGenerate(b *testing.B) {
	opts := Options{Seed: 1, Duration: 2 * time.Minute, Scenarios: []string{ScenarioPortScan, ScenarioNewDevice}}
	var packets int
	b.ReportAllocs()
	for b.Loop() {
		sum, err := Generate(io.Discard, opts)
		if err != nil {
			b.Fatal(err)
		}
		packets += sum.Packets
		b.SetBytes(sum.Bytes)
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
