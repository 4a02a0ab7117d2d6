package recommend

import (
	"strconv"
	"strings"
)

// firmwareNumbers reads a firmware version written as dot-separated
// numbers, optionally after a prefix word or letter and spaces ("V3.2.6",
// "V 3.2.6", "FW 1.2", "Version 20.11", "R2.1"). Anything else (letters
// after the numbers, service packs, parentheses) is not read: such
// versions are compared by the advisory matcher, not here.
func firmwareNumbers(s string) ([]uint64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, p := range []string{"firmware", "version", "fw", "v", "r"} {
		if t, ok := strings.CutPrefix(s, p); ok {
			s = strings.TrimSpace(t)
			break
		}
	}
	if s == "" {
		return nil, false
	}
	parts := strings.Split(s, ".")
	if len(parts) > 8 {
		return nil, false
	}
	out := make([]uint64, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

func readableVersion(s string) bool {
	_, ok := firmwareNumbers(s)
	return ok
}

// compareFirmware returns -1, 0 or +1 as a is older than, the same as, or
// newer than b, numbers compared one by one and a missing number taken as
// 0 ("3.2" equals "3.2.0"). It reports false when either cannot be read.
func compareFirmware(a, b string) (int, bool) {
	x, ok1 := firmwareNumbers(a)
	y, ok2 := firmwareNumbers(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	for i := 0; i < max(len(x), len(y)); i++ {
		var p, q uint64
		if i < len(x) {
			p = x[i]
		}
		if i < len(y) {
			q = y[i]
		}
		switch {
		case p < q:
			return -1, true
		case p > q:
			return 1, true
		}
	}
	return 0, true
}
