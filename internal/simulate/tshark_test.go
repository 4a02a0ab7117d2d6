package simulate

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/testenv"
)

// tsharkChecks makes tshark verify every checksum, so that a wrong one is
// an expert error.
var tsharkChecks = []string{"-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"}

// allScenarios names every scenario, for the capture tshark checks.
var allScenarios = []string{ScenarioPortScan, ScenarioNewDevice, ScenarioPLCProgram, ScenarioPLCStop, ScenarioFirmwareUpdate, ScenarioRestart}

// tsharkCapture writes a two-minute capture with every scenario and returns
// its path, its Summary and a function that runs tshark on it.
func tsharkCapture(t *testing.T) (string, Summary, func(args ...string) []string) {
	t.Helper()
	tshark := testenv.Program(t, "tshark", "tshark")
	data, sum := generate(t, Options{Seed: 42, Duration: 2 * time.Minute, Scenarios: allScenarios})
	path := filepath.Join(t.TempDir(), "plant.pcap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) []string {
		t.Helper()
		args = append(append([]string{"-n", "-r", path}, tsharkChecks...), args...)
		var stderr bytes.Buffer
		cmd := exec.Command(tshark, args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %v: %v\n%s", args, err, stderr.Bytes())
		}
		var lines []string
		for l := range strings.Lines(string(out)) {
			if l = strings.TrimRight(l, "\r\n"); l != "" {
				lines = append(lines, l)
			}
		}
		return lines
	}
	return path, sum, run
}

