package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/evidencedir"
)

func init() {
	store.RegisterBackend("postgres", func(ctx context.Context, dsn string, opts store.Options) (store.Store, error) {
		return Open(ctx, dsn, opts)
	})
}

// DB is a Store in a PostgreSQL database, reached through a pool of
// connections. Several processes may share one database: writes are
// transactions, the string and combination dictionaries are only ever
// added to, and schema migrations take an advisory lock.
type DB struct {
	pool  *pgxpool.Pool
	opts  store.Options
	evDir evidencedir.Dir

	closed atomic.Bool
	dict   dict
	combos comboCache
	maint  maintenance

	textMu sync.RWMutex
	texts  map[[16]byte]int32 // alert texts by hash
}

var _ store.Store = (*DB)(nil)

// Open connects to the PostgreSQL database named by dsn (a postgres:// or
// postgresql:// URL, or a key=value connection string) and migrates its
// schema to the current version. The tables live in the first schema of
// the connection's search_path (set it with a search_path parameter in
// the URL to keep otwatch apart from other applications). A schema holding
// another application's tables, or a newer otwatch schema, is
// ErrNotDatabase, and is left as it was.
//
// Connection parameters the URL does not set get otwatch's defaults:
// application_name otwatch, and jit off (compiling a query costs more than
// the console's queries take).
func Open(ctx context.Context, dsn string, opts store.Options) (*DB, error) {
	return open(ctx, dsn, opts, len(migrations))
}

// open is Open migrating to at most version upTo.
func open(ctx context.Context, dsn string, opts store.Options, upTo int) (*DB, error) {
	name := store.Redact(dsn)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: postgres: %s: %v", store.ErrInvalid, name, redactErr(err, dsn))
	}
	rp := cfg.ConnConfig.RuntimeParams
	if _, ok := rp["application_name"]; !ok {
		rp["application_name"] = "otwatch"
	}
	if _, ok := rp["jit"]; !ok {
		rp["jit"] = "off"
	}
	// Statement descriptions are cached, and every execution is planned
	// with its parameters: the console's queries differ enough in
	// selectivity that a generic plan would often be the wrong one.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
	if opts.MaxReaders > 0 {
		cfg.MaxConns = int32(opts.MaxReaders) + 1
	}
	if cfg.MaxConns < 2 {
		cfg.MaxConns = 2
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", name, err)
	}
	d := &DB{pool: pool, opts: opts, evDir: evidencedir.Dir(opts.EvidenceDir)}
	if err := migrate(ctx, pool, name, upTo); err != nil {
		pool.Close()
		return nil, err
	}
	if err := d.dict.load(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %s: loading dictionary: %w", name, err)
	}
	if err := d.combos.load(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %s: loading facet combinations: %w", name, err)
	}
	d.maint.init(ctx, d)
	return d, nil
}

// redactErr returns err's message with dsn's password replaced.
func redactErr(err error, dsn string) string {
	msg := err.Error()
	if r := store.Redact(dsn); r != dsn {
		msg = strings.ReplaceAll(msg, dsn, r)
	}
	return msg
}

// Close waits for running maintenance and closes the connections.
func (d *DB) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	d.maint.stop()
	d.pool.Close()
	return nil
}

// EvidenceDir returns the directory evidence files are kept in, "" when
// none is configured.
func (d *DB) EvidenceDir() string { return string(d.evDir) }

// reading fails with ErrClosed after Close.
func (d *DB) reading() error {
	if d.closed.Load() {
		return store.ErrClosed
	}
	return nil
}

// wtx is a write transaction.
type wtx struct {
	pgx.Tx
	d   *DB
	ctx context.Context
	now time.Time
}

// maxAttempts bounds how often a write transaction that lost a deadlock or
// serialization conflict against a concurrent writer is run again.
const maxAttempts = 4

// write runs fn in a transaction, committing when it returns nil. A
// transaction that fails because of a concurrent one (deadlock,
// serialization failure) is run again; fn must therefore have no effect
// outside the transaction.
func (d *DB) write(ctx context.Context, fn func(w *wtx) error) error {
	for attempt := 1; ; attempt++ {
		if d.closed.Load() {
			return store.ErrClosed
		}
		err := d.tryWrite(ctx, fn)
		if err == nil || attempt == maxAttempts || !retryable(err) {
			return err
		}
	}
}

