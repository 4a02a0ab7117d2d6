package evidence

// The flow index maps flow ids to flow entries with open addressing and
// linear probing. A slot holds entry+1, or 0 when empty. The table has at
// least twice as many slots as there are flow entries, and deletion shifts
// the following run back, so there are no tombstones and nothing is ever
// allocated after New.

// home is the preferred slot of a flow id: Fibonacci hashing, which spreads
// the consecutive ids of the flow table over the whole index.
func (r *Ring) home(id uint64) uint64 { return (id * 0x9E3779B97F4A7C15) >> r.shift }

// lookup returns the flow entry of id, or none.
func (r *Ring) lookup(id uint64) uint32 {
	for i := r.home(id); ; i = (i + 1) & r.mask {
		v := r.index[i]
		if v == 0 {
			return none
		}
		if r.flows[v-1].id == id {
			return v - 1
		}
	}
}

// insert adds entry s, whose id is not in the index.
func (r *Ring) insert(s uint32) {
	i := r.home(r.flows[s].id)
	for r.index[i] != 0 {
		i = (i + 1) & r.mask
	}
	r.index[i] = s + 1
}

// remove deletes entry s from the index and moves back the entries after it
// that would otherwise become unreachable.
func (r *Ring) remove(s uint32) {
	i := r.home(r.flows[s].id)
	for r.index[i] != s+1 {
		if r.index[i] == 0 {
			return
		}
		i = (i + 1) & r.mask
	}
	r.index[i] = 0
	for j := (i + 1) & r.mask; r.index[j] != 0; j = (j + 1) & r.mask {
		k := r.home(r.flows[r.index[j]-1].id)
		// The entry at j may move to the hole at i unless its home lies
		// cyclically in (i, j].
		if (j-k)&r.mask >= (j-i)&r.mask {
			r.index[i] = r.index[j]
			r.index[j] = 0
			i = j
		}
	}
}
