package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// RekeyDevices follows devices whose key changed, move by move.
func (d *DB) RekeyDevices(ctx context.Context, sensor string, moves []store.KeyMove) error {
	if err := store.CheckKeyMoves(sensor, moves); err != nil {
		return err
	}
	if len(moves) == 0 {
		return d.reading()
	}
	return d.write(ctx, func(w *wtx) error {
		var merges store.IDMerges
		for _, m := range moves {
			if err := w.rekey(sensor, m, &merges); err != nil {
				return err
			}
		}
		if merges.Len() == 0 {
			return nil
		}
		from, to := merges.Pairs()
		fj, tj := jsonIDs(from), jsonIDs(to)
		// One pass over the events: their device IDs are not indexed.
		if _, err := w.ExecContext(ctx, `WITH m(src, dst) AS (SELECT f.value, t.value FROM json_each(?2) f JOIN json_each(?3) t ON t.key = f.key)
			UPDATE events SET device_id = coalesce((SELECT dst FROM m WHERE src = device_id), device_id),
				peer_id = coalesce((SELECT dst FROM m WHERE src = peer_id), peer_id)
			WHERE sensor = (SELECT id FROM dict WHERE s = ?1) AND (device_id IN (SELECT src FROM m) OR peer_id IN (SELECT src FROM m))`,
			sensor, fj, tj); err != nil {
			return fmt.Errorf("sqlite: moving the events of merged devices of %s: %w", sensor, err)
		}
		return nil
	})
}

// rekey applies one key move; a merge of two IDs is added to merges,
// whose events are moved afterwards.
func (w *wtx) rekey(sensor string, m store.KeyMove, merges *store.IDMerges) error {
	ctx := w.ctx
	if m.From == m.To {
		return nil
	}
	keyID := func(key string) (inventory.DeviceID, bool, error) {
		var id int64
		err := w.QueryRowContext(ctx, "SELECT id FROM device_keys WHERE sensor = ? AND key = ?", sensor, key).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("sqlite: device id of %s of %s: %w", key, sensor, err)
		}
		return inventory.DeviceID(id), true, nil
	}
	from, ok, err := keyID(m.From)
	if err != nil || !ok {
		return err
	}
	to, ok, err := keyID(m.To)
	if err != nil {
		return err
	}
	if !ok {
		if _, err := w.ExecContext(ctx, "UPDATE device_keys SET key = ? WHERE sensor = ? AND key = ?", m.To, sensor, m.From); err != nil {
			return fmt.Errorf("sqlite: moving device key %s to %s of %s: %w", m.From, m.To, sensor, err)
		}
		return nil
	}
	if _, err := w.ExecContext(ctx, "DELETE FROM device_keys WHERE sensor = ? AND key = ?", sensor, m.From); err != nil {
		return fmt.Errorf("sqlite: merging device %d into %d of %s: %w", from, to, sensor, err)
	}
	for _, table := range []string{"devices", "device_addrs"} {
		if _, err := w.ExecContext(ctx, "DELETE FROM "+table+" WHERE sensor = ? AND id = ?", sensor, int64(from)); err != nil {
			return fmt.Errorf("sqlite: merging device %d into %d of %s: %w", from, to, sensor, err)
		}
	}
	if err := w.moveConnections(sensor, from, to); err != nil {
		return err
	}
	if err := w.moveRoutedBy(sensor, from, to); err != nil {
		return err
	}
	merges.Add(from, to)
	return nil
}

// moveConnections points the connections of device from at device to.
func (w *wtx) moveConnections(sensor string, from, to inventory.DeviceID) error {
	ctx := w.ctx
	rows, err := w.QueryContext(ctx, `SELECT client, server, protocol, transport, port, relation, doc FROM connections
		WHERE sensor = ?1 AND client IN (?2, ?3) UNION
		SELECT client, server, protocol, transport, port, relation, doc FROM connections
		WHERE sensor = ?1 AND server IN (?2, ?3)`, sensor, int64(from), int64(to))
	if err != nil {
		return fmt.Errorf("sqlite: connections of device %d of %s: %w", from, sensor, err)
	}
	var conns []inventory.Connection
	for rows.Next() {
		var c inventory.Connection
		var client, server int64
		var port int
		var proto, tr, rel string
		var doc []byte
		if err := rows.Scan(&client, &server, &proto, &tr, &port, &rel, &doc); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: connections of device %d of %s: %w", from, sensor, err)
		}
		if err := json.Unmarshal(doc, &c); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: decoding a connection of device %d of %s: %w", from, sensor, err)
		}
		c.Client, c.Server, c.Protocol, c.Transport, c.Port, c.Relation = inventory.DeviceID(client), inventory.DeviceID(server), proto, tr, uint16(port), rel
		conns = append(conns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: connections of device %d of %s: %w", from, sensor, err)
	}
	drop, put := store.MoveConnections(conns, from, to)
	for i := range drop {
		c := &drop[i]
		if _, err := w.ExecContext(ctx, `DELETE FROM connections WHERE sensor = ? AND client = ? AND server = ? AND protocol = ?
			AND transport = ? AND port = ? AND relation = ?`, sensor, int64(c.Client), int64(c.Server), c.Protocol, c.Transport, int(c.Port), c.Relation); err != nil {
			return fmt.Errorf("sqlite: moving connection %d→%d of %s: %w", c.Client, c.Server, sensor, err)
		}
	}
	for i := range put {
		c := &put[i]
		doc, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("sqlite: encoding connection: %w", err)
		}
		if _, err := w.ExecContext(ctx, "INSERT INTO connections VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET doc = excluded.doc",
			sensor, int64(c.Client), int64(c.Server), c.Protocol, c.Transport, int(c.Port), c.Relation, doc); err != nil {
			return fmt.Errorf("sqlite: moving connection %d→%d of %s: %w", c.Client, c.Server, sensor, err)
		}
	}
	return nil
}

// moveRoutedBy makes the devices that device from routes routed by device
// to.
func (w *wtx) moveRoutedBy(sensor string, from, to inventory.DeviceID) error {
	ctx := w.ctx
	rows, err := w.QueryContext(ctx, "SELECT id, doc FROM devices WHERE sensor = ? AND json_extract(CAST(doc AS TEXT), '$.routed_by') = ?",
		sensor, int64(from))
	if err != nil {
		return fmt.Errorf("sqlite: devices routed by %d of %s: %w", from, sensor, err)
	}
	type routed struct {
		id  int64
		doc []byte
	}
	var devs []routed
	for rows.Next() {
		var r routed
		var dv inventory.Device
		if err := rows.Scan(&r.id, &r.doc); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: devices routed by %d of %s: %w", from, sensor, err)
		}
		if err := json.Unmarshal(r.doc, &dv); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: decoding device %d of %s: %w", r.id, sensor, err)
		}
		dv.RoutedBy = to
		if r.doc, err = json.Marshal(&dv); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: encoding device %d of %s: %w", r.id, sensor, err)
		}
		devs = append(devs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: devices routed by %d of %s: %w", from, sensor, err)
	}
	for _, r := range devs {
		if _, err := w.ExecContext(ctx, "UPDATE devices SET doc = ? WHERE sensor = ? AND id = ?", r.doc, sensor, r.id); err != nil {
			return fmt.Errorf("sqlite: storing device %d of %s: %w", r.id, sensor, err)
		}
	}
	return nil
}
