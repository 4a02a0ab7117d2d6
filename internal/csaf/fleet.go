package csaf

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// A Matcher matches the devices of an inventory against a catalog one
// after another and remembers the matches of each distinct device: a plant
// has many identical devices. Its results are those of Catalog.Match.
//
// The matches returned for identical devices share the arrays behind
// their Reasons, CVEs, Vulnerabilities and Remediations: appending to
// these is safe, but writing into their elements changes the others too.
// The returned slice itself is the caller's.
//
// A Matcher is not safe for concurrent use: give each goroutine its own.
// It remembers at most maxMatcherDevices devices, then starts afresh.
type Matcher struct {
	c       *Catalog
	s       *scratch
	devices map[Device][]Match
}

// maxMatcherDevices bounds the devices a Matcher remembers.
const maxMatcherDevices = 1 << 16

// maxCatalogNames bounds the device names a Catalog remembers.
const maxCatalogNames = 4096

// nameKey is what prepareDeviceName reads of a Device.
type nameKey struct {
	vendor, model, product, code string
}

// A preparedName is a device name prepared for matching and the catalog
// entries it can match. Matching only reads it.
type preparedName struct {
	di    *devInfo
	cands []int32
}

// prepareName returns the device's name prepared for matching, which the
// catalog remembers for the next device of the same model.
func (c *Catalog) prepareName(d Device, s *scratch) *preparedName {
	k := nameKey{d.Vendor, d.Model, d.Product, d.ProductCode}
	c.namesMu.Lock()
	pn := c.names[k]
	c.namesMu.Unlock()
	if pn != nil {
		return pn
	}
	di := prepareDeviceName(d)
	pn = &preparedName{di: di, cands: c.candidates(di, s, nil)}
	c.namesMu.Lock()
	if c.names == nil || len(c.names) >= maxCatalogNames {
		c.names = map[nameKey]*preparedName{}
	}
	c.names[k] = pn
	c.namesMu.Unlock()
	return pn
}

// NewMatcher returns a Matcher for the catalog.
func (c *Catalog) NewMatcher() *Matcher {
	return &Matcher{c: c, s: c.getScratch(), devices: map[Device][]Match{}}
}

// Match returns the advisories that concern the device, as Catalog.Match
// does.
func (m *Matcher) Match(d Device) []Match {
	if ms, ok := m.devices[d]; ok {
		return slices.Clone(ms)
	}
	pn := m.c.prepareName(d, m.s)
	di := *pn.di // shares the name's slices, which matching only reads
	di.setFirmware(d.Firmware)
	ms := m.c.match(&di, pn.cands, m.s)
	for i := range ms {
		// Appending to a shared slice must not write into another's.
		ms[i].Reasons = slices.Clip(ms[i].Reasons)
		ms[i].CVEs = slices.Clip(ms[i].CVEs)
		ms[i].Vulnerabilities = slices.Clip(ms[i].Vulnerabilities)
		ms[i].Remediations = slices.Clip(ms[i].Remediations)
	}
	if len(m.devices) >= maxMatcherDevices {
		clear(m.devices)
	}
	m.devices[d] = ms
	return slices.Clone(ms)
}

// MatchFleet matches every device of an inventory: out[i] holds the
// matches of devs[i], as Catalog.Match gives them. Identical devices are
// matched once and their matches share arrays as a Matcher's do; the
// distinct devices are shared out among GOMAXPROCS goroutines.
func (c *Catalog) MatchFleet(devs []Device) [][]Match {
	index := make(map[Device]int32, len(devs))
	var distinct []Device
	which := make([]int32, len(devs))
	for i, d := range devs {
		j, ok := index[d]
		if !ok {
			j = int32(len(distinct))
			index[d] = j
			distinct = append(distinct, d)
		}
		which[i] = j
	}
	res := make([][]Match, len(distinct))
	workers := min(runtime.GOMAXPROCS(0), (len(distinct)+fleetChunk-1)/fleetChunk)
	var wg sync.WaitGroup
	var next atomic.Int64
	for range max(workers, 1) {
		wg.Go(func() {
			m := c.NewMatcher()
			for {
				lo := int(next.Add(fleetChunk)) - fleetChunk
				if lo >= len(distinct) {
					return
				}
				for j := lo; j < min(lo+fleetChunk, len(distinct)); j++ {
					res[j] = m.Match(distinct[j])
				}
			}
		})
	}
	wg.Wait()
	out := make([][]Match, len(devs))
	given := make([]bool, len(distinct))
	for i, j := range which {
		if given[j] {
			out[i] = slices.Clone(res[j])
		} else {
			out[i], given[j] = res[j], true
		}
	}
	return out
}

// fleetChunk is how many distinct devices a MatchFleet worker takes at a
// time.
const fleetChunk = 16
