package reassembly

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

// recorder is a Consumer that logs every call. With pdu > 0 it consumes
// only whole pdu-byte records; with pdu < 0 it consumes nothing.
type recorder struct {
	pdu    int
	events []string
	stream []byte // bytes consumed, in order
}

func (r *recorder) Data(data []byte) int {
	r.events = append(r.events, string(data))
	n := len(data)
	switch {
	case r.pdu < 0:
		n = 0
	case r.pdu > 0:
		n -= n % r.pdu
	}
	r.stream = append(r.stream, data[:n]...)
	return n
}

func (r *recorder) Gap(lost int) {
	r.events = append(r.events, fmt.Sprintf("gap %d", lost))
}

// seg is one segment of a test case; flush marks a call to Flush instead.
type seg struct {
	seq   uint32
	flags string // any of "S", "F", "R"
	data  string
	flush bool
}

func (s seg) has(f byte) bool { return bytes.IndexByte([]byte(s.flags), f) >= 0 }

func feed(h *Half, segs []seg, c Consumer) {
	for _, s := range segs {
		if s.flush {
			h.Flush(c)
			continue
		}
		h.Segment(s.seq, s.has('S'), s.has('F'), s.has('R'), []byte(s.data), c)
	}
}

var flush = seg{flush: true}

// syn opens the streams of segmentTests.
var syn = seg{seq: 1000, flags: "S"}

