package evidencedir

import (
	"bytes"
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/otwatch/otwatch/internal/store"
)

// Check reports whether b starts with a pcapng section header block
// (block type 0x0A0D0D0A and a byte-order magic in either byte order);
// store.ErrInvalid otherwise.
func Check(b []byte) error {
	if len(b) < 28 || !bytes.Equal(b[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}) ||
		!(bytes.Equal(b[8:12], []byte{0x1a, 0x2b, 0x3c, 0x4d}) || bytes.Equal(b[8:12], []byte{0x4d, 0x3c, 0x2b, 0x1a})) {
		return fmt.Errorf("%w: evidence is not a pcapng file", store.ErrInvalid)
	}
	return nil
}

// Name returns the file name of an alert's evidence: the id itself when
// it is a plain name (letters, digits, - and _, at most 64), else a hash
// of it, with the extension .pcapng.
func Name(alertID string) string {
	plain := alertID != "" && len(alertID) <= 64
	for _, r := range alertID {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			plain = false
		}
	}
	if plain {
		return alertID + ".pcapng"
	}
	h := sha1.Sum([]byte(alertID))
	return hex.EncodeToString(h[:]) + ".pcapng"
}

// Dir is the directory evidence files are kept in.
type Dir string

// File is evidence written to a temporary file of a Dir and synced to
// disk, waiting for Commit to give it its name.
type File struct {
	AlertID string
	Name    string // the file's name once committed (Name(AlertID))
	Size    int64
	tmp     string // the temporary file; "" once committed or discarded
}

// Stage writes each evidence file to a temporary file in the directory,
// which it creates if needed, then syncs the files to disk, several at a
// time, so that the file system commits them together. The caller
// records them, then calls Commit; Discard removes what was not
// committed. On error nothing is left staged.
func (d Dir) Stage(evs []store.Evidence) ([]*File, error) {
	if err := os.MkdirAll(string(d), 0o750); err != nil {
		return nil, fmt.Errorf("evidence directory: %w", err)
	}
	files := make([]*File, 0, len(evs))
	open := make([]*os.File, 0, len(evs))
	defer func() {
		for _, f := range open {
			f.Close()
		}
	}()
	for i := range evs {
		id := evs[i].AlertID
		tmp, err := os.CreateTemp(string(d), ".tmp-*")
		if err != nil {
			Discard(files)
			return nil, fmt.Errorf("evidence of %s: %w", id, err)
		}
		open = append(open, tmp)
		files = append(files, &File{AlertID: id, Name: Name(id), Size: int64(len(evs[i].Pcapng)), tmp: tmp.Name()})
		if _, err := tmp.Write(evs[i].Pcapng); err != nil {
			Discard(files)
			return nil, fmt.Errorf("writing evidence of %s: %w", id, err)
		}
	}
	errs := make([]error, len(open))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(len(open), maxSyncs) {
		wg.Go(func() {
			for i := range next {
				errs[i] = open[i].Sync()
			}
		})
	}
	for i := range open {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, f := range open {
		if err := cmp.Or(errs[i], f.Close()); err != nil {
			Discard(files)
			return nil, fmt.Errorf("writing evidence of %s: %w", files[i].AlertID, err)
		}
	}
	open = nil
	return files, nil
}

// maxSyncs bounds the files Stage syncs at once.
const maxSyncs = 32

// Commit renames staged files to their names, in order (a later file of
// the same alert replaces an earlier one), and syncs the directory.
func (d Dir) Commit(files []*File) error {
	for _, f := range files {
		if f.tmp == "" {
			continue
		}
		if err := os.Rename(f.tmp, filepath.Join(string(d), f.Name)); err != nil {
			return fmt.Errorf("storing evidence of %s: %w", f.AlertID, err)
		}
		f.tmp = ""
	}
	return d.sync()
}

// sync flushes the directory's entries (the renames) to disk.
func (d Dir) sync() error {
	dir, err := os.Open(string(d))
	if err != nil {
		return fmt.Errorf("evidence directory: %w", err)
	}
	err = dir.Sync()
	if cerr := dir.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("syncing evidence directory: %w", err)
	}
	return nil
}

// Discard removes the temporary files of files not committed.
func Discard(files []*File) {
	for _, f := range files {
		if f.tmp != "" {
			os.Remove(f.tmp)
			f.tmp = ""
		}
	}
}

// Read returns the evidence file name of alert alertID; store.ErrNotFound
// when the file is missing.
func (d Dir) Read(alertID, name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(string(d), name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: evidence file of alert %q is missing", store.ErrNotFound, alertID)
	}
	if err != nil {
		return nil, fmt.Errorf("reading evidence of %s: %w", alertID, err)
	}
	return b, nil
}

// Remove removes the files called names, as far as it can: a file left
// behind only takes room.
func (d Dir) Remove(names []string) {
	for _, n := range names {
		_ = os.Remove(filepath.Join(string(d), n))
	}
}

// Kept tracks, over the records a transaction makes, which evidence
// files stay referenced and which lost their record, so that only the
// files no record names are removed once it commits.
type Kept struct {
	live    map[string]bool
	victims []string
}

// Keep notes that file name is referenced.
func (k *Kept) Keep(name string) {
	if k.live == nil {
		k.live = map[string]bool{}
	}
	k.live[name] = true
}

// Drop notes that file name lost its record.
func (k *Kept) Drop(name string) {
	if k.live == nil {
		k.live = map[string]bool{}
	}
	k.live[name] = false
	k.victims = append(k.victims, name)
}

// Reset forgets everything, for a transaction run again.
func (k *Kept) Reset() { clear(k.live); k.victims = k.victims[:0] }

// Unreferenced returns the dropped files no record names any more.
func (k *Kept) Unreferenced() []string {
	var out []string
	for _, n := range k.victims {
		if !k.live[n] && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// CheckBatch reports whether a batch of evidence may be stored: at most
// store.MaxBatch files, each of them pcapng (Check); store.ErrInvalid
// otherwise.
func CheckBatch(evs []store.Evidence) error {
	if len(evs) > store.MaxBatch {
		return fmt.Errorf("%w: %d evidence files in one batch", store.ErrInvalid, len(evs))
	}
	for i := range evs {
		if err := Check(evs[i].Pcapng); err != nil {
			return fmt.Errorf("evidence of %s: %w", evs[i].AlertID, err)
		}
	}
	return nil
}
