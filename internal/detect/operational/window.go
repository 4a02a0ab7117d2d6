package operational

import "time"

// window counts events over a sliding window of tunable length with two
// fixed buckets: the current one and the one before it, whose count is
// weighted by how much of it the window still covers. It needs no
// allocation and errs by at most the events of one bucket's edge.
type window struct {
	start     time.Time // start of the current bucket
	cur, prev int
}

// maxCount caps a bucket so that arithmetic on it cannot overflow.
const maxCount = 1 << 30

// add counts one event at t and returns the estimated number of events in
// the w before t, this one included.
func (c *window) add(t time.Time, w time.Duration) int {
	el := t.Sub(c.start)
	switch {
	case c.start.IsZero() || el >= 2*w:
		c.start, c.cur, c.prev = t, 0, 0
		el = 0
	case el >= w:
		c.start, c.prev, c.cur = c.start.Add(w), c.cur, 0
		el -= w
	case el < 0: // an event a little out of order counts in the current bucket
		el = 0
	}
	if c.cur < maxCount {
		c.cur++
	}
	return c.cur + int(float64(c.prev)*(1-float64(el)/float64(w)))
}

// reset forgets every event.
func (c *window) reset() { *c = window{} }
