package recommend

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestTransition walks the lifecycle: open → in_progress → done, back to
// open, any → dismissed with a reason, reopen.
func TestTransition(t *testing.T) {
	tests := []struct {
		from, to Status
		reason   string
		err      error
	}{
		{Open, InProgress, "", nil},
		{Open, Done, "patched during the outage", nil},
		{Open, Dismissed, "PLC is decommissioned next week", nil},
		{InProgress, Done, "", nil},
		{InProgress, Open, "", nil},
		{InProgress, Dismissed, "accepted risk", nil},
		{Done, Open, "the finding came back", nil},
		{Done, Dismissed, "duplicate", nil},
		{Dismissed, Open, "", nil},
		{Open, Dismissed, "", ErrReasonRequired},
		{Open, Dismissed, "   ", ErrReasonRequired},
		{Open, Open, "", ErrTransition},
		{Done, InProgress, "", ErrTransition},
		{Dismissed, Done, "", ErrTransition},
		{Dismissed, Dismissed, "again", ErrTransition},
		{Open, Status(9), "", ErrTransition},
		{Status(0), Open, "", ErrTransition},
	}
	for _, tt := range tests {
		r := Recommendation{ID: "x", Status: tt.from, Evidence: []string{"seen"}}
		got, err := r.Transition(tt.to, tt.reason)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s → %s (%q): err %v, want %v", tt.from, tt.to, tt.reason, err, tt.err)
			continue
		}
		if r.Status != tt.from {
			t.Errorf("Transition changed its receiver")
		}
		switch {
		case err != nil && got.Status != tt.from:
			t.Errorf("%s → %s failed but returned status %s", tt.from, tt.to, got.Status)
		case err == nil && (got.Status != tt.to || got.Reason != trimmed(tt.reason)):
			t.Errorf("%s → %s: got %s %q", tt.from, tt.to, got.Status, got.Reason)
		}
		if err == nil {
			got.Evidence[0] = "changed"
			if r.Evidence[0] != "seen" {
				t.Errorf("Transition shares its evidence with the original")
			}
		}
	}
}

func trimmed(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

func TestStatusText(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Status
	}{{"open", Open}, {"In Progress", InProgress}, {"in-progress", InProgress}, {"in_progress", InProgress}, {"DONE", Done}, {"dismissed", Dismissed}} {
		if got, err := ParseStatus(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseStatus(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := ParseStatus("closed"); err == nil {
		t.Error("ParseStatus(closed) gave no error")
	}
	b, err := json.Marshal(Recommendation{Status: InProgress})
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(b, &back) != nil || back.Status != "in_progress" {
		t.Errorf("JSON status %s", b)
	}
	var r Recommendation
	if err := json.Unmarshal([]byte(`{"status":"done"}`), &r); err != nil || r.Status != Done {
		t.Errorf("decoding status: %v, %v", r.Status, err)
	}
	if err := json.Unmarshal([]byte(`{"status":"finished"}`), &r); err == nil {
		t.Error("decoding an unknown status gave no error")
	}
}
