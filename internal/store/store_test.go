package store

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/dissect"
)

func TestBackendOf(t *testing.T) {
	tests := []struct {
		dsn, want string
	}{
		{"otwatch.db", "sqlite"},
		{"/var/lib/otwatch/otwatch.db", "sqlite"},
		{"./data/x.db", "sqlite"},
		{`C:\otwatch\otwatch.db`, "sqlite"},
		{"sqlite:otwatch.db", "sqlite"},
		{"sqlite:///var/lib/x.db", "sqlite"},
		{"file:x.db?mode=rwc", "sqlite"},
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "postgres"},
		{"postgresql://u:p@db/otwatch", "postgres"},
		{"POSTGRES://db/otwatch", "postgres"},
	}
	for _, tt := range tests {
		got, err := BackendOf(tt.dsn)
		if err != nil || got != tt.want {
			t.Errorf("BackendOf(%q) = %q, %v; want %q", tt.dsn, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "mysql://u:secret@db/x", "redis:thing"} {
		_, err := BackendOf(bad)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("BackendOf(%q) = %v, want ErrInvalid", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("BackendOf(%q) error shows the password: %v", bad, err)
		}
	}
}

func TestOpenUnlinkedBackend(t *testing.T) {
	backendsMu.Lock()
	saved := backends
	backends = map[string]OpenFunc{}
	backendsMu.Unlock()
	defer func() { backendsMu.Lock(); backends = saved; backendsMu.Unlock() }()
	_, err := Open(context.Background(), "postgres://db/x", Options{})
	if err == nil || !strings.Contains(err.Error(), "not linked") {
		t.Errorf("Open with no backend = %v", err)
	}
	RegisterBackend("fake", func(context.Context, string, Options) (Store, error) { return nil, ErrClosed })
	defer func() {
		if recover() == nil {
			t.Error("a second RegisterBackend of one name did not panic")
		}
	}()
	RegisterBackend("fake", nil)
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://otwatch:s3cret@db:5432/otwatch", "postgres://otwatch:xxxxx@db:5432/otwatch"},
		{"postgres://postgres@127.0.0.1/test", "postgres://postgres@127.0.0.1/test"},
		{"/var/lib/otwatch.db", "/var/lib/otwatch.db"},
		{"postgres://u:p@ss@db/x", "postgres://u:xxxxx@db/x"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCursor(t *testing.T) {
	c := Cursor{A: -5, B: 1 << 62, C: 7, S: "dev-1\x00s1"}
	got, err := DecodeCursor(c.Encode())
	if err != nil || got != c {
		t.Errorf("round trip = %+v, %v; want %+v", got, err, c)
	}
	for _, bad := range []string{"!!", "eyJh", strings.Repeat("A", 600)} {
		if _, err := DecodeCursor(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("DecodeCursor(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

// TestTransition checks the lifecycle against the design: New → Active,
// New or Active → Closed, Closed → Active.
func TestTransition(t *testing.T) {
	want := map[[2]alert.Status]bool{
		{alert.New, alert.Active}: true, {alert.New, alert.Closed}: true,
		{alert.Active, alert.Closed}: true, {alert.Closed, alert.Active}: true,
	}
	for from := alert.Status(0); from <= 4; from++ {
		for to := alert.Status(0); to <= 4; to++ {
			if got := Transition(from, to); got != want[[2]alert.Status{from, to}] {
				t.Errorf("Transition(%v, %v) = %v", from, to, got)
			}
		}
	}
	if got := Sources(alert.Closed); !slices.Equal(got, []alert.Status{alert.New, alert.Active}) {
		t.Errorf("Sources(Closed) = %v", got)
	}
	if got := Sources(alert.New); len(got) != 0 {
		t.Errorf("Sources(New) = %v, want none", got)
	}
}

func TestNormalizeAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.1.2.10", "10.1.2.10"},
		{" 10.1.2.10 ", "10.1.2.10"},
		{"::ffff:10.1.2.10", "10.1.2.10"},
		{"FE80::1", "fe80::1"},
		{"00-1B-1B-6E-42-A9", "00:1b:1b:6e:42:a9"},
		{"001b.1b6e.42a9", "00:1b:1b:6e:42:a9"},
	}
	for _, tt := range tests {
		got, err := NormalizeAddr(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "plc-7", "10.1.2", "00:1b:1b:6e:42", "zz:1b:1b:6e:42:a9"} {
		if _, err := NormalizeAddr(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("NormalizeAddr(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestTermMatches(t *testing.T) {
	tests := []struct {
		term, field string
		want        bool
	}{
		{"plc", "s7.plc_stop", true},
		{"PLC STO", "s7.plc_stop", true},
		{"plc_sto", "s7.plc_stop", true},
		{"plc.stop", "s7.plc_stop", true},
		{"stop.plc", "s7.plc_stop", false},
		{"10.1.2", "10.1.2.10 plc-4", true},
		{"10.1.2.1", "10.1.2.10", true},
		{"1.2.10", "10.1.2.10", true},
		{"10.1.3", "10.1.2.10", false},
		{"réseau", "Réseau usine", true},
		{"-", "anything", true}, // no words: matches
	}
	for _, tt := range tests {
		if got := TermMatches(tt.term, tt.field); got != tt.want {
			t.Errorf("TermMatches(%q, %q) = %v, want %v", tt.term, tt.field, got, tt.want)
		}
	}
}

func TestAlertQueryNormalize(t *testing.T) {
	q, err := AlertQuery{Devices: []string{"00-1B-1B-6E-42-A9"}, Text: "  PLC   Stop "}.Normalize()
	if err != nil || q.Devices[0] != "00:1b:1b:6e:42:a9" || q.Text != "plc stop" || q.Limit != DefaultLimit || q.Sort != SortLastDetection {
		t.Errorf("Normalize = %+v, %v", q, err)
	}
	if _, err := (AlertQuery{Text: "\xff"}).Normalize(); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid UTF-8 text: %v", err)
	}
}

func TestExclusionMatches(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := &alert.Alert{Type: "scan.port", Sensor: "s1", LastDetection: at,
		Source:      alert.Party{IP: netip.MustParseAddr("10.1.2.3"), MAC: dissect.MAC{0, 0x1b, 0x1b, 1, 2, 3}},
		Destination: alert.Party{IP: netip.MustParseAddr("192.168.0.9")}}
	tests := []struct {
		r    Exclusion
		want bool
	}{
		{Exclusion{Type: "scan.port"}, true},
		{Exclusion{Type: "scan.*"}, true},
		{Exclusion{Type: "scan"}, false},
		{Exclusion{Device: "192.168.0.9"}, true},
		{Exclusion{Device: "00:1b:1b:01:02:03"}, true},
		{Exclusion{Device: "10.1.2.4"}, false},
		{Exclusion{Subnet: netip.MustParsePrefix("10.1.0.0/16")}, true},
		{Exclusion{Subnet: netip.MustParsePrefix("10.2.0.0/16")}, false},
		{Exclusion{Sensor: "s1", Type: "scan.port"}, true},
		{Exclusion{Sensor: "s2", Type: "scan.port"}, false},
		{Exclusion{From: at.Add(-time.Hour), Until: at.Add(time.Hour)}, true},
		{Exclusion{From: at.Add(-time.Hour), Until: at}, false}, // Until is exclusive
		{Exclusion{From: at}, true},
		{Exclusion{Type: "scan.port", Disabled: true}, false},
	}
	for _, tt := range tests {
		r, err := tt.r.Normalize()
		if err != nil {
			t.Fatalf("Normalize(%+v): %v", tt.r, err)
		}
		if got := r.Matches(a); got != tt.want {
			t.Errorf("%+v.Matches = %v, want %v", tt.r, got, tt.want)
		}
	}
}

func TestCheckAlert(t *testing.T) {
	ok := alert.Alert{ID: "x", Type: "t", Severity: alert.Low, Engine: alert.Policy, FirstDetection: time.Unix(1, 0)}
	if err := CheckAlert(&ok); err != nil {
		t.Errorf("CheckAlert(valid) = %v", err)
	}
	for _, mut := range []func(a *alert.Alert){
		func(a *alert.Alert) { a.ID = "" },
		func(a *alert.Alert) { a.ID = strings.Repeat("x", 65) },
		func(a *alert.Alert) { a.Severity = 5 },
		func(a *alert.Alert) { a.Engine = 6 },
		func(a *alert.Alert) { a.Status = 4 },
		func(a *alert.Alert) { a.FirstDetection = time.Time{} },
	} {
		b := ok
		mut(&b)
		if err := CheckAlert(&b); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckAlert(%+v) = %v, want ErrInvalid", b, err)
		}
	}
}
