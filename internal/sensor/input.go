package sensor

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// inputFile is a capture file to read.
type inputFile struct {
	path string // absolute
	info fs.FileInfo
}

// partialSuffixes mark files still being written or downloaded.
var partialSuffixes = []string{".tmp", ".part", ".partial", ".crdownload", ".inprogress", "~"}

// candidate reports whether a file name may be a finished capture: hidden
// files and names of files still being written are not.
func candidate(name string) bool {
	if name == "" || strings.HasPrefix(name, ".") {
		return false
	}
	lower := strings.ToLower(name)
	for _, s := range partialSuffixes {
		if strings.HasSuffix(lower, s) {
			return false
		}
	}
	return true
}

// captureMagic reports whether the first bytes of a file (at least 4) are
// those of a pcap file (microsecond or nanosecond, either byte order), a
// pcapng section header block or a gzip stream.
func captureMagic(b []byte) bool {
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		return true
	}
	if len(b) < 4 {
		return false
	}
	switch [4]byte(b[:4]) {
	case [4]byte{0xa1, 0xb2, 0xc3, 0xd4}, [4]byte{0xd4, 0xc3, 0xb2, 0xa1}, // pcap, microseconds
		[4]byte{0xa1, 0xb2, 0x3c, 0x4d}, [4]byte{0x4d, 0x3c, 0xb2, 0xa1}, // pcap, nanoseconds
		[4]byte{0x0a, 0x0d, 0x0d, 0x0a}: // pcapng
		return true
	}
	return false
}

// looksLikeCapture reports whether the file at path starts like a capture
// file; a file shorter than a magic number may still become one.
func looksLikeCapture(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true // let reading it report the error
	}
	defer f.Close()
	var b [4]byte
	n, _ := io.ReadFull(f, b[:])
	return n < 4 || captureMagic(b[:n])
}

// listDir returns the candidate regular files of dir in name order.
func listDir(dir string) ([]inputFile, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sensor: %w", err)
	}
	ents, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("sensor: reading directory: %w", err)
	}
	var out []inputFile
	for _, e := range ents {
		if !candidate(e.Name()) {
			continue
		}
		p := filepath.Join(abs, e.Name())
		fi, err := os.Stat(p) // follows symbolic links
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, inputFile{path: p, info: fi})
	}
	slices.SortFunc(out, func(a, b inputFile) int { return strings.Compare(a.path, b.path) })
	return out, nil
}

// expandPaths turns files and directories into the files to read, in the
// order given, each directory's files in name order (those that do not
// start like a capture file left out). A path that does not exist is an
// error.
func expandPaths(paths []string) ([]inputFile, error) {
	var out []inputFile
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("sensor: %w", err)
		}
		if fi.IsDir() {
			fs, err := listDir(p)
			if err != nil {
				return nil, err
			}
			for _, f := range fs {
				if looksLikeCapture(f.path) {
					out = append(out, f)
				}
			}
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("sensor: %w", err)
		}
		out = append(out, inputFile{path: abs, info: fi})
	}
	return out, nil
}

// settler decides when a file in a watched directory is complete: when it
// was last modified at least settle ago (a file renamed into place keeps
// its old modification time), or when its size and modification time have
// not changed for settle while watched (a clock that disagrees with the
// file system's).
type settler struct {
	settle time.Duration
	seen   map[string]sighting
}

type sighting struct {
	size  int64
	mtime time.Time
	since time.Time
}

func newSettler(settle time.Duration) *settler {
	return &settler{settle: settle, seen: map[string]sighting{}}
}

// ready reports whether f is complete at now.
func (s *settler) ready(f inputFile, now time.Time) bool {
	size, mtime := f.info.Size(), f.info.ModTime()
	if now.Sub(mtime) >= s.settle {
		delete(s.seen, f.path)
		return true
	}
	old, ok := s.seen[f.path]
	if !ok || old.size != size || !old.mtime.Equal(mtime) {
		s.seen[f.path] = sighting{size: size, mtime: mtime, since: now}
		return false
	}
	if now.Sub(old.since) >= s.settle {
		delete(s.seen, f.path)
		return true
	}
	return false
}

// forget drops what is known of files no longer listed.
func (s *settler) forget(listed []inputFile) {
	if len(s.seen) == 0 {
		return
	}
	keep := make(map[string]bool, len(listed))
	for _, f := range listed {
		keep[f.path] = true
	}
	for p := range s.seen {
		if !keep[p] {
			delete(s.seen, p)
		}
	}
}
