package sensor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"time"
)

// stateFormat names the state file's document.
const stateFormat = "otwatch-sensor-state"

// State is what a sensor remembers between runs beside the store: the
// capture files it finished and when its learning period started.
type State struct {
	Format string `json:"format"`
	Sensor string `json:"sensor"`
	// LearnStart is the capture time of the first frame seen while
	// learning; the learning period is counted from it across restarts.
	LearnStart time.Time `json:"learn_start,omitzero"`
	// Files are the capture files read to their end, by absolute path.
	Files map[string]FileState `json:"files"`
}

// FileState identifies the version of a file that was read: a file whose
// size or modification time changed since is read again.
type FileState struct {
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	Done    time.Time `json:"done"`
	// Packets is how many frames the file held.
	Packets uint64 `json:"packets"`
	// Error is why reading stopped early (a corrupt or truncated file),
	// "" when the file was read to its end.
	Error string `json:"error,omitempty"`
}

// stamp returns the identity of a file as FileState records it.
func stamp(fi fs.FileInfo) FileState {
	return FileState{Size: fi.Size(), ModTime: fi.ModTime().UTC()}
}

// same reports whether f describes the same version of a file as g.
func (f FileState) same(g FileState) bool {
	return f.Size == g.Size && f.ModTime.Equal(g.ModTime)
}

// LoadState reads the state file at path. A missing file gives an empty
// State; a file of another sensor or that is not a state file is an error.
func LoadState(path, sensor string) (*State, error) {
	st := &State{Format: stateFormat, Sensor: sensor, Files: map[string]FileState{}}
	if path == "" {
		return st, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sensor: reading state: %w", err)
	}
	var got State
	if err := json.Unmarshal(b, &got); err != nil || got.Format != stateFormat {
		return nil, fmt.Errorf("sensor: %s is not a sensor state file", path)
	}
	if got.Sensor != sensor {
		return nil, fmt.Errorf("sensor: state file %s belongs to sensor %q, not %q", path, got.Sensor, sensor)
	}
	if got.Files == nil {
		got.Files = map[string]FileState{}
	}
	return &got, nil
}

// clone returns a copy of st that shares nothing with it.
func (st *State) clone() *State {
	c := *st
	c.Files = maps.Clone(st.Files)
	return &c
}

// Save writes the state to path atomically: into a temporary file that is
// synced and then renamed over the old one. Entries of files that no
// longer exist are dropped first.
func (st *State) Save(path string) error {
	if path == "" {
		return nil
	}
	for p := range st.Files {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			delete(st.Files, p)
		}
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("sensor: encoding state: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".otwatch-state-*")
	if err != nil {
		return fmt.Errorf("sensor: writing state: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("sensor: writing state %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable
		d.Close()
	}
	return nil
}
