package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/evidencedir"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

func init() {
	store.RegisterBackend("sqlite", func(ctx context.Context, dsn string, opts store.Options) (store.Store, error) {
		return Open(ctx, dsn, opts)
	})
}

// DB is a Store in one SQLite file. Writes go through one connection, one
// transaction at a time; queries use a pool of read-only connections,
// which WAL mode lets run alongside the writer.
type DB struct {
	path  string
	opts  store.Options
	evDir evidencedir.Dir

	w  *sql.DB // the one writer connection
	r  *sql.DB // read-only connections
	ck *sql.DB // the connection that checkpoints the WAL in the background

	ckStop chan struct{}
	ckDone chan struct{}

	wmu    sync.Mutex // serializes write transactions
	dict   dict
	combos combos
	closed atomic.Bool
	// gen counts the write transactions committed, for caches.
	gen   atomic.Int64
	cubes cubeCache

	// analyzed is the alert and event count when statistics were last
	// gathered; ingest gathers them again when the tables have grown a lot.
	analyzed atomic.Int64
	grown    atomic.Int64
}

var _ store.Store = (*DB)(nil)

// sqliteMagic begins every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Pragmas of every connection. synchronous=NORMAL in WAL mode keeps every
// committed transaction across a process crash.
const commonPragmas = "&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=temp_store(2)"

// Path returns the file path named by dsn: a path, or a "sqlite:",
// "sqlite://" or "file:" URL of one (query parameters are ignored).
func Path(dsn string) (string, error) {
	p := dsn
	for _, pre := range []string{"sqlite3:", "sqlite:", "file:"} {
		if len(p) >= len(pre) && strings.EqualFold(p[:len(pre)], pre) {
			p = p[len(pre):]
			break
		}
	}
	if strings.HasPrefix(p, "//") {
		p = p[2:] // sqlite:///abs/path, sqlite://rel/path
	}
	if i := strings.IndexByte(p, '?'); i >= 0 && p != dsn {
		p = p[:i]
	}
	if p == "" || p == ":memory:" {
		return "", fmt.Errorf("%w: sqlite: %q names no database file", store.ErrInvalid, dsn)
	}
	return filepath.Abs(p)
}

// Open opens (creating if needed) the SQLite database named by dsn and
// migrates its schema to the current version. A file that is not a SQLite
// database, a SQLite database of another application, or one with a newer
// schema is ErrNotDatabase, and is left as it was.
func Open(ctx context.Context, dsn string, opts store.Options) (*DB, error) {
	return open(ctx, dsn, opts, len(migrations))
}

// open is Open migrating to at most version upTo.
func open(ctx context.Context, dsn string, opts store.Options, upTo int) (*DB, error) {
	path, err := Path(dsn)
	if err != nil {
		return nil, err
	}
	if err := checkFile(path); err != nil {
		return nil, err
	}
	d := &DB{path: path, opts: opts, evDir: evidencedir.Dir(opts.EvidenceDir)}
	if d.evDir == "" {
		d.evDir = evidencedir.Dir(path + ".evidence")
	}
	uri := "file:" + escapePath(path) + "?_txlock=immediate" + commonPragmas
	d.w, err = sql.Open("sqlite", uri+"&_pragma=cache_size(-262144)")
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	d.w.SetMaxOpenConns(1)
	d.w.SetMaxIdleConns(1)
	d.w.SetConnMaxLifetime(0)
	d.w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, d.w, path, upTo); err != nil {
		d.w.Close()
		return nil, err
	}
	// WAL mode is set only once the file is known to be ours: it is a
	// lasting change to the file. The WAL is checkpointed in the
	// background (checkpointer); commits checkpoint it themselves only
	// when it has grown past 1 GiB.
	for _, p := range []string{"PRAGMA journal_mode=WAL", "PRAGMA wal_autocheckpoint=262144", "PRAGMA journal_size_limit=268435456"} {
		if _, err := d.w.ExecContext(ctx, p); err != nil {
			d.w.Close()
			return nil, fmt.Errorf("sqlite: %s: %s: %w", path, p, err)
		}
	}
	d.r, err = sql.Open("sqlite", uri+"&_pragma=cache_size(-32768)&_pragma=mmap_size(1073741824)&_query_only=1")
	if err != nil {
		d.w.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	n := opts.MaxReaders
	if n <= 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	d.r.SetMaxOpenConns(n)
	d.r.SetMaxIdleConns(n)
	if d.ck, err = sql.Open("sqlite", uri); err != nil {
		d.w.Close()
		d.r.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	d.ck.SetMaxOpenConns(1)
	d.ckStop, d.ckDone = make(chan struct{}), make(chan struct{})
	go d.checkpointer()
	if err := d.dict.load(ctx, d.r); err != nil {
		d.Close()
		return nil, fmt.Errorf("sqlite: %s: loading dictionary: %w", path, err)
	}
	var rows int64
	if err := d.r.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM sqlite_stat1) ").Scan(&rows); err == nil && rows > 0 {
		d.analyzed.Store(1) // statistics exist; refreshed as data grows
	}
	return d, nil
}

