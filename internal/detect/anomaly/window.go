package anomaly

import (
	"strconv"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
)

// maxDistinct bounds the values a distinct counter holds: past it, more
// values say nothing more about the window.
const maxDistinct = 4096

// maxFlows is how many evidence flows a counter remembers.
const maxFlows = 4

// distinct counts the distinct values seen in a tumbling window and says
// once per window when their number reaches the threshold.
type distinct[T comparable] struct {
	start int64 // window start, Unix nanoseconds
	th    alert.Threshold
	set   map[T]struct{}
	fired bool
	flows [maxFlows]uint64
	nflow int
}

// due reports whether the window is over at t (or never started).
func (w *distinct[T]) due(t int64) bool {
	return w.set == nil || t-w.start > int64(w.th.Window)
}

// restart opens a new window at t with threshold th; a zero window takes
// def's.
func (w *distinct[T]) restart(t int64, th, def alert.Threshold) {
	if th.Window <= 0 {
		th.Window = def.Window
	}
	w.start, w.th, w.fired, w.nflow = t, th, false, 0
	if w.set == nil {
		w.set = make(map[T]struct{})
	} else {
		clear(w.set)
	}
}

// add counts v and reports whether the window's count just reached the
// threshold. A threshold count of zero or less never fires.
func (w *distinct[T]) add(v T) bool {
	if _, ok := w.set[v]; ok || len(w.set) >= maxDistinct {
		return false
	}
	w.set[v] = struct{}{}
	if w.fired || w.th.Count <= 0 || len(w.set) < w.th.Count {
		return false
	}
	w.fired = true
	return true
}

// flow remembers an evidence flow.
func (w *distinct[T]) flow(id uint64) {
	if id == 0 {
		return
	}
	for _, f := range w.flows[:w.nflow] {
		if f == id {
			return
		}
	}
	if w.nflow < maxFlows {
		w.flows[w.nflow] = id
		w.nflow++
	}
}

// flowList returns a copy of the remembered flows.
func (w *distinct[T]) flowList() []uint64 {
	if w.nflow == 0 {
		return nil
	}
	return append([]uint64(nil), w.flows[:w.nflow]...)
}

// counter counts events in a tumbling window and says once per window when
// their number reaches the threshold.
type counter struct {
	start int64
	th    alert.Threshold
	n     int
	fired bool
}

func (c *counter) due(t int64) bool { return c.th.Window <= 0 || t-c.start > int64(c.th.Window) }

func (c *counter) restart(t int64, th, def alert.Threshold) {
	if th.Window <= 0 {
		th.Window = def.Window
	}
	c.start, c.th, c.n, c.fired = t, th, 0, false
}

// hit counts one event and reports whether the count just reached the
// threshold.
func (c *counter) hit() bool {
	c.n++
	if c.fired || c.th.Count <= 0 || c.n < c.th.Count {
		return false
	}
	c.fired = true
	return true
}

// plural returns "1 port" or "n ports".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// within formats a window for details ("2m0s" → "2 minutes").
func within(d time.Duration) string {
	switch {
	case d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute", "minutes")
	case d%time.Second == 0:
		return plural(int(d/time.Second), "second", "seconds")
	}
	return d.String()
}
