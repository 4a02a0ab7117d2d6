package csaf

import (
	"slices"
	"testing"
)

func TestExpandSlash(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"q04/06/10udehcpu", []string{"q04udehcpu", "q06udehcpu", "q10udehcpu"}},
		{"nie55/nie59", []string{"nie55", "nie59"}},
		{"eagle20/30", []string{"eagle20", "eagle30"}},
		{"afs660/665s", []string{"afs660s", "afs665s", "afs660"}},
		{"r04/08/16(en)cpu", []string{"r04(en)cpu", "r08(en)cpu", "r16(en)cpu"}},
		{"750-8207/025-001", []string{"750-8207/025-001"}},
		{"750-831/xxx-xxx", []string{"750-831/xxx-xxx", "750-831"}},
		{"pn/dp", []string{"pn", "dp"}},
		{"fx5u(c)-**m*/**", []string{"fx5u(c)-**m*/**"}},
		{"8/16", []string{"8", "16"}},
	}
	for _, tt := range tests {
		if got := expandSlash(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("expandSlash(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"1756l8x", "1756l83e", true},
		{"1756l8x", "1756l73", false},
		{"ilc1x0", "ilc150", true},
		{"ilc1x0", "ilc151", false},
		{"3xxx", "3016t", true},
		{"3xxx", "4016t", false},
		{"fx5u(c)**m*/**", "fx5u32mt/es", true},
		{"fx5u(c)**m*/**", "fx5uc32mt/d", true},
		{"fx5u(c)**m*/**", "fx3u32mt/es", false},
		{"r08(en)cpu", "r08cpu", true},
		{"r08(en)cpu", "r08encpu", true},
		{"r08(en)cpu", "r08pcpu", false},
		{"750831/xxxxxx", "750831/000001", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestHasWildX(t *testing.T) {
	for tok, want := range map[string]bool{
		"1756-l8x": true, "ilc 1x0": true, "3xx": true, "afs66x-s": true, "750-81xx/xxx-xxx": true, "r15x": true,
		"x208": false, "6es7211-1ae40-0xb0": false, "xcomfort": false, "800xa": false, "x-stream": false,
	} {
		if got := hasWildX(tok); got != want {
			t.Errorf("hasWildX(%q) = %v, want %v", tok, got, want)
		}
	}
}

func TestLooksLikeModel(t *testing.T) {
	for s, want := range map[string]bool{
		"1783-SAD2T2SBK9": true, "HEN04103": true, "S7-1211": true, "CODESYS Control for PFC200": true,
		"2404577": true, "750-82xx/xxx-xxx": true, "GATE-E1 (EOL 2013)": true,
		"V2.0": false, "R14B": false, "1.0 | 1.1 | 2.0": false, "MX-V5.1.0.99": false, "FW 01": false,
		"Firmware__14.2s0": false, "vers:all/*": false, "SR540": false, "6.00-20140306": false, "1-02-08": false,
	} {
		if got := looksLikeModel(s); got != want {
			t.Errorf("looksLikeModel(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestIsID(t *testing.T) {
	for s, want := range map[string]bool{
		"6ES7315-2EH14-0AB0": true, "1783-SAD2T2SBK9": true, "1SAP120600R0071": true, "2700974": true,
		"1756-L83E": false, "fw16_up_to_and_including_fw26": false, "CONNECTPORT16": false, "750-81xx/xxx-xxx": false,
	} {
		if got := isID(s); got != want {
			t.Errorf("isID(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestMatchName compares device identities with advisory product names.
// The expected grades follow from what the names mean: a catalog number's
// family, an order number, a model of the same shape, a qualifier.
func TestMatchName(t *testing.T) {
	tests := []struct {
		name    string
		product string
		ids     []string
		dev     Device
		want    level
	}{
		{"catalog family", "ControlLogix 5580 controllers", nil, Device{Model: "1756-L83E/B"}, lvlHigh},
		{"other family", "ControlLogix 5570 controllers", nil, Device{Model: "1756-L83E/B"}, lvlNone},
		{"other line", "GuardLogix 5580 controllers", nil, Device{Model: "1756-L83E/B"}, lvlNone},
		{"safety line", "GuardLogix 5580 controllers", nil, Device{Model: "1756-L83ES/B"}, lvlHigh},
		{"placeholder", "1756-L8x", nil, Device{Model: "1756-L85E"}, lvlHigh},
		{"subfamily", "CompactLogix 5370 L3 controllers", nil, Device{Model: "1769-L33ER"}, lvlHigh},
		{"other subfamily", "CompactLogix 5370 L1 controllers", nil, Device{Model: "1769-L33ER"}, lvlNone},
		{"qualifier missing", "Armor CompactLogix 5370 L3 controllers", nil, Device{Product: "CompactLogix 5370 L3"}, lvlMedium},
		{"order number", "SIMATIC S7-300 CPU 315-2 PN/DP (6ES7315-2EH14-0AB0)", []string{"6ES7315-2EH14-0AB0"},
			Device{Model: "6ES7 315-2EH14-0AB0"}, lvlHigh},
		{"other order number", "SIMATIC S7-300 CPU 317-2 PN/DP (6ES7317-2EK14-0AB0)", []string{"6ES7317-2EK14-0AB0"},
			Device{Model: "6ES7 315-2EH14-0AB0", Product: "CPU 315-2 PN/DP"}, lvlNone},
		{"same shape model", "SIMATIC S7-300 CPU 317-2 PN/DP", nil, Device{Product: "CPU 315-2 PN/DP"}, lvlNone},
		{"cpu family", "SIMATIC S7-1500 CPU family (incl. related ET200 CPUs and SIPLUS variants)", nil,
			Device{Model: "6ES7 516-3AN01-0AB0", Product: "CPU 1516-3 PN/DP"}, lvlHigh},
		{"software controller", "SIMATIC S7-1500 Software Controller", nil, Device{Product: "CPU 1516-3 PN/DP"}, lvlMedium},
		{"switch family", "SCALANCE X-200 switch family (incl. SIPLUS NET variants)", nil, Device{Product: "SCALANCE X208"}, lvlHigh},
		{"other switch family", "SCALANCE X-200IRT switch family", nil, Device{Product: "SCALANCE X208"}, lvlNone},
		{"model list", "RT430 RT431 & RT434", nil, Device{Product: "RT431 GPS clock"}, lvlHigh},
		{"slash list", "Q03UDECPU, Q04/06/10/13/20/26/50/100UDEHCPU", nil, Device{Model: "Q06UDEHCPU"}, lvlHigh},
		{"slash list miss", "Q03UDECPU, Q04/06/10/13/20/26/50/100UDEHCPU", nil, Device{Model: "Q03UDVCPU"}, lvlNone},
		{"words only", "Metasys system", nil, Device{Product: "Metasys", Model: "NAE55"}, lvlHigh},
		{"extra device word", "WebAccess", nil, Device{Product: "WebAccess HMI Designer"}, lvlMedium},
		{"missing word", "MXview One Series", nil, Device{Product: "MXview"}, lvlNone},
		{"acronym", "FactoryTalk View Site Edition (SE)", nil, Device{Product: "FactoryTalk View SE"}, lvlHigh},
		{"version in name", "SIMATIC WinCC V7.4", nil, Device{Product: "SIMATIC WinCC", Firmware: "7.4 SP1"}, lvlHigh},
		{"other version in name", "SIMATIC WinCC V7.4", nil, Device{Product: "SIMATIC WinCC", Firmware: "7.5"}, lvlNone},
		{"bare number coincidence", "800xA for MOD 300", nil, Device{Product: "VSN300 WiFi Logger Card"}, lvlNone},
		{"article number", "AXC 1050 2700988", []string{"2700988"}, Device{Product: "AXC 1050", ProductCode: "2700988"}, lvlHigh},
		{"other article number", "AXC 1050XC 2701295", []string{"2701295"}, Device{Product: "AXC 1050", ProductCode: "2700988"}, lvlNone},
		{"no identity", "Series B", nil, Device{Product: "MicroLogix 1400 Series B"}, lvlNone},
	}
	for _, tt := range tests {
		ni := analyzeName(tt.product, tt.ids)
		d := prepareDevice(tt.dev)
		if got := matchName(&ni, d, true); got.lvl != tt.want {
			t.Errorf("%s: %q vs %+v = %d (%v), want %d", tt.name, tt.product, tt.dev, got.lvl, got.reasons, tt.want)
		}
	}
}