func TestTshark(t *testing.T) {
	_, sum, tshark := tsharkCapture(t)
	host := func(role Role) Host {
		for _, h := range sum.Hosts {
			if h.Role == role {
				return h
			}
		}
		t.Fatalf("no host of role %s in Summary", role)
		return Host{}
	}

	t.Run("clean", func(t *testing.T) {
		if bad := tshark("-Y", "_ws.malformed || _ws.expert.severity == error"); len(bad) > 0 {
			t.Errorf("tshark finds %d malformed or erroneous frames, first: %s", len(bad), bad[0])
		}
		phs := strings.Join(tshark("-q", "-z", "io,phs"), "\n")
		for _, proto := range []string{"arp", "dhcp", "tcp", "mbtcp", "modbus", "dnp3", "tpkt", "cotp", "s7comm", "enip", "cip", "cipcm", "cipio"} {
			if !strings.Contains(phs, " "+proto+" ") {
				t.Errorf("protocol hierarchy lacks %s:\n%s", proto, phs)
			}
		}
		if strings.Contains(phs, "malformed") || strings.Contains(phs, "data ") {
			t.Errorf("protocol hierarchy has undissected or malformed data:\n%s", phs)
		}
		if n := len(tshark("-T", "fields", "-e", "frame.number")); n != sum.Packets {
			t.Errorf("tshark reads %d frames, Summary says %d", n, sum.Packets)
		}
	})

	t.Run("modbus", func(t *testing.T) {
		type key struct {
			stream string
			tid    int
		}
		requests := map[uint8]int{}
		responses := map[uint8]int{}
		exceptions := 0
		pending := map[key]uint8{}
		lastTID := map[string]int{}
		for _, l := range tshark("-Y", "mbtcp", "-T", "fields", "-E", "occurrence=f",
			"-e", "tcp.stream", "-e", "tcp.dstport", "-e", "mbtcp.trans_id", "-e", "modbus.func_code", "-e", "modbus.exception_code", "-e", "mbtcp.prot_id") {
			f := strings.Split(l, "\t")
			tid, _ := strconv.Atoi(f[2])
			fc64, _ := strconv.ParseUint(f[3], 10, 8)
			fc := uint8(fc64)
			k := key{f[0], tid}
			if f[5] != "0" {
				t.Errorf("stream %s: protocol id %s", f[0], f[5])
			}
			if f[1] == "502" {
				requests[fc]++
				if last, ok := lastTID[f[0]]; ok && tid != (last+1)&0xffff {
					t.Errorf("stream %s: transaction id %d after %d", f[0], tid, last)
				}
				lastTID[f[0]] = tid
				pending[k] = fc
				continue
			}
			responses[fc]++
			if f[4] != "" {
				exceptions++
			}
			if req, ok := pending[k]; !ok || req != fc {
				t.Errorf("stream %s: response %d (function %d) matches no request", f[0], tid, fc)
			}
			delete(pending, k)
		}
		if len(pending) > 0 {
			t.Errorf("%d requests without a response", len(pending))
		}
		if !mapsEqual(requests, sum.Modbus.Requests) || !mapsEqual(responses, sum.Modbus.Responses) || exceptions != sum.Modbus.Exceptions {
			t.Errorf("tshark: requests %v, responses %v, %d exceptions; Summary: %+v", requests, responses, exceptions, sum.Modbus)
		}
		// Six HMI connections poll coils once a second for about two
		// minutes (less a reconnect pause); the historian reads four
		// devices every five seconds.
		if n := requests[fcReadCoils]; n < 6*100 || n > 6*121+10 {
			t.Errorf("%d Read Coils requests, want about 6 x 120", n)
		}
		if n := requests[fcReadInput]; n < 4*22 || n > 4*24+10 {
			t.Errorf("%d Read Input Registers requests, want about 4 x 24", n)
		}
		if exceptions == 0 || requests[fcWriteSingle] == 0 {
			t.Errorf("%d exceptions and %d writes, want some of each", exceptions, requests[fcWriteSingle])
		}
	})

	t.Run("portscan", func(t *testing.T) {
		sc := host(RoleScanner)
		syns := tshark("-Y", fmt.Sprintf("ip.src == %s && tcp.flags.syn == 1 && tcp.flags.ack == 0", sc.IP), "-T", "fields", "-e", "ip.dst", "-e", "tcp.dstport")
		if len(syns) != sum.ScanSYNs || len(syns) != 30*14 {
			t.Errorf("tshark sees %d scan SYNs, Summary says %d, the scenario 30 x 14", len(syns), sum.ScanSYNs)
		}
		live := 0
		for _, l := range syns {
			a := netip.MustParseAddr(strings.Split(l, "\t")[0])
			for _, h := range sum.Hosts {
				if h.IP == a {
					live++
				}
			}
		}
		answers := tshark("-Y", fmt.Sprintf("ip.dst == %s && (tcp.flags.reset == 1 || tcp.flags.syn == 1)", sc.IP))
		if len(answers) != live {
			t.Errorf("%d SYN-ACKs and RSTs answer the %d SYNs sent to live hosts", len(answers), live)
		}
		synacks := tshark("-Y", fmt.Sprintf("ip.dst == %s && tcp.flags.syn == 1", sc.IP))
		resets := tshark("-Y", fmt.Sprintf("ip.src == %s && tcp.flags.reset == 1", sc.IP))
		if len(synacks) == 0 || len(resets) != len(synacks) {
			t.Errorf("scanner resets %d of %d SYN-ACKs", len(resets), len(synacks))
		}
		checkEventTime(t, sum, ScenarioPortScan, "scan-start", tshark("-Y", fmt.Sprintf("ip.src == %s && tcp.flags.syn == 1", sc.IP), "-T", "fields", "-e", "frame.time_epoch"))
	})

	t.Run("dhcp", func(t *testing.T) {
		got := map[string][]string{}
		for _, l := range tshark("-Y", "dhcp", "-T", "fields", "-E", "occurrence=f", "-e", "dhcp.hw.mac_addr", "-e", "dhcp.option.dhcp", "-e", "dhcp.ip.your") {
			f := strings.Split(l, "\t")
			got[f[0]] = append(got[f[0]], f[1]+" "+f[2])
		}
		for _, h := range []Host{host(RoleEngineering), host(RoleLaptop)} {
			// RFC 2131: DISCOVER (1), OFFER (2) with yiaddr, REQUEST (3), ACK (5) with yiaddr.
			want := []string{"1 0.0.0.0", "2 " + h.IP.String(), "3 0.0.0.0", "5 " + h.IP.String()}
			if !slices.Equal(got[h.MAC.String()], want) {
				t.Errorf("DHCP of %s = %q, want %q", h.Name, got[h.MAC.String()], want)
			}
		}
		lp := host(RoleLaptop)
		checkEventTime(t, sum, ScenarioNewDevice, "dhcp-discover", tshark("-Y", fmt.Sprintf("dhcp.hw.mac_addr == %s", lp.MAC), "-T", "fields", "-e", "frame.time_epoch"))
	})

	t.Run("endpoints", func(t *testing.T) {
		seen := map[string]string{} // "mac ip" -> OUI vendor as tshark resolves it
		for _, l := range tshark("-T", "fields", "-e", "eth.src", "-e", "ip.src", "-e", "arp.src.proto_ipv4", "-e", "eth.src.oui_resolved") {
			f := strings.Split(l, "\t")
			a := f[1] + f[2]
			if a == "" || a == "0.0.0.0" { // DHCP clients and ARP probes have no address yet
				continue
			}
			seen[f[0]+" "+a] = f[3]
		}
		want := map[string]bool{}
		for _, h := range sum.Hosts {
			k := h.MAC.String() + " " + h.IP.String()
			want[k] = true
			if v, ok := seen[k]; !ok {
				t.Errorf("host %s (%s) never sends", h.Name, k)
			} else if !strings.HasPrefix(v, h.Vendor) {
				t.Errorf("host %s: tshark resolves the OUI to %q, Host says %q", h.Name, v, h.Vendor)
			}
		}
		for k := range seen {
			if !want[k] {
				t.Errorf("tshark sees sender %s, not a Summary host", k)
			}
		}
		if got, want := len(sum.Hosts), len(Plant())+2; got != want {
			t.Errorf("Summary has %d hosts, want the plant's and two scenario hosts: %d", got, want)
		}
		for i, h := range Plant() {
			if g := sum.Hosts[i]; g.Name != h.Name || g.IP != h.IP || !bytes.Equal(g.MAC, h.MAC) {
				t.Errorf("Summary host %d = %+v, want Plant()'s %+v", i, g, h)
			}
		}
	})

	t.Run("arp first", func(t *testing.T) {
		// Before a host's first unicast IP packet, an ARP exchange that
		// involves its address must have been seen.
		arpSeen := map[string]bool{}
		first := map[string]bool{}
		for _, l := range tshark("-T", "fields", "-e", "ip.src", "-e", "arp.src.proto_ipv4", "-e", "arp.dst.proto_ipv4", "-e", "udp.srcport") {
			f := strings.Split(l, "\t")
			switch {
			case f[1] != "":
				arpSeen[f[1]], arpSeen[f[2]] = true, true
			case f[0] != "" && f[0] != "0.0.0.0" && f[3] != "67" && !first[f[0]]:
				first[f[0]] = true
				if !arpSeen[f[0]] {
					t.Errorf("%s sends IP before any ARP for its address", f[0])
				}
			}
		}
	})
}

// checkEventTime checks that a Summary event is at the time of the first
// frame tshark selected (frame.time_epoch lines).
func checkEventTime(t *testing.T, sum Summary, scenario, kind string, epochs []string) {
	t.Helper()
	if len(epochs) == 0 {
		t.Errorf("no frame for %s/%s", scenario, kind)
		return
	}
	sec, frac, _ := strings.Cut(epochs[0], ".")
	s, _ := strconv.ParseInt(sec, 10, 64)
	ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	got := time.Unix(s, ns)
	for _, e := range sum.Events {
		if e.Scenario == scenario && e.Kind == kind {
			if !e.Time.Equal(got) {
				t.Errorf("event %s/%s at %v, first frame at %v", scenario, kind, e.Time, got)
			}
			return
		}
	}
	t.Errorf("no event %s/%s in %v", scenario, kind, sum.Events)
}

func mapsEqual(a, b map[uint8]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}
