package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/testenv"
)

// TestLiveReplay is the sensor end to end on a live interface: the built
// binary replays a simulated capture into one end of a veth pair from
// inside a fresh network namespace while `otwatch analyze -i` captures on
// the other end. Every frame sent must be counted, none dropped, and the
// live summary must see the same addresses as the analysis of the file.
func TestLiveReplay(t *testing.T) {
	v := testenv.NewVeth(t)
	ip := testenv.Program(t, "ip", "iproute2")
	goTool := testenv.Program(t, "go", "golang")
	dir := t.TempDir()
	bin := filepath.Join(dir, "otwatch")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	pcap := filepath.Join(dir, "plant.pcap")
	if code, _, errOut := runCmd(t, "simulate", "--duration", "1m", "--scenario", "new-device", "-o", pcap); code != 0 {
		t.Fatalf("simulate: %s", errOut)
	}
	code, out, errOut := runCmd(t, "analyze", "--json", pcap)
	if code != 0 {
		t.Fatalf("analyze file: %s", errOut)
	}
	var file summary
	if err := json.Unmarshal([]byte(out), &file); err != nil {
		t.Fatal(err)
	}
	want := flowsByGopacket(t, pcap)
	if frames := countFrames(t, pcap); file.Packets != frames || file.Bytes != want.bytes || file.Flows != want.flows || file.MACs != want.macs || file.IPs != want.ips {
		t.Fatalf("file: %d packets %d bytes %d flows %d MACs %d IPs; gopacket %d %d %d %d %d",
			file.Packets, file.Bytes, file.Flows, file.MACs, file.IPs, frames, want.bytes, want.flows, want.macs, want.ips)
	}

	capt := exec.Command(bin, "analyze", "--json", "-i", v.Capture, "-c", strconv.FormatUint(file.Packets, 10), "--duration", "60s")
	var stdout bytes.Buffer
	capt.Stdout = &stdout
	var stderr syncBuffer
	capt.Stderr = &stderr
	if err := capt.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = capt.Process.Kill() })
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "capturing on"); {
		if time.Now().After(deadline) {
			t.Fatalf("capture did not start: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// One simulated minute, replayed ten times faster: about 6 s.
	replay := exec.Command(ip, "netns", "exec", v.NetNS, bin, "replay", "-i", v.Inject, "--speed", "10", pcap)
	if out, err := replay.CombinedOutput(); err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	done := make(chan error, 1)
	go func() { done <- capt.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("live analyze: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("live analyze did not see all %d frames within 30 s\n%s", file.Packets, stderr.String())
	}
	var live summary
	if err := json.Unmarshal(stdout.Bytes(), &live); err != nil {
		t.Fatalf("live summary: %v\n%s", err, stdout.String())
	}
	if live.Packets != file.Packets || live.Bytes != file.Bytes {
		t.Errorf("live capture counted %d packets / %d bytes, the file has %d / %d", live.Packets, live.Bytes, file.Packets, file.Bytes)
	}
	if live.MACs != file.MACs || live.IPs != file.IPs || live.Flows != file.Flows {
		t.Errorf("live: %d MACs %d IPs %d flows; file: %d %d %d", live.MACs, live.IPs, live.Flows, file.MACs, file.IPs, file.Flows)
	}
	if !strings.Contains(stderr.String(), " packets captured, 0 dropped by the kernel\n") {
		t.Errorf("kernel drops reported: %s", stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type summary struct {
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	Flows   uint64 `json:"flows"`
	MACs    int    `json:"mac_addresses"`
	IPs     int    `json:"ip_addresses"`
}
