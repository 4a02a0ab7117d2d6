package recommend

import (
	"errors"
	"fmt"
	"strings"
)

// Status is where a recommendation is in its lifecycle.
type Status uint8

// Statuses. A recommendation starts Open; work on it makes it InProgress
// and then Done; any status can become Dismissed with a reason; Done and
// Dismissed reopen to Open.
const (
	Open Status = iota + 1
	InProgress
	Done
	Dismissed
)

var statusNames = [...]string{"", "open", "in_progress", "done", "dismissed"}

// String returns "open", "in_progress", "done" or "dismissed".
func (s Status) String() string {
	if int(s) < len(statusNames) && s > 0 {
		return statusNames[s]
	}
	return "unknown"
}

// MarshalText encodes the status by name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a status name.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	*s = v
	return err
}

// ParseStatus returns the status called name, in any case; "in progress"
// and "in-progress" are accepted for in_progress.
func ParseStatus(name string) (Status, error) {
	n := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(name)))
	for i := Open; i <= Dismissed; i++ {
		if n == statusNames[i] {
			return i, nil
		}
	}
	return 0, fmt.Errorf("recommend: unknown status %q (want open, in_progress, done or dismissed)", name)
}

// Errors of Transition.
var (
	// ErrTransition is a change of status the lifecycle does not allow.
	ErrTransition = errors.New("status change not allowed")
	// ErrReasonRequired is a dismissal without a reason.
	ErrReasonRequired = errors.New("a reason is required to dismiss a recommendation")
)

// allowed lists the statuses each status may change to.
var allowed = map[Status][]Status{
	Open:       {InProgress, Done, Dismissed},
	InProgress: {Open, Done, Dismissed},
	Done:       {Open, Dismissed},
	Dismissed:  {Open},
}

// CheckTransition reports whether a recommendation may go from one status
// to another with the given reason: open → in_progress → done, in_progress
// back to open, any status → dismissed (reason required), done or
// dismissed → open (reopen). Staying in the same status is an error.
func CheckTransition(from, to Status, reason string) error {
	if to < Open || to > Dismissed {
		return fmt.Errorf("recommend: %w: unknown status %d", ErrTransition, to)
	}
	if from < Open || from > Dismissed {
		return fmt.Errorf("recommend: %w: unknown status %d", ErrTransition, from)
	}
	ok := false
	for _, s := range allowed[from] {
		ok = ok || s == to
	}
	if !ok {
		return fmt.Errorf("recommend: %w: %s to %s", ErrTransition, from, to)
	}
	if to == Dismissed && strings.TrimSpace(reason) == "" {
		return fmt.Errorf("recommend: %w", ErrReasonRequired)
	}
	return nil
}

// Transition returns r with its status changed to to and Reason set to
// reason (trimmed; cleared when reason is empty), or an error wrapping
// ErrTransition or ErrReasonRequired. r itself is not modified.
func (r Recommendation) Transition(to Status, reason string) (Recommendation, error) {
	if err := CheckTransition(r.Status, to, reason); err != nil {
		return r, fmt.Errorf("%w (recommendation %s)", err, r.ID)
	}
	r.Evidence = append([]string(nil), r.Evidence...)
	r.CVEs = append([]string(nil), r.CVEs...)
	r.Status, r.Reason = to, strings.TrimSpace(reason)
	return r, nil
}
