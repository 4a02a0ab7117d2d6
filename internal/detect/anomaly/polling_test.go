package anomaly_test

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/detect/anomaly"
)

func TestPollingRate(t *testing.T) {
	const learn = 4 * time.Minute
	tests := []struct {
		name   string
		period time.Duration // after learning (learned: 5 s); 0 stops
		want   string        // substring of the detail; "" for no alert
	}{
		{"same rate", 5 * time.Second, ""},
		{"twice as fast", 2500 * time.Millisecond, ""},
		{"twenty times as fast", 250 * time.Millisecond, "instead of every 5s"},
		{"stops", 0, "no request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			d := learning(t, learn)
			// Interleave both pollers in time order: learn, then change.
			type ev struct {
				t      time.Duration
				client string
				server string
			}
			var evs []ev
			for tm := time.Duration(0); tm < 8*time.Minute; tm += time.Second {
				evs = append(evs, ev{tm, "10.10.1.22", "10.10.2.13"})
			}
			for tm := time.Duration(0); tm < learn+time.Minute; tm += 5 * time.Second {
				evs = append(evs, ev{tm + 300*time.Millisecond, "10.10.1.30", "10.10.2.12"})
			}
			if tt.period > 0 {
				for tm := learn + time.Minute; tm < 7*time.Minute; tm += tt.period {
					evs = append(evs, ev{tm + 300*time.Millisecond, "10.10.1.30", "10.10.2.12"})
				}
			}
			slices.SortStableFunc(evs, func(x, y ev) int { return cmp.Compare(x.t, y.t) })
			for _, e := range evs {
				d.Emit(modbusRead(at(e.t+time.Duration(rng.IntN(20))*time.Millisecond), addr(e.client), addr(e.server), 1))
			}
			d.Flush()
			if tt.want == "" {
				none(t, d)
				return
			}
			a := only(t, d, anomaly.PollingRate)
			if a.Source.IP != hist || a.Destination.IP != plc || a.Protocol != "modbus" || !strings.Contains(a.Description, tt.want) {
				t.Errorf("alert %v -> %v %s: %s", a.Source, a.Destination, a.Protocol, a.Description)
			}
			if a.FirstDetection.Before(at(learn + time.Minute)) {
				t.Errorf("alert at %v, before the change", a.FirstDetection)
			}
		})
	}
}

// Learning writes a rate entry with the period for steady pollers only:
// a client that connects now and then in bursts is not a poll.
func TestPollingLearnsPeriods(t *testing.T) {
	d := learning(t, 4*time.Minute)
	for tm := time.Duration(0); tm <= 4*time.Minute; tm += time.Second {
		d.Emit(modbusRead(at(tm), hmi, plc, 1))
		if tm%(70*time.Second) == 0 { // a burst of reads every 70 s
			for i := range 4 {
				d.Emit(modbusRead(at(tm+time.Duration(i)*20*time.Millisecond), ews, plc, 1))
			}
		}
	}
	st, ok := d.Baseline().Get(anomaly.RateEntry(hmi, plc, "modbus"))
	if !ok || st.Period < 950*time.Millisecond || st.Period > 1050*time.Millisecond {
		t.Errorf("HMI rate entry %v %v, want a period of 1 s", ok, st.Period)
	}
	if _, ok := d.Baseline().Get(anomaly.RateEntry(ews, plc, "modbus")); ok {
		t.Error("bursty client learned as a poll")
	}
}

// A detector that starts operational with an exported baseline checks
// the periods it holds.
func TestPollingFromImportedBaseline(t *testing.T) {
	b := baseline.New(0)
	b.SetPeriod(anomaly.RateEntry(hist, plc, "modbus"), start, 5*time.Second, 48)
	var buf bytes.Buffer
	if err := b.Write(&buf, "s", start); err != nil {
		t.Fatal(err)
	}
	imported, err := baseline.Read(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := operational(t, detect.Config{Baseline: imported})
	type ev struct {
		t    time.Duration
		c, s string
	}
	var evs []ev
	for tm := time.Duration(0); tm < 3*time.Minute; tm += time.Second {
		evs = append(evs, ev{tm, "10.10.1.22", "10.10.2.13"})
	}
	for tm := time.Duration(0); tm < 3*time.Minute; tm += 200 * time.Millisecond {
		evs = append(evs, ev{tm + 10*time.Millisecond, "10.10.1.30", "10.10.2.12"})
	}
	slices.SortStableFunc(evs, func(x, y ev) int { return cmp.Compare(x.t, y.t) })
	for _, e := range evs {
		d.Emit(modbusRead(at(e.t), addr(e.c), addr(e.s), 1))
	}
	// The historian polls every 200 ms, 25 times the imported period; the
	// other client has no entry and is not checked.
	a := only(t, d, anomaly.PollingRate)
	if a.Source.IP != hist || a.Destination.IP != plc || a.Protocol != "modbus" || !strings.Contains(a.Description, "instead of every 5s") {
		t.Errorf("alert %v -> %v %s: %s", a.Source, a.Destination, a.Protocol, a.Description)
	}
}
