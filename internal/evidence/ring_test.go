package evidence

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)

// frame returns n bytes that depend on flow, index and position, so that a
// byte from another packet or flow never compares equal by accident.
func frame(flow, index uint64, n int) []byte {
	b := make([]byte, n)
	x := flow*0x9E3779B97F4A7C15 ^ index*0xC2B2AE3D27D4EB4F
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// model records every frame given to a Ring, per flow, in order.
type model struct {
	opts  Options
	flows map[uint64][]mpkt
	all   []mref // every Add, in order
}

type mpkt struct {
	index uint64
	ts    time.Time
	lt    layers.LinkType
	data  []byte // as given
	wire  int
}

type mref struct {
	flow uint64
	n    int // captured bytes kept
}

func newModel(opts Options) *model {
	return &model{opts: opts, flows: map[uint64][]mpkt{}}
}

// add stores the frame in r and in the model.
func (m *model) add(r *Ring, flow, index uint64, ts time.Time, n int) {
	data := frame(flow, index, n)
	lt := layers.LinkTypeEthernet
	if flow%2 == 1 {
		lt = layers.LinkTypeRaw
	}
	wire := n + int(index%3)
	r.Add(flow, index, ts, lt, data, wire)
	m.flows[flow] = append(m.flows[flow], mpkt{index, ts, lt, data, wire})
	m.all = append(m.all, mref{flow, min(n, r.maxData)})
}

// check verifies that every flow returns a suffix of what was added to it,
// byte for byte, within the per-flow bounds; that Stats agrees with what
// Packets returns; and, when lower is set, that no packet is missing that
// the documented bounds guarantee: the packet is among the flow's last
// PerFlowPackets, its flow's bytes from it on fit PerFlowBytes, and the
// records added since, itself included, fit in the arena with room left for
// one wrap's padding.
func (m *model) check(t *testing.T, r *Ring, lower bool) {
	t.Helper()
	o := r.Options()
	maxRec := int(align8(hdrLen + r.maxData))
	// guaranteed[flow] = number of the flow's latest packets the arena keeps.
	guaranteed := map[uint64]int{}
	used := 0
	for i := len(m.all) - 1; i >= 0; i-- {
		used += int(align8(hdrLen + m.all[i].n))
		if used > o.ArenaBytes-maxRec {
			break
		}
		guaranteed[m.all[i].flow]++
	}
	var pkts, nbytes uint64
	flows := 0
	for flow, added := range m.flows {
		got := r.Packets(flow, time.Time{}, time.Time{})
		if len(got) > 0 {
			flows++
		}
		if len(got) > len(added) || len(got) > o.PerFlowPackets {
			t.Fatalf("flow %d: %d packets kept, %d added, bound %d", flow, len(got), len(added), o.PerFlowPackets)
		}
		sum := 0
		for i, p := range got {
			w := added[len(added)-len(got)+i]
			want := w.data[:min(len(w.data), r.maxData)]
			if p.Flow != flow || p.Index != w.index || !p.Timestamp.Equal(w.ts) || p.LinkType != w.lt ||
				p.Length != w.wire || !bytes.Equal(p.Data, want) {
				t.Fatalf("flow %d packet %d: got index %d ts %v lt %v len %d data %x…; want index %d ts %v lt %v len %d data %x…",
					flow, i, p.Index, p.Timestamp, p.LinkType, p.Length, head(p.Data), w.index, w.ts, w.lt, w.wire, head(want))
			}
			sum += len(p.Data)
			pkts++
			nbytes += uint64(len(p.Data))
		}
		if sum > o.PerFlowBytes {
			t.Fatalf("flow %d: %d bytes kept, bound %d", flow, sum, o.PerFlowBytes)
		}
		if !lower {
			continue
		}
		want, fb := 0, 0
		for i := len(added) - 1; i >= 0 && want < guaranteed[flow] && want < o.PerFlowPackets; i-- {
			fb += min(len(added[i].data), r.maxData)
			if fb > o.PerFlowBytes {
				break
			}
			want++
		}
		if len(got) < want {
			t.Fatalf("flow %d: %d packets kept, the bounds guarantee %d", flow, len(got), want)
		}
	}
	st := r.Stats()
	if st.Packets != pkts || st.Bytes != nbytes || st.Flows != flows {
		t.Fatalf("Stats = %d packets, %d bytes, %d flows; Packets returned %d, %d, %d", st.Packets, st.Bytes, st.Flows, pkts, nbytes, flows)
	}
	if footprint := pkts*hdrLen + nbytes; footprint > uint64(o.ArenaBytes) {
		t.Fatalf("%d bytes of records kept in a %d-byte arena", footprint, o.ArenaBytes)
	}
}

func head(b []byte) []byte { return b[:min(len(b), 8)] }

func TestBounds(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		sizes     []int
		want      []uint64 // indexes kept
		wantLen   []int    // captured bytes kept for each
		truncated uint64
	}{
		{"count bound", Options{PerFlowPackets: 4}, []int{100, 100, 100, 100, 100, 100, 100},
			[]uint64{3, 4, 5, 6}, []int{100, 100, 100, 100}, 0},
		{"byte bound", Options{PerFlowBytes: 1000}, []int{300, 300, 300, 300, 300},
			[]uint64{2, 3, 4}, []int{300, 300, 300}, 0},
		{"byte bound exact", Options{PerFlowBytes: 1000}, []int{100, 900, 50, 50},
			[]uint64{1, 2, 3}, []int{900, 50, 50}, 0},
		{"both bounds", Options{PerFlowPackets: 3, PerFlowBytes: 1000}, []int{10, 10, 10, 10, 990, 20},
			[]uint64{5}, []int{20}, 0},
		{"both bounds, bytes exactly at the bound", Options{PerFlowPackets: 3, PerFlowBytes: 1000}, []int{10, 10, 10, 10, 980, 10},
			[]uint64{3, 4, 5}, []int{10, 980, 10}, 0},
		{"larger than PerFlowBytes is truncated", Options{PerFlowBytes: 1000}, []int{100, 1500},
			[]uint64{1}, []int{1000}, 1},
		// The arena holds 4096 bytes; a record has a 40-byte header.
		{"larger than the arena is truncated", Options{ArenaBytes: 4096, PerFlowBytes: 1 << 20}, []int{5000},
			[]uint64{0}, []int{4056}, 1},
		{"arena-sized record is reclaimed by the next", Options{ArenaBytes: 4096, PerFlowBytes: 1 << 20}, []int{5000, 10},
			[]uint64{1}, []int{10}, 1},
		{"empty frames", Options{PerFlowPackets: 2}, []int{0, 0, 0},
			[]uint64{1, 2}, []int{0, 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.opts)
			m := newModel(tt.opts)
			for i, n := range tt.sizes {
				m.add(r, 7, uint64(i), t0.Add(time.Duration(i)*time.Millisecond), n)
			}
			got := r.Packets(7, time.Time{}, time.Time{})
			var idx []uint64
			var lens []int
			for _, p := range got {
				idx = append(idx, p.Index)
				lens = append(lens, len(p.Data))
				if want := tt.sizes[p.Index] + int(p.Index%3); p.Length != want {
					t.Errorf("packet %d: Length = %d, want %d (wire length kept when truncated)", p.Index, p.Length, want)
				}
			}
			if fmt.Sprint(idx) != fmt.Sprint(tt.want) || fmt.Sprint(lens) != fmt.Sprint(tt.wantLen) {
				t.Errorf("kept indexes %v lengths %v, want %v %v", idx, lens, tt.want, tt.wantLen)
			}
			if st := r.Stats(); st.Truncated != tt.truncated {
				t.Errorf("Stats.Truncated = %d, want %d", st.Truncated, tt.truncated)
			}
			m.check(t, r, true)
		})
	}
}

