package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/otwatch/otwatch/internal/store"
)

// PutExclusion creates or replaces an exclusion rule.
func (d *DB) PutExclusion(ctx context.Context, r store.Exclusion, actor string) (store.Exclusion, error) {
	r, err := store.CheckExclusion(r)
	if err != nil {
		return r, err
	}
	subnet := r.SubnetString()
	err = d.write(ctx, func(w *wtx) error {
		if r.ID == 0 {
			r = store.NewExclusion(r, actor, w.now)
			if err := w.QueryRowContext(ctx, `INSERT INTO exclusions(name, type, device, subnet, sensor, from_ns, until_ns, disabled, comment, author, created_ns)
				VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id`, r.Name, r.Type, r.Device, subnet, r.Sensor, store.Nanos(r.From), store.Nanos(r.Until),
				r.Disabled, r.Comment, r.Author, w.now.UnixNano()).Scan(&r.ID); err != nil {
				return fmt.Errorf("sqlite: storing exclusion rule: %w", err)
			}
		} else {
			old, err := store.ScanExclusion(w.QueryRowContext(ctx, "SELECT "+store.ExclusionColumns+" FROM exclusions WHERE id = ?", r.ID))
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: exclusion rule %d", store.ErrNotFound, r.ID)
			}
			if err != nil {
				return fmt.Errorf("sqlite: exclusion rule %d: %w", r.ID, err)
			}
			r = store.ReplaceExclusion(r, old)
			if _, err := w.ExecContext(ctx, `UPDATE exclusions SET name = ?, type = ?, device = ?, subnet = ?, sensor = ?, from_ns = ?,
				until_ns = ?, disabled = ?, comment = ?, author = ? WHERE id = ?`, r.Name, r.Type, r.Device, subnet, r.Sensor,
				store.Nanos(r.From), store.Nanos(r.Until), r.Disabled, r.Comment, r.Author, r.ID); err != nil {
				return fmt.Errorf("sqlite: storing exclusion rule %d: %w", r.ID, err)
			}
		}
		return w.audit(store.AuditExclusion(actor, r))
	})
	return r, err
}

// Exclusion returns one rule.
func (d *DB) Exclusion(ctx context.Context, id int64) (store.Exclusion, error) {
	if err := d.reading(); err != nil {
		return store.Exclusion{}, err
	}
	r, err := store.ScanExclusion(d.r.QueryRowContext(ctx, "SELECT "+store.ExclusionColumns+" FROM exclusions WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w: exclusion rule %d", store.ErrNotFound, id)
	}
	if err != nil {
		return r, fmt.Errorf("sqlite: exclusion rule %d: %w", id, err)
	}
	return r, nil
}

