package pipeline

import (
	"fmt"
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
// reader, that the file opens and holds exactly the frames tshark finds for
// that connection in the simulated capture, up to the trigger.
func TestEvidenceExport(t *testing.T) {
	tshark := testenv.Program(t, "tshark", "tshark")
	pl := loadPlant(t)
	ring := evidence.New(evidence.DefaultOptions)
	var (
		trigger *dissect.Operation
		pkts    []evidence.Packet
		frameNo uint64 // capture frame being processed, from 1
		emitAt  uint64 // frameNo when the trigger was emitted
	)
	opts := DefaultOptions
	opts.Evidence = ring
	opts.Emitter = dissect.EmitterFunc(func(op *dissect.Operation) {
		if trigger == nil && op.Protocol == "service" && op.Server.Port == 502 && op.Result.Status == dissect.StatusOK {
			// Cut the evidence when the operation happens, as an alert does.
			trigger = op.Clone()
			emitAt = frameNo
			pkts = ring.Packets(op.Packets[0].Flow, time.Time{}, time.Time{})
		}
	})
	p := New(opts)
	for _, f := range pl.frames {
		frameNo++
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
	dir := t.TempDir()
	path := filepath.Join(dir, "alert.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := evidence.WritePcapng(f, pkts, evidence.WriteOptions{Comment: "Modbus connection " + trigger.Client.IP.String() + " → " + trigger.Server.IP.String()}); err != nil {
		t.Fatal(err)
	}
	f.Close()

	// The oracle: tshark on the whole simulated capture picks the trigger's
	// TCP connection by its own stream tracking and lists that
	// connection's frames up to the one whose processing emitted the
	// operation. The ring must hold the last PerFlowPackets of them.
	plantPath := filepath.Join(dir, "plant.pcap")
	if err := os.WriteFile(plantPath, pl.file, 0o644); err != nil {
		t.Fatal(err)
	}
	if ref.Frame == 0 {
		t.Fatal("trigger packet has no frame number")
	}
	stream := strings.TrimSpace(tsharkOut(t, tshark, plantPath, fmt.Sprintf("frame.number == %d", ref.Frame), "tcp.stream"))
	if stream == "" {
		t.Fatalf("tshark finds no TCP stream at frame %d", ref.Frame)
	}
	wantLines := strings.Split(strings.TrimRight(tsharkOut(t, tshark, plantPath,
		fmt.Sprintf("tcp.stream == %s && frame.number <= %d", stream, emitAt), "frame.number", "frame.time_epoch", "frame.len", "ip.src", "ip.dst"), "\n"), "\n")
	if n := evidence.DefaultOptions.PerFlowPackets; len(wantLines) > n {
		wantLines = wantLines[len(wantLines)-n:]
	}
	triggerAt := -1 // position of the trigger frame in the evidence
	for i, l := range wantLines {
		number, rest, _ := strings.Cut(l, "\t")
		if number == fmt.Sprint(ref.Frame) {
			triggerAt = i
		}
		wantLines[i] = rest
	}
	if triggerAt < 0 {
		t.Fatalf("trigger frame %d is not among the last frames of stream %s up to frame %d", ref.Frame, stream, emitAt)
	}
	gotLines := strings.Split(strings.TrimRight(tsharkOut(t, tshark, path, "", "frame.time_epoch", "frame.len", "ip.src", "ip.dst"), "\n"), "\n")
	if strings.Join(gotLines, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("evidence frames (time, length, addresses):\n%s\nwant, from tshark on the capture (stream %s up to frame %d):\n%s",
			strings.Join(gotLines, "\n"), stream, emitAt, strings.Join(wantLines, "\n"))
	}
	if len(pkts) != len(wantLines) {
		t.Errorf("ring returned %d packets, want %d", len(pkts), len(wantLines))
	}

	lines := strings.Split(strings.TrimRight(tsharkOut(t, tshark, path, "", "ip.src", "ip.dst", "tcp.port", "_ws.malformed", "frame.comment"), "\n"), "\n")
	if len(lines) != len(pkts) {
		t.Errorf("tshark read %d frames, we wrote %d", len(lines), len(pkts))
	}
	comments := 0
	for i, l := range lines {
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
			if i != triggerAt {
				t.Errorf("trigger comment on evidence frame %d, want %d (capture frame %d)", i+1, triggerAt+1, ref.Frame)
			}
		}
	}
	if comments != 1 {
		t.Errorf("%d frames carry the trigger comment, want 1", comments)
	}
}

// tsharkOut runs tshark on path with an optional display filter and
// returns the tab-separated fields, one line per frame.
func tsharkOut(t *testing.T, tshark, path, filter string, fields ...string) string {
	t.Helper()
	args := []string{"-n", "-r", path, "-T", "fields"}
	if filter != "" {
		args = append(args, "-Y", filter)
	}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %q: %v", args, err)
	}
	return string(out)
}