func TestWraparound(t *testing.T) {
	tests := []struct {
		name        string
		size, adds  int
		flows       uint64
		firstKept   int // first global add still kept
		overwritten uint64
	}{
		// 216 data bytes + 40 of header = 256: sixteen records fill 4096 bytes.
		{"exact fit", 216, 40, 3, 24, 24},
		// 960 + 40 = 1000: four records, then 96 bytes of padding before each wrap.
		{"padding at the end", 960, 23, 2, 19, 19},
		// 4016 + 40 = 4056: one record at a time.
		{"one record", 4016, 5, 5, 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{ArenaBytes: 4096, PerFlowPackets: 1000, PerFlowBytes: 1 << 20}
			r := New(opts)
			m := newModel(opts)
			for i := range tt.adds {
				flow := uint64(i)%tt.flows + 1
				m.add(r, flow, uint64(len(m.flows[flow])), t0.Add(time.Duration(i)), tt.size)
				m.check(t, r, true)
			}
			var kept []int
			for i := range tt.adds {
				flow := uint64(i)%tt.flows + 1
				for _, p := range r.Packets(flow, time.Time{}, time.Time{}) {
					if p.Index == uint64(i)/tt.flows {
						kept = append(kept, i)
					}
				}
			}
			var want []int
			for i := tt.firstKept; i < tt.adds; i++ {
				want = append(want, i)
			}
			if fmt.Sprint(kept) != fmt.Sprint(want) {
				t.Errorf("adds kept %v, want %v", kept, want)
			}
			if st := r.Stats(); st.Overwritten != tt.overwritten {
				t.Errorf("Stats.Overwritten = %d, want %d", st.Overwritten, tt.overwritten)
			}
		})
	}
}

