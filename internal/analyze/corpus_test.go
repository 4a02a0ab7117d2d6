package analyze

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/testenv"
)

// oracle is the part of a corpus case's oracle.json (tshark's view of the
// capture) that analyze must agree with.
type oracle struct {
	Packets   uint64   `json:"packets"`
	FirstTime string   `json:"first_time"`
	Eth       []string `json:"eth_endpoints"`
	IP        []string `json:"ip_endpoints"`
}

// TestCorpusAgainstTshark analyses every capture of the shared corpus and
// compares the packet count and the sets of MAC and IP endpoints with what
// tshark reported (eth.src/eth.dst, ip.src/ip.dst and ipv6.src/ipv6.dst over
// all frames, including IP headers quoted inside ICMP errors).
func TestCorpusAgainstTshark(t *testing.T) {
	dir := testenv.Corpus(t)
	files, err := filepath.Glob(filepath.Join(dir, "*", "*", "capture.pcap*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures under %s: %v", dir, err)
	}
	for _, f := range files {
		name, _ := filepath.Rel(dir, filepath.Dir(f))
		t.Run(name, func(t *testing.T) {
			var o oracle
			b, err := os.ReadFile(filepath.Join(filepath.Dir(f), "oracle.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &o); err != nil {
				t.Fatal(err)
			}
			sum, err := Files([]string{f}, Options{Pipeline: pipeline.DefaultOptions})
			if err != nil {
				t.Fatalf("analyze: %v", err)
			}
			if sum.Packets != o.Packets {
				t.Errorf("packets %d, tshark %d", sum.Packets, o.Packets)
			}
			if first := fmt.Sprintf("%d.%09d", sum.First.Unix(), sum.First.Nanosecond()); first != o.FirstTime {
				t.Errorf("first packet at %s, tshark %s", first, o.FirstTime)
			}
			macs, ips := endpointSets(sum)
			compareSets(t, "MAC", macs, o.Eth)
			compareSets(t, "IP", ips, o.IP)
			if sum.MACs != len(o.Eth) || sum.IPs != len(o.IP) {
				t.Errorf("summary counts %d MAC / %d IP, tshark %d / %d", sum.MACs, sum.IPs, len(o.Eth), len(o.IP))
			}
		})
	}
}

// endpointSets returns every MAC and IP address the summary knows about.
func endpointSets(s *Summary) (macs, ips []string) {
	return slices.Clone(s.Addresses.MACs), slices.Clone(s.Addresses.IPs)
}

func compareSets(t *testing.T, what string, got, want []string) {
	t.Helper()
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		for _, g := range got {
			if !slices.Contains(w, g) {
				t.Errorf("%s %s seen by otwatch, not by tshark", what, g)
			}
		}
		for _, x := range w {
			if !slices.Contains(got, x) {
				t.Errorf("%s %s seen by tshark, not by otwatch", what, x)
			}
		}
	}
}
