package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// protocolList is the text the device protocol filter matches: the
// device's protocols between spaces.
func protocolList(dv *inventory.Device) string {
	return " " + strings.Join(store.DeviceProtocols(dv), " ") + " "
}

// PutDevices upserts a sensor's devices.
func (d *DB) PutDevices(ctx context.Context, sensor string, devices []inventory.Device) error {
	if err := store.CheckDevices(sensor, devices); err != nil {
		return err
	}
	docs := make([][]byte, len(devices))
	for i := range devices {
		dv := &devices[i]
		b, err := json.Marshal(dv)
		if err != nil {
			return fmt.Errorf("sqlite: encoding device %d: %w", dv.ID, err)
		}
		docs[i] = b
	}
	return d.write(ctx, func(w *wtx) error {
		up, err := w.PrepareContext(ctx, `INSERT INTO devices(sensor, id, name, type, vendor, purdue, inactive, first_ns, last_ns, protocols, search, doc)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET name = excluded.name, type = excluded.type,
			vendor = excluded.vendor, purdue = excluded.purdue, inactive = excluded.inactive, first_ns = excluded.first_ns,
			last_ns = excluded.last_ns, protocols = excluded.protocols, search = excluded.search, doc = excluded.doc`)
		if err != nil {
			return fmt.Errorf("sqlite: storing devices: %w", err)
		}
		defer up.Close()
		for i := range devices {
			dv := &devices[i]
			if _, err := up.ExecContext(ctx, sensor, int64(dv.ID), dv.Name, string(dv.Type), dv.Vendor, dv.Purdue, dv.Inactive,
				dv.FirstSeen.UnixNano(), dv.LastSeen.UnixNano(), protocolList(dv), store.DeviceSearchText(dv), docs[i]); err != nil {
				return fmt.Errorf("sqlite: storing device %d: %w", dv.ID, err)
			}
			if _, err := w.ExecContext(ctx, "DELETE FROM device_addrs WHERE sensor = ? AND id = ?", sensor, int64(dv.ID)); err != nil {
				return fmt.Errorf("sqlite: storing device %d: %w", dv.ID, err)
			}
			for _, a := range store.DeviceAddrs(dv) {
				if _, err := w.ExecContext(ctx, "INSERT INTO device_addrs VALUES (?,?,?)", a, sensor, int64(dv.ID)); err != nil {
					return fmt.Errorf("sqlite: storing device %d: %w", dv.ID, err)
				}
			}
		}
		return nil
	})
}

// PutConnections upserts a sensor's connections.
func (d *DB) PutConnections(ctx context.Context, sensor string, conns []inventory.Connection) error {
	if err := store.CheckConnections(sensor, conns); err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		up, err := w.PrepareContext(ctx, `INSERT INTO connections VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET doc = excluded.doc`)
		if err != nil {
			return fmt.Errorf("sqlite: storing connections: %w", err)
		}
		defer up.Close()
		for i := range conns {
			c := &conns[i]
			doc, err := json.Marshal(c)
			if err != nil {
				return fmt.Errorf("sqlite: encoding connection: %w", err)
			}
			if _, err := up.ExecContext(ctx, sensor, int64(c.Client), int64(c.Server), c.Protocol, c.Transport, int(c.Port), c.Relation, doc); err != nil {
				return fmt.Errorf("sqlite: storing connection %d→%d: %w", c.Client, c.Server, err)
			}
		}
		return nil
	})
}

