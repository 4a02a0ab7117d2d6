package sensor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/simulate"
	"github.com/otwatch/otwatch/internal/store"
	_ "github.com/otwatch/otwatch/internal/store/all"
)

// attackScenarios raise alerts whose type the scenario names
// (simulate.Scenario.Alert) and start after a 3 minute learning period.
var attackScenarios = []string{"s7comm-plc-stop", "dnp3-cold-restart", "malware-triton-tristation",
	"modbus-exception-burst", "cip-firmware-update", "malware-ioc-domain"}

// simulateFile writes a simulated capture to path.
func simulateFile(t testing.TB, path string, opts simulate.Options) simulate.Summary {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	sum, err := simulate.Generate(bw, opts)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("simulate %s: %v", path, err)
	}
	return sum
}

// scenarioOptions simulates d of plant traffic with the attack scenarios
// spread over its second half.
func scenarioOptions(seed int64, start time.Time, d time.Duration) simulate.Options {
	o := simulate.Options{Seed: seed, Start: start, Duration: d, Scenarios: attackScenarios, ScenarioStart: map[string]time.Duration{}}
	for i, s := range attackScenarios {
		o.ScenarioStart[s] = d/2 + time.Duration(i)*(d/2-30*time.Second)/time.Duration(len(attackScenarios))
	}
	return o
}

// writeIndicators writes the simulator's known-bad indicators to a file.
func writeIndicators(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "iocs.txt")
	if err := os.WriteFile(p, []byte(strings.Join(simulate.Indicators(), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// openStore opens a SQLite store in dir.
func openStore(t testing.TB, path string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// allAlerts pages through every stored alert.
func allAlerts(t testing.TB, st store.Store) []*store.AlertRecord {
	t.Helper()
	var out []*store.AlertRecord
	q := store.AlertQuery{Limit: store.MaxLimit}
	for {
		p, err := st.Alerts(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Alerts...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
}

// logBuffer collects a JSON slog log, safe for one writer and readers.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// logger returns a JSON logger at debug level writing into l.
func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// records returns the log records with message msg.
func (l *logBuffer) records(msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(l.b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}

// Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	metricType = map[string]bool{"counter": true, "gauge": true, "histogram": true, "summary": true, "untyped": true}
)

// series is one parsed sample.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

// parseExposition checks text against the exposition format and returns
// its samples: every line is a HELP or TYPE comment or a sample
// `name{label="value",...} value`; each family has one HELP and one TYPE
// line before its samples, whose lines are contiguous; no series repeats.
func parseExposition(text string) ([]series, map[string]string, error) {
	var out []series
	types := map[string]string{}
	helps := map[string]bool{}
	seen := map[string]bool{}
	closed := map[string]bool{} // families whose samples ended
	cur := ""
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		n := i + 1
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			kw, rest, _ := strings.Cut(rest, " ")
			name, arg, _ := strings.Cut(rest, " ")
			if !metricName.MatchString(name) {
				return nil, nil, fmt.Errorf("line %d: bad metric name %q", n, name)
			}
			switch kw {
			case "HELP":
				if helps[name] {
					return nil, nil, fmt.Errorf("line %d: second HELP for %s", n, name)
				}
				helps[name] = true
			case "TYPE":
				if _, dup := types[name]; dup || !metricType[arg] {
					return nil, nil, fmt.Errorf("line %d: bad or second TYPE %q for %s", n, arg, name)
				}
				if seen[name] {
					return nil, nil, fmt.Errorf("line %d: TYPE of %s after its samples", n, name)
				}
				types[name] = arg
			default:
				return nil, nil, fmt.Errorf("line %d: unknown comment %q", n, kw)
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			return nil, nil, fmt.Errorf("line %d: %q is neither a sample nor HELP/TYPE", n, line)
		}
		s, key, err := parseSample(line)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %v", n, err)
		}
		if _, ok := types[s.name]; !ok || !helps[s.name] {
			return nil, nil, fmt.Errorf("line %d: sample of %s without HELP and TYPE before it", n, s.name)
		}
		if s.name != cur {
			if closed[s.name] {
				return nil, nil, fmt.Errorf("line %d: samples of %s are not together", n, s.name)
			}
			closed[cur] = true
			cur = s.name
		}
		if seen[key] {
			return nil, nil, fmt.Errorf("line %d: series %s repeated", n, key)
		}
		seen[key], seen[s.name] = true, true
		out = append(out, s)
	}
	return out, types, nil
}

// parseSample parses `name{a="x",b="y"} value`; key is the series'
// identity.
func parseSample(line string) (series, string, error) {
	s := series{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, "", fmt.Errorf("no value in %q", line)
	}
	s.name = line[:i]
	if !metricName.MatchString(s.name) {
		return s, "", fmt.Errorf("bad metric name %q", s.name)
	}
	rest := line[i:]
	var keys []string
	if rest[0] == '{' {
		rest = rest[1:]
		for len(rest) > 0 && rest[0] != '}' {
			eq := strings.IndexByte(rest, '=')
			if eq < 0 || eq+1 >= len(rest) || rest[eq+1] != '"' {
				return s, "", fmt.Errorf("bad label in %q", line)
			}
			ln := rest[:eq]
			if !labelName.MatchString(ln) {
				return s, "", fmt.Errorf("bad label name %q", ln)
			}
			rest = rest[eq+2:]
			var v strings.Builder
			for {
				if rest == "" {
					return s, "", fmt.Errorf("unterminated label value in %q", line)
				}
				c := rest[0]
				rest = rest[1:]
				if c == '"' {
					break
				}
				if c == '\\' {
					if rest == "" {
						return s, "", fmt.Errorf("bad escape in %q", line)
					}
					switch rest[0] {
					case '\\', '"':
						v.WriteByte(rest[0])
					case 'n':
						v.WriteByte('\n')
					default:
						return s, "", fmt.Errorf("bad escape \\%c in %q", rest[0], line)
					}
					rest = rest[1:]
					continue
				}
				v.WriteByte(c)
			}
			if _, dup := s.labels[ln]; dup {
				return s, "", fmt.Errorf("label %s repeated", ln)
			}
			s.labels[ln] = v.String()
			keys = append(keys, ln+"="+strconv.Quote(v.String()))
			if strings.HasPrefix(rest, ",") {
				rest = rest[1:]
			}
		}
		if !strings.HasPrefix(rest, "}") {
			return s, "", fmt.Errorf("unterminated labels in %q", line)
		}
		rest = rest[1:]
	}
	if !strings.HasPrefix(rest, " ") {
		return s, "", fmt.Errorf("no space before the value in %q", line)
	}
	f := strings.Fields(rest)
	if len(f) < 1 || len(f) > 2 {
		return s, "", fmt.Errorf("want a value and an optional timestamp in %q", line)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return s, "", fmt.Errorf("bad value in %q", line)
	}
	s.value = v
	return s, s.name + "{" + strings.Join(keys, ",") + "}", nil
}

// value returns the value of the series name with labels (pairs), and
// whether it is there.
func value(ss []series, name string, labels ...string) (float64, bool) {
next:
	for _, s := range ss {
		if s.name != name || len(s.labels) != len(labels)/2 {
			continue
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if s.labels[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return s.value, true
	}
	return 0, false
}
