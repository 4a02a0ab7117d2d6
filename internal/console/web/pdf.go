package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/console/vulns"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/report"
	"github.com/otwatch/otwatch/internal/store"
)

// alertPDF answers the PDF report of an alert.
func (s *server) alertPDF(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	rec, err := s.st.Alert(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	in, err := s.alertReport(ctx, rec)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.AlertPDF(&buf, in); err != nil {
		return fmt.Errorf("web: alert PDF: %w", err)
	}
	if err := s.st.AddAudit(ctx, store.AuditEntry{Actor: p.User, Action: "alert.pdf", Object: "alert:" + rec.ID,
		Detail: fmt.Sprintf("%d bytes", buf.Len())}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "otwatch-alert-" + rec.ID + ".pdf"}))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
	return nil
}

// alertReport gathers what the PDF of an alert shows.
func (s *server) alertReport(ctx context.Context, rec *store.AlertRecord) (report.AlertReport, error) {
	in := report.AlertReport{Alert: rec.Alert, Generated: s.now().UTC(), Location: s.loc}
	in.Alert.Packets = nil
	in.Alert.Remediation = make([]string, len(rec.Remediation))
	for i, step := range rec.Remediation {
		in.Alert.Remediation[i] = alert.Expand(step, rec.Source, rec.Destination, rec.Protocol, "")
	}
	var devs []*store.DeviceRecord
	if d := s.deviceOf(ctx, rec.Sensor, rec.Source); d != nil {
		in.Source = &d.Device
		devs = append(devs, d)
	}
	if d := s.deviceOf(ctx, rec.Sensor, rec.Destination); d != nil {
		in.Destination = &d.Device
		if in.Source == nil || d.ID != in.Source.ID {
			devs = append(devs, d)
		}
	}
	evs, err := s.st.RelatedEvents(ctx, rec.ID, timelineWindow, report.MaxEvents)
	if err != nil {
		return in, err
	}
	for _, e := range evs {
		in.Events = append(in.Events, report.Event{Time: e.Time, Sensor: e.Sensor, Type: e.Type, Device: e.Device, Peer: e.Peer, Detail: e.Detail})
	}
	switch b, err := s.st.Evidence(ctx, rec.ID); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return in, err
	default:
		rows, err := decodeEvidence(b, rec.Operation)
		if err != nil {
			s.log.Warn("console PDF: evidence cut short", "alert", rec.ID, "err", err)
		}
		for _, p := range rows {
			sum := p.Info
			if p.Trigger {
				sum = "[trigger] " + sum
			}
			in.Packets = append(in.Packets, report.Packet{Time: p.Time, Source: p.Src, Destination: p.Dst, Protocol: p.Protocol,
				Length: p.Length, Summary: sum})
		}
	}
	seen := map[string]bool{}
	for _, d := range devs {
		recs, err := s.recommendations(ctx, d)
		if err != nil {
			return in, err
		}
		for _, r := range recs {
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			in.Recommendations = append(in.Recommendations, s.reportRec(r, &d.Device))
		}
	}
	cs, err := s.st.Comments(ctx, rec.ID)
	if err != nil {
		return in, err
	}
	for _, c := range cs {
		in.Comments = append(in.Comments, report.Comment{Author: c.Author, Time: c.Time, Text: c.Text})
	}
	return in, nil
}

// reportRec returns a recommendation for the PDF: its status, who set it,
// when and why, before its text.
func (s *server) reportRec(r vulns.Recommendation, d *inventory.Device) report.Recommendation {
	st := "Status: " + statusText(r.Status)
	if r.Actor != "" {
		st += ", set by " + r.Actor + " on " + fmtTime(r.Changed, s.loc)
	}
	if r.Reason != "" {
		st += ": " + r.Reason
	}
	return report.Recommendation{Severity: r.Severity.String(), Title: deviceName(d) + ": " + r.Title + " [" + statusText(r.Status) + "]",
		Text: st + ".\n" + r.Text}
}
