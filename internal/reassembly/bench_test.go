package reassembly

import "testing"

// discard consumes everything.
type discard struct{}

func (discard) Data(data []byte) int { return len(data) }
func (discard) Gap(int)              {}

// records consumes whole 100-byte records, leaving leftovers pending.
type records struct{}

func (records) Data(data []byte) int { return len(data) - len(data)%100 }
func (records) Gap(int)              {}

// reorder is the arrival order, within each group of ten segments, that
// puts one segment in ten out of order.
var reorder = [10]int{0, 1, 2, 3, 5, 4, 6, 7, 9, 8}

// sender produces 1460-byte segments of an endless stream, optionally
// reordered.
type sender struct {
	seq     uint32 // sequence number of the current group's first segment
	i       int
	reorder bool
	payload []byte
}

func newSender(h *Half, c Consumer, reorder bool) *sender {
	s := &sender{seq: 1, reorder: reorder, payload: make([]byte, 1460)}
	h.Init(nil)
	h.Segment(0, true, false, false, nil, c)
	return s
}

func (s *sender) next(h *Half, c Consumer) {
	k := s.i
	if s.reorder {
		k = reorder[s.i]
	}
	h.Segment(s.seq+uint32(k*len(s.payload)), false, false, false, s.payload, c)
	if s.i++; s.i == len(reorder) {
		s.i = 0
		s.seq += uint32(len(reorder) * len(s.payload))
	}
}

func TestSegmentAllocs(t *testing.T) {
	for _, tt := range []struct {
		name    string
		c       Consumer
		reorder bool
	}{
		{"in order", discard{}, false},
		{"reordered", discard{}, true},
		{"in order, leftovers", records{}, false},
		{"reordered, leftovers", records{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var h Half
			s := newSender(&h, tt.c, tt.reorder)
			for range 100 { // warm up: storage and pending buffers
				s.next(&h, tt.c)
			}
			if n := testing.AllocsPerRun(1000, func() { s.next(&h, tt.c) }); n != 0 {
				t.Errorf("%v allocations per segment; want 0", n)
			}
			if st := h.Stats(); st.Gaps != 0 || (tt.reorder && st.OutOfOrder == 0) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func benchmarkSegment(b *testing.B, c Consumer, reorder bool) {
	var h Half
	s := newSender(&h, c, reorder)
	b.SetBytes(int64(len(s.payload)))
	b.ReportAllocs()
	for b.Loop() {
		s.next(&h, c)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "segments/s")
}

func BenchmarkSegmentInOrder(b *testing.B)   { benchmarkSegment(b, discard{}, false) }
func BenchmarkSegmentReordered(b *testing.B) { benchmarkSegment(b, discard{}, true) }

// BenchmarkSegmentRecords has a consumer that leaves a partial record
// pending after most segments, so most bytes are copied once.
func BenchmarkSegmentRecords(b *testing.B) { benchmarkSegment(b, records{}, false) }
