package anomaly

// evictSample is how many entries a full table looks at to find the one it
// drops: the least recently seen of a sample approximates the least
// recently seen of all at a constant cost.
const evictSample = 8

// table is a map holding at most max entries. When it is full, a new key
// takes over the storage of the least recently seen of a few sampled
// entries, so that memory stays bounded whatever the traffic and a full
// table does not allocate.
type table[K comparable, V any] struct {
	m       map[K]*slot[V]
	max     int
	evicted uint64
}

type slot[V any] struct {
	seen int64 // capture time of the last get, Unix nanoseconds
	v    V
}

func newTable[K comparable, V any](max int) *table[K, V] {
	return &table[K, V]{m: make(map[K]*slot[V]), max: max}
}

// get returns k's value, creating it if absent; created reports a new
// entry, whose value is either zero or a recycled one the caller must
// reset (keeping the capacity of its maps).
func (t *table[K, V]) get(k K, now int64) (v *V, created bool) {
	if s, ok := t.m[k]; ok {
		s.seen = max(s.seen, now)
		return &s.v, false
	}
	var s *slot[V]
	if len(t.m) >= t.max {
		s = t.evict()
	} else {
		s = new(slot[V])
	}
	s.seen = now
	t.m[k] = s
	return &s.v, true
}

// lookup returns k's value or nil, without creating it.
func (t *table[K, V]) lookup(k K) *V {
	if s, ok := t.m[k]; ok {
		return &s.v
	}
	return nil
}

// len returns the number of entries.
func (t *table[K, V]) len() int { return len(t.m) }

// each calls fn for every entry.
func (t *table[K, V]) each(fn func(k K, v *V)) {
	for k, s := range t.m {
		fn(k, &s.v)
	}
}

// evict removes the least recently seen of a sample of entries and
// returns its storage.
func (t *table[K, V]) evict() *slot[V] {
	var (
		victimKey K
		victim    *slot[V]
		n         int
	)
	for k, s := range t.m {
		if victim == nil || s.seen < victim.seen {
			victimKey, victim = k, s
		}
		if n++; n == evictSample {
			break
		}
	}
	delete(t.m, victimKey)
	t.evicted++
	return victim
}
