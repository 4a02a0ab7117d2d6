package sysdescr

import "testing"

func TestNamesOS(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE", true},
		{"Linux 5.10.0-21-amd64 #1 SMP Debian", true},
		{"Hardware: Intel64 Family 6 - Software: Windows Version 6.3", true},
		{"Cisco NX-OS(tm) n9000", true},
		{"JUNOS 21.4R3", true},
		{"SIMATIC S7-1500 CPU 1516-3 PN/DP", false},
		{"Siemens, SIMATIC NET, SCALANCE X204-2", false},
		{"iOSX", false},
		{"", false},
		{"a i o s", false},
		{"--linux--", false},
		{"(linux)", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := NamesOS([]byte(tt.in)); got != tt.want {
				t.Errorf("NamesOS(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestNamesOSAllocs(t *testing.T) {
	b := []byte("Cisco IOS Software, C2960 Software")
	if n := testing.AllocsPerRun(100, func() { NamesOS(b) }); n != 0 {
		t.Errorf("NamesOS allocates %v times", n)
	}
}
