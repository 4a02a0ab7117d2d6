package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otwatch/otwatch/internal/store"
)

// PutExclusion creates or replaces an exclusion rule.
func (d *DB) PutExclusion(ctx context.Context, r store.Exclusion, actor string) (store.Exclusion, error) {
	r, err := store.CheckExclusion(r)
	if err != nil {
		return r, err
	}
	subnet := r.SubnetString()
	in := r
	err = d.write(ctx, func(w *wtx) error {
		r = in
		if r.ID == 0 {
			r = store.NewExclusion(r, actor, w.now)
			if err := w.QueryRow(ctx, `INSERT INTO exclusions(name, type, device, subnet, sensor, from_ns, until_ns, disabled, comment, author, created_ns)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`, r.Name, r.Type, r.Device, subnet, r.Sensor,
				store.Nanos(r.From), store.Nanos(r.Until), r.Disabled, r.Comment, r.Author, w.now.UnixNano()).Scan(&r.ID); err != nil {
				return d.fail("storing exclusion rule", err)
			}
		} else {
			old, err := store.ScanExclusion(w.QueryRow(ctx, "SELECT "+store.ExclusionColumns+" FROM exclusions WHERE id = $1 FOR UPDATE", r.ID))
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("%w: exclusion rule %d", store.ErrNotFound, r.ID)
			}
			if err != nil {
				return d.fail(fmt.Sprintf("exclusion rule %d", r.ID), err)
			}
			r = store.ReplaceExclusion(r, old)
			if _, err := w.Exec(ctx, `UPDATE exclusions SET name = $1, type = $2, device = $3, subnet = $4, sensor = $5, from_ns = $6,
				until_ns = $7, disabled = $8, comment = $9, author = $10 WHERE id = $11`, r.Name, r.Type, r.Device, subnet, r.Sensor,
				store.Nanos(r.From), store.Nanos(r.Until), r.Disabled, r.Comment, r.Author, r.ID); err != nil {
				return d.fail(fmt.Sprintf("storing exclusion rule %d", r.ID), err)
			}
		}
		return w.audit(store.AuditExclusion(actor, r))
	})
	if err != nil {
		return in, err
	}
	return r, nil
}