// segmentTests are hand-worked cases: segments in, Data and Gap calls out.
var segmentTests = []struct {
	name   string
	opts   Options
	pdu    int
	segs   []seg
	want   []string
	stream string     // consumed bytes, when pdu != 0
	stats  *HalfStats // full expected counters, when given
}{
	{
		name:  "in order",
		segs:  []seg{syn, {seq: 1001, data: "abc"}, {seq: 1004, data: "def"}, {seq: 1007, flags: "F"}, flush},
		want:  []string{"abc", "def"},
		stats: &HalfStats{Segments: 4, Delivered: 6},
	},
	{
		name:  "retransmission",
		segs:  []seg{syn, {seq: 1001, data: "abc"}, {seq: 1001, data: "abc"}, {seq: 1004, data: "def"}, {seq: 1004, data: "def"}, {seq: 1001, data: "abcdef"}},
		want:  []string{"abc", "def"},
		stats: &HalfStats{Segments: 6, Delivered: 6, Retransmitted: 12},
	},
	{
		// "XX" re-sends sequence 1002-1003 with other bytes: the
		// bytes received first ("bc") win.
		name:  "partial overlap at head",
		segs:  []seg{syn, {seq: 1001, data: "abc"}, {seq: 1002, data: "XXdef"}},
		want:  []string{"abc", "def"},
		stats: &HalfStats{Segments: 3, Delivered: 6, Retransmitted: 2, Overlaps: 1},
	},
	{
		name:  "partial overlap at tail of a stored segment",
		segs:  []seg{syn, {seq: 1004, data: "def"}, {seq: 1001, data: "abcXX"}},
		want:  []string{"abc", "def"},
		stats: &HalfStats{Segments: 3, Delivered: 6, Retransmitted: 2, Overlaps: 1, OutOfOrder: 1},
	},
	{
		name:  "overlap of a stored segment's tail",
		segs:  []seg{syn, {seq: 1001, data: "ab"}, {seq: 1004, data: "def"}, {seq: 1005, data: "XXgh"}, {seq: 1003, data: "c"}},
		want:  []string{"ab", "c", "def", "gh"},
		stats: &HalfStats{Segments: 5, Delivered: 8, Retransmitted: 2, Overlaps: 1, OutOfOrder: 2},
	},
	{
		name:  "segment spanning a stored one",
		segs:  []seg{syn, {seq: 1003, data: "c"}, {seq: 1001, data: "abXde"}},
		want:  []string{"ab", "c", "de"},
		stats: &HalfStats{Segments: 3, Delivered: 5, Retransmitted: 1, Overlaps: 1, OutOfOrder: 1},
	},
	{
		name:  "out-of-order segment spanning stored ones",
		segs:  []seg{syn, {seq: 1001, data: "a"}, {seq: 1004, data: "d"}, {seq: 1006, data: "f"}, {seq: 1003, data: "cXeXg"}, {seq: 1002, data: "b"}},
		want:  []string{"a", "b", "c", "d", "e", "f", "g"},
		stats: &HalfStats{Segments: 6, Delivered: 7, Retransmitted: 2, Overlaps: 1, OutOfOrder: 3},
	},
	{
		name:  "out of order 3-2-1",
		segs:  []seg{syn, {seq: 1007, data: "ghi"}, {seq: 1004, data: "def"}, {seq: 1001, data: "abc"}},
		want:  []string{"abc", "def", "ghi"},
		stats: &HalfStats{Segments: 4, Delivered: 9, OutOfOrder: 2},
	},
	{
		name:  "hole then fill",
		segs:  []seg{syn, {seq: 1001, data: "abc"}, {seq: 1007, data: "ghi"}, {seq: 1010, data: "jk"}, {seq: 1004, data: "def"}},
		want:  []string{"abc", "def", "ghi", "jk"},
		stats: &HalfStats{Segments: 5, Delivered: 11, OutOfOrder: 2},
	},
	{
		name:  "hole never filled, reported on flush",
		segs:  []seg{syn, {seq: 1001, data: "abc"}, {seq: 1007, data: "ghi"}, flush},
		want:  []string{"abc", "gap 3", "ghi"},
		stats: &HalfStats{Segments: 3, Delivered: 6, OutOfOrder: 1, Gaps: 1, GapBytes: 3, Missing: 3},
	},
	{
		name:  "hole given up when MaxSegments is exceeded",
		opts:  Options{MaxSegments: 2},
		segs:  []seg{syn, {seq: 1001, data: "a"}, {seq: 1003, data: "c"}, {seq: 1005, data: "e"}, {seq: 1007, data: "g"}, flush},
		want:  []string{"a", "gap 1", "c", "gap 1", "e", "gap 1", "g"},
		stats: &HalfStats{Segments: 5, Delivered: 4, OutOfOrder: 3, Gaps: 3, GapBytes: 3, Missing: 3, Overflows: 1},
	},
	{
		name:  "hole given up when MaxBuffered is exceeded",
		opts:  Options{MaxBuffered: 4},
		segs:  []seg{syn, {seq: 1001, data: "abc"}, {seq: 1005, data: "efg"}, {seq: 1009, data: "ijk"}, {seq: 1004, data: "d"}, flush},
		want:  []string{"abc", "gap 1", "efg", "gap 1", "ijk"},
		stats: &HalfStats{Segments: 5, Delivered: 9, Retransmitted: 1, OutOfOrder: 2, Gaps: 2, GapBytes: 2, Missing: 2, Overflows: 1},
	},
	{
		name: "sequence numbers wrap around 2^32",
		segs: []seg{
			{seq: 0xfffffffc, flags: "S"},
			{seq: 0xfffffffd, data: "abc"}, // 0xfffffffd..0xffffffff
			{seq: 3, data: "ghi"},
			{seq: 0, data: "def"}, // 0..2
			{seq: 0xfffffffe, data: "XXXX"},
			{seq: 6, data: "jkl"},
		},
		want:  []string{"abc", "def", "ghi", "jkl"},
		stats: &HalfStats{Segments: 6, Delivered: 12, OutOfOrder: 1, Retransmitted: 4},
	},
	{
		name:  "segment across the wrap",
		segs:  []seg{{seq: 0xfffffffe, flags: "S"}, {seq: 0xffffffff, data: "abcd"}, {seq: 3, data: "efg"}},
		want:  []string{"abcd", "efg"},
		stats: &HalfStats{Segments: 3, Delivered: 7},
	},
	{
		// The pure ACK does not start the stream; bytes before the
		// first data segment are treated as already seen.
		name:  "mid-stream start",
		segs:  []seg{{seq: 500}, {seq: 5000, data: "abc"}, {seq: 4997, data: "xyz"}, {seq: 5003, data: "def"}},
		want:  []string{"abc", "def"},
		stats: &HalfStats{Segments: 4, Delivered: 6, Retransmitted: 3, Midstream: true},
	},
	{
		name:   "consumer of whole 7-byte records",
		pdu:    7,
		segs:   []seg{syn, {seq: 1001, data: "abcde"}, {seq: 1006, data: "fghij"}, {seq: 1011, data: "klmn"}, {seq: 1015, data: "opqrstuvwxyz"}},
		want:   []string{"abcde", "abcdefghij", "hijklmn", "opqrstuvwxyz"},
		stream: "abcdefghijklmnopqrstu",
	},
	{
		name:   "records across out-of-order segments",
		pdu:    7,
		segs:   []seg{syn, {seq: 1001, data: "abcde"}, {seq: 1009, data: "ijk"}, {seq: 1006, data: "fgh"}},
		want:   []string{"abcde", "abcdefgh", "hijk"},
		stream: "abcdefg",
	},
	{
		name:  "pending overflow",
		opts:  Options{MaxPending: 4},
		pdu:   -1,
		segs:  []seg{syn, {seq: 1001, data: "abc"}, {seq: 1004, data: "def"}, {seq: 1007, data: "gh"}, {seq: 1009, data: "ijklm"}},
		want:  []string{"abc", "abcdef", "gap 6", "gh", "ghijklm", "gap 7"},
		stats: &HalfStats{Segments: 5, Delivered: 13, Gaps: 2, GapBytes: 13, Unconsumed: 13, Overflows: 2},
	},
	{
		name:  "pending dropped with the hole it precedes",
		pdu:   7,
		segs:  []seg{syn, {seq: 1001, data: "abcde"}, {seq: 1010, data: "xyz"}, flush},
		want:  []string{"abcde", "gap 9", "xyz"},
		stats: &HalfStats{Segments: 3, Delivered: 8, OutOfOrder: 1, Gaps: 1, GapBytes: 9, Missing: 4, Unconsumed: 8},
	},
	{
		name:   "bytes left unconsumed by flush are reported before more data",
		pdu:    7,
		segs:   []seg{syn, {seq: 1001, data: "abc"}, flush, {seq: 1004, data: "defghijklm"}},
		want:   []string{"abc", "gap 3", "defghijklm"},
		stream: "defghij",
	},
	{
		name:  "data after FIN",
		segs:  []seg{syn, {seq: 1001, flags: "F", data: "abc"}, {seq: 1004, data: "def"}, {seq: 1001, data: "abcdef"}},
		want:  []string{"abc"},
		stats: &HalfStats{Segments: 4, Delivered: 3, Retransmitted: 3, AfterFIN: 6},
	},
	{
		name:  "FIN out of order",
		segs:  []seg{syn, {seq: 1004, flags: "F", data: "def"}, {seq: 1007, data: "xyz"}, {seq: 1001, data: "abc"}},
		want:  []string{"abc", "def"},
		stats: &HalfStats{Segments: 4, Delivered: 6, OutOfOrder: 1, AfterFIN: 3},
	},
	{
		name:  "FIN before stored data",
		segs:  []seg{syn, {seq: 1006, data: "fgh"}, {seq: 1004, flags: "F", data: "de"}, {seq: 1001, data: "abc"}},
		want:  []string{"abc", "de"},
		stats: &HalfStats{Segments: 4, Delivered: 5, OutOfOrder: 2, AfterFIN: 3},
	},
	{
		name: "hole before FIN reported on flush",
		segs: []seg{syn, {seq: 1001, data: "abc"}, {seq: 1010, flags: "F"}, flush},
		want: []string{"abc", "gap 6"},
		// A FIN without payload stores nothing: it is not out of order.
		stats: &HalfStats{Segments: 3, Delivered: 3, Gaps: 1, GapBytes: 6, Missing: 6},
	},
	{
		name:  "SYN retransmission",
		segs:  []seg{syn, syn, {seq: 1001, data: "abc"}, syn, {seq: 1004, data: "def"}},
		want:  []string{"abc", "def"},
		stats: &HalfStats{Segments: 5, Delivered: 6},
	},
	{
		name:  "SYN with data",
		segs:  []seg{{seq: 1000, flags: "S", data: "abc"}, {seq: 1000, flags: "S", data: "abc"}, {seq: 1004, data: "def"}},
		want:  []string{"abc", "def"},
		stats: &HalfStats{Segments: 3, Delivered: 6, Retransmitted: 3},
	},
	{
		name:  "RST flushes and ends the stream",
		segs:  []seg{syn, {seq: 1001, data: "abc"}, {seq: 1007, data: "ghi"}, {seq: 1010, flags: "R", data: "reset"}, {seq: 1004, data: "def"}, flush},
		want:  []string{"abc", "gap 3", "ghi"},
		stats: &HalfStats{Segments: 5, Delivered: 6, OutOfOrder: 1, Gaps: 1, GapBytes: 3, Missing: 3, AfterFIN: 3},
	},
	{
		name: "nothing before the first SYN or data",
		segs: []seg{{seq: 7}, {seq: 9, flags: "R"}, {seq: 10, data: "abc"}, flush},
		want: nil,
	},
}

