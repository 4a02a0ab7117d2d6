package detect

import (
	"net/netip"
	"strings"
)

// Indicator is one known-bad value and where it came from.
type Indicator struct {
	Kind   string `json:"kind"`  // "ip", "domain", "sha256", "md5", "sha1"
	Value  string `json:"value"` // the address, domain or hash, normalised
	Name   string `json:"name,omitempty"`
	Source string `json:"source,omitempty"` // feed or file it was loaded from
}

// Indicators is a set of indicators of compromise.
type Indicators struct {
	IPs     map[netip.Addr]Indicator
	Domains map[string]Indicator // lower case, without a trailing dot
	Hashes  map[string]Indicator // lower-case hex
}

// NewIndicators returns an empty set.
func NewIndicators() *Indicators {
	return &Indicators{IPs: map[netip.Addr]Indicator{}, Domains: map[string]Indicator{}, Hashes: map[string]Indicator{}}
}

// Len returns the number of indicators.
func (in *Indicators) Len() int {
	if in == nil {
		return 0
	}
	return len(in.IPs) + len(in.Domains) + len(in.Hashes)
}

// IP returns the indicator for address a.
func (in *Indicators) IP(a netip.Addr) (Indicator, bool) {
	if in == nil || len(in.IPs) == 0 {
		return Indicator{}, false
	}
	i, ok := in.IPs[a.Unmap()]
	return i, ok
}

// Domain returns the indicator for name or for one of its parent domains
// ("evil.example" matches "a.b.evil.example").
func (in *Indicators) Domain(name string) (Indicator, bool) {
	if in == nil || len(in.Domains) == 0 {
		return Indicator{}, false
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for {
		if i, ok := in.Domains[name]; ok {
			return i, true
		}
		dot := strings.IndexByte(name, '.')
		if dot < 0 {
			return Indicator{}, false
		}
		name = name[dot+1:]
	}
}

// Hash returns the indicator for a file hash (hex, any case).
func (in *Indicators) Hash(h string) (Indicator, bool) {
	if in == nil || len(in.Hashes) == 0 {
		return Indicator{}, false
	}
	i, ok := in.Hashes[strings.ToLower(h)]
	return i, ok
}