func (d *DB) tryWrite(ctx context.Context, fn func(w *wtx) error) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return d.fail("begin", err)
	}
	w := &wtx{Tx: tx, d: d, ctx: ctx, now: d.opts.Time()}
	if err := fn(w); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return d.fail("commit", err)
	}
	return nil
}

// retryable reports whether err is a conflict with a concurrent
// transaction that running the transaction again resolves: a deadlock, a
// serialization failure, or an alert or event inserted by another
// transaction after this one found it was not stored yet.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code == "40001" || pe.Code == "40P01" ||
		pe.Code == "23505" && (pe.ConstraintName == "alerts_pkey" || pe.ConstraintName == "events_pkey")
}

// fail wraps a database error with what was being done. Errors PostgreSQL
// gives for bad data (class 22: a string that is not valid text, a number
// out of range; class 23: a broken constraint) also match ErrInvalid or
// ErrConflict.
func (d *DB) fail(what string, err error) error {
	if d.closed.Load() && !errors.Is(err, store.ErrClosed) {
		return fmt.Errorf("postgres: %s: %w", what, store.ErrClosed)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "22"):
			return fmt.Errorf("postgres: %s: %w: %w", what, store.ErrInvalid, err)
		case pe.Code == "23505" || pe.Code == "23503":
			return fmt.Errorf("postgres: %s: %w: %w", what, store.ErrConflict, err)
		case strings.HasPrefix(pe.Code, "23"):
			return fmt.Errorf("postgres: %s: %w: %w", what, store.ErrInvalid, err)
		}
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// audit appends an audit log entry in the transaction, at its time when
// e.Time is zero.
func (w *wtx) audit(e store.AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = w.now
	}
	_, err := w.Exec(w.ctx, "INSERT INTO audit(time_ns, actor, action, object, detail) VALUES ($1, $2, $3, $4, $5)",
		e.Time.UnixNano(), e.Actor, e.Action, e.Object, e.Detail)
	if err != nil {
		return w.d.fail("audit log", err)
	}
	return nil
}

// querier is what both the pool and a transaction run queries with.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// dict caches the string dictionary both ways, with the words of each
// string for the text filter. Entries are cached once committed, so the
// cache never holds an id that does not exist; ids never change once
// given.
type dict struct {
	mu      sync.RWMutex
	ids     map[string]int32
	strs    map[int32]string
	words   map[int32][]string
	maxID   int32
	checked time.Time // when the cache was last found complete
}

func (c *dict) load(ctx context.Context, q querier) error { return c.refresh(ctx, q) }

// recheck is how often refresh verifies that the cache holds every entry:
// ids are given in order, but a process may commit a smaller id after
// another committed a larger one, which reading the ids above the largest
// known does not find.
const recheck = 10 * time.Second

// refresh reads the entries other processes added since the last read.
func (c *dict) refresh(ctx context.Context, q querier) error {
	c.mu.RLock()
	from, n, stale := c.maxID, len(c.strs), time.Since(c.checked) > recheck
	c.mu.RUnlock()
	if stale {
		var total int
		if err := q.QueryRow(ctx, "SELECT count(*) FROM dict").Scan(&total); err != nil {
			return err
		}
		if total != n {
			from = 0
		}
	}
	rows, err := q.Query(ctx, "SELECT id, s FROM dict WHERE id > $1", from)
	if err != nil {
		return err
	}
	m := map[string]int32{}
	var id int32
	var s string
	_, err = pgx.ForEachRow(rows, []any{&id, &s}, func() error {
		m[s] = id
		return nil
	})
	if err != nil {
		return err
	}
	c.merge(m)
	if stale {
		c.mu.Lock()
		c.checked = time.Now()
		c.mu.Unlock()
	}
	return nil
}

func (c *dict) merge(m map[string]int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids, c.strs, c.words = map[string]int32{}, map[int32]string{}, map[int32][]string{}
	}
	for s, id := range m {
		if _, ok := c.strs[id]; ok {
			continue
		}
		c.ids[s] = id
		c.strs[id] = s
		c.words[id] = store.Words(s)
		c.maxID = max(c.maxID, id)
	}
}