// Exclusion returns one rule.
func (d *DB) Exclusion(ctx context.Context, id int64) (store.Exclusion, error) {
	if err := d.reading(); err != nil {
		return store.Exclusion{}, err
	}
	r, err := store.ScanExclusion(d.pool.QueryRow(ctx, "SELECT "+store.ExclusionColumns+" FROM exclusions WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("%w: exclusion rule %d", store.ErrNotFound, id)
	}
	if err != nil {
		return r, d.fail(fmt.Sprintf("exclusion rule %d", id), err)
	}
	return r, nil
}

// Exclusions returns every rule.
func (d *DB) Exclusions(ctx context.Context) ([]store.Exclusion, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, "SELECT "+store.ExclusionColumns+" FROM exclusions ORDER BY id")
	if err != nil {
		return nil, d.fail("exclusion rules", err)
	}
	defer rows.Close()
	out := []store.Exclusion{}
	for rows.Next() {
		r, err := store.ScanExclusion(rows)
		if err != nil {
			return nil, d.fail("exclusion rules", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail("exclusion rules", err)
	}
	return out, nil
}

// DeleteExclusion removes a rule.
func (d *DB) DeleteExclusion(ctx context.Context, id int64, actor string) error {
	return d.write(ctx, func(w *wtx) error {
		tag, err := w.Exec(ctx, "DELETE FROM exclusions WHERE id = $1", id)
		if err != nil {
			return d.fail(fmt.Sprintf("deleting exclusion rule %d", id), err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: exclusion rule %d", store.ErrNotFound, id)
		}
		return w.audit(store.AuditDelete(actor, "exclusion", fmt.Sprint(id)))
	})
}

// AddSuppressed adds to the suppression counts of rules and mutes.
func (d *DB) AddSuppressed(ctx context.Context, rules, mutes map[int64]uint64) error {
	if len(rules) == 0 && len(mutes) == 0 {
		return nil
	}
	return d.write(ctx, func(w *wtx) error {
		for _, t := range []struct {
			table string
			n     map[int64]uint64
		}{{"exclusions", rules}, {"mutes", mutes}} {
			if len(t.n) == 0 {
				continue
			}
			ids, ns := make([]int64, 0, len(t.n)), make([]int64, 0, len(t.n))
			for id, n := range t.n {
				ids, ns = append(ids, id), append(ns, int64(min(n, 1<<62)))
			}
			if _, err := w.Exec(ctx, "UPDATE "+t.table+" x SET suppressed = x.suppressed + u.n FROM unnest($1::int8[], $2::int8[]) AS u(id, n) WHERE x.id = u.id",
				ids, ns); err != nil {
				return d.fail("suppression counts", err)
			}
		}
		return nil
	})
}

// PutSite creates or updates a site.
func (d *DB) PutSite(ctx context.Context, s store.Site, actor string) error {
	if err := store.CheckID("site", s.ID); err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		if _, err := w.Exec(ctx, `INSERT INTO sites VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = excluded.name,
			description = excluded.description`, s.ID, s.Name, s.Description); err != nil {
			return d.fail("storing site "+s.ID, err)
		}
		return w.audit(store.AuditPut(actor, "site", s.ID, s.Name))
	})
}

// Sites returns every site.
func (d *DB) Sites(ctx context.Context) ([]store.Site, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, `SELECT id, name, description FROM sites ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, d.fail("sites", err)
	}
	out := []store.Site{}
	var s store.Site
	if _, err := pgx.ForEachRow(rows, []any{&s.ID, &s.Name, &s.Description}, func() error {
		out = append(out, s)
		return nil
	}); err != nil {
		return nil, d.fail("sites", err)
	}
	return out, nil
}

// count returns the result of a count query in a transaction.
func (w *wtx) count(query string, args ...any) (int64, error) {
	var n int64
	if err := w.QueryRow(w.ctx, query, args...).Scan(&n); err != nil {
		return 0, w.d.fail("counting", err)
	}
	return n, nil
}

// deleteRow deletes by id and fails with ErrNotFound when nothing was.
func (w *wtx) deleteRow(table, kind, id string) error {
	tag, err := w.Exec(w.ctx, "DELETE FROM "+table+" WHERE id = $1", id)
	if err != nil {
		return w.d.fail("deleting "+kind+" "+id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s %q", store.ErrNotFound, kind, id)
	}
	return nil
}

// lockPlaces serializes changes to sites, zones and sensors, whose rules
// (a zone's site exists, a deleted site has no zones) span tables.
func (w *wtx) lockPlaces() error {
	if _, err := w.Exec(w.ctx, "LOCK TABLE sites, zones, sensors IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return w.d.fail("locking sites", err)
	}
	return nil
}

// SiteExists reports whether site id is stored (store.Places).
func (w *wtx) SiteExists(id string) (bool, error) {
	n, err := w.count("SELECT count(*) FROM sites WHERE id = $1", id)
	return n > 0, err
}

// ZoneSite returns the site of zone id (store.Places).
func (w *wtx) ZoneSite(id string) (string, bool, error) {
	var site string
	err := w.QueryRow(w.ctx, "SELECT site FROM zones WHERE id = $1", id).Scan(&site)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, w.d.fail("zone "+id, err)
	}
	return site, true, nil
}

// SiteUse counts the zones and sensors of site id (store.Places).
func (w *wtx) SiteUse(id string) (int64, error) {
	return w.count("SELECT (SELECT count(*) FROM zones WHERE site = $1) + (SELECT count(*) FROM sensors WHERE site = $1)", id)
}

// ZoneSensors counts the sensors of zone id (store.Places).
func (w *wtx) ZoneSensors(id string) (int64, error) {
	return w.count("SELECT count(*) FROM sensors WHERE zone = $1", id)
}

// ZoneStrangers counts the sensors of zone id not in site (store.Places).
func (w *wtx) ZoneStrangers(id, site string) (int64, error) {
	return w.count("SELECT count(*) FROM sensors WHERE zone = $1 AND site <> $2", id, site)
}

// DeleteSite removes a site without zones or sensors.
func (d *DB) DeleteSite(ctx context.Context, id, actor string) error {
	return d.write(ctx, func(w *wtx) error {
		if err := w.lockPlaces(); err != nil {
			return err
		}
		if err := store.CheckDeleteSite(w, id); err != nil {
			return err
		}
		if err := w.deleteRow("sites", "site", id); err != nil {
			return err
		}
		return w.audit(store.AuditDelete(actor, "site", id))
	})
}

// PutZone creates or updates a zone.
func (d *DB) PutZone(ctx context.Context, z store.Zone, actor string) error {
	subnets, err := store.ZoneSubnets(z)
	if err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		if err := w.lockPlaces(); err != nil {
			return err
		}
		if err := store.CheckZonePlace(w, z); err != nil {
			return err
		}
		if _, err := w.Exec(ctx, `INSERT INTO zones VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET site = excluded.site,
			name = excluded.name, description = excluded.description, subnets = excluded.subnets`,
			z.ID, z.Site, z.Name, z.Description, subnets); err != nil {
			return d.fail("storing zone "+z.ID, err)
		}
		return w.audit(store.AuditPut(actor, "zone", z.ID, z.Name))
	})
}

// Zones returns the zones of a site, or all.
func (d *DB) Zones(ctx context.Context, site string) ([]store.Zone, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, `SELECT id, site, name, description, subnets FROM zones WHERE $1 = '' OR site = $1 ORDER BY id COLLATE "C"`, site)
	if err != nil {
		return nil, d.fail("zones", err)
	}
	out := []store.Zone{}
	var z store.Zone
	var subnets []string
	if _, err := pgx.ForEachRow(rows, []any{&z.ID, &z.Site, &z.Name, &z.Description, &subnets}, func() error {
		x := z
		x.Subnets = store.ParseSubnets(subnets)
		out = append(out, x)
		return nil
	}); err != nil {
		return nil, d.fail("zones", err)
	}
	return out, nil
}

// DeleteZone removes a zone without sensors.
func (d *DB) DeleteZone(ctx context.Context, id, actor string) error {
	return d.write(ctx, func(w *wtx) error {
		if err := w.lockPlaces(); err != nil {
			return err
		}
		if err := store.CheckDeleteZone(w, id); err != nil {
			return err
		}
		if err := w.deleteRow("zones", "zone", id); err != nil {
			return err
		}
		return w.audit(store.AuditDelete(actor, "zone", id))
	})
}

// PutSensor creates or updates a sensor.
func (d *DB) PutSensor(ctx context.Context, s store.Sensor, actor string) error {
	s, err := store.CheckSensor(s)
	if err != nil {
		return err
	}
	in := s
	return d.write(ctx, func(w *wtx) error {
		if err := w.lockPlaces(); err != nil {
			return err
		}
		s, err := store.PlaceSensor(w, in)
		if err != nil {
			return err
		}
		if _, err := w.Exec(ctx, `INSERT INTO sensors(id, name, site, zone, mode, last_seen, created) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, site = excluded.site, zone = excluded.zone, mode = excluded.mode`,
			s.ID, s.Name, s.Site, s.Zone, string(s.Mode), store.Nanos(s.LastSeen), w.now.UnixNano()); err != nil {
			return d.fail("storing sensor "+s.ID, err)
		}
		return w.audit(store.AuditSensor(actor, s))
	})
}

// Sensor returns one sensor.
func (d *DB) Sensor(ctx context.Context, id string) (store.Sensor, error) {
	if err := d.reading(); err != nil {
		return store.Sensor{}, err
	}
	s, err := store.ScanSensor(d.pool.QueryRow(ctx, "SELECT "+store.SensorColumns+" FROM sensors WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("%w: sensor %q", store.ErrNotFound, id)
	}
	if err != nil {
		return s, d.fail("sensor "+id, err)
	}
	return s, nil
}

// Sensors returns every sensor.
func (d *DB) Sensors(ctx context.Context) ([]store.Sensor, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, "SELECT "+store.SensorColumns+` FROM sensors ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, d.fail("sensors", err)
	}
	defer rows.Close()
	out := []store.Sensor{}
	for rows.Next() {
		s, err := store.ScanSensor(rows)
		if err != nil {
			return nil, d.fail("sensors", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail("sensors", err)
	}
	return out, nil
}

// DeleteSensor removes a sensor.
func (d *DB) DeleteSensor(ctx context.Context, id, actor string) error {
	return d.write(ctx, func(w *wtx) error {
		if err := w.lockPlaces(); err != nil {
			return err
		}
		if err := w.deleteRow("sensors", "sensor", id); err != nil {
			return err
		}
		return w.audit(store.AuditDelete(actor, "sensor", id))
	})
}

// SetSensorMode switches a sensor's mode.
func (d *DB) SetSensorMode(ctx context.Context, id string, mode store.SensorMode, actor string) error {
	if err := store.CheckSensorMode(mode); err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		tag, err := w.Exec(ctx, "UPDATE sensors SET mode = $1 WHERE id = $2", string(mode), id)
		if err != nil {
			return d.fail("sensor "+id+" mode", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: sensor %q", store.ErrNotFound, id)
		}
		return w.audit(store.AuditSensorMode(actor, id, mode))
	})
}

// SensorSeen records when a sensor last reported.
func (d *DB) SensorSeen(ctx context.Context, id string, t time.Time) error {
	return d.write(ctx, func(w *wtx) error {
		tag, err := w.Exec(ctx, "UPDATE sensors SET last_seen = greatest(last_seen, $1) WHERE id = $2", t.UnixNano(), id)
		if err != nil {
			return d.fail("sensor "+id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: sensor %q", store.ErrNotFound, id)
		}
		return nil
	})
}

// PutUser creates or updates a user.
func (d *DB) PutUser(ctx context.Context, u store.User, actor string) error {
	if err := store.CheckUser(u); err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		now := w.now.UnixNano()
		if _, err := w.Exec(ctx, `INSERT INTO users VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET full_name = excluded.full_name,
			role = excluded.role, password_hash = excluded.password_hash, disabled = excluded.disabled, updated_ns = excluded.updated_ns`,
			u.Name, u.FullName, string(u.Role), u.PasswordHash, u.Disabled, now, now); err != nil {
			return d.fail("storing user "+u.Name, err)
		}
		return w.audit(store.AuditUser(actor, u))
	})
}

