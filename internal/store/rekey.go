package store

import (
	"fmt"
	"maps"
	"slices"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
)

// KeyMove is a change of a device's stable key (inventory.Device.Key), as
// RekeyDevices takes it: the device known by From is now known by To (a
// device known by IP turned out to be a MAC device's).
type KeyMove struct {
	From, To string
}

// CheckKeyMoves reports whether RekeyDevices may take moves for sensor: a
// sensor, at most MaxBatch moves, and keys that DeviceIDs would take
// (CheckDeviceKeys); ErrInvalid otherwise.
func CheckKeyMoves(sensor string, moves []KeyMove) error {
	if len(moves) > MaxBatch {
		return fmt.Errorf("%w: %d key moves in one batch", ErrInvalid, len(moves))
	}
	keys := make([]string, 0, 2*len(moves))
	for _, m := range moves {
		keys = append(keys, m.From, m.To)
	}
	if err := CheckDeviceKeys(sensor, keys); err != nil {
		return fmt.Errorf("moving device keys: %w", err)
	}
	return nil
}

// IDMerges collects the device IDs that RekeyDevices merges, one after
// the other, so that the events naming them can be pointed at the
// surviving IDs at once: after Add(a, b) and Add(b, c), both a and b map
// to c. The zero value is empty and ready to use.
type IDMerges struct {
	to map[inventory.DeviceID]inventory.DeviceID
}

// Add records that the device with ID from was merged into the one with
// ID to.
func (m *IDMerges) Add(from, to inventory.DeviceID) {
	if m.to == nil {
		m.to = map[inventory.DeviceID]inventory.DeviceID{}
	}
	for k, v := range m.to {
		if v == from {
			m.to[k] = to
		}
	}
	m.to[from] = to
}

// Len returns how many IDs were merged into others.
func (m *IDMerges) Len() int { return len(m.to) }

// Pairs returns the merged IDs and the IDs they now stand for, in the
// order of the merged IDs.
func (m *IDMerges) Pairs() (from, to []int64) {
	for _, k := range slices.Sorted(maps.Keys(m.to)) {
		from, to = append(from, int64(k)), append(to, int64(m.to[k]))
	}
	return from, to
}

// connKey is what identifies a stored connection of a sensor.
type connKey struct {
	client, server                inventory.DeviceID
	protocol, transport, relation string
	port                          uint16
}

func keyOfConn(c *inventory.Connection) connKey {
	return connKey{c.Client, c.Server, c.Protocol, c.Transport, c.Relation, c.Port}
}

// MergeConnection folds c into into, as an inventory folds the traffic of
// two addresses of one device into one connection: the times widen, the
// counters add up, the classes join, and the request statistics are those
// of the connection with more requests.
func MergeConnection(into *inventory.Connection, c *inventory.Connection) {
	if !c.First.IsZero() && (into.First.IsZero() || c.First.Before(into.First)) {
		into.First = c.First
	}
	if c.Last.After(into.Last) {
		into.Last = c.Last
	}
	into.PacketsTo += c.PacketsTo
	into.PacketsFr += c.PacketsFr
	into.BytesTo += c.BytesTo
	into.BytesFr += c.BytesFr
	into.ClassMask |= c.ClassMask
	into.Classes = nil
	for k := dissect.Class(0); k < 16; k++ {
		if into.ClassMask&(1<<k) != 0 {
			into.Classes = append(into.Classes, k.String())
		}
	}
	if c.Requests > into.Requests {
		into.Requests, into.Interval, into.Regular = c.Requests, c.Interval, c.Regular
	}
	into.CrossesSubnet = into.CrossesSubnet || c.CrossesSubnet
	into.CrossesPurdue = into.CrossesPurdue || c.CrossesPurdue
}

// MoveConnections returns what becomes of a sensor's stored connections
// when the device with ID from is merged into the one with ID to
// (RekeyDevices). conns must hold every stored connection of from and of
// to. drop are the connections naming from, to be deleted; put are those
// to be stored in their place: pointed at to, merged (MergeConnection)
// into a connection of to with the same key, and left out when they would
// join to with itself. Both are in the order of conns.
func MoveConnections(conns []inventory.Connection, from, to inventory.DeviceID) (drop, put []inventory.Connection) {
	at := map[connKey]int{} // index in put by key
	kept := map[connKey]*inventory.Connection{}
	for i := range conns {
		c := &conns[i]
		if c.Client != from && c.Server != from {
			kept[keyOfConn(c)] = c
		}
	}
	for i := range conns {
		c := conns[i]
		if c.Client != from && c.Server != from {
			continue
		}
		drop = append(drop, c)
		if c.Client == from {
			c.Client = to
		}
		if c.Server == from {
			c.Server = to
		}
		if c.Client == c.Server {
			continue
		}
		k := keyOfConn(&c)
		if j, ok := at[k]; ok {
			MergeConnection(&put[j], &c)
			continue
		}
		if o, ok := kept[k]; ok {
			m := *o
			m.Classes = slices.Clone(o.Classes)
			MergeConnection(&m, &c)
			c = m
		}
		at[k] = len(put)
		put = append(put, c)
	}
	return drop, put
}
