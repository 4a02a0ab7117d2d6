package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkReader reads arbitrary bytes to the end: no panic, only io.EOF or a
// *FileError wrapping ErrTruncated or ErrFormat, offsets within the input.
func checkReader(t *testing.T, b []byte) {
	t.Helper()
	gz := len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b
	src, err := NewReader(bytes.NewReader(b), "fuzz")
	if err == nil {
		for err == nil {
			var p Packet
			p, err = src.ReadPacket()
			if err == nil && (p.Length < len(p.Data) || len(p.Data) > MaxPacket) {
				t.Fatalf("packet with %d bytes, Length %d", len(p.Data), p.Length)
			}
		}
		if off := src.Stats().Offset; !gz && off > int64(len(b)) {
			t.Fatalf("Stats().Offset %d beyond the %d bytes of input", off, len(b))
		}
		src.Close()
	}
	if err == io.EOF {
		return
	}
	var fe *FileError
	if !errors.As(err, &fe) || !(errors.Is(err, ErrTruncated) || errors.Is(err, ErrFormat)) {
		t.Fatalf("error %v (%T) is not a FileError wrapping ErrTruncated or ErrFormat", err, err)
	}
	if fe.Offset < 0 || (!gz && fe.Offset > int64(len(b))) {
		t.Fatalf("error offset %d outside the %d bytes of input", fe.Offset, len(b))
	}
}

// corpusSeeds returns the first few KB of a few corpus captures whose
// names match pattern, or nothing when $OTWATCH_CORPUS is unset.
func corpusSeeds(pattern string, n int) [][]byte {
	dir := os.Getenv("OTWATCH_CORPUS")
	if dir == "" {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*", pattern))
	sort.Strings(files)
	var seeds [][]byte
	for i, f := range files {
		if len(seeds) == n {
			break
		}
		if i%7 != 0 { // spread the picks over protocols
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		seeds = append(seeds, b[:min(len(b), 4096)])
	}
	return seeds
}

func FuzzPcap(f *testing.F) {
	for _, v := range []string{pcapLEMicro, pcapBENano, pcapLENano, pcapThree} {
		b := unhex(f, v)
		f.Add(b)
		f.Add(gzipBytes(f, b))
	}
	for _, b := range corpusSeeds("capture.pcap", 6) {
		f.Add(b)
	}
	f.Fuzz(checkReader)
}

func FuzzPcapng(f *testing.F) {
	for _, v := range []string{pcapngTwoSections, pcapngThree} {
		b := unhex(f, v)
		f.Add(b)
		f.Add(gzipBytes(f, b))
	}
	for _, b := range corpusSeeds("capture.pcapng", 4) {
		f.Add(b)
	}
	f.Fuzz(checkReader)
}
