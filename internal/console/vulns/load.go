package vulns

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/recommend"
	"github.com/otwatch/otwatch/internal/store"
)

// inputs are what a fleet assessment is made from, besides the
// recommendations' statuses.
type inputs struct {
	sensors []*sensorInputs // by name
}

// sensorInputs are one sensor's devices, connections and alerts.
type sensorInputs struct {
	name    string
	snap    *inventory.Snapshot   // devices by ID
	records []*store.DeviceRecord // the records of snap.Devices, in the same order
	alerts  []*alert.Alert        // the alerts recommendations read, in alertOrder
}

// load reads the inputs of a fleet assessment from the store.
func (f *Fleet) load(ctx context.Context) (*inputs, error) {
	bySensor := map[string]*sensorInputs{}
	// By first detection: paging stays stable while sensors update the
	// last detections.
	q, err := store.DeviceQuery{Sort: store.DeviceSortFirstSeen, Limit: store.MaxLimit}.Normalize()
	if err != nil {
		return nil, fmt.Errorf("vulns: %w", err)
	}
	seen := map[deviceID]bool{}
	for {
		page, err := f.st.Devices(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("vulns: reading devices: %w", err)
		}
		for _, r := range page.Devices {
			if seen[deviceID{r.Sensor, r.ID}] {
				continue
			}
			seen[deviceID{r.Sensor, r.ID}] = true
			s := bySensor[r.Sensor]
			if s == nil {
				s = &sensorInputs{name: r.Sensor}
				bySensor[r.Sensor] = s
			}
			s.records = append(s.records, r)
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	in := &inputs{}
	for _, s := range bySensor {
		in.sensors = append(in.sensors, s)
		slices.SortFunc(s.records, func(a, b *store.DeviceRecord) int { return cmp.Compare(a.ID, b.ID) })
		s.snap = &inventory.Snapshot{Devices: make([]inventory.Device, len(s.records))}
		for i, r := range s.records {
			s.snap.Devices[i] = r.Device
		}
		if s.snap.Connections, err = f.st.Connections(ctx, s.name, 0); err != nil {
			return nil, fmt.Errorf("vulns: reading the connections of sensor %s: %w", s.name, err)
		}
	}
	slices.SortFunc(in.sensors, func(a, b *sensorInputs) int { return strings.Compare(a.name, b.name) })
	alerts, err := f.alerts(ctx, store.AlertQuery{})
	if err != nil {
		return nil, err
	}
	for _, a := range alerts {
		if s := bySensor[a.Sensor]; s != nil {
			s.alerts = append(s.alerts, a)
		}
	}
	return in, nil
}

// sum returns a hash of the inputs: equal inputs give equal sums.
func (in *inputs) sum(seed maphash.Seed) uint64 {
	h := newHasher(seed)
	for _, s := range in.sensors {
		h.put(s.name)
		h.put(s.records)
		h.put(s.snap.Connections)
		h.put(s.alerts)
	}
	return h.Sum64()
}

// statusSum returns a hash of recommendation statuses.
func statusSum(seed maphash.Seed, statuses map[string]store.RecommendationStatus) uint64 {
	ids := make([]string, 0, len(statuses))
	for id := range statuses {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	h := newHasher(seed)
	for _, id := range ids {
		h.put(statuses[id])
	}
	return h.Sum64()
}

// hasher hashes values by their JSON encoding.
type hasher struct {
	maphash.Hash
	enc *json.Encoder
}

func newHasher(seed maphash.Seed) *hasher {
	h := &hasher{}
	h.SetSeed(seed)
	h.enc = json.NewEncoder(&h.Hash)
	return h
}

func (h *hasher) put(v any) {
	if err := h.enc.Encode(v); err != nil {
		// The values are plain data: an error cannot happen, and would
		// only make this sum differ from the last.
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(len(err.Error())))
		h.Write(b[:])
	}
}

// snapshot returns the inventory of a sensor as stored: its devices by ID
// and its connections.
func (f *Fleet) snapshot(ctx context.Context, sensor string) (*inventory.Snapshot, error) {
	snap := &inventory.Snapshot{}
	q := store.DeviceQuery{Sensors: []string{sensor}, Sort: store.DeviceSortFirstSeen, Limit: store.MaxLimit}
	seen := map[inventory.DeviceID]bool{}
	for {
		page, err := f.st.Devices(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("vulns: reading the devices of sensor %s: %w", sensor, err)
		}
		for _, r := range page.Devices {
			if !seen[r.ID] {
				seen[r.ID] = true
				snap.Devices = append(snap.Devices, r.Device)
			}
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	slices.SortFunc(snap.Devices, func(a, b inventory.Device) int { return cmp.Compare(a.ID, b.ID) })
	conns, err := f.st.Connections(ctx, sensor, 0)
	if err != nil {
		return nil, fmt.Errorf("vulns: reading the connections of sensor %s: %w", sensor, err)
	}
	snap.Connections = conns
	return snap, nil
}

// iocText is the free-text filter that finds the indicator of compromise
// alerts (malware.ioc_*), whose types are open-ended.
const iocText = "malware.ioc"

// alerts returns the alerts matching q that recommendations read
// (recommend.ReadsAlert), in alertOrder.
func (f *Fleet) alerts(ctx context.Context, q store.AlertQuery) ([]*alert.Alert, error) {
	byTypes, byText := q, q
	byTypes.Types = recommend.AlertTypes()
	byText.Text = iocText
	var out []*alert.Alert
	seen := map[string]bool{}
	for _, q := range []store.AlertQuery{byTypes, byText} {
		q.Sort, q.Limit = store.SortFirstDetection, store.MaxLimit
		q, err := q.Normalize()
		if err != nil {
			return nil, fmt.Errorf("vulns: alert query: %w", err)
		}
		for {
			page, err := f.st.Alerts(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("vulns: reading alerts: %w", err)
			}
			for _, r := range page.Alerts {
				if !seen[r.ID] && recommend.ReadsAlert(r.Type) {
					seen[r.ID] = true
					out = append(out, &r.Alert)
				}
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
	}
	slices.SortFunc(out, alertOrder)
	return out, nil
}

// alertOrder orders alerts as the alert grid does by default: most
// recently detected first, then by ID.
func alertOrder(a, b *alert.Alert) int {
	return cmp.Or(b.LastDetection.Compare(a.LastDetection), strings.Compare(a.ID, b.ID))
}

// deviceAddrs returns the addresses alerts name a device by: its IPs and
// its MAC, in canonical form, at most store.MaxValues.
func deviceAddrs(d *inventory.Device) []string {
	var out []string
	for _, s := range append(slices.Clone(d.IPs), d.MAC) {
		if a, err := store.NormalizeAddr(s); err == nil && !slices.Contains(out, a) && len(out) < store.MaxValues {
			out = append(out, a)
		}
	}
	return out
}

// partyKeys returns the keys alertsByAddr files an alert party under: its
// IP, else its MAC, as recommend compares them with a device's.
func partyKey(p alert.Party) string {
	switch {
	case p.IP.IsValid():
		return p.IP.String()
	case !p.MAC.IsZero():
		return p.MAC.String()
	}
	return ""
}

// alertsByAddr indexes alerts by the keys of their parties (partyKey), in
// order.
func alertsByAddr(alerts []*alert.Alert) map[string][]int {
	out := map[string][]int{}
	for i, a := range alerts {
		src, dst := partyKey(a.Source), partyKey(a.Destination)
		if src != "" {
			out[src] = append(out[src], i)
		}
		if dst != "" && dst != src {
			out[dst] = append(out[dst], i)
		}
	}
	return out
}

// alertsOf returns the alerts that may involve device d, in order: those
// with a party at one of its IPs or its MAC.
func alertsOf(d *inventory.Device, alerts []*alert.Alert, byAddr map[string][]int) []*alert.Alert {
	var idx []int
	for _, k := range append(slices.Clone(d.IPs), d.MAC) {
		if k != "" {
			idx = append(idx, byAddr[k]...)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	out := make([]*alert.Alert, len(idx))
	for i, j := range idx {
		out[i] = alerts[j]
	}
	return out
}
