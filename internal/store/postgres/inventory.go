package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// PutDevices upserts a sensor's devices.
func (d *DB) PutDevices(ctx context.Context, sensor string, devices []inventory.Device) error {
	if err := store.CheckDevices(sensor, devices); err != nil {
		return err
	}
	n := len(devices)
	var (
		ids, first, last            = make([]int64, n), make([]int64, n), make([]int64, n)
		names, types, vendors, srch = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		purdue                      = make([]int16, n)
		inactive                    = make([]bool, n)
		protos                      = make([]string, n) // JSON arrays: text[] has no arrays of arrays of varying length
		docs                        = make([][]byte, n)
		addrSensor                  []string
		addrID                      []int64
		addrs                       []string
	)
	for i := range devices {
		dv := &devices[i]
		b, err := json.Marshal(dv)
		if err != nil {
			return fmt.Errorf("postgres: encoding device %d: %w", dv.ID, err)
		}
		p, _ := json.Marshal(store.DeviceProtocols(dv))
		ids[i], first[i], last[i] = int64(dv.ID), dv.FirstSeen.UnixNano(), dv.LastSeen.UnixNano()
		names[i], types[i], vendors[i], srch[i] = dv.Name, string(dv.Type), dv.Vendor, store.DeviceSearchText(dv)
		purdue[i], inactive[i], protos[i], docs[i] = int16(dv.Purdue), dv.Inactive, string(p), b
		for _, a := range store.DeviceAddrs(dv) {
			addrSensor, addrID, addrs = append(addrSensor, sensor), append(addrID, int64(dv.ID)), append(addrs, a)
		}
	}
	return d.write(ctx, func(w *wtx) error {
		_, err := w.Exec(ctx, `INSERT INTO devices AS d (sensor, id, name, type, vendor, purdue, inactive, first_ns, last_ns, protocols, search, doc)
			SELECT $1, id, name, type, vendor, purdue, inactive, first_ns, last_ns,
				ARRAY(SELECT jsonb_array_elements_text(protos::jsonb)), search, doc
			FROM unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::int2[], $7::bool[], $8::int8[], $9::int8[], $10::text[], $11::text[], $12::bytea[])
				AS t(id, name, type, vendor, purdue, inactive, first_ns, last_ns, protos, search, doc)
			ORDER BY id
			ON CONFLICT (sensor, id) DO UPDATE SET name = excluded.name, type = excluded.type, vendor = excluded.vendor,
				purdue = excluded.purdue, inactive = excluded.inactive, first_ns = excluded.first_ns, last_ns = excluded.last_ns,
				protocols = excluded.protocols, search = excluded.search, doc = excluded.doc`,
			sensor, ids, names, types, vendors, purdue, inactive, first, last, protos, srch, docs)
		if err != nil {
			return d.fail("storing devices", err)
		}
		if _, err := w.Exec(ctx, "DELETE FROM device_addrs WHERE sensor = $1 AND id = ANY($2)", sensor, ids); err != nil {
			return d.fail("storing device addresses", err)
		}
		if _, err := w.Exec(ctx, `INSERT INTO device_addrs (addr, sensor, id) SELECT * FROM unnest($1::text[], $2::text[], $3::int8[])
			ON CONFLICT DO NOTHING`, addrs, addrSensor, addrID); err != nil {
			return d.fail("storing device addresses", err)
		}
		return nil
	})
}

