package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/otwatch/otwatch/internal/testenv"
)

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, layers.LinkTypeEthernet, 4)
	packets := []struct {
		ts     time.Time
		data   string
		length int
	}{
		{time.Unix(1600000000, 123456789), "0102", 60},
		{time.Date(2020, 9, 13, 13, 26, 41, 0, time.FixedZone("X", 3600)), "0a0b0c0d0e0f", 0}, // cut to snaplen 4
	}
	for _, p := range packets {
		if err := w.WritePacket(p.ts, unhex(t, p.data), p.length); err != nil {
			t.Fatal(err)
		}
	}
	// Expected bytes from pcap-savefile(5): nanosecond magic, version 2.4,
	// snaplen 4, linktype 1; records ts_sec, ts_nsec, incl_len, orig_len.
	// 2020-09-13T13:26:41+01:00 (date -u -d @1600000001: 12:26:41 UTC) is 1600000001 (0x5f5e1001) seconds.
	want := unhex(t, `4d3cb2a1 0200 0400 00000000 00000000 04000000 01000000
		00105e5f 15cd5b07 02000000 3c000000 0102
		01105e5f 00000000 04000000 06000000 0a0b0c0d`)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("wrote\n%x\nwant\n%x", buf.Bytes(), want)
	}
	got, err := readAll(mustReader(t, buf.Bytes()))
	wantRecs := []rec{
		{"1600000000.123456789", 60, layers.LinkTypeEthernet, 0, "0102"},
		{"1600000001.000000000", 6, layers.LinkTypeEthernet, 0, "0a0b0c0d"},
	}
	if err != io.EOF || fmt.Sprint(got) != fmt.Sprint(wantRecs) {
		t.Errorf("read back %v, %v; want %v", got, err, wantRecs)
	}

	if err := w.WritePacket(time.Unix(-1, 0), nil, 0); !errors.Is(err, ErrTimestampRange) {
		t.Errorf("WritePacket(1969) = %v, want ErrTimestampRange", err)
	}
	if err := w.WritePacket(time.Unix(1<<32, 0), nil, 0); !errors.Is(err, ErrTimestampRange) {
		t.Errorf("WritePacket(2106) = %v, want ErrTimestampRange", err)
	}
}

func TestWriterEmpty(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, layers.LinkTypeRaw, 0)
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "4d3cb2a1 0200 0400 00000000 00000000 00000400 65000000") // snaplen 262144
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("wrote %x, want %x", buf.Bytes(), want)
	}
	if _, err := mustReader(t, buf.Bytes()).ReadPacket(); err != io.EOF {
		t.Errorf("ReadPacket = %v, want io.EOF", err)
	}
}

// TestWriterTshark writes a capture and reads it with tshark and capinfos.
func TestWriterTshark(t *testing.T) {
	capinfos := testenv.Program(t, "capinfos", "tshark")
	testenv.Program(t, "tshark", "tshark")
	path := filepath.Join(t.TempDir(), "w.pcap")
	var buf bytes.Buffer
	w := NewWriter(&buf, layers.LinkTypeEthernet, 0)
	const n = 100
	frame := unhex(t, "ffffffffffff 020000000001 0806") // broadcast, ARP ethertype
	frame = append(frame, make([]byte, 46)...)
	for i := range n {
		if err := w.WritePacket(time.Unix(1600000000+int64(i), int64(i)*1000003), frame[:14+i%47], 14+i%47+4); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	compareFrames(t, path, readFrames(t, path), tsharkFrames(t, path))
	out, err := exec.Command(capinfos, "-c", "-T", "-r", path).Output()
	if err != nil {
		t.Fatalf("capinfos: %v", err)
	}
	if f := strings.Fields(string(out)); len(f) != 2 || f[1] != fmt.Sprint(n) {
		t.Errorf("capinfos -c = %q, want %d packets", out, n)
	}
}
