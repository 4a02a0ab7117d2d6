package capture

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/otwatch/otwatch/internal/testenv"
)

// oracle is the part of a corpus case's oracle.json (made by tshark) that
// speaks of the capture file itself.
type oracle struct {
	Packets   int    `json:"packets"`
	FirstTime string `json:"first_time"`
	LastTime  string `json:"last_time"`
}

func corpusCaptures(t *testing.T) []string {
	t.Helper()
	dir := testenv.Corpus(t)
	files, err := filepath.Glob(filepath.Join(dir, "*", "*", "capture.pcap*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures under %s (%v)", dir, err)
	}
	sort.Strings(files)
	return files
}

func TestCorpus(t *testing.T) {
	links := map[layers.LinkType]int{}
	for _, path := range corpusCaptures(t) {
		name := filepath.Base(filepath.Dir(filepath.Dir(path))) + "/" + filepath.Base(filepath.Dir(path))
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(filepath.Dir(path), "oracle.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want oracle
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatalf("oracle.json: %v", err)
			}
			src, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var n int
			var first, last string
			seen := map[layers.LinkType]bool{}
			for {
				p, err := src.ReadPacket()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("after %d packets: %v", n, err)
				}
				if n == 0 {
					first = epoch(p)
				}
				last = epoch(p)
				n++
				seen[p.LinkType] = true
			}
			for l := range seen {
				links[l]++
			}
			if n != want.Packets || first != want.FirstTime || last != want.LastTime {
				t.Errorf("read %d packets, %s .. %s; tshark: %d, %s .. %s",
					n, first, last, want.Packets, want.FirstTime, want.LastTime)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st := src.Stats(); st.Offset != fi.Size() || st.Packets != uint64(n) {
				t.Errorf("Stats = %+v; want offset %d (file size), %d packets", st, fi.Size(), n)
			}
		})
	}
	var s []string
	for l, n := range links {
		s = append(s, fmt.Sprintf("%s (%d): %d files", l, int(l), n))
	}
	sort.Strings(s)
	t.Logf("link types in the corpus: %s", strings.Join(s, "; "))
}

// tsharkFrame is what tshark says about one frame.
type tsharkFrame struct {
	ts     string // frame.time_epoch; "0.000000000" when the frame has none
	length int    // frame.len
	caplen int    // frame.cap_len
	iface  int    // frame.interface_id, 0 when absent
}

// tsharkFrames lists the packet records of a capture as tshark reads them;
// records that are not packets (pcapng custom blocks) have no
// encapsulation and are left out.
func tsharkFrames(t *testing.T, path string) []tsharkFrame {
	t.Helper()
	tshark := testenv.Program(t, "tshark", "tshark")
	out, err := exec.Command(tshark, "-n", "-r", path, "-T", "fields", "-E", "separator=,",
		"-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len",
		"-e", "frame.interface_id", "-e", "frame.encap_type").Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v", path, err)
	}
	var frames []tsharkFrame
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ",")
		if len(f) != 5 || f[4] == "" {
			continue
		}
		fr := tsharkFrame{ts: f[0]}
		if fr.ts == "" {
			fr.ts = "0.000000000"
		}
		fr.length, _ = strconv.Atoi(f[1])
		fr.caplen, _ = strconv.Atoi(f[2])
		fr.iface, _ = strconv.Atoi(f[3])
		frames = append(frames, fr)
	}
	return frames
}

// readFrames reads a capture with this package in the shape of tsharkFrames.
func readFrames(t *testing.T, path string) []tsharkFrame {
	t.Helper()
	src, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var frames []tsharkFrame
	for {
		p, err := src.ReadPacket()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			t.Fatalf("%s after %d packets: %v", path, len(frames), err)
		}
		frames = append(frames, tsharkFrame{epoch(p), p.Length, len(p.Data), p.Interface})
	}
}

func compareFrames(t *testing.T, name string, got, want []tsharkFrame) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d packets, tshark reads %d", name, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("%s packet %d: %+v, tshark %+v", name, i+1, got[i], want[i])
		}
	}
}

// TestVectorsTshark checks the hand-built vectors against tshark too.
func TestVectorsTshark(t *testing.T) {
	testenv.Program(t, "tshark", "tshark")
	dir := t.TempDir()
	for i, v := range []struct {
		in      string
		packets int // records in the vector, counted by hand
	}{{pcapLEMicro, 2}, {pcapBENano, 1}, {pcapLENano, 1}, {pcapThree, 3}, {pcapngTwoSections, 5}, {pcapngThree, 3}} {
		path := filepath.Join(dir, fmt.Sprintf("v%d", i))
		if err := os.WriteFile(path, unhex(t, v.in), 0o644); err != nil {
			t.Fatal(err)
		}
		want := tsharkFrames(t, path)
		if len(want) != v.packets {
			t.Errorf("%s: tshark reads %d packets, the vector has %d", path, len(want), v.packets)
		}
		compareFrames(t, path, readFrames(t, path), want)
	}
}

// TestCorpusGzip compresses corpus captures and checks that the compressed
// file reads like the original and like tshark reads it.
func TestCorpusGzip(t *testing.T) {
	files := corpusCaptures(t)
	testenv.Program(t, "tshark", "tshark")
	var picked []string
	for _, ext := range []string{".pcap", ".pcapng"} {
		var best string
		var bestSize int64 = 1 << 62
		for _, f := range files {
			fi, err := os.Stat(f)
			if err == nil && filepath.Ext(f) == ext && fi.Size() > 4096 && fi.Size() < bestSize {
				best, bestSize = f, fi.Size()
			}
		}
		if best == "" {
			t.Fatalf("no %s capture over 4 KB in the corpus", ext)
		}
		picked = append(picked, best)
	}
	for _, f := range picked {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		gz := filepath.Join(t.TempDir(), filepath.Base(f)+".gz")
		if err := os.WriteFile(gz, gzipBytes(t, raw), 0o644); err != nil {
			t.Fatal(err)
		}
		plain := readFrames(t, f)
		compareFrames(t, gz+" vs "+f, readFrames(t, gz), plain)
		compareFrames(t, gz+" vs tshark", readFrames(t, gz), tsharkFrames(t, gz))
		t.Logf("%s: %d packets", f, len(plain))
	}
}
