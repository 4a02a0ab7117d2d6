package pairing

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

var start = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// step is one action on a table at a time offset: "start N" records a
// request with key N, "answer N" emits the request with key N, "expire"
// and "close" call the methods of those names.
type step struct {
	at     time.Duration
	action string
}

func TestTable(t *testing.T) {
	tests := []struct {
		name    string
		steps   []step
		want    string // keys of the operations emitted, in order
		waiting int
	}{
		{"answered in any order", []step{{0, "start 1"}, {0, "start 2"}, {time.Second, "answer 2"}, {time.Second, "answer 1"}}, "2 1", 0},
		{"close emits oldest first", []step{{0, "start 3"}, {0, "start 1"}, {0, "start 2"}, {0, "close"}}, "3 1 2", 0},
		{"expire keeps the requests within the window", []step{{0, "start 1"}, {10 * time.Second, "start 2"}, {31 * time.Second, "expire"}}, "1", 1},
		{"expire at the window's edge keeps the request", []step{{0, "start 1"}, {30 * time.Second, "expire"}}, "", 1},
		{"full table gives up the oldest", append(starts(Size), step{0, "start 99"}), "0", Size},
		{"freed slot is reused", append(starts(Size), step{0, "answer 5"}, step{0, "start 99"}, step{0, "close"}),
			"5 0 1 2 3 4 6 7 8 9 10 11 12 13 14 15 99", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tab Table[int]
			var got []string
			ctx := &dissect.Context{Emitter: dissect.EmitterFunc(func(op *dissect.Operation) {
				got = append(got, op.FunctionName)
			})}
			for _, s := range tt.steps {
				ctx.Time = start.Add(s.at)
				verb, arg, _ := strings.Cut(s.action, " ")
				var key int
				fmt.Sscan(arg, &key)
				switch verb {
				case "start":
					e := tab.Start(dissect.ToServer, key, "test", ctx)
					e.Op.FunctionName = arg
					if e.Op.Protocol != "test" || !e.Op.Time.Equal(ctx.Time) || len(e.Op.Packets) != 1 {
						t.Fatalf("start %d: operation %+v", key, e.Op)
					}
				case "answer":
					for i := range tab.Entries {
						if e := &tab.Entries[i]; e.Used && e.Key == key {
							tab.Emit(e, ctx)
						}
					}
				case "expire":
					tab.Expire(30*time.Second, ctx)
				case "close":
					tab.Close(ctx)
				}
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("emitted %q, want %q", s, tt.want)
			}
			if tab.Len() != tt.waiting {
				t.Errorf("%d waiting, want %d", tab.Len(), tt.waiting)
			}
		})
	}
}

func starts(n int) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = step{0, fmt.Sprintf("start %d", i)}
	}
	return out
}

func TestAddPacket(t *testing.T) {
	var e Entry[int]
	for _, ref := range []dissect.PacketRef{{Index: 1}, {Index: 1}, {Index: 2}} {
		e.AddPacket(ref)
	}
	if len(e.Op.Packets) != 2 {
		t.Errorf("packets %v, want indexes 1 and 2", e.Op.Packets)
	}
}

func TestTableAllocs(t *testing.T) {
	var tab Table[int]
	ctx := &dissect.Context{Time: start}
	n := testing.AllocsPerRun(100, func() {
		for i := range Size + 1 {
			tab.Start(dissect.ToServer, i, "test", ctx)
		}
		tab.Expire(time.Second, ctx)
		tab.Close(ctx)
	})
	if n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

// req is a session's request type as the tests of Requests see it.
type req struct {
	Request
	name string
}

func TestRequests(t *testing.T) {
	tests := []struct {
		name     string
		sent     []time.Duration // capture times of requests a, b, c, ... in arrival order
		answered string          // names freed before the check
		now      time.Duration
		expired  string // names Expire hands out, in order
		oldest   string // Oldest afterwards, "" for none
		left     int
	}{
		{"nothing due", []time.Duration{0, time.Second}, "", 30 * time.Second, "", "a", 2},
		{"due oldest first", []time.Duration{0, time.Second, 40 * time.Second}, "", 35 * time.Second, "a b", "c", 1},
		{"answered are not due", []time.Duration{0, time.Second}, "a", time.Minute, "b", "", 0},
		{"arrival order, not time", []time.Duration{2 * time.Second, 0}, "", time.Minute, "a b", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var table [4]req
			var q Requests
			fill(&q, table[:], tt.sent, tt.answered)
			var got []string
			Expire(&q, table[:], start.Add(tt.now), 30*time.Second, func(r *req) {
				got = append(got, r.name)
				q.Free(&r.Request)
			})
			if s := strings.Join(got, " "); s != tt.expired {
				t.Errorf("expired %q, want %q", s, tt.expired)
			}
			name := ""
			if r := Oldest(table[:], time.Time{}); r != nil {
				name = r.name
			}
			if name != tt.oldest || q.Len() != tt.left {
				t.Errorf("oldest %q, %d left; want %q, %d", name, q.Len(), tt.oldest, tt.left)
			}
		})
	}
}

func TestExpireAllocs(t *testing.T) {
	var table [Size]req
	var q Requests
	n := testing.AllocsPerRun(100, func() {
		for i := range table {
			q.Add(&table[i].Request, start)
		}
		Expire(&q, table[:], start.Add(time.Hour), time.Minute, func(r *req) { q.Free(&r.Request) })
	})
	if n != 0 || q.Len() != 0 {
		t.Errorf("%v allocations per run, %d left; want 0, 0", n, q.Len())
	}
}

func TestClose(t *testing.T) {
	tests := []struct {
		name     string
		sent     []time.Duration // capture times of requests a, b, c, ... in arrival order
		answered string          // names freed before Close
		want     string          // names Close hands out, in order
	}{
		{"empty", nil, "", ""},
		{"arrival order, not time", []time.Duration{2 * time.Second, 0, time.Second}, "", "a b c"},
		{"answered are skipped", []time.Duration{0, time.Second, 2 * time.Second}, "b", "a c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var table [4]req
			var q Requests
			fill(&q, table[:], tt.sent, tt.answered)
			var got []string
			Close(&q, table[:], func(r *req) {
				got = append(got, r.name)
				q.Free(&r.Request)
			})
			if s := strings.Join(got, " "); s != tt.want || q.Len() != 0 {
				t.Errorf("closed %q, %d left; want %q, 0", s, q.Len(), tt.want)
			}
		})
	}
}

// fill adds requests a, b, c, ... sent at the offsets sent to table and
// frees those named in answered.
func fill(q *Requests, table []req, sent []time.Duration, answered string) {
	for i, at := range sent {
		r := &table[i]
		r.name = string(rune('a' + i))
		q.Add(&r.Request, start.Add(at))
	}
	for i := range table {
		if r := &table[i]; r.Used && strings.Contains(answered, r.name) {
			q.Free(&r.Request)
		}
	}
}
