package store

import (
	"net/netip"
)

// A Row is one result row of a backend's driver: a *sql.Row or *sql.Rows
// of database/sql, a pgx.Row or pgx.Rows.
type Row interface {
	Scan(dest ...any) error
}

// The columns the backends store sessions, tokens, exclusion rules,
// sensors and users in, in the order ScanSession, ScanToken,
// ScanExclusion, ScanSensor and ScanUser read them.
const (
	SessionColumns   = "key, user_name, csrf, ip, created_ns, seen_ns, expires_ns"
	TokenColumns     = "id, user_name, name, hash, created_ns, used_ns, expires_ns"
	ExclusionColumns = "id, name, type, device, subnet, sensor, from_ns, until_ns, disabled, comment, author, created_ns, suppressed"
	SensorColumns    = "id, name, site, zone, mode, last_seen, created"
	UserColumns      = "name, full_name, role, password_hash, disabled, created_ns, updated_ns"
)

// ScanSession reads a session from a row of SessionColumns.
func ScanSession(r Row) (Session, error) {
	var s Session
	var created, seen, expires int64
	if err := r.Scan(&s.Key, &s.User, &s.CSRF, &s.IP, &created, &seen, &expires); err != nil {
		return Session{}, err
	}
	s.Created, s.LastSeen, s.Expires = Time(created), Time(seen), Time(expires)
	return s, nil
}

// ScanToken reads a token from a row of TokenColumns.
func ScanToken(r Row) (Token, error) {
	var t Token
	var created, used, expires int64
	if err := r.Scan(&t.ID, &t.User, &t.Name, &t.Hash, &created, &used, &expires); err != nil {
		return Token{}, err
	}
	t.Created, t.LastUsed, t.Expires = Time(created), Time(used), Time(expires)
	return t, nil
}

// ScanExclusion reads an exclusion rule from a row of ExclusionColumns.
func ScanExclusion(r Row) (Exclusion, error) {
	var x Exclusion
	var subnet string
	var from, until, created, suppressed int64
	if err := r.Scan(&x.ID, &x.Name, &x.Type, &x.Device, &subnet, &x.Sensor, &from, &until, &x.Disabled, &x.Comment, &x.Author, &created, &suppressed); err != nil {
		return x, err
	}
	if subnet != "" {
		x.Subnet, _ = netip.ParsePrefix(subnet)
	}
	x.From, x.Until, x.Created, x.Suppressed = Time(from), Time(until), Time(created), uint64(suppressed)
	return x, nil
}

// ScanSensor reads a sensor from a row of SensorColumns.
func ScanSensor(r Row) (Sensor, error) {
	var s Sensor
	var mode string
	var seen, created int64
	if err := r.Scan(&s.ID, &s.Name, &s.Site, &s.Zone, &mode, &seen, &created); err != nil {
		return s, err
	}
	s.Mode, s.LastSeen, s.Created = SensorMode(mode), Time(seen), Time(created)
	return s, nil
}

// ScanUser reads a user from a row of UserColumns.
func ScanUser(r Row) (User, error) {
	var u User
	var role string
	var created, updated int64
	if err := r.Scan(&u.Name, &u.FullName, &role, &u.PasswordHash, &u.Disabled, &created, &updated); err != nil {
		return u, err
	}
	u.Role, u.Created, u.Updated = Role(role), Time(created), Time(updated)
	return u, nil
}

// ParseSubnets returns a zone's stored subnets as prefixes, leaving out
// any that does not parse.
func ParseSubnets(subnets []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range subnets {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}