func TestWraparoundRandom(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		flows int
		maxN  int
	}{
		{"small frames", Options{ArenaBytes: 8192, PerFlowPackets: 16, PerFlowBytes: 4096}, 20, 120},
		{"large frames", Options{ArenaBytes: 16384, PerFlowPackets: 8, PerFlowBytes: 6000}, 7, 3000},
		{"one flow", Options{ArenaBytes: 4096, PerFlowPackets: 1000, PerFlowBytes: 1 << 20}, 1, 700},
		{"mixed", Options{ArenaBytes: 12000, PerFlowPackets: 64, PerFlowBytes: 256 << 10}, 50, 1600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tt.flows)))
			r := New(tt.opts)
			m := newModel(tt.opts)
			for i := range 3000 {
				flow := uint64(rng.IntN(tt.flows)) + 100
				m.add(r, flow, uint64(len(m.flows[flow])), t0.Add(time.Duration(i)*time.Microsecond), rng.IntN(tt.maxN+1))
				if i%7 == 0 {
					m.check(t, r, true)
				}
			}
			m.check(t, r, true)
			if st := r.Stats(); st.Overwritten == 0 {
				t.Errorf("the arena never wrapped: %+v", st)
			}
		})
	}
}

func TestTimeWindow(t *testing.T) {
	r := New(Options{ArenaBytes: 1 << 16})
	for i := range 10 {
		r.Add(3, uint64(i), t0.Add(time.Duration(i)*time.Millisecond), layers.LinkTypeEthernet, frame(3, uint64(i), 60), 60)
	}
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name     string
		from, to time.Time
		want     string
	}{
		{"unbounded", time.Time{}, time.Time{}, "[0 1 2 3 4 5 6 7 8 9]"},
		{"from", ms(3), time.Time{}, "[3 4 5 6 7 8 9]"},
		{"to", time.Time{}, ms(5), "[0 1 2 3 4 5]"},
		{"both, inclusive", ms(3), ms(5), "[3 4 5]"},
		{"one nanosecond after", ms(3).Add(1), ms(5).Add(-1), "[4]"},
		{"single instant", ms(7), ms(7), "[7]"},
		{"before all", t0.Add(-time.Hour), t0.Add(-time.Nanosecond), "[]"},
		{"after all", ms(9).Add(1), time.Time{}, "[]"},
		{"reversed", ms(5), ms(3), "[]"},
		{"other zone", ms(2).In(time.FixedZone("UTC+3", 3*3600)), ms(4).In(time.FixedZone("UTC-5", -5*3600)), "[2 3 4]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint64
			for _, p := range r.Packets(3, tt.from, tt.to) {
				got = append(got, p.Index)
				if want := ms(int(p.Index)); !p.Timestamp.Equal(want) || p.Timestamp.Location() != time.UTC {
					t.Errorf("packet %d: Timestamp %v, want %v in UTC", p.Index, p.Timestamp, want)
				}
			}
			if fmt.Sprint(got) != tt.want && !(len(got) == 0 && tt.want == "[]") {
				t.Errorf("Packets(%v, %v) = %v, want %s", tt.from, tt.to, got, tt.want)
			}
		})
	}
	if got := r.Packets(4, time.Time{}, time.Time{}); got != nil {
		t.Errorf("Packets of an unknown flow = %v, want nil", got)
	}
}

