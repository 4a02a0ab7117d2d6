package netbios

import "sync"

// internTable turns byte slices into strings, handing back the string made
// for the same bytes before, so that names, addresses and identifiers that
// the network announces again and again do not allocate. It is a small
// direct-mapped table: a collision replaces the older string.
type internTable struct {
	mu   sync.Mutex
	slot [internSlots]string
}

const (
	internSlots = 512
	internMax   = 512 // longer values are made afresh, not kept
)

// interned is the package's table, shared by all sessions.
var interned internTable

// str returns string(b), reusing a kept copy when there is one.
func (t *internTable) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > internMax {
		return string(b)
	}
	h := uint32(2166136261) // FNV-1a
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	i := h % internSlots
	t.mu.Lock()
	s := t.slot[i]
	if s != string(b) {
		s = string(b)
		t.slot[i] = s
	}
	t.mu.Unlock()
	return s
}
