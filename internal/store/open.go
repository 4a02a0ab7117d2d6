package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options tune a Store. The zero value gives the defaults.
type Options struct {
	// EvidenceDir is where pcapng evidence files are kept. For SQLite the
	// default is the directory "<database>.evidence" next to the database
	// file; backends without a file of their own require it to store
	// evidence.
	EvidenceDir string
	// EvidenceMaxBytes caps the total size of evidence files; the oldest
	// are removed first. 0 means DefaultEvidenceMaxBytes; negative means
	// no cap.
	EvidenceMaxBytes int64
	// Now returns the current time for comments, history and the audit
	// log; time.Now when nil.
	Now func() time.Time
	// MaxReaders bounds the connections used for queries (a backend
	// default when 0).
	MaxReaders int
}

// DefaultEvidenceMaxBytes is the default cap on evidence files: 1 GiB.
const DefaultEvidenceMaxBytes = 1 << 30

// Time returns o.Now(), or time.Now() when Now is nil, in UTC.
func (o *Options) Time() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

// EvidenceCap returns the effective evidence size cap, -1 for none.
func (o *Options) EvidenceCap() int64 {
	switch {
	case o.EvidenceMaxBytes == 0:
		return DefaultEvidenceMaxBytes
	case o.EvidenceMaxBytes < 0:
		return -1
	}
	return o.EvidenceMaxBytes
}

// OpenFunc opens a Store of one backend. dsn is as given to Open.
type OpenFunc func(ctx context.Context, dsn string, opts Options) (Store, error)

var (
	backendsMu sync.RWMutex
	backends   = map[string]OpenFunc{}
)

// RegisterBackend makes a backend available to Open under name ("sqlite",
// "postgres"). Backends call it from init; a duplicate name panics.
func RegisterBackend(name string, open OpenFunc) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if _, dup := backends[name]; dup {
		panic("store: backend " + name + " registered twice")
	}
	backends[name] = open
}

// Backends returns the names of the registered backends, sorted.
func Backends() []string {
	backendsMu.RLock()
	defer backendsMu.RUnlock()
	var out []string
	for n := range backends {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// BackendOf returns the backend a data source name selects:
// "postgres" for postgres:// and postgresql:// URLs, "sqlite" for a
// "sqlite:" or "file:" URL or a plain file path. Another URL scheme is
// ErrInvalid.
func BackendOf(dsn string) (string, error) {
	if dsn == "" {
		return "", fmt.Errorf("%w: empty data source name", ErrInvalid)
	}
	scheme, _, ok := strings.Cut(dsn, ":")
	if !ok || len(scheme) == 1 || strings.ContainsAny(scheme, `/\. `) {
		return "sqlite", nil // a path (C:\ on Windows included)
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		return "postgres", nil
	case "sqlite", "sqlite3", "file":
		return "sqlite", nil
	}
	return "", fmt.Errorf("%w: unknown database scheme %q in %q (want a file path, sqlite: or postgres://)", ErrInvalid, scheme, Redact(dsn))
}

// Open opens the store named by dsn with the backend BackendOf selects,
// creating or migrating its schema as needed.
func Open(ctx context.Context, dsn string, opts Options) (Store, error) {
	name, err := BackendOf(dsn)
	if err != nil {
		return nil, err
	}
	backendsMu.RLock()
	open := backends[name]
	backendsMu.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("store: backend %q is not linked into this program (import internal/store/all)", name)
	}
	s, err := open(ctx, dsn, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Redact returns dsn with any password in it replaced by "xxxxx", for
// error messages and logs.
func Redact(dsn string) string {
	i := strings.Index(dsn, "://")
	if i < 0 {
		return dsn
	}
	rest := dsn[i+3:]
	at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@")
	if at < 0 {
		return dsn
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return dsn
	}
	return dsn[:i+3] + user + ":xxxxx" + rest[at:]
}
