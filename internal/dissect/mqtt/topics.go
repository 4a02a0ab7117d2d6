package mqtt

const (
	// maxTopics bounds the topic cache of a session; a full cache is
	// cleared (topics of one connection repeat, so it refills quickly).
	maxTopics = 64
	// maxCachedTopic is the longest topic kept in the cache.
	maxCachedTopic = 256
)

// topicCache turns the topic bytes of a packet into a string without
// allocating when the session has seen the topic recently: the lookup with
// string(b) as the key does not allocate, only a miss does.
type topicCache struct {
	m map[string]string
}

// get returns b as a string, from the cache when possible.
func (c *topicCache) get(b []byte) string {
	if s, ok := c.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) > maxCachedTopic {
		return s
	}
	if c.m == nil {
		c.m = make(map[string]string, 8)
	} else if len(c.m) >= maxTopics {
		clear(c.m)
	}
	c.m[s] = s
	return s
}
