package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/simulate"
	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/testenv"
)

// httpClient gives up on a request after 5 s.
var httpClient = &http.Client{Timeout: 5 * time.Second}

// buildSensorBinary builds otwatch into a temporary directory.
func buildSensorBinary(t *testing.T) string {
	t.Helper()
	goTool := testenv.Program(t, "go", "golang")
	bin := filepath.Join(t.TempDir(), "otwatch")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// sensorLog is the JSON log of a sensor subprocess, safe for one writer
// and readers.
type sensorLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *sensorLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *sensorLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// records returns the log records with message msg.
func (l *sensorLog) records(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// sensorProc is a running `otwatch sensor`.
type sensorProc struct {
	cmd    *exec.Cmd
	log    *sensorLog
	exited chan struct{} // closed when the process has exited
	err    error         // its exit status, once exited
}

// startSensor starts `otwatch sensor args...` with a JSON debug log; the
// process is killed when the test ends.
func startSensor(t *testing.T, bin string, args ...string) *sensorProc {
	t.Helper()
	p := &sensorProc{log: &sensorLog{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"sensor", "--log-format", "json", "--log-level", "debug"}, args...)...)
	p.cmd.Stderr = p.log
	p.cmd.Stdout = io.Discard
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// wait waits up to d for the process to exit and fails the test unless it
// exits 0.
func (p *sensorProc) wait(t *testing.T, d time.Duration, what string) {
	t.Helper()
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("%s: %v\n%s", what, p.err, p.log.String())
		}
	case <-time.After(d):
		t.Fatalf("%s: no exit within %v\n%s", what, d, p.log.String())
	}
}

// waitSensor waits for a condition on a running sensor.
func waitSensor(t *testing.T, d time.Duration, what string, log *sensorLog, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s\n%s", d, what, log.String())
		}
	}
}

// simulateInto writes a simulated capture and checks the packet count it
// reports against an independent pcap reader.
func simulateInto(t *testing.T, path string, opts simulate.Options) simulate.Summary {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	sum, err := simulate.Generate(bw, opts)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if n := countFrames(t, path); uint64(sum.Packets) != n {
		t.Fatalf("simulate says it wrote %d packets, gopacket's pcap reader reads %d", sum.Packets, n)
	}
	return sum
}

// allScenarios returns every scenario, spread over d after a warm-up.
func allScenarios(d time.Duration) ([]string, map[string]time.Duration) {
	var names []string
	for _, s := range simulate.Scenarios() {
		names = append(names, s.Name)
	}
	starts := map[string]time.Duration{}
	span := d - 2*time.Minute
	for i, n := range names {
		starts[n] = time.Minute + time.Duration(i)*span/time.Duration(len(names))
	}
	return names, starts
}

// storedAlerts opens the database and returns every alert in it.
func storedAlerts(t *testing.T, db string) []*store.AlertRecord {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out []*store.AlertRecord
	q := store.AlertQuery{Limit: store.MaxLimit}
	for {
		p, err := st.Alerts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Alerts...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
}

func TestSensorUsage(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "x.pcap")
	if err := os.WriteFile(pcap, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no input", []string{"sensor"}, "give one input"},
		{"two inputs", []string{"sensor", "--watch", dir, pcap}, "give one input"},
		{"filter without interface", []string{"sensor", "-f", "tcp", pcap}, "-f applies to live capture"},
		{"standard input", []string{"sensor", "-"}, "not standard input"},
		{"bad log format", []string{"sensor", "--log-format", "xml", pcap}, "--log-format"},
		{"bad database scheme", []string{"sensor", "--db", "mysql://x", pcap}, "unknown database scheme"},
		{"batch too large", []string{"sensor", "--batch", "1000000", pcap}, "--batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tt.args, &out, &errOut)
			if code != 2 || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut.String(), tt.want)
			}
		})
	}
}

