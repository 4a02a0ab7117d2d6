package reassembly

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/testenv"
)

// collector is a Consumer that keeps every byte and counts gaps.
type collector struct {
	data []byte
	gaps int
}

func (c *collector) Data(data []byte) int { c.data = append(c.data, data...); return len(data) }
func (c *collector) Gap(int)              { c.gaps++ }

// direction is one direction of a TCP connection in a capture.
type direction struct {
	src, dst netip.AddrPort
}

// TestCorpusFollow reassembles every TCP connection of the corpus captures
// and compares each direction with what "tshark -z follow,tcp,raw" gives for
// the same stream, for every direction where no bytes are missing.
func TestCorpusFollow(t *testing.T) {
	dir := testenv.Corpus(t)
	tshark := testenv.Program(t, "tshark", "tshark")
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name := d.Name(); name == "capture.pcap" || name == "capture.pcapng" {
			if fi, err := d.Info(); err == nil && fi.Size() <= 4<<20 {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no captures under %s", dir)
	}
	compared, holes := 0, 0
	for _, path := range files {
		rel, _ := filepath.Rel(dir, filepath.Dir(path))
		t.Run(rel, func(t *testing.T) {
			compared += compareFollow(t, tshark, path, &holes)
		})
	}
	if compared == 0 {
		t.Fatalf("no TCP stream compared")
	}
	t.Logf("%d stream directions identical to tshark's; %d with missing bytes skipped", compared, holes)
}

// missingMarker is what tshark's follow writes in place of a hole.
var missingMarker = []byte(" bytes missing in capture file]")

// compareFollow checks one capture and returns the number of directions
// compared; holes counts the directions skipped for missing bytes.
func compareFollow(t *testing.T, tshark, path string, holes *int) int {
	ours, starts, stats := reassembleFile(t, path)
	conns := map[direction]bool{}
	for d := range ours {
		if !conns[direction{d.dst, d.src}] {
			conns[d] = true
		}
	}
	streams := min(len(conns), 64)
	if streams == 0 {
		return 0
	}
	args := []string{"-n", "-r", path, "-q"}
	for i := range streams {
		args = append(args, "-z", "follow,tcp,raw,"+strconv.Itoa(i))
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark follow: %v", err)
	}
	compared := 0
	for _, f := range parseFollow(t, out) {
		for _, d := range [2]direction{{f.nodes[0], f.nodes[1]}, {f.nodes[1], f.nodes[0]}} {
			c := ours[d]
			want := f.data[d]
			switch {
			case c == nil, len(want) == 0 && len(c.data) == 0:
				continue // nothing to compare
			case c.gaps > 0 && !bytes.Contains(want, missingMarker):
				t.Errorf("%v -> %v: %d gaps where tshark misses nothing", d.src, d.dst, c.gaps)
				continue
			case c.gaps > 0, bytes.Contains(want, missingMarker):
				*holes++
				continue // bytes missing: the two tools resume differently
			case starts[d] > 1:
				continue // a reused 4-tuple
			case stats[d].AfterFIN > 0:
				continue // tshark follows on past FIN and RST; a Half stops
			}
			compared++
			if !bytes.Equal(c.data, want) {
				i := 0
				for i < len(c.data) && i < len(want) && c.data[i] == want[i] {
					i++
				}
				t.Errorf("%v -> %v: %d bytes, tshark %d; first difference at offset %d", d.src, d.dst, len(c.data), len(want), i)
			}
		}
	}
	return compared
}

// reassembleFile feeds every TCP segment of the capture to a Half per
// direction and returns what each delivered, the number of SYNs seen per
// direction and each Half's counters.
func reassembleFile(t *testing.T, path string) (map[direction]*collector, map[direction]int, map[direction]HalfStats) {
	src, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := decode.NewDecoder(decode.DefaultOptions)
	halves := map[direction]*Half{}
	ours := map[direction]*collector{}
	syns := map[direction]int{}
	var p decode.Packet
	for {
		pkt, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Logf("reading %s: %v", path, err)
			break
		}
		if dec.Decode(pkt.LinkType, pkt.Data, pkt.Timestamp, &p) != nil || p.Transport != decode.ProtoTCP {
			continue
		}
		d := direction{netip.AddrPortFrom(p.SrcIP, p.SrcPort), netip.AddrPortFrom(p.DstIP, p.DstPort)}
		h := halves[d]
		if h == nil {
			h = new(Half)
			h.Init(nil)
			halves[d] = h
			ours[d] = new(collector)
		}
		syn := p.TCPFlags&decode.TCPFlagSYN != 0
		if syn && (syns[d] == 0 || h.Stats().Delivered > 0) {
			syns[d]++
		}
		h.Segment(p.Seq, syn, p.TCPFlags&decode.TCPFlagFIN != 0, p.TCPFlags&decode.TCPFlagRST != 0, p.Payload, ours[d])
	}
	stats := map[direction]HalfStats{}
	for d, h := range halves {
		h.Flush(ours[d])
		stats[d] = h.Stats()
	}
	return ours, syns, stats
}

// follow is one stream of tshark's follow output.
type follow struct {
	nodes [2]netip.AddrPort
	data  map[direction][]byte
}

// parseFollow reads the blocks of "tshark -q -z follow,tcp,raw,N": a
// header naming node 0 and node 1, then one hex line per chunk, indented
// with a tab when node 1 sent it.
func parseFollow(t *testing.T, out []byte) []follow {
	var fs []follow
	var cur *follow
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "====="):
			continue
		case strings.HasPrefix(line, "Follow:"):
			fs = append(fs, follow{data: map[direction][]byte{}})
			cur = &fs[len(fs)-1]
		case strings.HasPrefix(line, "Filter:"), line == "":
			continue
		case strings.HasPrefix(line, "Node 0: "), strings.HasPrefix(line, "Node 1: "):
			if cur == nil {
				t.Fatalf("follow output: %q before a block", line)
			}
			ap, err := parseNode(line[len("Node 0: "):])
			if err != nil {
				t.Fatalf("follow output: %q: %v", line, err)
			}
			cur.nodes[line[5]-'0'] = ap
		default:
			if cur == nil {
				t.Fatalf("follow output: %q before a block", line)
			}
			d := direction{cur.nodes[0], cur.nodes[1]}
			if strings.HasPrefix(line, "\t") {
				d = direction{cur.nodes[1], cur.nodes[0]}
			}
			b, err := hex.DecodeString(strings.TrimSpace(line))
			if err != nil {
				t.Fatalf("follow output: %q: %v", line, err)
			}
			cur.data[d] = append(cur.data[d], b...)
		}
	}
	return fs
}

// parseNode parses "addr:port" as tshark prints it, with or without
// brackets around an IPv6 address.
func parseNode(s string) (netip.AddrPort, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return netip.AddrPort{}, os.ErrInvalid
	}
	a, err := netip.ParseAddr(strings.Trim(s[:i], "[]"))
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(s[i+1:], 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a, uint16(port)), nil
}