// checkFile fails with ErrNotDatabase when path exists and is not an empty
// file or a SQLite database.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", path, err)
	}
	if st.IsDir() {
		return fmt.Errorf("%w: %s is a directory, not a SQLite database", store.ErrNotDatabase, path)
	}
	if st.Size() == 0 {
		return nil
	}
	hdr := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, hdr); err != nil || !bytes.Equal(hdr, sqliteMagic) {
		return fmt.Errorf("%w: %s is not a SQLite database (no SQLite header)", store.ErrNotDatabase, path)
	}
	return nil
}

// escapePath makes path safe inside a file: URI.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(p))
}

// Close closes the database. Statistics are refreshed first when the
// tables grew since they were gathered.
func (d *DB) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	if d.ckStop != nil {
		close(d.ckStop)
		<-d.ckDone
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	var errs []error
	if d.ck != nil {
		errs = append(errs, d.ck.Close())
	}
	if d.r != nil {
		errs = append(errs, d.r.Close())
	}
	if d.w != nil {
		_, _ = d.w.Exec("PRAGMA optimize")
		errs = append(errs, d.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: closing %s: %w", d.path, err)
	}
	return nil
}

// checkpointInterval is how often the background checkpointer copies
// committed pages from the WAL into the database.
const checkpointInterval = 100 * time.Millisecond

// checkpointer checkpoints the WAL while writers go on, on another
// connection (and CPU), so that commits do not pay for it.
func (d *DB) checkpointer() {
	defer close(d.ckDone)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	last := d.gen.Load()
	for {
		select {
		case <-d.ckStop:
			return
		case <-t.C:
		}
		if g := d.gen.Load(); g != last {
			last = g
			_, _ = d.ck.Exec("PRAGMA wal_checkpoint(PASSIVE)") // a failed checkpoint is retried next time
		}
	}
}

// Path returns the database file's path.
func (d *DB) Path() string { return d.path }

// EvidenceDir returns the directory evidence files are kept in.
func (d *DB) EvidenceDir() string { return string(d.evDir) }

// wtx is a write transaction.
type wtx struct {
	*sql.Tx
	d     *DB
	ctx   context.Context
	now   time.Time
	added map[string]int64 // dictionary entries added by this transaction
	sel   *sql.Stmt
	ins   *sql.Stmt
	// newCombos are the combinations added by this transaction.
	newCombos map[combo]int64
	csel      *sql.Stmt
	cins      *sql.Stmt
	after     []func() // run after a successful commit
}

// write runs fn in a write transaction, committing when it returns nil.
func (d *DB) write(ctx context.Context, fn func(tx *wtx) error) error {
	if d.closed.Load() {
		return store.ErrClosed
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if d.closed.Load() {
		return store.ErrClosed
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	w := &wtx{Tx: tx, d: d, ctx: ctx, now: d.opts.Time()}
	err = fn(w)
	for _, s := range []*sql.Stmt{w.sel, w.ins, w.csel, w.cins} {
		if s != nil {
			s.Close()
		}
	}
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	err = tx.Commit()
	d.gen.Add(1) // even a failed commit may have changed something
	if err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	if len(w.added) > 0 {
		d.dict.merge(w.added)
	}
	if len(w.newCombos) > 0 {
		d.combos.merge(w.newCombos)
	}
	for _, f := range w.after {
		f()
	}
	return nil
}

// id returns the dictionary id of s, adding s if needed; "" is 0.
func (w *wtx) id(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if id, ok := w.d.dict.id(s); ok {
		return id, nil
	}
	if id, ok := w.added[s]; ok {
		return id, nil
	}
	var err error
	if w.sel == nil {
		if w.sel, err = w.PrepareContext(w.ctx, "SELECT id FROM dict WHERE s = ?"); err != nil {
			return 0, fmt.Errorf("sqlite: dictionary: %w", err)
		}
		if w.ins, err = w.PrepareContext(w.ctx, "INSERT INTO dict(s) VALUES (?) RETURNING id"); err != nil {
			return 0, fmt.Errorf("sqlite: dictionary: %w", err)
		}
	}
	var id int64
	err = w.sel.QueryRowContext(w.ctx, s).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = w.ins.QueryRowContext(w.ctx, s).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: dictionary: %w", err)
	}
	if w.added == nil {
		w.added = map[string]int64{}
	}
	w.added[s] = id
	return id, nil
}

// combo is an alert's combination of the facet dimensions: sensor, site,
// zone, type, category and protocol (dictionary ids), severity, status
// and engine.
type combo [9]int64

// combos caches the combination ids; like dict, it holds only committed
// ones.
type combos struct {
	mu  sync.RWMutex
	ids map[combo]int64
}

func (c *combos) get(k combo) (int64, bool) {
	c.mu.RLock()
	id, ok := c.ids[k]
	c.mu.RUnlock()
	return id, ok
}

func (c *combos) merge(m map[combo]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids = map[combo]int64{}
	}
	for k, id := range m {
		c.ids[k] = id
	}
}

// cid returns the id of a combination, adding it to combos if new.
func (w *wtx) cid(k combo) (int64, error) {
	if id, ok := w.d.combos.get(k); ok {
		return id, nil
	}
	if id, ok := w.newCombos[k]; ok {
		return id, nil
	}
	var err error
	if w.csel == nil {
		const cols = "sensor, site, zone, type, category, protocol, severity, status, engine"
		if w.csel, err = w.PrepareContext(w.ctx, "SELECT cid FROM combos WHERE ("+cols+") = (?,?,?,?,?,?,?,?,?)"); err != nil {
			return 0, fmt.Errorf("sqlite: facet combinations: %w", err)
		}
		if w.cins, err = w.PrepareContext(w.ctx, "INSERT INTO combos("+cols+") VALUES (?,?,?,?,?,?,?,?,?) RETURNING cid"); err != nil {
			return 0, fmt.Errorf("sqlite: facet combinations: %w", err)
		}
	}
	args := anys(k[:])
	var id int64
	err = w.csel.QueryRowContext(w.ctx, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = w.cins.QueryRowContext(w.ctx, args...).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: facet combinations: %w", err)
	}
	if w.newCombos == nil {
		w.newCombos = map[combo]int64{}
	}
	w.newCombos[k] = id
	return id, nil
}

// audit appends an audit log entry in the transaction, at its time when
// e.Time is zero.
func (w *wtx) audit(e store.AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = w.now
	}
	_, err := w.ExecContext(w.ctx, "INSERT INTO audit(time_ns, actor, action, object, detail) VALUES (?,?,?,?,?)",
		e.Time.UnixNano(), e.Actor, e.Action, e.Object, e.Detail)
	if err != nil {
		return fmt.Errorf("sqlite: audit log: %w", err)
	}
	return nil
}