func TestRecycling(t *testing.T) {
	r := New(Options{ArenaBytes: 1 << 16, MaxFlows: 4})
	add := func(flow uint64) { r.Add(flow, 0, t0, layers.LinkTypeEthernet, frame(flow, 0, 100), 100) }
	for f := uint64(1); f <= 4; f++ {
		add(f)
	}
	add(1) // flow 1 is now the most recently used, flow 2 the least
	add(5)
	add(6)
	tests := []struct {
		flow uint64
		want int
	}{{1, 2}, {2, 0}, {3, 0}, {4, 1}, {5, 1}, {6, 1}}
	for _, tt := range tests {
		if got := len(r.Packets(tt.flow, time.Time{}, time.Time{})); got != tt.want {
			t.Errorf("flow %d: %d packets, want %d", tt.flow, got, tt.want)
		}
	}
	if st := r.Stats(); st.Recycled != 2 || st.Flows != 4 || st.Packets != 5 || st.Bytes != 500 {
		t.Errorf("Stats = %+v, want 2 recycled, 4 flows, 5 packets, 500 bytes", st)
	}

	// Many flows through a small table: every answer is still exact.
	opts := Options{ArenaBytes: 1 << 15, MaxFlows: 64, PerFlowPackets: 8}
	r = New(opts)
	m := newModel(opts)
	rng := rand.New(rand.NewPCG(2, 3))
	for i := range 20000 {
		flow := uint64(rng.IntN(1000))<<40 | uint64(rng.IntN(3))
		m.add(r, flow, uint64(len(m.flows[flow])), t0.Add(time.Duration(i)), rng.IntN(200))
		if i%1000 == 0 {
			m.check(t, r, false)
		}
	}
	m.check(t, r, false)
	if st := r.Stats(); st.Recycled == 0 || st.Flows > 64 {
		t.Errorf("Stats = %+v, want recycling and at most 64 flows", st)
	}
}

func TestFlowReleasedWhenOverwritten(t *testing.T) {
	r := New(Options{ArenaBytes: 4096, MaxFlows: 2})
	r.Add(1, 0, t0, layers.LinkTypeEthernet, frame(1, 0, 216), 216)
	for i := range 16 { // 16 records of 256 bytes fill the arena
		r.Add(2, uint64(i), t0, layers.LinkTypeEthernet, frame(2, uint64(i), 216), 216)
	}
	if st := r.Stats(); st.Flows != 1 || st.Overwritten != 1 {
		t.Fatalf("Stats = %+v, want flow 1 released after its only packet was overwritten", st)
	}
	r.Add(3, 0, t0, layers.LinkTypeEthernet, frame(3, 0, 216), 216)
	if st := r.Stats(); st.Recycled != 0 || st.Flows != 2 {
		t.Errorf("Stats = %+v, want flow 3 in the released entry, nothing recycled", st)
	}
	if n := len(r.Packets(2, time.Time{}, time.Time{})); n != 15 {
		t.Errorf("flow 2 keeps %d packets, want 15", n)
	}
}

func TestForget(t *testing.T) {
	opts := Options{ArenaBytes: 8192, MaxFlows: 3}
	r := New(opts)
	m := newModel(opts)
	for i := range 30 {
		flow := uint64(i%3) + 1
		m.add(r, flow, uint64(len(m.flows[flow])), t0, 50)
	}
	r.Forget(2)
	r.Forget(2)
	r.Forget(99)
	delete(m.flows, 2)
	m.check(t, r, false)
	if got := r.Packets(2, time.Time{}, time.Time{}); got != nil {
		t.Errorf("Packets after Forget = %d packets, want none", len(got))
	}
	m.add(r, 2, 0, t0, 50) // a forgotten id starts afresh, in the released entry
	m.add(r, 4, 0, t0, 50)
	m.check(t, r, false)
	if st := r.Stats(); st.Forgotten != 1 || st.Recycled != 1 || st.Flows != 3 {
		t.Errorf("Stats = %+v, want 1 forgotten, 1 recycled (for flow 4), 3 flows", st)
	}
}

