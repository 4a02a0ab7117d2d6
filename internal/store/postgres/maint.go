package postgres

import (
	"context"
	"sync"
)

// table names a table whose growth maintenance follows.
type table int

const (
	tableAlerts table = iota
	tableEvents
)

// maintenance keeps the planner's statistics and the alerts' visibility
// map current while the store grows, whether or not autovacuum runs (it
// may be off, and it lags bulk ingest): the alert counts by time range or
// device are read from indexes alone only for pages the visibility map
// marks all-visible, and the planner chooses between walking an index in
// order and collecting matches by what the statistics say.
//
// It runs in the background, one job at a time, after ingest:
//   - alerts: VACUUM when an eighth more rows than at the last run were
//     stored (vacuum reads only the pages changed since), with ANALYZE
//     when the table doubled;
//   - events: ANALYZE when the table doubled.
type maintenance struct {
	d      *DB
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	running  bool
	added    [2]int64 // rows stored since the last job on the table
	vacuumed int64    // alerts when last vacuumed
	analyzed [2]int64 // rows when last analyzed
}

// Thresholds below which tables are not worth maintaining yet.
const (
	minAlertGrowth = 10000
	minEventGrowth = 100000
)

func (m *maintenance) init(ctx context.Context, d *DB) {
	m.d = d
	m.ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	// Start from the planner's idea of the table sizes.
	var a, e float64
	err := d.pool.QueryRow(ctx, `SELECT coalesce((SELECT reltuples FROM pg_class WHERE oid = 'alerts'::regclass), 0),
		coalesce((SELECT reltuples FROM pg_class WHERE oid = 'events'::regclass), 0)`).Scan(&a, &e)
	if err == nil {
		m.vacuumed, m.analyzed[tableAlerts], m.analyzed[tableEvents] = max(int64(a), 0), max(int64(a), 0), max(int64(e), 0)
	}
}

// grew notes n rows stored in t and starts a job when one is due.
func (m *maintenance) grew(ctx context.Context, t table, n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.added[t] += n
	if m.running || m.ctx.Err() != nil {
		return
	}
	if jobs := m.due(); len(jobs) > 0 {
		m.running = true
		m.wg.Add(1)
		go m.run(jobs)
	}
}

// due returns the statements due, resetting the counters they answer;
// m.mu is held.
func (m *maintenance) due() []string {
	var jobs []string
	a := m.vacuumed + m.added[tableAlerts]
	if m.added[tableAlerts] >= max(minAlertGrowth, m.vacuumed/8) {
		if a >= 2*m.analyzed[tableAlerts] {
			jobs = append(jobs, "VACUUM (ANALYZE) alerts")
			m.analyzed[tableAlerts] = a
		} else {
			jobs = append(jobs, "VACUUM alerts")
		}
		jobs = append(jobs, "VACUUM alert_counts")
		m.vacuumed, m.added[tableAlerts] = a, 0
	}
	e := m.analyzed[tableEvents] + m.added[tableEvents]
	if m.added[tableEvents] >= max(minEventGrowth, m.analyzed[tableEvents]) {
		jobs = append(jobs, "ANALYZE events")
		m.analyzed[tableEvents], m.added[tableEvents] = e, 0
	}
	return jobs
}

func (m *maintenance) run(jobs []string) {
	defer m.wg.Done()
	for len(jobs) > 0 {
		for _, j := range jobs {
			if m.ctx.Err() != nil {
				break
			}
			// A failure (the database going away, a lock timeout) only
			// delays the statistics until the next job.
			_, _ = m.d.pool.Exec(m.ctx, j)
		}
		m.mu.Lock()
		jobs = nil
		if m.ctx.Err() == nil {
			jobs = m.due()
		}
		m.running = len(jobs) > 0
		m.mu.Unlock()
	}
}

// stop cancels a running job and waits for it.
func (m *maintenance) stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.wg.Wait()
}
