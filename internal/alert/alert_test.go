package alert

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

func TestSeverityString(t *testing.T) {
	// The names come from the constants' doc: Low is 1 (iota + 1), so 0
	// and anything past Critical (4) are not severities.
	tests := []struct {
		s    Severity
		want string
	}{
		{0, "Unknown"},
		{Low, "Low"},
		{Medium, "Medium"},
		{High, "High"},
		{Critical, "Critical"},
		{Critical + 1, "Unknown"},
		{255, "Unknown"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("Severity(%d).String() = %q, want %q", uint8(tt.s), got, tt.want)
		}
	}
}

func TestSeverityOrder(t *testing.T) {
	// "Severities, lowest first": each constant outranks the one before,
	// so comparing severities with < ranks them.
	order := []Severity{Low, Medium, High, Critical}
	for i := 1; i < len(order); i++ {
		if order[i-1] >= order[i] {
			t.Errorf("%v >= %v, want lowest first", order[i-1], order[i])
		}
	}
}

func TestParseSeverity(t *testing.T) {
	tests := []struct {
		in      string
		want    Severity
		wantErr bool
	}{
		{"Low", Low, false},
		{"low", Low, false}, // any case
		{"MEDIUM", Medium, false},
		{"hIgH", High, false},
		{"Critical", Critical, false},
		{"", 0, true},
		{"Unknown", 0, true}, // String's fallback is not a severity
		{" High", 0, true},   // no trimming
		{"Severe", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSeverity(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestEngineNames(t *testing.T) {
	// Display names and keys as the engine constants' tables give them.
	tests := []struct {
		e         Engine
		name, key string
	}{
		{0, "Unknown", "unknown"},
		{Policy, "Policy violation", "policy"},
		{Protocol, "Protocol violation", "protocol"},
		{Malware, "Malware", "malware"},
		{Anomaly, "Anomaly", "anomaly"},
		{Operational, "Operational", "operational"},
		{Operational + 1, "Unknown", "unknown"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.name {
			t.Errorf("Engine(%d).String() = %q, want %q", uint8(tt.e), got, tt.name)
		}
		if got := tt.e.Key(); got != tt.key {
			t.Errorf("Engine(%d).Key() = %q, want %q", uint8(tt.e), got, tt.key)
		}
	}
	if got, want := Engines(), []Engine{Policy, Protocol, Malware, Anomaly, Operational}; !slices.Equal(got, want) {
		t.Errorf("Engines() = %v, want %v", got, want)
	}
}

func TestParseEngine(t *testing.T) {
	// ParseEngine takes a display name or a key, in any case.
	tests := []struct {
		in      string
		want    Engine
		wantErr bool
	}{
		{"Policy violation", Policy, false},
		{"policy", Policy, false},
		{"POLICY VIOLATION", Policy, false},
		{"protocol", Protocol, false},
		{"Protocol violation", Protocol, false},
		{"Malware", Malware, false},
		{"anomaly", Anomaly, false},
		{"Operational", Operational, false},
		{"", 0, true},
		{"unknown", 0, true},
		{"violation", 0, true},
		{"policy_violation", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseEngine(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseEngine(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		s    Status
		want string
	}{
		{0, "Unknown"},
		{New, "New"},
		{Active, "Active"},
		{Closed, "Closed"},
		{Closed + 1, "Unknown"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("Status(%d).String() = %q, want %q", uint8(tt.s), got, tt.want)
		}
	}
	parse := []struct {
		in      string
		want    Status
		wantErr bool
	}{
		{"new", New, false},
		{"ACTIVE", Active, false},
		{"Closed", Closed, false},
		{"open", 0, true},
		{"", 0, true},
	}
	for _, tt := range parse {
		got, err := ParseStatus(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseStatus(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestTextEncoding checks that severity, engine and status travel in JSON
// by name (MarshalText) and come back from any accepted spelling.
func TestTextEncoding(t *testing.T) {
	type rec struct {
		Severity Severity `json:"severity"`
		Engine   Engine   `json:"engine"`
		Status   Status   `json:"status"`
	}
	b, err := json.Marshal(rec{High, Policy, Active})
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	// The engine is encoded by display name, not by key.
	if want := `{"severity":"High","engine":"Policy violation","status":"Active"}`; string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}

	tests := []struct {
		in      string
		want    rec
		wantErr bool
	}{
		{`{"severity":"High","engine":"Policy violation","status":"Active"}`, rec{High, Policy, Active}, false},
		{`{"severity":"critical","engine":"malware","status":"closed"}`, rec{Critical, Malware, Closed}, false},
		{`{"severity":"Severe"}`, rec{}, true},
		{`{"engine":"ids"}`, rec{}, true},
		{`{"status":"Open"}`, rec{}, true},
	}
	for _, tt := range tests {
		var got rec
		err := json.Unmarshal([]byte(tt.in), &got)
		if (err != nil) != tt.wantErr || !tt.wantErr && got != tt.want {
			t.Errorf("Unmarshal(%s) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestThresholdString(t *testing.T) {
	tests := []struct {
		th   Threshold
		want string
	}{
		{Threshold{Count: 25, Window: 2 * time.Minute}, "25 in 2m0s"}, // the doc's example
		{Threshold{Count: 1, Window: 500 * time.Millisecond}, "1 in 500ms"},
		{Threshold{}, "0 in 0s"},
	}
	for _, tt := range tests {
		if got := tt.th.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.th, got, tt.want)
		}
	}
}

var (
	plcIP  = netip.MustParseAddr("10.10.2.12")
	hmiIP  = netip.MustParseAddr("10.10.1.21")
	plcMAC = dissect.MAC{0x00, 0x1b, 0x1b, 0x01, 0x02, 0x03}
)

func TestParty(t *testing.T) {
	// String: the IP, else the MAC, prefixed by the name when there is
	// one, "unknown" when neither is known. Key: the IP, else the MAC,
	// never the name or port.
	tests := []struct {
		name string
		p    Party
		zero bool
		str  string
		key  string
	}{
		{"empty", Party{}, true, "unknown", ""},
		{"ip", Party{IP: plcIP}, false, "10.10.2.12", "10.10.2.12"},
		{"ip and mac", Party{IP: plcIP, MAC: plcMAC, Port: 502}, false, "10.10.2.12", "10.10.2.12"},
		{"mac only", Party{MAC: plcMAC}, false, "00:1b:1b:01:02:03", "00:1b:1b:01:02:03"},
		{"named ip", Party{IP: plcIP, Name: "plc1"}, false, "plc1 (10.10.2.12)", "10.10.2.12"},
		{"named mac", Party{MAC: plcMAC, Name: "plc1"}, false, "plc1 (00:1b:1b:01:02:03)", "00:1b:1b:01:02:03"},
		// A name alone does not identify a party.
		{"name only", Party{Name: "plc1", Port: 502}, true, "unknown", ""},
		{"ipv6", Party{IP: netip.MustParseAddr("fd00::1")}, false, "fd00::1", "fd00::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.IsZero(); got != tt.zero {
				t.Errorf("IsZero() = %v, want %v", got, tt.zero)
			}
			if got := tt.p.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := tt.p.Key(); got != tt.key {
				t.Errorf("Key() = %q, want %q", got, tt.key)
			}
		})
	}
}

func TestAlertDetail(t *testing.T) {
	a := &Alert{Details: []dissect.Attr{{Key: "ports", Value: "14"}, {Key: "threshold", Value: "10 in 1m0s"}, {Key: "ports", Value: "99"}}}
	tests := []struct{ key, want string }{
		{"ports", "14"}, // the first of two
		{"threshold", "10 in 1m0s"},
		{"absorbed", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := a.Detail(tt.key); got != tt.want {
			t.Errorf("Detail(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
	if got := (&Alert{}).Detail("ports"); got != "" {
		t.Errorf("Detail on no details = %q, want empty", got)
	}
}

func TestID(t *testing.T) {
	first := time.Date(2026, 1, 5, 8, 0, 0, 123, time.UTC)
	base := ID("s1", "s7.plc_stop", "10.10.1.21", "10.10.2.12", "OB1", first)

	// A UUID in the canonical 8-4-4-4-12 layout, version 5 (the first
	// digit of the third group) and RFC 4122 variant (10xx: 8, 9, a or b
	// first in the fourth group).
	if len(base) != 36 {
		t.Fatalf("ID = %q: %d characters, want 36", base, len(base))
	}
	for i, c := range base {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				t.Errorf("ID = %q: want '-' at %d", base, i)
			}
		default:
			if !strings.ContainsRune("0123456789abcdef", c) {
				t.Errorf("ID = %q: %q at %d is not lower-case hex", base, c, i)
			}
		}
	}
	if base[14] != '5' {
		t.Errorf("ID = %q: version %c, want 5", base, base[14])
	}
	if !strings.ContainsRune("89ab", rune(base[19])) {
		t.Errorf("ID = %q: variant digit %c, want one of 8, 9, a, b", base, base[19])
	}

	// The same occurrence gives the same id, whatever the time's location:
	// the id depends on the instant only.
	if again := ID("s1", "s7.plc_stop", "10.10.1.21", "10.10.2.12", "OB1", first.In(time.FixedZone("CET", 3600))); again != base {
		t.Errorf("ID of the same occurrence = %q, want %q", again, base)
	}

	// Every input changes the id, and moving a character across a field
	// boundary does too (fields are separated, not just concatenated).
	tests := []struct {
		name                  string
		sensor, typ, src, dst string
		key                   string
		first                 time.Time
	}{
		{"sensor", "s2", "s7.plc_stop", "10.10.1.21", "10.10.2.12", "OB1", first},
		{"type", "s1", "s7.plc_start", "10.10.1.21", "10.10.2.12", "OB1", first},
		{"source", "s1", "s7.plc_stop", "10.10.1.22", "10.10.2.12", "OB1", first},
		{"destination", "s1", "s7.plc_stop", "10.10.1.21", "10.10.2.13", "OB1", first},
		{"key", "s1", "s7.plc_stop", "10.10.1.21", "10.10.2.12", "OB2", first},
		{"empty key", "s1", "s7.plc_stop", "10.10.1.21", "10.10.2.12", "", first},
		{"first, 1ns later", "s1", "s7.plc_stop", "10.10.1.21", "10.10.2.12", "OB1", first.Add(time.Nanosecond)},
		{"sensor/type boundary", "s1s", "7.plc_stop", "10.10.1.21", "10.10.2.12", "OB1", first},
		{"parties swapped", "s1", "s7.plc_stop", "10.10.2.12", "10.10.1.21", "OB1", first},
		{"dst/key boundary", "s1", "s7.plc_stop", "10.10.1.21", "10.10.2.12O", "B1", first},
	}
	seen := map[string]string{base: "base"}
	for _, tt := range tests {
		got := ID(tt.sensor, tt.typ, tt.src, tt.dst, tt.key, tt.first)
		if prev, dup := seen[got]; dup {
			t.Errorf("%s: ID = %q, the same as %s", tt.name, got, prev)
		}
		seen[got] = tt.name
	}
}

func TestExpand(t *testing.T) {
	src := Party{IP: hmiIP, Name: "hmi1"}
	dst := Party{IP: plcIP}
	tests := []struct {
		name     string
		tmpl     string
		src, dst Party
		protocol string
		detail   string
		want     string
	}{
		{"no placeholders", "PLC stop command", src, dst, "s7comm", "OB1", "PLC stop command"},
		{"all placeholders", "{src} sent {detail} to {dst} over {protocol}", src, dst, "s7comm", "stop",
			"hmi1 (10.10.1.21) sent stop to 10.10.2.12 over s7comm"},
		{"repeated", "{dst}/{dst}", src, dst, "", "", "10.10.2.12/10.10.2.12"},
		{"unknown placeholder kept", "{src} {port} {Src}", src, dst, "", "", "hmi1 (10.10.1.21) {port} {Src}"},
		{"empty detail and protocol", "[{detail}] [{protocol}]", src, dst, "", "", "[] []"},
		{"unknown parties", "{src} -> {dst}", Party{}, Party{}, "", "", "unknown -> unknown"},
		{"mac party", "from {src}", Party{MAC: plcMAC}, dst, "", "", "from 00:1b:1b:01:02:03"},
		{"unclosed brace", "{src", src, dst, "", "", "{src"},
		// Substituted text is not expanded again: a detail taken from the
		// traffic cannot pull in other fields.
		{"no re-expansion", "{detail} on {dst}", src, dst, "", "{src}", "{src} on 10.10.2.12"},
		{"empty template", "", src, dst, "p", "d", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Expand(tt.tmpl, tt.src, tt.dst, tt.protocol, tt.detail); got != tt.want {
				t.Errorf("Expand(%q) = %q, want %q", tt.tmpl, got, tt.want)
			}
		})
	}
}