// Exclusions returns every rule.
func (d *DB) Exclusions(ctx context.Context) ([]store.Exclusion, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, "SELECT "+store.ExclusionColumns+" FROM exclusions ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("sqlite: exclusion rules: %w", err)
	}
	defer rows.Close()
	out := []store.Exclusion{}
	for rows.Next() {
		r, err := store.ScanExclusion(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: exclusion rules: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteExclusion removes a rule.
func (d *DB) DeleteExclusion(ctx context.Context, id int64, actor string) error {
	return d.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, "DELETE FROM exclusions WHERE id = ?", id)
		if err != nil {
			return fmt.Errorf("sqlite: deleting exclusion rule %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
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
			for id, n := range t.n {
				if _, err := w.ExecContext(ctx, "UPDATE "+t.table+" SET suppressed = suppressed + ? WHERE id = ?", int64(n), id); err != nil {
					return fmt.Errorf("sqlite: suppression counts: %w", err)
				}
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
		if _, err := w.ExecContext(ctx, `INSERT INTO sites VALUES (?,?,?) ON CONFLICT DO UPDATE SET name = excluded.name,
			description = excluded.description`, s.ID, s.Name, s.Description); err != nil {
			return fmt.Errorf("sqlite: storing site %s: %w", s.ID, err)
		}
		return w.audit(store.AuditPut(actor, "site", s.ID, s.Name))
	})
}

// Sites returns every site.
func (d *DB) Sites(ctx context.Context) ([]store.Site, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, "SELECT id, name, description FROM sites ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("sqlite: sites: %w", err)
	}
	defer rows.Close()
	out := []store.Site{}
	for rows.Next() {
		var s store.Site
		if err := rows.Scan(&s.ID, &s.Name, &s.Description); err != nil {
			return nil, fmt.Errorf("sqlite: sites: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// count returns the result of a count query in a transaction.
func (w *wtx) count(query string, args ...any) (int64, error) {
	var n int64
	if err := w.QueryRowContext(w.ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	return n, nil
}

// deleteRow deletes by id and fails with ErrNotFound when nothing was.
func (w *wtx) deleteRow(table, kind, id string) error {
	res, err := w.ExecContext(w.ctx, "DELETE FROM "+table+" WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("sqlite: deleting %s %s: %w", kind, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s %q", store.ErrNotFound, kind, id)
	}
	return nil
}

// SiteExists reports whether site id is stored (store.Places).
func (w *wtx) SiteExists(id string) (bool, error) {
	n, err := w.count("SELECT count(*) FROM sites WHERE id = ?", id)
	return n > 0, err
}

// ZoneSite returns the site of zone id (store.Places).
func (w *wtx) ZoneSite(id string) (string, bool, error) {
	var site string
	err := w.QueryRowContext(w.ctx, "SELECT site FROM zones WHERE id = ?", id).Scan(&site)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("sqlite: zone %s: %w", id, err)
	}
	return site, true, nil
}

// SiteUse counts the zones and sensors of site id (store.Places).
func (w *wtx) SiteUse(id string) (int64, error) {
	return w.count("SELECT (SELECT count(*) FROM zones WHERE site = ?1) + (SELECT count(*) FROM sensors WHERE site = ?1)", id)
}

// ZoneSensors counts the sensors of zone id (store.Places).
func (w *wtx) ZoneSensors(id string) (int64, error) {
	return w.count("SELECT count(*) FROM sensors WHERE zone = ?", id)
}

// ZoneStrangers counts the sensors of zone id not in site (store.Places).
func (w *wtx) ZoneStrangers(id, site string) (int64, error) {
	return w.count("SELECT count(*) FROM sensors WHERE zone = ? AND site <> ?", id, site)
}

// DeleteSite removes a site without zones or sensors.
func (d *DB) DeleteSite(ctx context.Context, id, actor string) error {
	return d.write(ctx, func(w *wtx) error {
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
	doc, _ := json.Marshal(subnets)
	return d.write(ctx, func(w *wtx) error {
		if err := store.CheckZonePlace(w, z); err != nil {
			return err
		}
		if _, err := w.ExecContext(ctx, `INSERT INTO zones VALUES (?,?,?,?,?) ON CONFLICT DO UPDATE SET site = excluded.site,
			name = excluded.name, description = excluded.description, subnets = excluded.subnets`,
			z.ID, z.Site, z.Name, z.Description, string(doc)); err != nil {
			return fmt.Errorf("sqlite: storing zone %s: %w", z.ID, err)
		}
		return w.audit(store.AuditPut(actor, "zone", z.ID, z.Name))
	})
}

// Zones returns the zones of a site, or all.
func (d *DB) Zones(ctx context.Context, site string) ([]store.Zone, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, "SELECT id, site, name, description, subnets FROM zones WHERE ?1 = '' OR site = ?1 ORDER BY id", site)
	if err != nil {
		return nil, fmt.Errorf("sqlite: zones: %w", err)
	}
	defer rows.Close()
	out := []store.Zone{}
	for rows.Next() {
		var z store.Zone
		var doc string
		if err := rows.Scan(&z.ID, &z.Site, &z.Name, &z.Description, &doc); err != nil {
			return nil, fmt.Errorf("sqlite: zones: %w", err)
		}
		var subnets []string
		_ = json.Unmarshal([]byte(doc), &subnets)
		z.Subnets = store.ParseSubnets(subnets)
		out = append(out, z)
	}
	return out, rows.Err()
}

// DeleteZone removes a zone without sensors.
func (d *DB) DeleteZone(ctx context.Context, id, actor string) error {
	return d.write(ctx, func(w *wtx) error {
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
	return d.write(ctx, func(w *wtx) error {
		s, err := store.PlaceSensor(w, s)
		if err != nil {
			return err
		}
		if _, err := w.ExecContext(ctx, `INSERT INTO sensors(id, name, site, zone, mode, last_seen, created) VALUES (?,?,?,?,?,?,?)
			ON CONFLICT DO UPDATE SET name = excluded.name, site = excluded.site, zone = excluded.zone, mode = excluded.mode`,
			s.ID, s.Name, s.Site, s.Zone, string(s.Mode), store.Nanos(s.LastSeen), w.now.UnixNano()); err != nil {
			return fmt.Errorf("sqlite: storing sensor %s: %w", s.ID, err)
		}
		return w.audit(store.AuditSensor(actor, s))
	})
}

// Sensor returns one sensor.
func (d *DB) Sensor(ctx context.Context, id string) (store.Sensor, error) {
	if err := d.reading(); err != nil {
		return store.Sensor{}, err
	}
	s, err := store.ScanSensor(d.r.QueryRowContext(ctx, "SELECT "+store.SensorColumns+" FROM sensors WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("%w: sensor %q", store.ErrNotFound, id)
	}
	if err != nil {
		return s, fmt.Errorf("sqlite: sensor %s: %w", id, err)
	}
	return s, nil
}

// Sensors returns every sensor.
func (d *DB) Sensors(ctx context.Context) ([]store.Sensor, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, "SELECT "+store.SensorColumns+" FROM sensors ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("sqlite: sensors: %w", err)
	}
	defer rows.Close()
	out := []store.Sensor{}
	for rows.Next() {
		s, err := store.ScanSensor(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: sensors: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// DeleteSensor removes a sensor.
func (d *DB) DeleteSensor(ctx context.Context, id, actor string) error {
	return d.write(ctx, func(w *wtx) error {
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
		res, err := w.ExecContext(ctx, "UPDATE sensors SET mode = ? WHERE id = ?", string(mode), id)
		if err != nil {
			return fmt.Errorf("sqlite: sensor %s mode: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: sensor %q", store.ErrNotFound, id)
		}
		return w.audit(store.AuditSensorMode(actor, id, mode))
	})
}

// SensorSeen records when a sensor last reported.
func (d *DB) SensorSeen(ctx context.Context, id string, t time.Time) error {
	return d.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, "UPDATE sensors SET last_seen = max(last_seen, ?) WHERE id = ?", t.UnixNano(), id)
		if err != nil {
			return fmt.Errorf("sqlite: sensor %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
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
		if _, err := w.ExecContext(ctx, `INSERT INTO users VALUES (?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET full_name = excluded.full_name,
			role = excluded.role, password_hash = excluded.password_hash, disabled = excluded.disabled, updated_ns = excluded.updated_ns`,
			u.Name, u.FullName, string(u.Role), u.PasswordHash, u.Disabled, now, now); err != nil {
			return fmt.Errorf("sqlite: storing user %s: %w", u.Name, err)
		}
		return w.audit(store.AuditUser(actor, u))
	})
}

// User returns one user.
func (d *DB) User(ctx context.Context, name string) (store.User, error) {
	if err := d.reading(); err != nil {
		return store.User{}, err
	}
	u, err := store.ScanUser(d.r.QueryRowContext(ctx, "SELECT "+store.UserColumns+" FROM users WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("%w: user %q", store.ErrNotFound, name)
	}
	if err != nil {
		return u, fmt.Errorf("sqlite: user %s: %w", name, err)
	}
	return u, nil
}

// Users returns every user.
func (d *DB) Users(ctx context.Context) ([]store.User, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, "SELECT "+store.UserColumns+" FROM users ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	defer rows.Close()
	out := []store.User{}
	for rows.Next() {
		u, err := store.ScanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// DeleteUser removes a user.
func (d *DB) DeleteUser(ctx context.Context, name, actor string) error {
	return d.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, "DELETE FROM users WHERE name = ?", name)
		if err != nil {
			return fmt.Errorf("sqlite: deleting user %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
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
	var c cond
	for _, x := range conds {
		c.add(x.Compare+" ?", x.Value)
	}
	rows, err := d.r.QueryContext(ctx, "SELECT id, time_ns, actor, action, object, detail FROM audit"+c.where()+" ORDER BY id DESC LIMIT ?", append(c.args, n+1)...)
	if err != nil {
		return page, fmt.Errorf("sqlite: audit log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e store.AuditEntry
		var t int64
		if err := rows.Scan(&e.ID, &t, &e.Actor, &e.Action, &e.Object, &e.Detail); err != nil {
			return page, fmt.Errorf("sqlite: audit log: %w", err)
		}
		e.Time = store.Time(t)
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("sqlite: audit log: %w", err)
	}
	if len(page.Entries) > n {
		page.Entries = page.Entries[:n]
		page.Next = store.Cursor{A: page.Entries[n-1].ID}.Encode()
	}
	return page, nil
}