// PutConnections upserts a sensor's connections.
func (d *DB) PutConnections(ctx context.Context, sensor string, conns []inventory.Connection) error {
	if err := store.CheckConnections(sensor, conns); err != nil {
		return err
	}
	n := len(conns)
	var (
		clients, servers            = make([]int64, n), make([]int64, n)
		protocols, transports, rels = make([]string, n), make([]string, n), make([]string, n)
		ports                       = make([]int32, n)
		docs                        = make([][]byte, n)
	)
	for i := range conns {
		c := &conns[i]
		doc, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("postgres: encoding connection: %w", err)
		}
		clients[i], servers[i], protocols[i], transports[i], ports[i], rels[i], docs[i] =
			int64(c.Client), int64(c.Server), c.Protocol, c.Transport, int32(c.Port), c.Relation, doc
	}
	return d.write(ctx, func(w *wtx) error {
		// The last copy of a connection in the batch wins.
		_, err := w.Exec(ctx, `INSERT INTO connections AS c (sensor, client, server, protocol, transport, port, relation, doc)
			SELECT DISTINCT ON (client, server, protocol, transport, port, relation) $1, client, server, protocol, transport, port, relation, doc
			FROM unnest($2::int8[], $3::int8[], $4::text[], $5::text[], $6::int4[], $7::text[], $8::bytea[]) WITH ORDINALITY
				AS t(client, server, protocol, transport, port, relation, doc, i)
			ORDER BY client, server, protocol, transport, port, relation, i DESC
			ON CONFLICT (sensor, client, server, protocol, transport, port, relation) DO UPDATE SET doc = excluded.doc`,
			sensor, clients, servers, protocols, transports, ports, rels, docs)
		if err != nil {
			return d.fail("storing connections", err)
		}
		return nil
	})
}

