package store

import (
	"context"
	"slices"
)

// DictID is the type of the ids a backend's string dictionary gives.
type DictID interface{ ~int32 | ~int64 }

// A Filter is an AlertQuery normalized, its names and devices resolved to
// the ids of a backend's string dictionary. Its text terms are left to
// the backend, which sets Other and None when a term matches nothing.
type Filter[ID DictID] struct {
	Query AlertQuery
	// Dims holds the ids of Sensors, Sites, Zones, Types, Categories and
	// Protocols, in that order; nil for those the query does not filter.
	Dims [6][]ID
	// Devices holds the ids of Devices, sorted, once each; nil when the
	// query does not filter devices.
	Devices []ID
	// None is set when nothing can match.
	None bool
	// Other is set when what makes None true is outside the facet
	// dimensions (a device no alert can have), so no facet counts
	// anything.
	Other bool
}

// ResolveAlertQuery normalizes q (AlertQuery.Normalize) and maps its
// names and devices to dictionary ids with lookups, which leaves out the
// values never stored.
func ResolveAlertQuery[ID DictID](ctx context.Context, q AlertQuery, lookups func(context.Context, []string) ([]ID, error)) (Filter[ID], error) {
	q, err := q.Normalize()
	if err != nil {
		return Filter[ID]{}, err
	}
	f := Filter[ID]{Query: q}
	for i, vals := range [6][]string{q.Sensors, q.Sites, q.Zones, q.Types, q.Categories, q.Protocols} {
		if len(vals) == 0 {
			continue
		}
		if f.Dims[i], err = lookups(ctx, vals); err != nil {
			return Filter[ID]{}, err
		}
		f.None = f.None || len(f.Dims[i]) == 0
	}
	if len(q.Devices) > 0 {
		ids, err := lookups(ctx, q.Devices)
		if err != nil {
			return Filter[ID]{}, err
		}
		slices.Sort(ids)
		f.Devices = slices.Compact(ids)
		f.Other = len(f.Devices) == 0
	}
	f.None = f.None || f.Other
	return f, nil
}

// Enums returns the values of enumerated filters (severities, statuses,
// engines) as the integers a backend stores them as.
func Enums[N DictID | ~int16, T ~uint8](v []T) []N {
	out := make([]N, len(v))
	for i := range v {
		out[i] = N(v[i])
	}
	return out
}

// A Condition is a comparison of a column with a value, for a backend to
// write with its placeholder after Compare.
type Condition struct {
	Compare string // column and operator: "actor =", "time_ns >="
	Value   any
}

// AuditConditions returns the conditions on the audit table that q asks
// for, in a fixed order. A cursor that does not decode is an error.
func AuditConditions(q AuditQuery) ([]Condition, error) {
	var out []Condition
	for _, c := range []struct {
		set     bool
		compare string
		value   any
	}{
		{q.Actor != "", "actor =", q.Actor},
		{q.Action != "", "action =", q.Action},
		{q.Object != "", "object =", q.Object},
		{!q.From.IsZero(), "time_ns >=", q.From.UnixNano()},
		{!q.Until.IsZero(), "time_ns <", q.Until.UnixNano()},
	} {
		if c.set {
			out = append(out, Condition{c.compare, c.value})
		}
	}
	if q.Cursor != "" {
		cur, err := DecodeCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, Condition{"id <", cur.A})
	}
	return out, nil
}
