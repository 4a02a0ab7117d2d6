package analyze

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/detect"
	_ "github.com/otwatch/otwatch/internal/detect/engines" // every engine
	_ "github.com/otwatch/otwatch/internal/dissect/all"    // every dissector
	"github.com/otwatch/otwatch/internal/evidence"
	"github.com/otwatch/otwatch/internal/inventory"
)

// Detection is a detector wired into an analysis: an inventory that hands
// it its events and an evidence ring that keeps the packets its alerts
// take.
type Detection struct {
	Detector  *detect.Detector
	Inventory *inventory.Inventory
	Evidence  *evidence.Ring
}

// WithDetection adds an inventory and a detector with every registered
// engine to opts. cfg.Evidence is set to a new ring unless given. Call
// Finish when the analysis returns.
func WithDetection(opts *Options, cfg detect.Config) *Detection {
	dt := &Detection{}
	if cfg.Evidence == nil {
		dt.Evidence = evidence.New(evidence.Options{ArenaBytes: 32 << 20})
		cfg.Evidence = dt.Evidence
		opts.Pipeline.Evidence = dt.Evidence
	}
	dt.Detector = detect.New(cfg)
	io := inventory.DefaultOptions
	io.Sink = dt.Detector
	dt.Inventory = inventory.New(io)
	opts.Taps = append(opts.Taps, dt.Inventory, dt.Detector)
	return dt
}

// Finish ends the input of the inventory and the detector.
func (dt *Detection) Finish() {
	dt.Inventory.Flush()
	dt.Detector.Flush()
}

// Span returns the time of the first and of the last packet of capture
// files read as one capture. It reads every packet header, which is fast;
// standard input ("-") cannot be read twice and is an error.
func Span(paths []string) (first, last time.Time, err error) {
	for _, path := range paths {
		if path == "-" {
			return first, last, errors.New("analyze: the capture's time span is not known in advance on standard input")
		}
		src, err := capture.Open(path)
		if err != nil {
			return first, last, err
		}
		for {
			pkt, err := src.ReadPacket()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				src.Close()
				return first, last, err
			}
			if first.IsZero() || pkt.Timestamp.Before(first) {
				first = pkt.Timestamp
			}
			if pkt.Timestamp.After(last) {
				last = pkt.Timestamp
			}
		}
		src.Close()
	}
	return first, last, nil
}

// LearnUntil resolves a learning period for capture files: a duration
// ("5m") counts from the first packet, a percentage ("50%") is that part of
// the capture's time span.
func LearnUntil(spec string, paths []string) (time.Time, error) {
	first, last, err := Span(paths)
	if err != nil {
		return time.Time{}, err
	}
	if first.IsZero() {
		return first, nil
	}
	if p, ok := strings.CutSuffix(spec, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v < 0 || v > 100 {
			return time.Time{}, fmt.Errorf("analyze: learning period %q: want a percentage from 0%% to 100%%", spec)
		}
		return first.Add(time.Duration(float64(last.Sub(first)) * v / 100)), nil
	}
	d, err := time.ParseDuration(spec)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("analyze: learning period %q: want a duration (5m) or a percentage (50%%)", spec)
	}
	return first.Add(d), nil
}
