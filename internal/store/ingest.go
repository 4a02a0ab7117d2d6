package store

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/evidence"
)

// IngestStatus is the status an alert is stored with: its own, New when
// it has none.
func IngestStatus(a *alert.Alert) alert.Status {
	if a.Status == 0 {
		return alert.New
	}
	return a.Status
}

// LastSeen is an alert's last detection, its first when it has none.
func LastSeen(a *alert.Alert) time.Time {
	if a.LastDetection.IsZero() {
		return a.FirstDetection
	}
	return a.LastDetection
}

// MergeBatch returns the batch with copies of one alert merged as storing
// them one after the other would (one statement may change a row only
// once), a zero status made New and a zero last detection the first,
// sorted by id so that concurrent batches lock rows in one order. The
// caller's alerts are not changed.
func MergeBatch(alerts []*alert.Alert) []*alert.Alert {
	at := make(map[string]int, len(alerts))
	out := make([]*alert.Alert, 0, len(alerts))
	for _, a := range alerts {
		i, dup := at[a.ID]
		if !dup {
			at[a.ID] = len(out)
			out = append(out, a)
			continue
		}
		old := out[i]
		m := *old
		if !LastSeen(a).Before(LastSeen(old)) {
			m = *a
			m.Status = old.Status // the first copy made the alert
		}
		if old.FirstDetection.Before(m.FirstDetection) {
			m.FirstDetection = old.FirstDetection
		}
		if a.FirstDetection.Before(m.FirstDetection) {
			m.FirstDetection = a.FirstDetection
		}
		m.LastDetection = LastSeen(old)
		if LastSeen(a).After(m.LastDetection) {
			m.LastDetection = LastSeen(a)
		}
		m.Count = max(old.Count, a.Count)
		if len(m.Packets) == 0 {
			m.Packets = firstPackets(old.Packets, a.Packets)
		}
		out[i] = &m
	}
	for i, a := range out {
		if a.Status == 0 || a.LastDetection.IsZero() {
			c := *a
			c.Status, c.LastDetection = IngestStatus(a), LastSeen(a)
			out[i] = &c
		}
	}
	slices.SortFunc(out, func(x, y *alert.Alert) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// firstPackets returns a when it holds packets, else b.
func firstPackets(a, b []evidence.Packet) []evidence.Packet {
	if len(a) > 0 {
		return a
	}
	return b
}

// KeepSeverity replaces the alerts of batch whose severity a person set
// (set, by alert id) by copies with that severity, so that storing them
// keeps it.
func KeepSeverity(batch []*alert.Alert, set map[string]alert.Severity) {
	if len(set) == 0 {
		return
	}
	for i, a := range batch {
		if sev, ok := set[a.ID]; ok && a.Severity != sev {
			c := *a
			c.Severity = sev
			batch[i] = &c
		}
	}
}

// Parallel calls f for 0 ≤ i < n on every CPU, in batches of 64 per
// worker at least. It returns the smallest i whose call failed and its
// error, or -1 and nil.
func Parallel(n int, f func(i int) error) (int, error) {
	errs := make([]error, n)
	workers := min(runtime.GOMAXPROCS(0), (n+63)/64)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				errs[i] = f(i)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return i, err
		}
	}
	return -1, nil
}

// PutPackets stores the packets of the alerts that carry some as their
// pcapng evidence, unless stored says the alert has evidence already.
// backend names the store in errors.
func PutPackets(ctx context.Context, backend string, alerts []*alert.Alert,
	stored func(ctx context.Context, alertID string) bool, put func(ctx context.Context, alertID string, pcapng []byte) error) error {
	for _, a := range alerts {
		if len(a.Packets) == 0 || stored(ctx, a.ID) {
			continue
		}
		var buf bytes.Buffer
		if err := evidence.WritePcapng(&buf, a.Packets, evidence.WriteOptions{Comment: a.Title}); err != nil {
			return fmt.Errorf("%s: alert %s evidence: %w", backend, a.ID, err)
		}
		if err := put(ctx, a.ID, buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// SetStored sets the fields of a that the backends keep in columns rather
// than in its JSON: id, status, severity, count and detection times (in
// nanoseconds).
func SetStored(a *alert.Alert, id string, status alert.Status, severity alert.Severity, count, first, last int64) {
	a.ID, a.Status, a.Severity, a.Count = id, status, severity, uint64(count)
	a.FirstDetection, a.LastDetection = Time(first), Time(last)
}

// NewAlertRecord returns the record of a decoded alert with its stored
// columns (SetStored), update time and evidence size and time, when
// esize and estored are both set.
func NewAlertRecord(a alert.Alert, id string, status alert.Status, severity alert.Severity, count, first, last, updated int64,
	esize, estored *int64) *AlertRecord {
	rec := &AlertRecord{Alert: a}
	SetStored(&rec.Alert, id, status, severity, count, first, last)
	rec.Updated = Time(updated)
	if esize != nil && estored != nil {
		rec.Pcap = &EvidenceInfo{Size: *esize, Stored: Time(*estored)}
	}
	return rec
}

// ApplyMutes sets Muted on the records whose pattern one of the mutes
// that mutes returns mutes; it does not call mutes for no records.
func ApplyMutes(ctx context.Context, recs []*AlertRecord, mutes func(context.Context) ([]Mute, error)) error {
	if len(recs) == 0 {
		return nil
	}
	ms, err := mutes(ctx)
	if err != nil {
		return err
	}
	MarkMuted(recs, ms)
	return nil
}

// Distinct returns the distinct non-zero ids, in their first order.
func Distinct[T ~int32 | ~int64](ids ...T) []T {
	var out []T
	for _, id := range ids {
		if id != 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
