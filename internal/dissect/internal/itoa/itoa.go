// Package itoa holds a small cache of the decimal strings of the few
// 16-bit numbers a flow repeats (station addresses, device IDs), so that
// a session formats each once instead of on every message.
package itoa

import "strconv"

// Entry is one cached number and its decimal string.
type Entry struct {
	v uint16
	s string
}

// Entries are the arrays a Cache keeps its entries in; the array's
// length is how many numbers it holds.
type Entries interface {
	~[4]Entry | ~[8]Entry
}

// Cache remembers the decimal strings of the last numbers it formatted;
// when full, the earliest added is dropped. Its zero value is empty.
type Cache[A Entries] struct {
	n int
	e A
}

// String returns the decimal string of v.
func (c *Cache[A]) String(v uint16) string {
	for i := 0; i < c.n; i++ {
		if c.e[i].v == v {
			return c.e[i].s
		}
	}
	s := strconv.Itoa(int(v))
	i := c.n
	if i == len(c.e) {
		for j := 0; j+1 < len(c.e); j++ {
			c.e[j] = c.e[j+1]
		}
		i--
	} else {
		c.n++
	}
	c.e[i] = Entry{v, s}
	return s
}