// dict caches the string dictionary both ways, and the words of each
// string for the text filter. Entries are added only once committed, so
// the cache never holds an id that does not exist.
type dict struct {
	mu    sync.RWMutex
	ids   map[string]int64
	strs  map[int64]string
	words map[int64][]string
	maxID int64
}

func (c *dict) load(ctx context.Context, db *sql.DB) error { return c.refresh(ctx, db) }

// refresh adds the entries another connection or process stored since.
func (c *dict) refresh(ctx context.Context, db *sql.DB) error {
	c.mu.RLock()
	from := c.maxID
	c.mu.RUnlock()
	rows, err := db.QueryContext(ctx, "SELECT id, s FROM dict WHERE id > ?", from)
	if err != nil {
		return err
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var id int64
		var s string
		if err := rows.Scan(&id, &s); err != nil {
			return err
		}
		m[s] = id
	}
	if err := rows.Err(); err != nil {
		return err
	}
	c.merge(m)
	return nil
}

func (c *dict) merge(m map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids, c.strs, c.words = map[string]int64{}, map[int64]string{}, map[int64][]string{}
	}
	for s, id := range m {
		c.ids[s] = id
		c.strs[id] = s
		c.words[id] = store.Words(s)
		c.maxID = max(c.maxID, id)
	}
}

