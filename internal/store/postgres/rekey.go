package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// RekeyDevices follows devices whose key changed, move by move. The
// sensor's device_seq row, locked until commit, keeps DeviceIDs from
// giving a key an ID while it moves.
func (d *DB) RekeyDevices(ctx context.Context, sensor string, moves []store.KeyMove) error {
	if err := store.CheckKeyMoves(sensor, moves); err != nil {
		return err
	}
	if len(moves) == 0 {
		return d.reading()
	}
	return d.write(ctx, func(w *wtx) error {
		if _, err := w.Exec(ctx, "SELECT 1 FROM device_seq WHERE sensor = $1 FOR UPDATE", sensor); err != nil {
			return d.fail("locking device ids", err)
		}
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
		// One pass over the events: their device IDs are not indexed.
		if _, err := w.Exec(ctx, `WITH m(src, dst) AS (SELECT * FROM unnest($2::int8[], $3::int8[]))
			UPDATE events e SET device_id = coalesce((SELECT dst FROM m WHERE src = e.device_id), e.device_id),
				peer_id = coalesce((SELECT dst FROM m WHERE src = e.peer_id), e.peer_id)
			WHERE e.sensor = (SELECT id FROM dict WHERE s = $1) AND (e.device_id = ANY($2) OR e.peer_id = ANY($2))`,
			sensor, from, to); err != nil {
			return d.fail("moving the events of merged devices", err)
		}
		return nil
	})
}

// rekey applies one key move; a merge of two IDs is added to merges,
// whose events are moved afterwards.
func (w *wtx) rekey(sensor string, m store.KeyMove, merges *store.IDMerges) error {
	ctx, d := w.ctx, w.d
	if m.From == m.To {
		return nil
	}
	keyID := func(key string) (inventory.DeviceID, bool, error) {
		var id int64
		err := w.QueryRow(ctx, "SELECT id FROM device_keys WHERE sensor = $1 AND key = $2", sensor, key).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, d.fail("reading device ids", err)
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
		if _, err := w.Exec(ctx, "UPDATE device_keys SET key = $3 WHERE sensor = $1 AND key = $2", sensor, m.From, m.To); err != nil {
			return d.fail(fmt.Sprintf("moving device key %s to %s", m.From, m.To), err)
		}
		return nil
	}
	what := fmt.Sprintf("merging device %d into %d", from, to)
	if _, err := w.Exec(ctx, "DELETE FROM device_keys WHERE sensor = $1 AND key = $2", sensor, m.From); err != nil {
		return d.fail(what, err)
	}
	for _, table := range []string{"devices", "device_addrs"} {
		if _, err := w.Exec(ctx, "DELETE FROM "+table+" WHERE sensor = $1 AND id = $2", sensor, int64(from)); err != nil {
			return d.fail(what, err)
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
	ctx, d := w.ctx, w.d
	ids := []int64{int64(from), int64(to)}
	rows, err := w.Query(ctx, `SELECT client, server, protocol, transport, port, relation, doc FROM connections
		WHERE sensor = $1 AND (client = ANY($2) OR server = ANY($2))`, sensor, ids)
	if err != nil {
		return d.fail("reading connections", err)
	}
	var conns []inventory.Connection
	var client, server int64
	var port int32
	var proto, tr, rel string
	var doc []byte
	if _, err := pgx.ForEachRow(rows, []any{&client, &server, &proto, &tr, &port, &rel, &doc}, func() error {
		var c inventory.Connection
		if err := json.Unmarshal(doc, &c); err != nil {
			return fmt.Errorf("postgres: decoding a connection of device %d of %s: %w", from, sensor, err)
		}
		c.Client, c.Server, c.Protocol, c.Transport, c.Port, c.Relation = inventory.DeviceID(client), inventory.DeviceID(server), proto, tr, uint16(port), rel
		conns = append(conns, c)
		return nil
	}); err != nil {
		return d.fail("reading connections", err)
	}
	drop, put := store.MoveConnections(conns, from, to)
	for i := range drop {
		c := &drop[i]
		if _, err := w.Exec(ctx, `DELETE FROM connections WHERE sensor = $1 AND client = $2 AND server = $3 AND protocol = $4
			AND transport = $5 AND port = $6 AND relation = $7`, sensor, int64(c.Client), int64(c.Server), c.Protocol, c.Transport, int32(c.Port), c.Relation); err != nil {
			return d.fail("moving connections", err)
		}
	}
	for i := range put {
		c := &put[i]
		doc, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("postgres: encoding connection: %w", err)
		}
		if _, err := w.Exec(ctx, `INSERT INTO connections (sensor, client, server, protocol, transport, port, relation, doc)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (sensor, client, server, protocol, transport, port, relation) DO UPDATE SET doc = excluded.doc`,
			sensor, int64(c.Client), int64(c.Server), c.Protocol, c.Transport, int32(c.Port), c.Relation, doc); err != nil {
			return d.fail("moving connections", err)
		}
	}
	return nil
}

// moveRoutedBy makes the devices that device from routes routed by device
// to.
func (w *wtx) moveRoutedBy(sensor string, from, to inventory.DeviceID) error {
	ctx, d := w.ctx, w.d
	rows, err := w.Query(ctx, `SELECT id, doc FROM devices
		WHERE sensor = $1 AND (convert_from(doc, 'UTF8')::jsonb ->> 'routed_by') = $2::int8::text`, sensor, int64(from))
	if err != nil {
		return d.fail("reading routed devices", err)
	}
	var ids []int64
	var docs [][]byte
	var id int64
	var doc []byte
	if _, err := pgx.ForEachRow(rows, []any{&id, &doc}, func() error {
		var dv inventory.Device
		if err := json.Unmarshal(doc, &dv); err != nil {
			return fmt.Errorf("postgres: decoding device %d of %s: %w", id, sensor, err)
		}
		dv.RoutedBy = to
		b, err := json.Marshal(&dv)
		if err != nil {
			return fmt.Errorf("postgres: encoding device %d of %s: %w", id, sensor, err)
		}
		ids, docs = append(ids, id), append(docs, b)
		return nil
	}); err != nil {
		return d.fail("reading routed devices", err)
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := w.Exec(ctx, `UPDATE devices d SET doc = t.doc FROM unnest($2::int8[], $3::bytea[]) AS t(id, doc)
		WHERE d.sensor = $1 AND d.id = t.id`, sensor, ids, docs); err != nil {
		return d.fail("storing routed devices", err)
	}
	return nil
}
