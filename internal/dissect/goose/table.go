package goose

import "github.com/otwatch/otwatch/internal/dissect"

// ways is the associativity of a table: a key can live in one of ways
// slots of its set, and a new key evicts the least recently seen of them.
const ways = 4

// slot is one table entry: a publisher's stream, keyed by source MAC,
// simulation flag and name (gocbRef or svID), with its state v.
type slot[T any] struct {
	tick uint64 // last use; 0: free
	hash uint32
	mac  dissect.MAC
	sim  bool
	name string
	v    T
}

// table is a bounded, set-associative map of streams. Memory is fixed at
// its first use; it never grows.
type table[T any] struct {
	slots   []slot[T]
	mask    uint32 // sets - 1
	tick    uint64
	evicted uint64
}

// init sizes the table for at least capacity entries.
func (t *table[T]) init(capacity int) {
	sets := 1
	for sets*ways < capacity {
		sets <<= 1
	}
	t.slots = make([]slot[T], sets*ways)
	t.mask = uint32(sets - 1)
}

// lookup returns the slot of the stream, creating it (state zero, name
// copied) when it is not there; found says which. The name's string is
// the one kept from the stream's first frame: finding it allocates nothing.
func (t *table[T]) lookup(mac dissect.MAC, sim bool, name []byte) (s *slot[T], found bool) {
	h := uint32(2166136261)
	for _, c := range mac {
		h = (h ^ uint32(c)) * 16777619
	}
	if sim {
		h = (h ^ 1) * 16777619
	}
	for _, c := range name {
		h = (h ^ uint32(c)) * 16777619
	}
	t.tick++
	set := t.slots[(h&t.mask)*ways : (h&t.mask+1)*ways]
	victim := &set[0]
	for i := range set {
		s := &set[i]
		if s.tick != 0 && s.hash == h && s.mac == mac && s.sim == sim && s.name == string(name) {
			s.tick = t.tick
			return s, true
		}
		if s.tick < victim.tick {
			victim = s
		}
	}
	if victim.tick != 0 {
		t.evicted++
	}
	*victim = slot[T]{tick: t.tick, hash: h, mac: mac, sim: sim, name: dissect.Intern(name)}
	return victim, false
}

// len returns the number of streams held.
func (t *table[T]) len() int {
	n := 0
	for i := range t.slots {
		if t.slots[i].tick != 0 {
			n++
		}
	}
	return n
}