// User returns one user.
func (d *DB) User(ctx context.Context, name string) (store.User, error) {
	if err := d.reading(); err != nil {
		return store.User{}, err
	}
	u, err := store.ScanUser(d.pool.QueryRow(ctx, "SELECT "+store.UserColumns+" FROM users WHERE name = $1", name))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("%w: user %q", store.ErrNotFound, name)
	}
	if err != nil {
		return u, d.fail("user "+name, err)
	}
	return u, nil
}

// Users returns every user.
func (d *DB) Users(ctx context.Context) ([]store.User, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, "SELECT "+store.UserColumns+` FROM users ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, d.fail("users", err)
	}
	defer rows.Close()
	out := []store.User{}
	for rows.Next() {
		u, err := store.ScanUser(rows)
		if err != nil {
			return nil, d.fail("users", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail("users", err)
	}
	return out, nil
}

// DeleteUser removes a user.
func (d *DB) DeleteUser(ctx context.Context, name, actor string) error {
	return d.write(ctx, func(w *wtx) error {
		tag, err := w.Exec(ctx, "DELETE FROM users WHERE name = $1", name)
		if err != nil {
			return d.fail("deleting user "+name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: user %q", store.ErrNotFound, name)
		}
		return w.audit(store.AuditDelete(actor, "user", name))
	})
}

// AddAudit appends an audit log entry.
func (d *DB) AddAudit(ctx context.Context, e store.AuditEntry) error {
	if err := store.CheckAuditEntry(e); err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		return w.audit(e)
	})
}

// Audit returns audit log entries, newest first.
func (d *DB) Audit(ctx context.Context, q store.AuditQuery) (store.AuditPage, error) {
	page := store.AuditPage{Entries: []store.AuditEntry{}}
	if err := d.reading(); err != nil {
		return page, err
	}
	n, err := store.PageLimit(q.Limit)
	if err != nil {
		return page, err
	}
	conds, err := store.AuditConditions(q)
	if err != nil {
		return page, err
	}
	b := &qb{}
	for _, x := range conds {
		b.add(x.Compare + " " + b.arg(x.Value))
	}
	rows, err := d.pool.Query(ctx, "SELECT id, time_ns, actor, action, object, detail FROM audit"+b.where()+" ORDER BY id DESC LIMIT "+b.arg(n+1), b.args...)
	if err != nil {
		return page, d.fail("audit log", err)
	}
	var e store.AuditEntry
	var t int64
	if _, err := pgx.ForEachRow(rows, []any{&e.ID, &t, &e.Actor, &e.Action, &e.Object, &e.Detail}, func() error {
		e.Time = store.Time(t)
		page.Entries = append(page.Entries, e)
		return nil
	}); err != nil {
		return page, d.fail("audit log", err)
	}
	if len(page.Entries) > n {
		page.Entries = page.Entries[:n]
		page.Next = store.Cursor{A: page.Entries[n-1].ID}.Encode()
	}
	return page, nil
}
