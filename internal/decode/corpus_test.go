package decode

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/otwatch/otwatch/internal/testenv"
)

// TestCorpusAgainstGopacket decodes every frame of the shared corpus and
// compares addresses, ports, flags and payloads with gopacket's decoder.
func TestCorpusAgainstGopacket(t *testing.T) {
	dir := testenv.Corpus(t)
	var files []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	if len(files) == 0 {
		t.Fatalf("no captures under %s", dir)
	}
	frames := 0
	for _, path := range files {
		frames += compareFile(t, path)
	}
	t.Logf("%d frames in %d files", frames, len(files))
}

// compareFile compares every frame of one capture and returns how many.
func compareFile(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type reader interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var r reader
	var link func() layers.LinkType
	if ng, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.DefaultNgReaderOptions); err == nil {
		r, link = ng, ng.LinkType
	} else if pr, err := pcapgo.NewReader(bytes.NewReader(b)); err == nil {
		r, link = pr, pr.LinkType
	} else {
		t.Fatalf("%s: neither pcap nor pcapng: %v", path, err)
	}
	d := NewDecoder(DefaultOptions)
	n := 0
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("%s frame %d: %v", path, n+1, err)
		}
		n++
		compareWithGopacket(t, d, link(), data, n)
		if t.Failed() {
			t.Fatalf("%s: frame %d differs", path, n)
		}
	}
}