// TestSensorCrashRecovery kills the sensor with SIGKILL while it ingests a
// long capture full of alerts, restarts it on the same input and database,
// and checks that every alert it had logged as committed is stored, that
// nothing is stored twice, and that every file ends up read.
func TestSensorCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and ingests 2 hours of traffic")
	}
	bin := buildSensorBinary(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "captures")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	const files, each = 6, 20 * time.Minute
	names, starts := allScenarios(each)
	var paths []string
	for i := range files {
		p := filepath.Join(in, fmt.Sprintf("plant-%02d.pcap", i))
		simulateInto(t, p, simulate.Options{Seed: int64(i + 1), Start: simulate.DefaultStart.Add(time.Duration(i) * each),
			Duration: each, Scenarios: names, ScenarioStart: starts})
		paths = append(paths, p)
	}
	iocs := filepath.Join(dir, "iocs.txt")
	if err := os.WriteFile(iocs, []byte(strings.Join(simulate.Indicators(), "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "otwatch.db")
	args := []string{"--db", db, "--sensor", "crash", "--learn", "10m", "--indicators", iocs, "--flush", "100ms", "--batch", "20"}

	// First run, paced (one simulated file a second), killed inside the
	// third file.
	p := startSensor(t, bin, append(args, "--speed", "1200", in)...)
	log := p.log
	waitSensor(t, 60*time.Second, "two files committed", log, func() bool { return len(log.records("file committed")) >= 2 })
	time.Sleep(400 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	if len(log.records("sensor stopped")) != 0 {
		t.Fatal("the sensor finished before it was killed")
	}
	committed := map[string]bool{}
	for _, r := range log.records("alert committed") {
		committed[r["id"].(string)] = true
	}
	for _, r := range log.records("alerts committed") {
		if !committed[r["last_id"].(string)] {
			t.Errorf("batch ending with %v logged without its alerts", r["last_id"])
		}
	}
	filesBefore := len(log.records("file committed"))
	if len(committed) == 0 || filesBefore >= files {
		t.Fatalf("killed with %d alerts and %d of %d files committed; want some alerts and an unfinished file", len(committed), filesBefore, files)
	}
	t.Logf("killed after %d alerts and %d files committed", len(committed), filesBefore)

	// Second run, full speed, to the end.
	p2 := startSensor(t, bin, append(args, in)...)
	p2.wait(t, 120*time.Second, "restarted sensor")
	log2 := p2.log
	if got := len(log2.records("capture file already read")); got != filesBefore {
		t.Errorf("restart skipped %d files; %d were committed before the kill", got, filesBefore)
	}
	if got := len(log2.records("reading capture file")); got != files-filesBefore {
		t.Errorf("restart read %d files; want the %d not committed", got, files-filesBefore)
	}
	if got := log2.records("sensor started"); len(got) != 1 || got[0]["mode"] != "operational" {
		t.Errorf("restarted sensor started as %v; learning had ended before the kill", got)
	}

	alerts := storedAlerts(t, db)
	byID := map[string]bool{}
	type occurrence struct {
		typ, src, dst, key string
		first              time.Time
	}
	seen := map[occurrence]string{}
	for _, a := range alerts {
		byID[a.ID] = true
		k := occurrence{a.Type, a.Source.Key(), a.Destination.Key(), a.Key, a.FirstDetection.UTC()}
		if id, dup := seen[k]; dup {
			t.Errorf("alerts %s and %s are the same occurrence %+v", id, a.ID, k)
		}
		seen[k] = a.ID
	}
	for id := range committed {
		if !byID[id] {
			t.Errorf("alert %s was logged as committed before the kill but is not stored", id)
		}
	}
	data, err := os.ReadFile(db + ".crash.state.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if !bytes.Contains(data, []byte(p)) {
			t.Errorf("state file does not record %s", p)
		}
	}
	t.Logf("%d alerts stored, %d committed before the kill", len(alerts), len(committed))
}

// TestSensorGracefulShutdown stops a watching sensor with SIGINT and with
// SIGTERM: it exits 0 having stored what it found, and its metrics
// endpoint served while it ran.
func TestSensorGracefulShutdown(t *testing.T) {
	bin := buildSensorBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in")
			if err := os.Mkdir(in, 0o755); err != nil {
				t.Fatal(err)
			}
			sum := simulateInto(t, filepath.Join(in, "a.pcap"), simulate.Options{Seed: 5, Duration: 5 * time.Minute,
				Scenarios: []string{"s7comm-plc-stop", "dnp3-cold-restart"}})
			db := filepath.Join(dir, "otwatch.db")
			p := startSensor(t, bin, "--db", db, "--sensor", "g", "--learn", "1m",
				"--metrics", "127.0.0.1:0", "--watch", in, "--settle", "200ms")
			log := p.log
			waitSensor(t, 30*time.Second, "the file committed", log, func() bool { return len(log.records("file committed")) == 1 })

			addr := log.records("metrics listening")[0]["addr"].(string)
			resp, err := httpClient.Get("http://" + addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := fmt.Sprintf("\notwatch_packets_total %d\n", sum.Packets); !strings.Contains(string(body), want) {
				t.Errorf("metrics lack %q:\n%s", strings.TrimSpace(want), body)
			}

			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			p.wait(t, 30*time.Second, "after "+sig.String())
			if len(log.records("sensor stopped")) != 1 {
				t.Errorf(`no "sensor stopped" logged`)
			}
			alerts := storedAlerts(t, db)
			types := map[string]bool{}
			for _, a := range alerts {
				types[a.Type] = true
			}
			for _, s := range simulate.Scenarios() {
				if (s.Name == "s7comm-plc-stop" || s.Name == "dnp3-cold-restart") && !types[s.Alert] {
					t.Errorf("no %s alert stored (%d alerts)", s.Alert, len(alerts))
				}
			}
		})
	}
}