// DeviceIDs returns the store IDs of a sensor's devices by key, giving
// new keys the IDs after the sensor's last one. The sensor's device_seq
// row, locked until commit, makes concurrent calls give out IDs in turn;
// a key that a concurrent call stored first keeps that call's ID.
func (d *DB) DeviceIDs(ctx context.Context, sensor string, keys []string) ([]inventory.DeviceID, error) {
	if err := store.CheckDeviceKeys(sensor, keys); err != nil {
		return nil, err
	}
	uniq := make([]string, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, k)
		}
	}
	var ids map[string]int64
	err := d.write(ctx, func(w *wtx) error {
		ids = make(map[string]int64, len(uniq))
		lookup := func(keys []string) error {
			rows, err := w.Query(ctx, "SELECT key, id FROM device_keys WHERE sensor = $1 AND key = ANY($2)", sensor, keys)
			if err != nil {
				return err
			}
			var k string
			var id int64
			_, err = pgx.ForEachRow(rows, []any{&k, &id}, func() error { ids[k] = id; return nil })
			return err
		}
		if err := lookup(uniq); err != nil {
			return d.fail("reading device ids", err)
		}
		var missing []string
		for _, k := range uniq {
			if _, ok := ids[k]; !ok {
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		n := int64(len(missing))
		var last int64
		if err := w.QueryRow(ctx, `INSERT INTO device_seq AS s (sensor, last)
			VALUES ($1, (SELECT coalesce(max(id), 0) FROM devices WHERE sensor = $1) + $2)
			ON CONFLICT (sensor) DO UPDATE SET last = greatest(s.last, (SELECT coalesce(max(id), 0) FROM devices WHERE sensor = $1)) + $2
			RETURNING last`, sensor, n).Scan(&last); err != nil {
			return d.fail("giving out device ids", err)
		}
		if last > math.MaxUint32 {
			return fmt.Errorf("postgres: device ids of %s: all %d ids are taken", sensor, uint32(math.MaxUint32))
		}
		newIDs := make([]int64, n)
		for i := range newIDs {
			newIDs[i] = last - n + 1 + int64(i)
		}
		rows, err := w.Query(ctx, `INSERT INTO device_keys (sensor, key, id) SELECT $1, key, id FROM unnest($2::text[], $3::int8[]) AS t(key, id)
			ON CONFLICT (sensor, key) DO NOTHING RETURNING key, id`, sensor, missing, newIDs)
		if err == nil {
			var k string
			var id int64
			_, err = pgx.ForEachRow(rows, []any{&k, &id}, func() error { ids[k] = id; return nil })
		}
		if err != nil {
			return d.fail("storing device ids", err)
		}
		// Keys a concurrent call stored first keep the IDs it gave them.
		missing = slices.DeleteFunc(missing, func(k string) bool { _, ok := ids[k]; return ok })
		if len(missing) > 0 {
			if err := lookup(missing); err != nil {
				return d.fail("reading device ids", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]inventory.DeviceID, len(keys))
	for i, k := range keys {
		out[i] = inventory.DeviceID(ids[k])
	}
	return out, nil
}

const deviceSelect = `SELECT d.sensor, coalesce(s.site, ''), coalesce(s.zone, ''), d.doc, d.last_ns, d.first_ns, d.name, d.id
FROM devices d LEFT JOIN sensors s ON s.id = d.sensor`

func (d *DB) scanDevices(rows pgx.Rows) ([]store.DeviceRow, error) {
	var out []store.DeviceRow
	var (
		sensor, site, zone, name string
		doc                      []byte
		last, first, id          int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&sensor, &site, &zone, &doc, &last, &first, &name, &id}, func() error {
		r, err := store.DecodeDevice("postgres", sensor, site, zone, doc, last, first, name, id)
		if err != nil {
			return err
		}
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, d.fail("reading devices", err)
	}
	return out, nil
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
	var cur store.DeviceKey
	if q.Cursor != "" {
		if cur, err = store.DecodeDeviceCursor(q.Sort, q.Cursor); err != nil {
			return page, err
		}
	}
	b := &qb{}
	strIn := func(col string, vals []string) {
		if len(vals) > 0 {
			in(b, col, vals)
		}
	}
	strIn("d.sensor", q.Sensors)
	strIn("s.site", q.Sites)
	strIn("s.zone", q.Zones)
	types := make([]string, len(q.Types))
	for i, t := range q.Types {
		types[i] = string(t)
	}
	strIn("d.type", types)
	strIn("d.vendor", q.Vendors)
	if len(q.Purdue) > 0 {
		lv := make([]int16, len(q.Purdue))
		for i, p := range q.Purdue {
			lv[i] = int16(p)
		}
		in(b, "d.purdue", lv)
	}
	if len(q.Protocols) > 0 {
		ps := make([]string, len(q.Protocols))
		for i, p := range q.Protocols {
			ps[i] = strings.ToLower(p)
		}
		b.add("d.protocols && " + b.arg(ps) + "::text[]")
	}
	if len(q.Devices) > 0 {
		b.add("EXISTS (SELECT 1 FROM device_addrs x WHERE x.sensor = d.sensor AND x.id = d.id AND x.addr = ANY(" + b.arg(q.Devices) + "))")
	}
	if q.Inactive != nil {
		b.add("d.inactive = " + b.arg(*q.Inactive))
	}
	if !q.From.IsZero() {
		b.add("d.last_ns >= " + b.arg(q.From.UnixNano()))
	}
	if !q.Until.IsZero() {
		b.add("d.first_ns < " + b.arg(q.Until.UnixNano()))
	}
	for _, word := range strings.Fields(q.Text) {
		b.add("strpos(d.search, " + b.arg(word) + ") > 0")
	}
	var keys, order []string
	dir, cmpOp := "DESC", " < "
	if q.Ascending {
		dir, cmpOp = "ASC", " > "
	}
	switch q.Sort {
	case store.DeviceSortName:
		keys = []string{"(d.name = '')", "d.name", "d.sensor", "d.id"}
		order = []string{"d.name = ''", "d.name COLLATE \"C\"", "d.sensor COLLATE \"C\"", "d.id"}
		cmpOp = " > "
	case store.DeviceSortFirstSeen:
		keys = []string{"d.first_ns", "d.sensor", "d.id"}
		order = []string{"d.first_ns " + dir, "d.sensor COLLATE \"C\" " + dir, "d.id " + dir}
	default:
		keys = []string{"d.last_ns", "d.sensor", "d.id"}
		order = []string{"d.last_ns " + dir, "d.sensor COLLATE \"C\" " + dir, "d.id " + dir}
	}
	if q.Cursor != "" {
		var vals []string
		switch q.Sort {
		case store.DeviceSortName:
			vals = []string{b.arg(cur.Name == ""), b.arg(cur.Name) + " COLLATE \"C\"", b.arg(cur.Sensor) + " COLLATE \"C\"", b.arg(cur.ID)}
		case store.DeviceSortFirstSeen:
			vals = []string{b.arg(cur.First), b.arg(cur.Sensor) + " COLLATE \"C\"", b.arg(cur.ID)}
		default:
			vals = []string{b.arg(cur.Last), b.arg(cur.Sensor) + " COLLATE \"C\"", b.arg(cur.ID)}
		}
		b.add("(" + strings.Join(keys, ", ") + ")" + cmpOp + "(" + strings.Join(vals, ", ") + ")")
	}
	n := b.arg(q.Limit + 1)
	rows, err := d.pool.Query(ctx, deviceSelect+b.where()+" ORDER BY "+strings.Join(order, ", ")+" LIMIT "+n, b.args...)
	if err != nil {
		return page, d.fail("querying devices", err)
	}
	rs, err := d.scanDevices(rows)
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
	rows, err := d.pool.Query(ctx, deviceSelect+" WHERE d.sensor = $1 AND d.id = $2", sensor, int64(id))
	if err != nil {
		return nil, d.fail(fmt.Sprintf("device %s/%d", sensor, id), err)
	}
	rs, err := d.scanDevices(rows)
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
	query := "SELECT doc FROM connections WHERE sensor = $1"
	args := []any{sensor}
	if device != 0 {
		query += " AND (client = $2 OR server = $2)"
		args = append(args, int64(device))
	}
	rows, err := d.pool.Query(ctx, query+` ORDER BY client, server, port, relation COLLATE "C", protocol COLLATE "C", transport COLLATE "C"`, args...)
	if err != nil {
		return nil, d.fail("connections", err)
	}
	out := []inventory.Connection{}
	var doc []byte
	if _, err := pgx.ForEachRow(rows, []any{&doc}, func() error {
		var c inventory.Connection
		if err := json.Unmarshal(doc, &c); err != nil {
			return fmt.Errorf("postgres: decoding connection: %w", err)
		}
		out = append(out, c)
		return nil
	}); err != nil {
		return nil, d.fail("connections", err)
	}
	return out, nil
}

// putBaseline upserts records: the counts and times widen, the source of
// an entry is the one it was first stored with.
func (w *wtx) putBaseline(sensor string, recs []baseline.Record) error {
	n := len(recs)
	if n == 0 {
		return nil
	}
	var (
		kinds, clients, servers, macs, protocols = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		functions, classes, targets, sources     = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ports                                    = make([]int32, n)
		first, last, count, period               = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		mins, maxs                               = make([]float64, n), make([]float64, n)
	)
	for i, r := range recs {
		kinds[i], protocols[i] = string(r.Kind), r.Protocol
		clients[i], servers[i], macs[i], sources[i] = store.BaselineColumns(&r)
		functions[i], classes[i], targets[i] = r.Function, r.Class, r.Target
		ports[i] = int32(r.Port)
		first[i], last[i], count[i], period[i] = r.First.UnixNano(), r.Last.UnixNano(), int64(min(r.Count, 1<<63-1)), int64(r.Period)
		mins[i], maxs[i] = r.Min, r.Max
	}
	// Copies of one entry in the batch are merged first: one statement
	// may change a row only once.
	_, err := w.Exec(w.ctx, `INSERT INTO baseline AS b (sensor, kind, client, server, mac, protocol, port, function, class, target,
			first_ns, last_ns, count, min, max, period, source)
		SELECT $1, kind, client, server, mac, protocol, port, function, class, target,
			min(first_ns), max(last_ns), max(count), min(mn), max(mx),
			coalesce((array_agg(period ORDER BY i DESC) FILTER (WHERE period <> 0))[1], 0), (array_agg(source ORDER BY i))[1]
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int4[], $8::text[], $9::text[], $10::text[],
			$11::int8[], $12::int8[], $13::int8[], $14::float8[], $15::float8[], $16::int8[], $17::text[]) WITH ORDINALITY
			AS t(kind, client, server, mac, protocol, port, function, class, target, first_ns, last_ns, count, mn, mx, period, source, i)
		GROUP BY kind, client, server, mac, protocol, port, function, class, target
		ORDER BY kind, client, server, mac, protocol, port, function, class, target
		ON CONFLICT (sensor, kind, client, server, mac, protocol, port, function, class, target) DO UPDATE SET
			first_ns = least(b.first_ns, excluded.first_ns), last_ns = greatest(b.last_ns, excluded.last_ns),
			count = greatest(b.count, excluded.count), min = least(b.min, excluded.min), max = greatest(b.max, excluded.max),
			period = CASE WHEN excluded.period <> 0 THEN excluded.period ELSE b.period END`,
		sensor, kinds, clients, servers, macs, protocols, ports, functions, classes, targets, first, last, count, mins, maxs, period, sources)
	if err != nil {
		return w.d.fail("storing baseline", err)
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
	rows, err := d.pool.Query(ctx, `SELECT kind, client, server, mac, protocol, port, function, class, target,
		first_ns, last_ns, count, min, max, period, source FROM baseline WHERE sensor = $1`, sensor)
	if err != nil {
		return nil, d.fail("baseline of "+sensor, err)
	}
	out := []baseline.Record{}
	var (
		r                          baseline.Record
		kind, client, server, mac  string
		port                       int32
		first, last, count, period int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&kind, &client, &server, &mac, &r.Protocol, &port, &r.Function, &r.Class, &r.Target,
		&first, &last, &count, &r.Min, &r.Max, &period, &r.Source}, func() error {
		x := r
		store.SetBaselineColumns(&x, kind, client, server, mac)
		x.Port = uint16(port)
		x.First, x.Last, x.Count, x.Period = store.Time(first), store.Time(last), uint64(count), time.Duration(period)
		out = append(out, x)
		return nil
	}); err != nil {
		return nil, d.fail("baseline of "+sensor, err)
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
		return fmt.Errorf("postgres: %w", err)
	}
	return d.write(ctx, func(w *wtx) error {
		if _, err := w.Exec(ctx, `INSERT INTO overrides VALUES ($1, $2, $3, $4) ON CONFLICT (addr) DO UPDATE SET doc = excluded.doc,
			actor = excluded.actor, updated_ns = excluded.updated_ns`, a, doc, actor, w.now.UnixNano()); err != nil {
			return d.fail("storing override of "+a, err)
		}
		return w.audit(store.AuditOverride(actor, a, doc))
	})
}

// Overrides returns every device override.
func (d *DB) Overrides(ctx context.Context) ([]store.DeviceOverride, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, `SELECT addr, doc, actor, updated_ns FROM overrides ORDER BY addr COLLATE "C"`)
	if err != nil {
		return nil, d.fail("overrides", err)
	}
	out := []store.DeviceOverride{}
	var (
		addr, actor string
		doc         []byte
		t           int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&addr, &doc, &actor, &t}, func() error {
		o := store.DeviceOverride{Addr: addr, Actor: actor, Updated: store.Time(t)}
		if err := json.Unmarshal(doc, &o.Override); err != nil {
			return fmt.Errorf("postgres: decoding override of %s: %w", addr, err)
		}
		out = append(out, o)
		return nil
	}); err != nil {
		return nil, d.fail("overrides", err)
	}
	return out, nil
}

// DeleteOverride removes a device override.
func (d *DB) DeleteOverride(ctx context.Context, addr, actor string) error {
	a, err := store.OverrideAddr(addr)
	if err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		tag, err := w.Exec(ctx, "DELETE FROM overrides WHERE addr = $1", a)
		if err != nil {
			return d.fail("deleting override of "+a, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: no override for %s", store.ErrNotFound, a)
		}
		return w.audit(store.AuditOverrideDelete(actor, a))
	})
}
