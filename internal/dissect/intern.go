package dissect

import "sync"

// Intern returns string(b), handing back the string made for the same bytes
// before when it is still kept, so that the names, addresses and
// identifiers that networks announce again and again do not allocate in
// dissectors. The table is small and direct-mapped (a collision replaces the
// older string) and safe for concurrent use; values longer than 512 bytes
// are not kept.
func Intern(b []byte) string {
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
	interned.mu.Lock()
	s := interned.slot[i]
	if s != string(b) {
		s = string(b)
		interned.slot[i] = s
	}
	interned.mu.Unlock()
	return s
}

const (
	internSlots = 4096
	internMax   = 512
)

var interned struct {
	mu   sync.Mutex
	slot [internSlots]string
}