func TestAddAllocs(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		counter func(Stats) uint64 // must grow during the measured calls
	}{
		{"arena wraps", Options{ArenaBytes: 8192, MaxFlows: 64, PerFlowPackets: 4, PerFlowBytes: 2000},
			func(s Stats) uint64 { return s.Overwritten }},
		{"flows recycled", Options{ArenaBytes: 1 << 16, MaxFlows: 16, PerFlowPackets: 4, PerFlowBytes: 2000},
			func(s Stats) uint64 { return s.Recycled }},
		{"flows trimmed", Options{ArenaBytes: 1 << 16, MaxFlows: 64, PerFlowPackets: 4, PerFlowBytes: 2000},
			func(s Stats) uint64 { return s.Trimmed }},
		{"frames truncated", Options{ArenaBytes: 1 << 16, MaxFlows: 64, PerFlowPackets: 4, PerFlowBytes: 2000},
			func(s Stats) uint64 { return s.Truncated }},
		{"flows forgotten", Options{ArenaBytes: 1 << 16, MaxFlows: 64, PerFlowPackets: 4, PerFlowBytes: 2000},
			func(s Stats) uint64 { return s.Forgotten }},
	}
	frames := [][]byte{frame(0, 0, 60), frame(0, 1, 1514), frame(0, 2, 300), frame(0, 3, 9000), frame(0, 4, 60)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.opts)
			i := 0
			step := func() {
				flow := uint64(i%40 + i/1000*7) // 40 flows at a time, new ids every 1000 calls
				if i%2 == 0 {
					flow = 0 // a busy flow that keeps more than 4 packets
				}
				r.Add(flow, uint64(i), t0.Add(time.Duration(i)), layers.LinkTypeEthernet, frames[i%len(frames)], 1514)
				if i%97 == 0 {
					r.Forget(flow + 1)
				}
				i++
			}
			for range 5000 {
				step()
			}
			before := r.Stats()
			if a := testing.AllocsPerRun(5000, step); a != 0 {
				t.Errorf("Add allocates %v times per call, want 0", a)
			}
			if after := r.Stats(); tt.counter(after) == tt.counter(before) {
				t.Errorf("the measured calls did not exercise %s: before %+v, after %+v", tt.name, before, after)
			}
		})
	}
}

// TestConcurrent reads while another goroutine writes; run with -race. A
// read overlaps the writes when the ring's Added count grows between its
// start and its end; the writer goes on past its adds until the reader
// has seen wantOverlaps such reads, so the test cannot pass with the
// writer done before the reader starts.
func TestConcurrent(t *testing.T) {
	r := New(Options{ArenaBytes: 1 << 16, MaxFlows: 32, PerFlowPackets: 16})
	size := func(index uint64) int { return int(index*37%1400) + 20 }
	const (
		flows, adds  = 50, 20000
		wantOverlaps = 20
		patience     = 20 * time.Second
	)
	var overlapped atomic.Bool
	var written uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		deadline := time.Now().Add(patience)
		for i := uint64(0); i < adds || !overlapped.Load() && time.Now().Before(deadline); i++ {
			flow := i % flows
			index := i / flows
			r.Add(flow, index, t0, layers.LinkTypeEthernet, frame(flow, index, size(index)), size(index))
			written = i + 1
		}
	})
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	reads, overlaps := 0, 0
	for running := true; running; reads++ {
		select {
		case <-done:
			running = false
		default:
		}
		flow := uint64(reads % flows)
		before := r.Stats().Added
		for _, p := range r.Packets(flow, time.Time{}, time.Time{}) {
			if !bytes.Equal(p.Data, frame(flow, p.Index, size(p.Index))) {
				t.Fatalf("flow %d packet %d: wrong bytes", flow, p.Index)
			}
		}
		if r.Stats().Added > before {
			if overlaps++; overlaps == wantOverlaps {
				overlapped.Store(true)
			}
		}
	}
	t.Logf("%d writes, %d reads, %d of them overlapping writes", written, reads, overlaps)
	if overlaps < wantOverlaps {
		t.Errorf("%d of %d reads overlapped the %d writes in %v, want at least %d", overlaps, reads, written, patience, wantOverlaps)
	}
	if got := r.Stats().Added; got != written {
		t.Errorf("Stats().Added = %d after %d writes", got, written)
	}
}

// TestIndex drives the flow index directly with ids that collide on purpose
// and compares every lookup with a Go map.
func TestIndex(t *testing.T) {
	r := New(Options{MaxFlows: 64, ArenaBytes: minArena})
	rng := rand.New(rand.NewPCG(4, 5))
	want := map[uint64]uint32{}
	ids := make([]uint64, 0, 300)
	for i := range uint64(100) {
		// Multiples of 2^57 share their home slot in a 128-slot index.
		ids = append(ids, i, i<<57, ^i, i*0x9E3779B97F4A7C15)
	}
	for op := range 100000 {
		id := ids[rng.IntN(len(ids))]
		if s, ok := want[id]; ok {
			r.release(s)
			delete(want, id)
		} else if len(want) < 64 {
			want[id] = r.newFlow(id)
		}
		if op%97 == 0 || op < 1000 {
			for _, id := range ids {
				s, ok := want[id]
				if got := r.lookup(id); (got != none) != ok || ok && got != s {
					t.Fatalf("op %d: lookup(%#x) = %d, want %d (present %v)", op, id, got, s, ok)
				}
			}
		}
	}
	if r.Stats().Recycled != 0 {
		t.Fatal("the index test recycled a flow")
	}
}
