package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/attack"
	"github.com/otwatch/otwatch/internal/simulate"
)

// TestAnalyzeAlerts runs a malware scenario through `simulate` and
// `analyze --alerts`, learning on the first half, then again from the saved
// baseline, and writes the alert's evidence.
func TestAnalyzeAlerts(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "attack.pcap")
	if code, _, errOut := runCmd(t, "simulate", "--duration", "6m", "--scenario", "malware-ioc-address", "-o", pcap); code != 0 {
		t.Fatalf("simulate: %s", errOut)
	}
	ioc := filepath.Join(dir, "ioc.txt")
	if err := os.WriteFile(ioc, []byte(strings.Join(simulate.Indicators(), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "baseline.json")
	ev := filepath.Join(dir, "evidence")
	code, out, errOut := runCmd(t, "analyze", "--alerts", "--json", "--learn", "50%", "--indicators", ioc, "--save-baseline", base, "--evidence", ev, pcap)
	if code != 0 {
		t.Fatalf("analyze --alerts: code %d: %s", code, errOut)
	}
	var rep struct {
		Mode     string         `json:"mode"`
		Baseline int            `json:"baseline_entries"`
		Alerts   []*alert.Alert `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if len(rep.Alerts) != 1 || rep.Alerts[0].Type != "malware.ioc_address" || rep.Mode != "operational" {
		t.Fatalf("report %+v, want one malware.ioc_address in operational mode", rep)
	}
	a := rep.Alerts[0]
	if len(a.Tactics) == 0 || a.Operation == nil || a.Operation.Protocol != "service" {
		t.Errorf("alert lacks tactics or its operation: %+v", a)
	}
	for _, id := range a.Tactics {
		if _, ok := attack.LookupTactic(id); !ok {
			t.Errorf("tactic %s is not in the catalogue", id)
		}
	}
	checkEvidence(t, pcap, filepath.Join(ev, a.ID+".pcapng"), a)
	// From the saved baseline, in operational mode from the first packet:
	// the same alert, and the benign half stays quiet.
	code, out, errOut = runCmd(t, "analyze", "--alerts", "--baseline", base, "--indicators", ioc, pcap)
	if code != 0 || !strings.Contains(out, "malware.ioc_address") || !strings.Contains(out, "1 alerts") {
		t.Errorf("analyze --baseline: code %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runCmd(t, "analyze", "--alerts", "--baseline", filepath.Join(dir, "missing.json"), pcap); code == 0 || !strings.Contains(errOut, "missing.json") {
		t.Errorf("missing baseline: code %d, %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "analyze", "--alerts", "--learn", "150%", pcap); code == 0 || !strings.Contains(errOut, "percentage") {
		t.Errorf("bad --learn: code %d, %s", code, errOut)
	}
}

// checkEvidence reads the alert's evidence file and the capture with
// gopacket's own pcap readers and checks that every evidence frame is a frame
// of the capture, byte for byte and at the same time, between the alert's
// client and server, and that the frames the alert names are among them.
func checkEvidence(t *testing.T, capturePath, evidencePath string, a *alert.Alert) {
	t.Helper()
	type frame struct {
		number uint64
		data   string
	}
	byTime := map[time.Time]frame{}
	byNumber := map[uint64]string{}
	cr := openPcap(t, capturePath)
	for n := uint64(1); ; n++ {
		data, ci, err := cr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("capture frame %d: %v", n, err)
		}
		byTime[ci.Timestamp] = frame{n, string(data)}
		byNumber[n] = string(data)
	}

	ef, err := os.Open(evidencePath)
	if err != nil {
		t.Fatalf("evidence of %s: %v", a.ID, err)
	}
	defer ef.Close()
	er, err := pcapgo.NewNgReader(ef, pcapgo.NgReaderOptions{})
	if err != nil {
		t.Fatalf("evidence of %s: %v", a.ID, err)
	}
	client, server := a.Operation.Client.IP.String(), a.Operation.Server.IP.String()
	seen := map[uint64]bool{}
	for i := 1; ; i++ {
		data, ci, err := er.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("evidence frame %d: %v", i, err)
		}
		f, ok := byTime[ci.Timestamp]
		if !ok || f.data != string(data) {
			t.Errorf("evidence frame %d (%v, %d bytes) is not a frame of the capture", i, ci.Timestamp, len(data))
			continue
		}
		seen[f.number] = true
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if ip == nil || !(ip.SrcIP.String() == client && ip.DstIP.String() == server || ip.SrcIP.String() == server && ip.DstIP.String() == client) {
			t.Errorf("evidence frame %d (capture frame %d) is not between %s and %s", i, f.number, client, server)
		}
	}
	if len(a.Evidence) == 0 {
		t.Fatal("alert references no packets")
	}
	for _, ref := range a.Evidence {
		if _, ok := byNumber[ref.Frame]; !ok || !seen[ref.Frame] {
			t.Errorf("alert names capture frame %d; the evidence file lacks it", ref.Frame)
		}
	}
}

// TestAttackCoverage prints the table and a Navigator layer.
func TestAttackCoverage(t *testing.T) {
	code, out, errOut := runCmd(t, "attack-coverage")
	if code != 0 || !strings.Contains(out, "T0843") || !strings.Contains(out, "techniques (ATT&CK for ICS v18.1)") {
		t.Fatalf("attack-coverage: code %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCmd(t, "attack-coverage", "--navigator")
	var layer struct {
		Domain     string `json:"domain"`
		Techniques []struct {
			TechniqueID string `json:"techniqueID"`
			Score       int    `json:"score"`
		} `json:"techniques"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &layer) != nil || layer.Domain != "ics-attack" || len(layer.Techniques) == 0 {
		t.Fatalf("navigator layer: code %d\n%s", code, out)
	}
}