func TestSegment(t *testing.T) {
	tests := segmentTests
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Half
			h.Init(&tt.opts)
			r := &recorder{pdu: tt.pdu}
			feed(&h, tt.segs, r)
			if !slices.Equal(r.events, tt.want) {
				t.Errorf("calls = %q; want %q", r.events, tt.want)
			}
			if tt.pdu != 0 && string(r.stream) != tt.stream {
				t.Errorf("consumed %q; want %q", r.stream, tt.stream)
			}
			if tt.stats != nil && h.Stats() != *tt.stats {
				t.Errorf("stats = %+v;\nwant    %+v", h.Stats(), *tt.stats)
			}
		})
	}
}

// TestZeroHalf checks that a Half that was never initialised uses the
// default limits.
func TestZeroHalf(t *testing.T) {
	var h Half
	r := &recorder{}
	feed(&h, []seg{{seq: 1, flags: "S"}, {seq: 5, data: "d"}, {seq: 2, data: "abc"}}, r)
	if want := []string{"abc", "d"}; !slices.Equal(r.events, want) {
		t.Errorf("calls = %q; want %q", r.events, want)
	}
}

// TestInitReuse checks that a Half reused for a new connection starts
// afresh.
func TestInitReuse(t *testing.T) {
	var h Half
	h.Init(nil)
	r := &recorder{pdu: 7}
	feed(&h, []seg{{seq: 1, flags: "S"}, {seq: 2, data: "abc"}, {seq: 9, data: "xyz"}}, r)
	h.Init(nil)
	r = &recorder{}
	feed(&h, []seg{{seq: 100, flags: "S"}, {seq: 101, data: "abc"}}, r)
	if want := []string{"abc"}; !slices.Equal(r.events, want) {
		t.Errorf("calls = %q; want %q", r.events, want)
	}
	if s := h.Stats(); s != (HalfStats{Segments: 2, Delivered: 3}) {
		t.Errorf("stats = %+v", s)
	}
}