// DeviceIDs returns the store IDs of a sensor's devices by key, giving
// new keys the IDs after the sensor's last one.
func (d *DB) DeviceIDs(ctx context.Context, sensor string, keys []string) ([]inventory.DeviceID, error) {
	if err := store.CheckDeviceKeys(sensor, keys); err != nil {
		return nil, err
	}
	ids := make(map[string]inventory.DeviceID, len(keys))
	err := d.write(ctx, func(w *wtx) error {
		clear(ids)
		rows, err := w.QueryContext(ctx, "SELECT key, id FROM device_keys WHERE sensor = ? AND key IN (SELECT value FROM json_each(?))",
			sensor, jsonStrings(keys))
		if err != nil {
			return fmt.Errorf("sqlite: device ids of %s: %w", sensor, err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var id int64
			if err := rows.Scan(&k, &id); err != nil {
				return fmt.Errorf("sqlite: device ids of %s: %w", sensor, err)
			}
			ids[k] = inventory.DeviceID(id)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: device ids of %s: %w", sensor, err)
		}
		var missing []string
		for _, k := range keys {
			if _, ok := ids[k]; !ok {
				ids[k] = 0
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		var last int64
		if err := w.QueryRowContext(ctx, `SELECT max(coalesce((SELECT last FROM device_seq WHERE sensor = ?1), 0),
			coalesce((SELECT max(id) FROM devices WHERE sensor = ?1), 0))`, sensor).Scan(&last); err != nil {
			return fmt.Errorf("sqlite: device ids of %s: %w", sensor, err)
		}
		if last+int64(len(missing)) > math.MaxUint32 {
			return fmt.Errorf("sqlite: device ids of %s: all %d ids are taken", sensor, uint32(math.MaxUint32))
		}
		// json_each numbers the array's elements from 0 (key).
		if _, err := w.ExecContext(ctx, "INSERT INTO device_keys SELECT ?1, value, ?2 + key + 1 FROM json_each(?3)",
			sensor, last, jsonStrings(missing)); err != nil {
			return fmt.Errorf("sqlite: storing device ids of %s: %w", sensor, err)
		}
		for i, k := range missing {
			ids[k] = inventory.DeviceID(last + 1 + int64(i))
		}
		if _, err := w.ExecContext(ctx, "INSERT INTO device_seq VALUES (?,?) ON CONFLICT DO UPDATE SET last = excluded.last",
			sensor, last+int64(len(missing))); err != nil {
			return fmt.Errorf("sqlite: device ids of %s: %w", sensor, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]inventory.DeviceID, len(keys))
	for i, k := range keys {
		out[i] = ids[k]
	}
	return out, nil
}

const deviceSelect = "SELECT d.sensor, coalesce(s.site, ''), coalesce(s.zone, ''), d.doc, d.last_ns, d.first_ns, d.name, d.id FROM devices d LEFT JOIN sensors s ON s.id = d.sensor"

func scanDevices(rows *sql.Rows) ([]store.DeviceRow, error) {
	defer rows.Close()
	var out []store.DeviceRow
	for rows.Next() {
		var (
			sensor, site, zone, name string
			doc                      []byte
			last, first, id          int64
		)
		if err := rows.Scan(&sensor, &site, &zone, &doc, &last, &first, &name, &id); err != nil {
			return nil, fmt.Errorf("sqlite: reading devices: %w", err)
		}
		r, err := store.DecodeDevice("sqlite", sensor, site, zone, doc, last, first, name, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading devices: %w", err)
	}
	return out, nil
}

// likeEscape escapes s for LIKE ... ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

func inStrings(c *cond, col string, vals []string) {
	if len(vals) > 0 {
		c.add(col+" IN ("+placeholders(len(vals))+")", anys(vals)...)
	}
}

// Devices returns one page of devices. The name order is always A to Z
// (unnamed last); Ascending applies to the time orders.
func (d *DB) Devices(ctx context.Context, q store.DeviceQuery) (store.DevicePage, error) {
	page := store.DevicePage{Devices: []*store.DeviceRecord{}}
	if err := d.reading(); err != nil {
		return page, err
	}
	q, err := q.Normalize()
	if err != nil {
		return page, err
	}
	var c cond
	inStrings(&c, "d.sensor", q.Sensors)
	inStrings(&c, "s.site", q.Sites)
	inStrings(&c, "s.zone", q.Zones)
	types := make([]string, len(q.Types))
	for i, t := range q.Types {
		types[i] = string(t)
	}
	inStrings(&c, "d.type", types)
	inStrings(&c, "d.vendor", q.Vendors)
	if len(q.Purdue) > 0 {
		c.add("d.purdue IN ("+placeholders(len(q.Purdue))+")", anys(q.Purdue)...)
	}
	if len(q.Protocols) > 0 {
		var or []string
		for _, p := range q.Protocols {
			or = append(or, `d.protocols LIKE ? ESCAPE '\'`)
			c.args = append(c.args, "% "+likeEscape(strings.ToLower(p))+" %")
		}
		c.sql = append(c.sql, "("+strings.Join(or, " OR ")+")")
	}
	if len(q.Devices) > 0 {
		c.add("EXISTS (SELECT 1 FROM device_addrs x WHERE x.sensor = d.sensor AND x.id = d.id AND x.addr IN ("+placeholders(len(q.Devices))+"))", anys(q.Devices)...)
	}
	if q.Inactive != nil {
		c.add("d.inactive = ?", *q.Inactive)
	}
	if !q.From.IsZero() {
		c.add("d.last_ns >= ?", q.From.UnixNano())
	}
	if !q.Until.IsZero() {
		c.add("d.first_ns < ?", q.Until.UnixNano())
	}
	for _, word := range strings.Fields(q.Text) {
		c.add(`d.search LIKE ? ESCAPE '\'`, "%"+likeEscape(word)+"%")
	}
	var keys, order []string
	dir, cmpOp := "DESC", "<"
	if q.Ascending {
		dir, cmpOp = "ASC", ">"
	}
	switch q.Sort {
	case store.DeviceSortName:
		keys = []string{"(d.name = '')", "d.name", "d.sensor", "d.id"}
		order = []string{"d.name = ''", "d.name", "d.sensor", "d.id"}
		cmpOp = ">"
	case store.DeviceSortFirstSeen:
		keys = []string{"d.first_ns", "d.sensor", "d.id"}
		order = []string{"d.first_ns " + dir, "d.sensor " + dir, "d.id " + dir}
	default:
		keys = []string{"d.last_ns", "d.sensor", "d.id"}
		order = []string{"d.last_ns " + dir, "d.sensor " + dir, "d.id " + dir}
	}
	if q.Cursor != "" {
		k, err := store.DecodeDeviceCursor(q.Sort, q.Cursor)
		if err != nil {
			return page, err
		}
		var vals []any
		switch q.Sort {
		case store.DeviceSortName:
			vals = []any{k.Name == "", k.Name, k.Sensor, k.ID}
		case store.DeviceSortFirstSeen:
			vals = []any{k.First, k.Sensor, k.ID}
		default:
			vals = []any{k.Last, k.Sensor, k.ID}
		}
		c.add("("+strings.Join(keys, ", ")+") "+cmpOp+" ("+placeholders(len(keys))+")", vals...)
	}
	rows, err := d.r.QueryContext(ctx, deviceSelect+c.where()+" ORDER BY "+strings.Join(order, ", ")+" LIMIT ?", append(c.args, q.Limit+1)...)
	if err != nil {
		return page, fmt.Errorf("sqlite: querying devices: %w", err)
	}
	rs, err := scanDevices(rows)
	if err != nil {
		return page, err
	}
	store.FillDevicePage(&page, rs, q)
	return page, nil
}

// Device returns one device of a sensor.
func (d *DB) Device(ctx context.Context, sensor string, id inventory.DeviceID) (*store.DeviceRecord, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, deviceSelect+" WHERE d.sensor = ? AND d.id = ?", sensor, int64(id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: device %s/%d: %w", sensor, id, err)
	}
	rs, err := scanDevices(rows)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("%w: device %d of sensor %q", store.ErrNotFound, id, sensor)
	}
	return rs[0].Record, nil
}

// Connections returns a sensor's connections, or one device's.
func (d *DB) Connections(ctx context.Context, sensor string, device inventory.DeviceID) ([]inventory.Connection, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	query := "SELECT doc FROM connections WHERE sensor = ?"
	args := []any{sensor}
	if device != 0 {
		query += " AND (client = ? OR server = ?)"
		args = append(args, int64(device), int64(device))
	}
	rows, err := d.r.QueryContext(ctx, query+" ORDER BY client, server, port, relation, protocol, transport", args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: connections: %w", err)
	}
	defer rows.Close()
	out := []inventory.Connection{}
	for rows.Next() {
		var doc []byte
		var c inventory.Connection
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("sqlite: connections: %w", err)
		}
		if err := json.Unmarshal(doc, &c); err != nil {
			return nil, fmt.Errorf("sqlite: decoding connection: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// putBaseline upserts records: the counts and times widen, the source of
// an entry is the one it was first stored with.
func (w *wtx) putBaseline(sensor string, recs []baseline.Record) error {
	st, err := w.PrepareContext(w.ctx, `INSERT INTO baseline VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT DO UPDATE SET first_ns = min(first_ns, excluded.first_ns), last_ns = max(last_ns, excluded.last_ns),
		count = max(count, excluded.count), min = min(min, excluded.min), max = max(max, excluded.max),
		period = iif(excluded.period <> 0, excluded.period, period)`)
	if err != nil {
		return fmt.Errorf("sqlite: storing baseline: %w", err)
	}
	defer st.Close()
	for _, r := range recs {
		client, server, mac, src := store.BaselineColumns(&r)
		if _, err := st.ExecContext(w.ctx, sensor, string(r.Kind), client, server, mac,
			r.Protocol, int(r.Port), r.Function, r.Class, r.Target, r.First.UnixNano(), r.Last.UnixNano(), int64(r.Count),
			r.Min, r.Max, int64(r.Period), src); err != nil {
			return fmt.Errorf("sqlite: storing baseline entry %v: %w", r.Entry, err)
		}
	}
	return nil
}

// PutBaseline upserts a sensor's baseline records.
func (d *DB) PutBaseline(ctx context.Context, sensor string, records []baseline.Record) error {
	if err := store.CheckBaseline(records); err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error { return w.putBaseline(sensor, records) })
}

// Baseline returns a sensor's baseline records.
func (d *DB) Baseline(ctx context.Context, sensor string) ([]baseline.Record, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, `SELECT kind, client, server, mac, protocol, port, function, class, target,
		first_ns, last_ns, count, min, max, period, source FROM baseline WHERE sensor = ?`, sensor)
	if err != nil {
		return nil, fmt.Errorf("sqlite: baseline of %s: %w", sensor, err)
	}
	defer rows.Close()
	out := []baseline.Record{}
	for rows.Next() {
		var r baseline.Record
		var kind, client, server, mac string
		var port int
		var first, last, count, period int64
		if err := rows.Scan(&kind, &client, &server, &mac, &r.Protocol, &port, &r.Function, &r.Class, &r.Target,
			&first, &last, &count, &r.Min, &r.Max, &period, &r.Source); err != nil {
			return nil, fmt.Errorf("sqlite: baseline of %s: %w", sensor, err)
		}
		store.SetBaselineColumns(&r, kind, client, server, mac)
		r.Port = uint16(port)
		r.First, r.Last, r.Count, r.Period = store.Time(first), store.Time(last), uint64(count), time.Duration(period)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: baseline of %s: %w", sensor, err)
	}
	store.SortBaseline(out)
	return out, nil
}

// PutOverride sets a device override.
func (d *DB) PutOverride(ctx context.Context, addr string, o inventory.Override, actor string) error {
	a, err := store.CheckOverride(addr, o)
	if err != nil {
		return err
	}
	doc, err := store.OverrideDoc(o)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return d.write(ctx, func(w *wtx) error {
		if _, err := w.ExecContext(ctx, `INSERT INTO overrides VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET doc = excluded.doc,
			actor = excluded.actor, updated_ns = excluded.updated_ns`, a, doc, actor, w.now.UnixNano()); err != nil {
			return fmt.Errorf("sqlite: storing override of %s: %w", a, err)
		}
		return w.audit(store.AuditOverride(actor, a, doc))
	})
}

// Overrides returns every device override.
func (d *DB) Overrides(ctx context.Context) ([]store.DeviceOverride, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, "SELECT addr, doc, actor, updated_ns FROM overrides ORDER BY addr")
	if err != nil {
		return nil, fmt.Errorf("sqlite: overrides: %w", err)
	}
	defer rows.Close()
	out := []store.DeviceOverride{}
	for rows.Next() {
		var o store.DeviceOverride
		var doc []byte
		var t int64
		if err := rows.Scan(&o.Addr, &doc, &o.Actor, &t); err != nil {
			return nil, fmt.Errorf("sqlite: overrides: %w", err)
		}
		if err := json.Unmarshal(doc, &o.Override); err != nil {
			return nil, fmt.Errorf("sqlite: decoding override of %s: %w", o.Addr, err)
		}
		o.Updated = store.Time(t)
		out = append(out, o)
	}
	return out, rows.Err()
}

// DeleteOverride removes a device override.
func (d *DB) DeleteOverride(ctx context.Context, addr, actor string) error {
	a, err := store.OverrideAddr(addr)
	if err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, "DELETE FROM overrides WHERE addr = ?", a)
		if err != nil {
			return fmt.Errorf("sqlite: deleting override of %s: %w", a, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: no override for %s", store.ErrNotFound, a)
		}
		return w.audit(store.AuditOverrideDelete(actor, a))
	})
}
