package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/inventory"
)

func TestIDMerges(t *testing.T) {
	tests := []struct {
		name     string
		adds     [][2]inventory.DeviceID
		from, to string
	}{
		{"none", nil, "[]", "[]"},
		{"one", [][2]inventory.DeviceID{{5, 2}}, "[5]", "[2]"},
		{"chain", [][2]inventory.DeviceID{{5, 2}, {2, 9}}, "[2 5]", "[9 9]"},
		{"two into one", [][2]inventory.DeviceID{{7, 1}, {3, 1}}, "[3 7]", "[1 1]"},
		{"chain and apart", [][2]inventory.DeviceID{{4, 8}, {6, 3}, {8, 10}}, "[4 6 8]", "[10 3 10]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m IDMerges
			for _, a := range tt.adds {
				m.Add(a[0], a[1])
			}
			from, to := m.Pairs()
			if fmt.Sprint(from) != tt.from || fmt.Sprint(to) != tt.to || m.Len() != len(from) {
				t.Errorf("Pairs() = %v, %v (Len %d); want %s, %s", from, to, m.Len(), tt.from, tt.to)
			}
		})
	}
}

func TestCheckKeyMoves(t *testing.T) {
	tests := []struct {
		name   string
		sensor string
		moves  []KeyMove
		err    error
	}{
		{"ok", "s1", []KeyMove{{From: "10.0.0.5", To: "00:1b:1b:00:00:01"}}, nil},
		{"none", "s1", nil, nil},
		{"no sensor", "", []KeyMove{{From: "10.0.0.5", To: "00:1b:1b:00:00:01"}}, ErrInvalid},
		{"empty from", "s1", []KeyMove{{To: "00:1b:1b:00:00:01"}}, ErrInvalid},
		{"empty to", "s1", []KeyMove{{From: "10.0.0.5"}}, ErrInvalid},
		{"too long", "s1", []KeyMove{{From: "10.0.0.5", To: strings.Repeat("k", MaxKeyLen+1)}}, ErrInvalid},
		{"too many", "s1", make([]KeyMove, MaxBatch+1), ErrInvalid},
	}
	for _, tt := range tests {
		if err := CheckKeyMoves(tt.sensor, tt.moves); !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("%s: CheckKeyMoves = %v, want %v", tt.name, err, tt.err)
		}
	}
}
