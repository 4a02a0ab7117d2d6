package csaf

import (
	"slices"
	"testing"
)

// TestVendorKeys normalizes vendor names as advisories, device identities
// (CIP and BACnet vendor registries) and the OUI registry write them.
func TestVendorKeys(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"Rockwell Automation/Allen-Bradley", []string{"rockwell automation"}},
		{"Rockwell Automation", []string{"rockwell automation"}},
		{"Schneider Electric Software, LLC", []string{"schneider electric"}},
		{" Schneider Electric", []string{"schneider electric"}},
		{"Mitsubishi Electric Corporation", []string{"mitsubishi electric"}},
		{"General Electric (GE)", []string{"ge"}},
		{"GE Digital", []string{"ge"}},
		{"General Electric (GE) and Emerson", []string{"emerson", "ge"}},
		{"PHOENIX CONTACT, Innominate Security Technologies", []string{"phoenix contact"}},
		{"Hirschmann Automation and Control GmbH, Belden Inc.", []string{"belden"}},
		{"3S-Smart Software Solutions GmbH", []string{"codesys"}},
		{"CODESYS, GmbH", []string{"codesys"}},
		{"Red Lion, AutomationDirect", []string{"automationdirect", "red lion"}},
		{"ABB, Phoenix Contact, Schneider Electric, Siemens, and WAGO", []string{"abb", "phoenix contact", "schneider electric", "siemens", "wago"}},
		{"AVEVA Software, LLC and Schneider Electric Software, LLC", []string{"aveva", "schneider electric"}},
		{"Schweitzer Engineering Laboratories, Inc. (SEL)", []string{"sel"}},
		{"Siemens Energy & Automation/Drives", []string{"siemens"}},
		{"Wago Corporation", []string{"wago"}},
		{"B&R Industrial Automation", []string{"b&r"}},
		{"Digi International, Inc. ", []string{"digi"}},
		{"Johnson Controls Inc", []string{"johnson controls"}},
		{"Acme Controls GmbH", []string{"acme controls"}},
		{"Sage Automation", []string{"sage automation"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := vendorKeys(tt.name); !slices.Equal(got, tt.want) {
			t.Errorf("vendorKeys(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestVendorsMatch(t *testing.T) {
	tests := []struct {
		a, b    string
		match   bool
		related bool
	}{
		{"Rockwell Automation/Allen-Bradley", "Rockwell Automation", true, false},
		{"Emerson Process Management", "General Electric (GE) and Emerson", true, false},
		{"Acme", "Acme Controls Ltd", true, false},
		{"Siemens", "Schneider Electric", false, false},
		{"ABB", "Hitachi Energy", false, true},
		{"Acme", "Acmeco", false, false},
	}
	for _, tt := range tests {
		_, m := vendorsMatch(vendorKeys(tt.a), vendorKeys(tt.b))
		_, r := vendorsRelated(vendorKeys(tt.a), vendorKeys(tt.b))
		if m != tt.match || r != tt.related {
			t.Errorf("%q vs %q: match %v related %v, want %v %v", tt.a, tt.b, m, r, tt.match, tt.related)
		}
	}
}

func TestStripVendors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"allen-bradley compactlogix 5370", "  compactlogix 5370"},
		{"mitsubishi electric q06udehcpu", "  q06udehcpu"},
		{"sel-751 feeder protection relay", "sel-751 feeder protection relay"},
		{"digi connectport ts 8/16", "  connectport ts 8/16"},
	}
	for _, tt := range tests {
		if got := stripVendors(tt.in); got != tt.want {
			t.Errorf("stripVendors(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
