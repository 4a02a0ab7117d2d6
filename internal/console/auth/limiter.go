package auth

import (
	"math"
	"sync"
	"time"
)

// Limiter is a set of token buckets, one per key (a client address, a
// user name): each holds up to Burst tokens and regains one every Every.
// It keeps at most MaxKeys buckets, forgetting full ones first. Set its
// fields before first use; it is then safe for concurrent use.
type Limiter struct {
	Burst   int
	Every   time.Duration
	MaxKeys int
	Now     func() time.Time // time.Now when nil

	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

// NewLimiter returns a Limiter of burst tokens regaining one every every.
func NewLimiter(burst int, every time.Duration) *Limiter {
	return &Limiter{Burst: burst, Every: every, MaxKeys: 100000, m: map[string]*bucket{}}
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// refill returns key's bucket brought up to now; nil when key has none
// (a full bucket).
func (l *Limiter) refill(key string, now time.Time) *bucket {
	b := l.m[key]
	if b == nil {
		return nil
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = math.Min(float64(l.Burst), b.tokens+float64(d)/float64(l.Every))
		b.at = now
	}
	return b
}

// wait returns how long until a bucket with tokens holds one whole token.
func (l *Limiter) wait(tokens float64) time.Duration {
	return time.Duration(math.Ceil((1 - tokens) * float64(l.Every)))
}

// Allow takes a token from key's bucket. When the bucket is empty it
// takes nothing and returns false with how long until a token is back.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.refill(key, now)
	if b == nil {
		l.prune(now)
		b = &bucket{tokens: float64(l.Burst), at: now}
		l.m[key] = b
	}
	if b.tokens < 1 {
		return false, l.wait(b.tokens)
	}
	b.tokens--
	return true, 0
}

// Check reports whether key's bucket holds a token, without taking it.
func (l *Limiter) Check(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, l.now())
	if b == nil || b.tokens >= 1 {
		return true, 0
	}
	return false, l.wait(b.tokens)
}

// Reset refills key's bucket.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, key)
}

// prune makes room for one more bucket: it forgets buckets that are full
// again and, if that is not enough, half of the others (chosen at random
// by map order), so that pruning stays linear however many keys an
// attacker brings.
func (l *Limiter) prune(now time.Time) {
	if l.MaxKeys <= 0 || len(l.m) < l.MaxKeys {
		return
	}
	for k := range l.m {
		if b := l.refill(k, now); b.tokens >= float64(l.Burst) {
			delete(l.m, k)
		}
	}
	if len(l.m) < l.MaxKeys {
		return
	}
	drop := len(l.m) / 2
	for k := range l.m {
		if drop == 0 {
			break
		}
		delete(l.m, k)
		drop--
	}
}

// Len returns the number of buckets kept.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