// match returns the ids of the strings a search term's words match
// (store.WordsMatch).
func (c *dict) match(tw []string) []int32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []int32
	for id, fw := range c.words {
		if store.WordsMatch(tw, fw) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (c *dict) id(s string) (int32, bool) {
	if s == "" {
		return 0, true
	}
	c.mu.RLock()
	id, ok := c.ids[s]
	c.mu.RUnlock()
	return id, ok
}

func (c *dict) str(id int32) (string, bool) {
	if id == 0 {
		return "", true
	}
	c.mu.RLock()
	s, ok := c.strs[id]
	c.mu.RUnlock()
	return s, ok
}

// ensureStrings returns the dictionary ids of strs, adding the strings
// that are not in the dictionary yet. The additions are committed at once,
// outside any transaction of the caller: an unused entry is harmless, and
// the cache may then hold it.
func (d *DB) ensureStrings(ctx context.Context, strs []string) error {
	return ensure(strs, d.dict.id, func(missing []string) (map[string]int32, error) {
		rows, err := d.pool.Query(ctx, `WITH v AS (SELECT DISTINCT unnest($1::text[]) AS s),
			ins AS (INSERT INTO dict(s) SELECT s FROM v ORDER BY s ON CONFLICT (s) DO NOTHING RETURNING id, s)
			SELECT id, s FROM ins UNION ALL SELECT d.id, d.s FROM dict d JOIN v ON v.s = d.s`, missing)
		if err != nil {
			return nil, d.fail("dictionary", err)
		}
		got := map[string]int32{}
		var id int32
		var s string
		if _, err := pgx.ForEachRow(rows, []any{&id, &s}, func() error {
			got[s] = id
			return nil
		}); err != nil {
			return nil, d.fail("dictionary", err)
		}
		d.dict.merge(got)
		return got, nil
	}, func(n int) error {
		return fmt.Errorf("postgres: dictionary: %d strings could not be added", n)
	})
}

// ensure adds the keys of ks that id does not know, with add, which
// inserts the keys it is given (or finds them inserted) and returns their
// ids. A key a concurrent transaction adds is not visible to the statement
// that waited for it; the next round finds it. After three rounds, the
// keys still missing are the error lost returns.
func ensure[K comparable](ks []K, id func(K) (int32, bool), add func([]K) (map[K]int32, error), lost func(n int) error) error {
	var missing []K
	seen := map[K]bool{}
	for _, k := range ks {
		if _, ok := id(k); !ok && !seen[k] {
			seen[k] = true
			missing = append(missing, k)
		}
	}
	for round := 0; len(missing) > 0; round++ {
		if round == 3 {
			return lost(len(missing))
		}
		got, err := add(missing)
		if err != nil {
			return err
		}
		rest := missing[:0]
		for _, k := range missing {
			if _, ok := got[k]; !ok {
				rest = append(rest, k)
			}
		}
		missing = rest
	}
	return nil
}

// lookups maps query values to dictionary ids, leaving out values never
// stored (nothing can match them).
func (d *DB) lookups(ctx context.Context, vals []string) ([]int32, error) {
	out := make([]int32, 0, len(vals))
	var missing []string
	for _, v := range vals {
		if id, ok := d.dict.id(v); ok {
			out = append(out, id)
		} else {
			missing = append(missing, v)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := d.pool.Query(ctx, "SELECT id, s FROM dict WHERE s = ANY($1)", missing)
	if err != nil {
		return nil, d.fail("dictionary", err)
	}
	got := map[string]int32{}
	var id int32
	var s string
	if _, err := pgx.ForEachRow(rows, []any{&id, &s}, func() error {
		got[s] = id
		out = append(out, id)
		return nil
	}); err != nil {
		return nil, d.fail("dictionary", err)
	}
	d.dict.merge(got)
	return out, nil
}

// strs returns the strings of dictionary ids, reading those not cached.
func (d *DB) strs(ctx context.Context, ids ...*int32) ([]string, error) {
	out := make([]string, len(ids))
	var missing []int32
	for i, p := range ids {
		s, ok := d.dict.str(*p)
		if !ok {
			missing = append(missing, *p)
		}
		out[i] = s
	}
	if len(missing) == 0 {
		return out, nil
	}
	if err := d.loadIDs(ctx, missing); err != nil {
		return nil, err
	}
	for i, p := range ids {
		s, ok := d.dict.str(*p)
		if !ok {
			return nil, fmt.Errorf("postgres: dictionary has no string %d", *p)
		}
		out[i] = s
	}
	return out, nil
}

// loadIDs reads dictionary entries into the cache.
func (d *DB) loadIDs(ctx context.Context, ids []int32) error {
	rows, err := d.pool.Query(ctx, "SELECT id, s FROM dict WHERE id = ANY($1)", ids)
	if err != nil {
		return d.fail("dictionary", err)
	}
	got := map[string]int32{}
	var id int32
	var s string
	if _, err := pgx.ForEachRow(rows, []any{&id, &s}, func() error {
		got[s] = id
		return nil
	}); err != nil {
		return d.fail("dictionary", err)
	}
	d.dict.merge(got)
	return nil
}

// maxTexts bounds the texts cache; it starts over when full.
const maxTexts = 1 << 16

// ensureTexts returns the ids of the texts, adding those the texts table
// does not hold yet (committed at once, as ensureStrings does).
func (d *DB) ensureTexts(ctx context.Context, texts []textDoc) ([]int32, error) {
	out := make([]int32, len(texts))
	var hashes [][]byte
	var docs [][]byte
	at := map[[16]byte][]int{}
	d.textMu.RLock()
	for i, t := range texts {
		if id, ok := d.texts[t.hash]; ok {
			out[i] = id
			continue
		}
		if _, ok := at[t.hash]; !ok {
			hashes = append(hashes, t.hash[:])
			docs = append(docs, t.doc)
		}
		at[t.hash] = append(at[t.hash], i)
	}
	d.textMu.RUnlock()
	for round := 0; len(hashes) > 0; round++ {
		if round == 3 {
			return nil, fmt.Errorf("postgres: alert texts: %d could not be added", len(hashes))
		}
		rows, err := d.pool.Query(ctx, `WITH v AS (SELECT * FROM unnest($1::bytea[], $2::bytea[]) AS t(hash, doc)),
			ins AS (INSERT INTO texts(hash, doc) SELECT hash, doc FROM v ORDER BY hash ON CONFLICT (hash) DO NOTHING RETURNING id, hash)
			SELECT id, hash FROM ins UNION ALL SELECT t.id, t.hash FROM texts t JOIN v ON v.hash = t.hash`, hashes, docs)
		if err != nil {
			return nil, d.fail("alert texts", err)
		}
		got := map[[16]byte]int32{}
		var id int32
		var h []byte
		if _, err := pgx.ForEachRow(rows, []any{&id, &h}, func() error {
			var k [16]byte
			copy(k[:], h)
			got[k] = id
			return nil
		}); err != nil {
			return nil, d.fail("alert texts", err)
		}
		d.textMu.Lock()
		if len(d.texts)+len(got) > maxTexts || d.texts == nil {
			d.texts = map[[16]byte]int32{}
		}
		for k, id := range got {
			d.texts[k] = id
			for _, i := range at[k] {
				out[i] = id
			}
		}
		d.textMu.Unlock()
		restH, restD := hashes[:0], docs[:0]
		for j, h := range hashes {
			if _, ok := got[[16]byte(h)]; !ok {
				restH, restD = append(restH, h), append(restD, docs[j])
			}
		}
		hashes, docs = restH, restD
	}
	return out, nil
}

// combo is a combination of an alert's facet dimensions other than its
// status, by dictionary id.
type combo struct {
	sensor, site, zone, typ, category, protocol int32
	severity, engine                            int16
}

// comboCache caches the combos table both ways.
type comboCache struct {
	mu      sync.RWMutex
	ids     map[combo]int32
	keys    map[int32]combo
	maxID   int32
	checked time.Time
}

func (c *comboCache) load(ctx context.Context, q querier) error { return c.refresh(ctx, q) }

// refresh reads the combinations other processes added since the last
// read (see dict.refresh).
func (c *comboCache) refresh(ctx context.Context, q querier) error {
	c.mu.RLock()
	from, n, stale := c.maxID, len(c.keys), time.Since(c.checked) > recheck
	c.mu.RUnlock()
	if stale {
		var total int
		if err := q.QueryRow(ctx, "SELECT count(*) FROM combos").Scan(&total); err != nil {
			return err
		}
		if total != n {
			from = 0
		}
	}
	rows, err := q.Query(ctx, "SELECT id, sensor, site, zone, type, category, protocol, severity, engine FROM combos WHERE id > $1", from)
	if err != nil {
		return err
	}
	m := map[combo]int32{}
	var id int32
	var k combo
	if _, err := pgx.ForEachRow(rows, []any{&id, &k.sensor, &k.site, &k.zone, &k.typ, &k.category, &k.protocol, &k.severity, &k.engine}, func() error {
		m[k] = id
		return nil
	}); err != nil {
		return err
	}
	c.merge(m)
	if stale {
		c.mu.Lock()
		c.checked = time.Now()
		c.mu.Unlock()
	}
	return nil
}

func (c *comboCache) merge(m map[combo]int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids, c.keys = map[combo]int32{}, map[int32]combo{}
	}
	for k, id := range m {
		c.ids[k] = id
		c.keys[id] = k
		c.maxID = max(c.maxID, id)
	}
}

// all calls fn for every cached combination.
func (c *comboCache) all(fn func(id int32, k combo)) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for id, k := range c.keys {
		fn(id, k)
	}
}

func (c *comboCache) id(k combo) (int32, bool) {
	c.mu.RLock()
	id, ok := c.ids[k]
	c.mu.RUnlock()
	return id, ok
}

func (c *comboCache) key(id int32) (combo, bool) {
	c.mu.RLock()
	k, ok := c.keys[id]
	c.mu.RUnlock()
	return k, ok
}

// ensureCombos adds the combinations not in the combos table yet, as
// ensureStrings does strings.
func (d *DB) ensureCombos(ctx context.Context, ks []combo) error {
	return ensure(ks, d.combos.id, func(missing []combo) (map[combo]int32, error) {
		cols := make([][]int32, 6)
		sev := make([]int16, len(missing))
		eng := make([]int16, len(missing))
		for i := range cols {
			cols[i] = make([]int32, len(missing))
		}
		for i, k := range missing {
			cols[0][i], cols[1][i], cols[2][i], cols[3][i], cols[4][i], cols[5][i] = k.sensor, k.site, k.zone, k.typ, k.category, k.protocol
			sev[i], eng[i] = k.severity, k.engine
		}
		rows, err := d.pool.Query(ctx, `WITH v AS (SELECT DISTINCT * FROM unnest($1::int4[], $2::int4[], $3::int4[], $4::int4[], $5::int4[], $6::int4[], $7::int2[], $8::int2[])
				AS t(sensor, site, zone, type, category, protocol, severity, engine)),
			ins AS (INSERT INTO combos(sensor, site, zone, type, category, protocol, severity, engine)
				SELECT * FROM v ORDER BY 1, 2, 3, 4, 5, 6, 7, 8 ON CONFLICT DO NOTHING
				RETURNING id, sensor, site, zone, type, category, protocol, severity, engine)
			SELECT * FROM ins
			UNION ALL
			SELECT c.id, c.sensor, c.site, c.zone, c.type, c.category, c.protocol, c.severity, c.engine
			FROM combos c JOIN v USING (sensor, site, zone, type, category, protocol, severity, engine)`,
			cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], sev, eng)
		if err != nil {
			return nil, d.fail("facet combinations", err)
		}
		got := map[combo]int32{}
		var id int32
		var k combo
		if _, err := pgx.ForEachRow(rows, []any{&id, &k.sensor, &k.site, &k.zone, &k.typ, &k.category, &k.protocol, &k.severity, &k.engine}, func() error {
			got[k] = id
			return nil
		}); err != nil {
			return nil, d.fail("facet combinations", err)
		}
		d.combos.merge(got)
		return got, nil
	}, func(n int) error {
		return fmt.Errorf("postgres: facet combinations: %d could not be added", n)
	})
}

// comboKey returns the combination of id, reading the table again when it
// was added by another process since it was loaded.
func (d *DB) comboKey(ctx context.Context, id int32) (combo, error) {
	if k, ok := d.combos.key(id); ok {
		return k, nil
	}
	if err := d.combos.refresh(ctx, d.pool); err != nil {
		return combo{}, d.fail("facet combinations", err)
	}
	if k, ok := d.combos.key(id); ok {
		return k, nil
	}
	return combo{}, fmt.Errorf("postgres: unknown facet combination %d", id)
}
