package csaf

import (
	"testing"
)

func mustVersion(t *testing.T, s string) version {
	t.Helper()
	v, ok := parseVersion(s)
	if !ok {
		t.Fatalf("parseVersion(%q) failed", s)
	}
	return v
}

// TestCompareVersions orders versions the way vendors number releases.
func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"V3.2.6", "3.2.6", 0},
		{"V3.2.6", "V3.2.16", -1},
		{"20.11", "20.9", 1},
		{"1.0", "1.0.0", 0},
		{"07.0.02", "7.0.2", 0},
		{"FW 1.2.3", "1.2.3", 0},
		{"V4.5 SP1 Upd 2", "V4.5 SP1 Update 2", 0},
		{"V4.5 SP1 Upd 2", "V4.5 SP1", 1},
		{"V4.5 SP1", "V4.5 Upd 9", 1},
		{"V4.5", "V4.5 Upd 1", -1},
		{"V14.1", "V14 SP1", 1},
		{"2.5.0.13", "2.5.0.9", 1},
		{"2.0 rc1", "2.0", -1},
		{"2.0 beta", "2.0 rc1", -1},
		{"1.03D", "1.03C", 1},
		{"1.03D", "1.03", 1},
		{"R302-V1", "R302-V3", -1},
		{"R302-V3", "R301-V6", 1},
		{"15.2(6)E0a", "15.2(7)E2", -1},
		{"15.2(4)EA7", "15.2(4)EA5", 1},
		{"15.2(4a)EA5", "15.2(4)EA5", 1},
		{"15.2(4a)EA5", "15.2(4)EA7", 1},
		{"15.2(5)EA1", "15.2(4a)EA5", 1},
		{"MX-V5.1.0.99", "MX-V5.1.0.99-r3", -1},
		{"4.4u3", "4.4", 1},
		{"3.1 Build 4022.4", "3.1.4022.2", 1},
		{"14.0s2", "14.1s0", -1},
		{"R511.5_TCU4_HF4", "R511.4", 1},
		{"2.x", "2.7.1", 0},
		{"12.7.X", "12.8.0", -1},
		{"01.07.03(10)", "01.07.03(9)", 1},
	}
	for _, tt := range tests {
		a, b := mustVersion(t, tt.a), mustVersion(t, tt.b)
		if got := compareVersions(a, b); got != tt.want {
			t.Errorf("compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := compareVersions(b, a); got != -tt.want {
			t.Errorf("compare(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

// TestParseVersionRejects lists texts that are not versions.
func TestParseVersionRejects(t *testing.T) {
	for _, s := range []string{"", "All versions", "March 13, 2019", "the first 5 digits of serial number 22081",
		"production date August 2020", "g1 with bsp", "current"} {
		if v, ok := parseVersion(s); ok {
			t.Errorf("parseVersion(%q) = %v, want failure", s, v)
		}
	}
}

// TestRangeContains checks the ranges of the vers specification
// (package-url/vers-spec: "=" points, "!=" exclusions, pairs of lower and
// upper bounds as intervals, a leading upper and a trailing lower bound
// open-ended) and the free-text ranges CISA writes.
func TestRangeContains(t *testing.T) {
	tests := []struct {
		rng   string
		point bool
		in    []string
		out   []string
		unk   []string
	}{
		{"vers:generic/>=2.0|<2.9.4", false, []string{"2.0", "2.9.3", "V2.9.3.1"}, []string{"1.9", "2.9.4", "3.0"}, nil},
		{"vers:all/*", false, []string{"0.1", "99"}, nil, nil},
		{"vers:all/<V4.4", false, []string{"4.3.9"}, []string{"4.4", "4.4.1"}, nil},
		{"vers:generic/1.0|>=2.0|<3.0|!=2.5|>=4.0", false, []string{"1.0", "2.1", "4.2"}, []string{"1.1", "2.5", "3.0", "3.9"}, nil},
		{"< V2.9.4", false, []string{"V2.9.3"}, []string{"V2.9.4"}, nil},
		{"<= 8.3.5", false, []string{"8.3.5", "8.3"}, []string{"8.3.6"}, nil},
		{">= V2.0 < V3.0", false, []string{"2.0", "2.99"}, []string{"1.9", "3.0"}, nil},
		{">= 1.000A | < 1.011M", false, []string{"1.000A", "1.010"}, []string{"0.999", "1.011M"}, nil},
		{"All versions < V1.03", false, []string{"1.02"}, []string{"1.03"}, nil},
		{"All versions", false, []string{"1"}, nil, nil},
		{"All variants", false, []string{"7.7"}, nil, nil},
		{"prior to 4.0", false, []string{"3.9"}, []string{"4.0"}, nil},
		{"V2.0 and later", false, []string{"2.0", "5"}, []string{"1.9"}, nil},
		{"3.3.1 and prior", false, []string{"3.3.1", "3.0"}, []string{"3.3.2"}, nil},
		{"1.0 - 2.3", false, []string{"1.0", "2.3"}, []string{"2.4"}, nil},
		{"1.0 to 2.3", false, []string{"1.5"}, []string{"0.9"}, nil},
		{"1.275M—1.280S", true, []string{"1.277"}, []string{"1.281"}, nil},
		{"5.1 | 6.0", true, []string{"5.1", "6.0.0"}, []string{"5.2"}, nil},
		{"2.8.2 and 2.8.19", true, []string{"2.8.19"}, []string{"2.8.3"}, nil},
		{"2020 R3", false, []string{"2020 R3"}, []string{"2020 R2"}, nil},
		{"20-33", true, []string{"20.011", "33.011"}, []string{"19.5", "34.011"}, nil},
		{"<= 10", false, []string{"10.5", "9"}, []string{"11"}, nil},
		{"< FW14", false, []string{"13"}, []string{"14"}, nil},
		{">FW16_up_to_and_including_FW26", false, []string{"17", "26"}, []string{"16", "27"}, nil},
		{"R15x", true, []string{"R150", "R153.5", "R159.1"}, []string{"R160", "R149"}, nil},
		{">=R16x|<=R162.10", false, []string{"R160", "R162.10"}, []string{"R162.11"}, nil},
		{"12.7.X", true, []string{"12.7.0", "12.7.7"}, []string{"12.8"}, nil},
		{"<= 15.2(6)E0a", false, []string{"15.2(5)E2"}, []string{"15.2(7)E2"}, nil},
		{"< 02.07.07(10)", false, []string{"02.07.07(09)"}, []string{"02.07.07(10)"}, nil},
		{"BIOS < V20.01.10", false, []string{"V20.01.09"}, []string{"V20.01.10"}, nil},
		{"< 1.99 | 2.20 | 2.40", false, []string{"1.5", "2.20"}, []string{"2.0", "2.30"}, nil},
		{"<= 2.4.17  (CVE-2022-3386 and CVE-2022-3385 only)", false, []string{"2.4.17"}, []string{"2.4.18"}, nil},
		{"<=the_first_5_digits_of_serial_number_22081", false, nil, nil, []string{"1.0"}},
		{"< March 13, 2019 | < 4.003 | < 5.002", false, []string{"4.002"}, nil, []string{"5.002"}},
	}
	for _, tt := range tests {
		r := parseRange(tt.rng, tt.point)
		for _, list := range []struct {
			vs   []string
			want rangeVerdict
		}{{tt.in, rangeIn}, {tt.out, rangeOut}, {tt.unk, rangeUnknown}} {
			for _, s := range list.vs {
				if got := r.contains(mustVersion(t, s)); got != list.want {
					t.Errorf("range %q (%s) contains %q: %d, want %d", tt.rng, r, s, got, list.want)
				}
			}
		}
	}
}

// FuzzParseRange checks that no text makes the range or version readers
// panic, and that comparison stays antisymmetric.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"vers:generic/>=2.0|<2.9.4", "<= 15.2(6)E0a", "R15x", ">FW16_up_to_and_including_FW26",
		"1.0 - 2.3", "All versions < V2.0 SP1", "(((", "vers:", "x.x.x", "99999999999999999999999.1"} {
		f.Add(s, "2.5")
	}
	f.Fuzz(func(t *testing.T, rng, ver string) {
		r := parseRange(rng, false)
		_ = r.String()
		v, ok := parseVersion(ver)
		if !ok {
			return
		}
		_ = r.contains(v)
		w, ok := parseVersion(rng)
		if ok && compareVersions(v, w) != -compareVersions(w, v) {
			t.Errorf("compare(%q, %q) is not antisymmetric", ver, rng)
		}
	})
}
