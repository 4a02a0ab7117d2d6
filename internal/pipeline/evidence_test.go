package pipeline

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/evidence"
	"github.com/otwatch/otwatch/internal/testenv"
)

// TestEvidenceExport runs the simulated plant through the pipeline with the
// evidence ring, cuts the packets of one Modbus connection around an
// operation into a pcapng file and checks with tshark, an independent
// reader, that the file opens and holds that connection's Modbus traffic.
func TestEvidenceExport(t *testing.T) {
	tshark := testenv.Program(t, "tshark", "tshark")
	pl := loadPlant(t)
	ring := evidence.New(evidence.DefaultOptions)
	var (
		trigger *dissect.Operation
		pkts    []evidence.Packet
	)
	opts := DefaultOptions
	opts.Evidence = ring
	opts.Emitter = dissect.EmitterFunc(func(op *dissect.Operation) {
		if trigger == nil && op.Protocol == "service" && op.Server.Port == 502 && op.Result.Status == dissect.StatusOK {
			// Cut the evidence when the operation happens, as an alert does.
			trigger = op.Clone()
			pkts = ring.Packets(op.Packets[0].Flow, time.Time{}, time.Time{})
		}
	})
	p := New(opts)
	for _, f := range pl.frames {
		p.Process(f)
	}
	if trigger == nil {
		t.Fatal("no Modbus service operation in the simulated plant")
	}
	ref := trigger.Packets[0]
	if len(pkts) == 0 {
		t.Fatalf("evidence ring holds nothing for flow %d", ref.Flow)
	}
	for i := range pkts {
		if pkts[i].Index == ref.Index {
			pkts[i].Comment = "trigger"
		}
	}
	path := filepath.Join(t.TempDir(), "alert.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := evidence.WritePcapng(f, pkts, evidence.WriteOptions{Comment: "Modbus connection " + trigger.Client.IP.String() + " → " + trigger.Server.IP.String()}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command(tshark, "-n", "-r", path, "-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.port", "-e", "_ws.malformed", "-e", "frame.comment").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != len(pkts) {
		t.Errorf("tshark read %d frames, we wrote %d", len(lines), len(pkts))
	}
	comments := 0
	for _, l := range lines {
		fields := strings.Split(l, "\t")
		if len(fields) < 5 {
			t.Fatalf("tshark line %q", l)
		}
		ips := fields[0] + " " + fields[1]
		if !strings.Contains(ips, trigger.Client.IP.String()) || !strings.Contains(ips, trigger.Server.IP.String()) || !strings.Contains(fields[2], "502") {
			t.Errorf("frame of another connection: %q", l)
		}
		if fields[3] != "" {
			t.Errorf("tshark marks a frame malformed: %q", l)
		}
		if fields[4] == "trigger" {
			comments++
		}
	}
	if comments != 1 {
		t.Errorf("%d frames carry the trigger comment, want 1", comments)
	}
}