// match returns the ids of the strings the words of a search term match
// (store.WordsMatch).
func (c *dict) match(tw []string) []int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []int64
	for id, fw := range c.words {
		if store.WordsMatch(tw, fw) {
			out = append(out, id)
		}
	}
	return out
}

func (c *dict) id(s string) (int64, bool) {
	c.mu.RLock()
	id, ok := c.ids[s]
	c.mu.RUnlock()
	return id, ok
}

func (c *dict) str(id int64) (string, bool) {
	c.mu.RLock()
	s, ok := c.strs[id]
	c.mu.RUnlock()
	return s, ok
}

// lookup returns the dictionary id of s for a query; ok is false when s
// was never stored (so nothing can match it).
func (d *DB) lookup(ctx context.Context, s string) (int64, bool, error) {
	if s == "" {
		return 0, true, nil
	}
	if id, ok := d.dict.id(s); ok {
		return id, true, nil
	}
	var id int64
	err := d.r.QueryRowContext(ctx, "SELECT id FROM dict WHERE s = ?", s).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: dictionary: %w", err)
	}
	d.dict.merge(map[string]int64{s: id})
	return id, true, nil
}

// lookups maps values to ids, leaving out values never stored.
func (d *DB) lookups(ctx context.Context, vals []string) ([]int64, error) {
	out := make([]int64, 0, len(vals))
	for _, v := range vals {
		id, ok, err := d.lookup(ctx, v)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, id)
		}
	}
	return out, nil
}

// str returns the string of a dictionary id.
func (d *DB) str(ctx context.Context, id int64) (string, error) {
	if id == 0 {
		return "", nil
	}
	if s, ok := d.dict.str(id); ok {
		return s, nil
	}
	var s string
	if err := d.r.QueryRowContext(ctx, "SELECT s FROM dict WHERE id = ?", id).Scan(&s); err != nil {
		return "", fmt.Errorf("sqlite: dictionary id %d: %w", id, err)
	}
	d.dict.merge(map[string]int64{s: id})
	return s, nil
}

// reading fails with ErrClosed after Close.
func (d *DB) reading() error {
	if d.closed.Load() {
		return store.ErrClosed
	}
	return nil
}

// grew notes n rows added and refreshes the planner's statistics when
// the data has grown fourfold since they were gathered.
func (d *DB) grew(ctx context.Context, n int64) {
	g := d.grown.Add(n)
	a := d.analyzed.Load()
	if g < 10000 || g < 4*a {
		return
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if d.closed.Load() {
		return
	}
	if _, err := d.w.ExecContext(ctx, "PRAGMA analysis_limit=1000; ANALYZE"); err == nil {
		d.analyzed.Store(g)
	}
}
