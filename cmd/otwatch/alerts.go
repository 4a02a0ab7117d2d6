package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/analyze"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/detect/malware"
	"github.com/otwatch/otwatch/internal/evidence"
)

// detectConfig builds the detector configuration of `analyze --alerts`.
func detectConfig(paths []string, iface, learn, baseFile, iocFile string) (detect.Config, error) {
	cfg := detect.Config{Sensor: "analyze", Keep: true}
	if iface != "" {
		cfg.Sensor = iface
	}
	switch {
	case baseFile != "":
		f, err := os.Open(baseFile)
		if err != nil {
			return cfg, err
		}
		defer f.Close()
		b, err := baseline.Read(f, nil)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", baseFile, err)
		}
		cfg.Baseline, cfg.Operational = b, true
	case iface != "" || slices.Contains(paths, "-"):
		d, err := time.ParseDuration(learn)
		if err != nil {
			return cfg, fmt.Errorf("%w: on a live interface or standard input --learn takes a duration, not %q", errUsage, learn)
		}
		cfg.Learn = d
	default:
		until, err := analyze.LearnUntil(learn, paths)
		if err != nil {
			return cfg, err
		}
		cfg.LearnUntil = until
		if until.IsZero() {
			cfg.Learn = time.Nanosecond
		}
	}
	if iocFile != "" {
		in, err := malware.LoadIndicators(iocFile)
		if err != nil {
			return cfg, err
		}
		cfg.Indicators = in
	}
	return cfg, nil
}

// alertsReport is the JSON form of `analyze --alerts`.
type alertsReport struct {
	Mode     string         `json:"mode"`
	Baseline int            `json:"baseline_entries"`
	Stats    detect.Stats   `json:"stats"`
	Alerts   []*alert.Alert `json:"alerts"`
}

func writeAlerts(w io.Writer, det *analyze.Detection, asJSON bool, saveBase, evDir string) error {
	d := det.Detector
	as := slices.Clone(d.Alerts())
	slices.SortStableFunc(as, func(a, b *alert.Alert) int { return a.FirstDetection.Compare(b.FirstDetection) })
	var err error
	if saveBase != "" {
		err = writeBaseline(saveBase, d)
	}
	if evDir != "" {
		err = cmp.Or(err, writeEvidence(evDir, as))
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if as == nil {
			as = []*alert.Alert{}
		}
		return cmp.Or(err, enc.Encode(alertsReport{Mode: d.Mode().String(), Baseline: d.Baseline().Len(), Stats: d.Stats(), Alerts: as}))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "FIRST\tSEVERITY\tENGINE\tTYPE\tSOURCE\tDESTINATION\tCOUNT\tTITLE\n")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", a.FirstDetection.UTC().Format("2006-01-02 15:04:05"),
			a.Severity, a.Engine.Key(), a.Type, a.Source, a.Destination, a.Count, a.Title)
	}
	if werr := tw.Flush(); werr != nil {
		return werr
	}
	st := d.Stats()
	fmt.Fprintf(w, "\n%d alerts (%d detections merged); %d baseline entries; mode %s\n", len(as), st.Merged, d.Baseline().Len(), d.Mode())
	return err
}

func writeBaseline(path string, d *detect.Detector) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = d.Baseline().Write(f, d.Config().Sensor, d.Now())
	return cmp.Or(err, f.Close())
}

// writeEvidence writes each alert's packets as DIR/<alert id>.pcapng.
func writeEvidence(dir string, as []*alert.Alert) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, a := range as {
		if len(a.Packets) == 0 {
			continue
		}
		f, err := os.Create(filepath.Join(dir, a.ID+".pcapng"))
		if err != nil {
			return err
		}
		comment := strings.Join([]string{a.Type, a.Title}, ": ")
		err = evidence.WritePcapng(f, a.Packets, evidence.WriteOptions{Comment: comment, Application: "otwatch"})
		if err = cmp.Or(err, f.Close()); err != nil {
			return fmt.Errorf("writing evidence of alert %s: %w", a.ID, err)
		}
	}
	return nil
}