// TestSensorLive captures from one end of a veth pair while a simulated
// capture is replayed into the other, then stops the sensor with SIGTERM.
func TestSensorLive(t *testing.T) {
	v := testenv.NewVeth(t)
	ip := testenv.Program(t, "ip", "iproute2")
	bin := buildSensorBinary(t)
	dir := t.TempDir()
	pcap := filepath.Join(dir, "plant.pcap")
	sum := simulateInto(t, pcap, simulate.Options{Seed: 9, Duration: time.Minute, Scenarios: []string{"s7comm-plc-stop"},
		ScenarioStart: map[string]time.Duration{"s7comm-plc-stop": 20 * time.Second}})
	db := filepath.Join(dir, "otwatch.db")
	p := startSensor(t, bin, "--db", db, "--sensor", "live", "--learn", "0", "-i", v.Capture, "--metrics", "127.0.0.1:0")
	log := p.log
	waitSensor(t, 10*time.Second, "the capture to start", log, func() bool { return len(log.records("capturing")) == 1 })
	replay := exec.Command(ip, "netns", "exec", v.NetNS, bin, "replay", "-i", v.Inject, "--speed", "10", pcap)
	if out, err := replay.CombinedOutput(); err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	addr := log.records("metrics listening")[0]["addr"].(string)
	metric := func(name string) string {
		resp, err := httpClient.Get("http://" + addr + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(body), "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				return v
			}
		}
		return ""
	}
	want := fmt.Sprint(sum.Packets)
	waitSensor(t, 10*time.Second, "every frame counted", log, func() bool { return metric("otwatch_packets_total") == want })
	if d := metric("otwatch_drops_total"); d != "0" {
		t.Errorf("otwatch_drops_total = %q, want 0", d)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 30*time.Second, "after SIGTERM")
	found := false
	for _, a := range storedAlerts(t, db) {
		found = found || a.Type == "s7comm.plc_stop"
	}
	if !found {
		t.Error("no s7comm.plc_stop alert stored from the live capture")
	}
}
