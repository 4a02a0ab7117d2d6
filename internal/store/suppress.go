package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/otwatch/otwatch/internal/alert"
)

// Suppressor applies exclusion rules and mutes to new alerts at detection
// time, from memory, and counts what it suppressed. Its Suppress method is
// what detect.Config.Suppress takes. It is safe for concurrent use.
//
// Rules and mutes are read when the Suppressor is made and on Reload;
// counts are kept in memory until Flush writes them to the store.
type Suppressor struct {
	st     Store
	sensor string

	mu    sync.Mutex
	rules []Exclusion
	mutes []Mute
	ruleN map[int64]uint64 // unflushed counts
	muteN map[int64]uint64
	total uint64
}

// NewSuppressor loads the rules and mutes that can apply to sensor's
// alerts ("" for every sensor) from st.
func NewSuppressor(ctx context.Context, st Store, sensor string) (*Suppressor, error) {
	s := &Suppressor{st: st, sensor: sensor, ruleN: map[int64]uint64{}, muteN: map[int64]uint64{}}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the rules and mutes again, so changes made since apply.
func (s *Suppressor) Reload(ctx context.Context) error {
	rules, err := s.st.Exclusions(ctx)
	if err != nil {
		return fmt.Errorf("store: loading exclusion rules: %w", err)
	}
	mutes, err := s.st.Mutes(ctx)
	if err != nil {
		return fmt.Errorf("store: loading mutes: %w", err)
	}
	keepR := rules[:0]
	for _, r := range rules {
		if !r.Disabled && (s.sensor == "" || r.Sensor == "" || r.Sensor == s.sensor) {
			keepR = append(keepR, r)
		}
	}
	keepM := mutes[:0]
	for _, m := range mutes {
		if s.sensor == "" || m.Sensor == s.sensor {
			keepM = append(keepM, m)
		}
	}
	s.mu.Lock()
	s.rules, s.mutes = keepR, keepM
	s.mu.Unlock()
	return nil
}

// Suppress reports whether a is excluded by a rule or muted, counting it
// against the first rule (or mute) that matches.
func (s *Suppressor) Suppress(a *alert.Alert) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.rules {
		if s.rules[i].Matches(a) {
			s.ruleN[s.rules[i].ID]++
			s.total++
			return true
		}
	}
	for i := range s.mutes {
		if s.mutes[i].Matches(a) {
			s.muteN[s.mutes[i].ID]++
			s.total++
			return true
		}
	}
	return false
}

// Suppressed returns how many alerts this Suppressor suppressed.
func (s *Suppressor) Suppressed() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Flush adds the counts not yet written to the rules' and mutes'
// Suppressed counts in the store. On error the counts are kept for the
// next Flush.
func (s *Suppressor) Flush(ctx context.Context) error {
	s.mu.Lock()
	r, m := s.ruleN, s.muteN
	if len(r) == 0 && len(m) == 0 {
		s.mu.Unlock()
		return nil
	}
	s.ruleN, s.muteN = map[int64]uint64{}, map[int64]uint64{}
	s.mu.Unlock()
	if err := s.st.AddSuppressed(ctx, r, m); err != nil {
		s.mu.Lock()
		for k, v := range r {
			s.ruleN[k] += v
		}
		for k, v := range m {
			s.muteN[k] += v
		}
		s.mu.Unlock()
		return fmt.Errorf("store: writing suppression counts: %w", err)
	}
	return nil
}
