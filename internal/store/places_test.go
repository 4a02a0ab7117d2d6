package store

import (
	"errors"
	"testing"
)

// fakePlaces holds sites and the site of each zone.
type fakePlaces struct {
	sites map[string]bool
	zones map[string]string
}

func (p fakePlaces) SiteExists(id string) (bool, error) { return p.sites[id], nil }

func (p fakePlaces) ZoneSite(id string) (string, bool, error) {
	s, ok := p.zones[id]
	return s, ok, nil
}

func (p fakePlaces) SiteUse(string) (int64, error)               { return 0, nil }
func (p fakePlaces) ZoneSensors(string) (int64, error)           { return 0, nil }
func (p fakePlaces) ZoneStrangers(string, string) (int64, error) { return 0, nil }

func TestPlaceSensor(t *testing.T) {
	p := fakePlaces{sites: map[string]bool{"a": true, "b": true}, zones: map[string]string{"z": "a"}}
	tests := []struct {
		site, zone string
		want       string
		err        error
	}{
		{"", "", "", nil},
		{"a", "", "a", nil},
		{"", "z", "a", nil},
		{"a", "z", "a", nil},
		{"b", "z", "", ErrInvalid},
		{"c", "", "", ErrInvalid},
		{"", "y", "", ErrInvalid},
	}
	for _, tt := range tests {
		s, err := PlaceSensor(p, Sensor{ID: "s", Site: tt.site, Zone: tt.zone})
		if !errors.Is(err, tt.err) {
			t.Errorf("PlaceSensor(%q, %q): error %v, want %v", tt.site, tt.zone, err, tt.err)
			continue
		}
		if err == nil && s.Site != tt.want {
			t.Errorf("PlaceSensor(%q, %q): site %q, want %q", tt.site, tt.zone, s.Site, tt.want)
		}
	}
}

func TestAuditConditions(t *testing.T) {
	tests := []struct {
		q    AuditQuery
		want []string
		err  bool
	}{
		{AuditQuery{}, nil, false},
		{AuditQuery{Actor: "x", Object: "o"}, []string{"actor =", "object ="}, false},
		{AuditQuery{Action: "a", Cursor: Cursor{A: 5}.Encode()}, []string{"action =", "id <"}, false},
		{AuditQuery{Cursor: "!"}, nil, true},
	}
	for _, tt := range tests {
		got, err := AuditConditions(tt.q)
		if (err != nil) != tt.err {
			t.Errorf("AuditConditions(%+v): error %v", tt.q, err)
			continue
		}
		var cmp []string
		for _, c := range got {
			cmp = append(cmp, c.Compare)
		}
		if len(cmp) != len(tt.want) {
			t.Errorf("AuditConditions(%+v) = %v, want %v", tt.q, cmp, tt.want)
			continue
		}
		for i := range cmp {
			if cmp[i] != tt.want[i] {
				t.Errorf("AuditConditions(%+v) = %v, want %v", tt.q, cmp, tt.want)
			}
		}
	}
}
