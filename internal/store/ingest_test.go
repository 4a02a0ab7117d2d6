package store

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
)

func TestMergeBatch(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tests := []struct {
		name string
		in   []*alert.Alert
		want []alert.Alert
	}{
		{
			name: "defaults",
			in:   []*alert.Alert{{ID: "b", FirstDetection: at(1)}, {ID: "a", Status: alert.Closed, FirstDetection: at(1), LastDetection: at(2)}},
			want: []alert.Alert{
				{ID: "a", Status: alert.Closed, FirstDetection: at(1), LastDetection: at(2)},
				{ID: "b", Status: alert.New, FirstDetection: at(1), LastDetection: at(1)},
			},
		},
		{
			name: "newer copy wins but keeps the first status",
			in: []*alert.Alert{
				{ID: "a", Status: alert.New, Severity: alert.Low, FirstDetection: at(5), LastDetection: at(6), Count: 3},
				{ID: "a", Status: alert.Closed, Severity: alert.High, FirstDetection: at(2), LastDetection: at(9), Count: 2},
			},
			want: []alert.Alert{{ID: "a", Status: alert.New, Severity: alert.High, FirstDetection: at(2), LastDetection: at(9), Count: 3}},
		},
		{
			name: "older copy loses",
			in: []*alert.Alert{
				{ID: "a", Severity: alert.Low, FirstDetection: at(5), LastDetection: at(8), Count: 1},
				{ID: "a", Severity: alert.High, FirstDetection: at(3), Count: 4},
			},
			want: []alert.Alert{{ID: "a", Status: alert.New, Severity: alert.Low, FirstDetection: at(3), LastDetection: at(8), Count: 4}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := make([]alert.Alert, len(tt.in))
			for i, a := range tt.in {
				in[i] = *a
			}
			got := MergeBatch(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d alerts, want %d", len(got), len(tt.want))
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.ID != w.ID || g.Status != w.Status || g.Severity != w.Severity || g.Count != w.Count ||
					!g.FirstDetection.Equal(w.FirstDetection) || !g.LastDetection.Equal(w.LastDetection) {
					t.Errorf("alert %d = %+v, want %+v", i, *g, w)
				}
			}
			for i, a := range tt.in {
				if a.Status != in[i].Status || !a.LastDetection.Equal(in[i].LastDetection) || a.Severity != in[i].Severity {
					t.Errorf("caller's alert %d changed", i)
				}
			}
		})
	}
}

func TestKeepSeverity(t *testing.T) {
	orig := &alert.Alert{ID: "a", Severity: alert.Low}
	batch := []*alert.Alert{orig, {ID: "b", Severity: alert.High}}
	KeepSeverity(batch, map[string]alert.Severity{"a": alert.Critical, "b": alert.High})
	if batch[0].Severity != alert.Critical || batch[1].Severity != alert.High {
		t.Errorf("severities = %v, %v; want critical, high", batch[0].Severity, batch[1].Severity)
	}
	if orig.Severity != alert.Low || batch[0] == orig {
		t.Error("the caller's alert was changed")
	}
}

func TestDistinct(t *testing.T) {
	tests := []struct {
		in, want []int64
	}{
		{nil, nil},
		{[]int64{0, 0}, nil},
		{[]int64{3, 0, 3}, []int64{3}},
		{[]int64{4, 2, 4, 1}, []int64{4, 2, 1}},
	}
	for _, tt := range tests {
		if got := Distinct(tt.in...); !slices.Equal(got, tt.want) {
			t.Errorf("Distinct(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParallel(t *testing.T) {
	bad := errors.New("bad")
	tests := []struct {
		n       int
		fail    []int
		wantI   int
		wantErr error
	}{
		{n: 0, wantI: -1},
		{n: 1000, wantI: -1},
		{n: 1000, fail: []int{700, 65, 999}, wantI: 65, wantErr: bad},
	}
	for _, tt := range tests {
		done := make([]bool, tt.n)
		i, err := Parallel(tt.n, func(i int) error {
			done[i] = true
			if slices.Contains(tt.fail, i) {
				return bad
			}
			return nil
		})
		if i != tt.wantI || !errors.Is(err, tt.wantErr) {
			t.Errorf("Parallel(%d) = %d, %v; want %d, %v", tt.n, i, err, tt.wantI, tt.wantErr)
		}
		if slices.Contains(done, false) {
			t.Errorf("Parallel(%d) skipped calls", tt.n)
		}
	}
}
