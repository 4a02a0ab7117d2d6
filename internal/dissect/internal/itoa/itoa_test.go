package itoa

import (
	"strconv"
	"testing"
)

func TestCache(t *testing.T) {
	tests := []struct {
		name   string
		values []uint16
		kept   []uint16 // numbers cached afterwards, earliest first
	}{
		{"empty", nil, nil},
		{"repeats cached once", []uint16{7, 7, 65535, 7}, []uint16{7, 65535}},
		{"full drops the earliest", []uint16{1, 2, 3, 4, 5}, []uint16{2, 3, 4, 5}},
		{"a hit does not reorder", []uint16{1, 2, 3, 4, 1, 5}, []uint16{2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Cache[[4]Entry]
			for _, v := range tt.values {
				if got, want := c.String(v), strconv.Itoa(int(v)); got != want {
					t.Errorf("String(%d) = %q, want %q", v, got, want)
				}
			}
			var kept []uint16
			for _, e := range c.e[:c.n] {
				kept = append(kept, e.v)
			}
			if len(kept) != len(tt.kept) {
				t.Fatalf("kept %v, want %v", kept, tt.kept)
			}
			for i := range kept {
				if kept[i] != tt.kept[i] {
					t.Fatalf("kept %v, want %v", kept, tt.kept)
				}
			}
		})
	}
}

func TestCacheSize(t *testing.T) {
	var c Cache[[8]Entry]
	for v := range uint16(10) {
		c.String(v)
	}
	if c.n != 8 || c.e[0].v != 2 || c.e[7].v != 9 {
		t.Errorf("cache %v, want 2..9", c.e[:c.n])
	}
}

func TestCacheAllocs(t *testing.T) {
	var c Cache[[8]Entry]
	for v := range uint16(8) {
		c.String(v)
	}
	n := testing.AllocsPerRun(100, func() {
		for v := range uint16(8) {
			c.String(v)
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per run of cached numbers, want 0", n)
	}
}
