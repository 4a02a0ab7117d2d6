package detect

import "testing"

func TestFlowCache(t *testing.T) {
	c := NewFlowCache[int](3) // rounded up to 4 slots
	if len(c.slots) != 4 {
		t.Fatalf("%d slots, want 4", len(c.slots))
	}
	if _, ok := c.Get(7); ok {
		t.Error("empty cache hit")
	}
	c.Put(7, 70)
	c.Put(0, 1) // ignored
	if v, ok := c.Get(7); !ok || v != 70 {
		t.Errorf("Get(7) = %d, %v", v, ok)
	}
	if _, ok := c.Get(0); ok {
		t.Error("flow 0 hit")
	}
	c.Put(11, 110) // same slot as 7
	if _, ok := c.Get(7); ok {
		t.Error("evicted flow hit")
	}
	c.Invalidate()
	if _, ok := c.Get(11); ok {
		t.Error("hit after Invalidate")
	}
}

func BenchmarkFlowCacheHit(b *testing.B) {
	c := NewFlowCache[*int](4096)
	v := new(int)
	for i := uint64(1); i <= 64; i++ {
		c.Put(i, v)
	}
	b.ReportAllocs()
	var n uint64
	for b.Loop() {
		n++
		c.Get(n&63 + 1)
	}
}
