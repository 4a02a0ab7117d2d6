package pairing

import "time"

// Request is the bookkeeping of one request in a session's own table (a
// fixed array of a type that embeds Request): whether the slot holds a
// request, the request's arrival order and its capture time.
type Request struct {
	Used bool
	Seq  uint64
	Time time.Time
}

func (r *Request) request() *Request { return r }

// Slot is satisfied by a pointer to a session's request type R that
// embeds Request.
type Slot[R any] interface {
	*R
	request() *Request
}

// Requests counts the outstanding requests of a session's table and
// remembers when the oldest was sent, so that Expire costs one comparison
// while none has left the pairing window. Its zero value is empty.
type Requests struct {
	n     int
	seq   uint64
	first time.Time // no outstanding request is older
}

// Len returns how many requests are outstanding.
func (q *Requests) Len() int { return q.n }

// Add marks r as an outstanding request captured at t, the newest.
func (q *Requests) Add(r *Request, t time.Time) {
	r.Used, r.Seq, r.Time = true, q.seq, t
	q.seq++
	if q.n == 0 || t.Before(q.first) {
		q.first = t
	}
	q.n++
}

// Free marks the outstanding request r as done.
func (q *Requests) Free(r *Request) {
	r.Used = false
	q.n--
}

// Oldest returns the earliest outstanding request of table sent before
// deadline (any, when deadline is zero), or nil.
func Oldest[R any, P Slot[R]](table []R, deadline time.Time) P {
	var o P
	var oldest *Request
	for i := range table {
		p := P(&table[i])
		r := p.request()
		if !r.Used || (!deadline.IsZero() && !r.Time.Before(deadline)) {
			continue
		}
		if oldest == nil || r.Seq < oldest.Seq {
			o, oldest = p, r
		}
	}
	return o
}

// Expire hands unanswered, oldest first, every outstanding request of
// table that has waited longer than window at now; unanswered must Free
// it.
func Expire[R any, P Slot[R]](q *Requests, table []R, now time.Time, window time.Duration, unanswered func(P)) {
	if q.n == 0 {
		return
	}
	deadline := now.Add(-window)
	if !q.first.Before(deadline) {
		return
	}
	for r := Oldest[R, P](table, deadline); r != nil; r = Oldest[R, P](table, deadline) {
		unanswered(r)
	}
	// Every request left was sent at or after deadline.
	q.first = now
	for i := range table {
		if r := P(&table[i]).request(); r.Used && r.Time.Before(q.first) {
			q.first = r.Time
		}
	}
}

// Close hands unanswered, oldest first, every outstanding request of
// table; unanswered must Free it.
func Close[R any, P Slot[R]](q *Requests, table []R, unanswered func(P)) {
	for q.n > 0 {
		unanswered(Oldest[R, P](table, time.Time{}))
	}
}
