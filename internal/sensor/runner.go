package sensor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/capture/afpacket"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/store"
)

// errStopped ends reading when the sensor is asked to stop.
var errStopped = errors.New("sensor: stopped")

// housekeepEvery is how often the pipeline goroutine publishes metrics and
// hands inventory events to the writer while frames flow.
const housekeepEvery = 250 * time.Millisecond

// runner owns the pipeline, the inventory and the detector, and runs on
// one goroutine: it is their Observer, Emitter and Sinks.
type runner struct {
	cfg    *Config
	log    *slog.Logger
	m      *Metrics
	ctx    context.Context
	cancel context.CancelFunc

	pipe *pipeline.Pipeline
	inv  *inventory.Inventory
	det  *detect.Detector
	live *afpacket.Source
	out  chan<- any

	stop atomic.Bool // set when ctx is done
	tick atomic.Bool // set every housekeepEvery

	ops        map[string]uint64 // operations by protocol
	events     []inventory.Event // not yet handed to the writer
	lastEvents time.Time
	lastSnap   time.Time
	mode       detect.Mode
	first      time.Time // capture time of the first frame
	learnSent  bool
	done       map[string]FileState
	lastFile   *fileItem // the last file read, recorded after the final flush

	paceWall time.Time
	paceTS   time.Time
}

// Packet implements pipeline.Observer: the inventory and the detector see
// every frame.
func (r *runner) Packet(p *decode.Packet, err error) {
	r.inv.Packet(p, err)
	r.det.Packet(p, err)
}

// Emit implements dissect.Emitter: operations are counted by protocol and
// go to the inventory and the detector.
func (r *runner) Emit(op *dissect.Operation) {
	r.ops[op.Protocol]++
	r.inv.Emit(op)
	r.det.Emit(op)
}

// Event implements inventory.Sink: the detector sees the event, and it
// waits for the next snapshot to become a timeline event.
func (r *runner) Event(e inventory.Event) {
	r.det.Event(e)
	r.events = append(r.events, e)
	r.m.events.Add(1)
}

// Alert implements detect.Sink: a copy of the alert goes to the writer.
func (r *runner) Alert(a *alert.Alert, created bool) {
	c := *a
	c.Details = slices.Clone(a.Details)
	c.Evidence = slices.Clone(a.Evidence)
	if created {
		r.m.alertOpened(a)
	} else {
		c.Packets = nil // taken with the alert's first copy
	}
	r.send(&c)
}

// send hands an item to the writer, waiting while it is busy.
func (r *runner) send(it any) { r.out <- it }

// startTicks starts the goroutine that asks for housekeeping and notices
// the stop; the returned function ends it.
func (r *runner) startTicks() func() {
	quit := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(housekeepEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.tick.Store(true)
				if r.live != nil {
					// The capture's counters are current even while no
					// frame arrives to run the housekeeping.
					st := r.live.Stats()
					r.m.packets.Store(st.Packets)
					r.m.bytes.Store(st.Bytes)
					r.m.drops.Store(st.Dropped)
				}
			case <-r.ctx.Done():
				r.stop.Store(true)
				if r.live != nil {
					r.live.Close() // ReadPacket returns io.EOF
				}
				return
			case <-quit:
				return
			}
		}
	}()
	return func() { close(quit); <-ended }
}

// drain feeds the pipeline from src until it ends (nil), fails, or the
// sensor stops (errStopped). It returns the frames read.
func (r *runner) drain(src capture.Source, pace bool) (uint64, error) {
	var n uint64
	for {
		if r.stop.Load() {
			return n, errStopped
		}
		pkt, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if pace {
			r.pace(pkt.Timestamp)
		}
		if r.first.IsZero() {
			r.first = pkt.Timestamp
			if !r.learnSent && r.mode == detect.Learning {
				r.learnSent = true
				r.send(learnStartItem(r.first))
			}
		}
		r.pipe.Process(pkt)
		n++
		if r.det.Mode() != r.mode {
			r.checkMode()
		}
		if r.tick.Load() {
			r.tick.Store(false)
			r.housekeep(false)
		}
	}
}

// pace waits until the wall clock catches up with capture time ts at
// Config.Speed.
func (r *runner) pace(ts time.Time) {
	if r.paceWall.IsZero() || ts.Before(r.paceTS) {
		r.paceWall, r.paceTS = time.Now(), ts
		return
	}
	target := r.paceWall.Add(time.Duration(float64(ts.Sub(r.paceTS)) / r.cfg.Speed))
	for d := time.Until(target); d > time.Millisecond && !r.stop.Load(); d = time.Until(target) {
		time.Sleep(min(d, housekeepEvery))
		if r.tick.Load() {
			r.tick.Store(false)
			r.housekeep(false)
		}
	}
}

// runLive captures until the sensor stops or capture fails.
func (r *runner) runLive() error {
	r.log.Info("capturing", "interface", r.cfg.Interface, "filter", r.cfg.Filter)
	_, err := r.drain(r.live, false)
	if err == nil || errors.Is(err, errStopped) || r.stop.Load() {
		return nil
	}
	return fmt.Errorf("sensor: %w", err)
}

// runFiles reads the capture files not read before, in order, and
// returns when they are done or the sensor stops. Errors of unreadable
// or corrupt files are returned together at the end.
func (r *runner) runFiles() error {
	files, err := expandPaths(r.cfg.Files)
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		if r.stop.Load() {
			break
		}
		if r.isDone(f) {
			r.log.Info("capture file already read", "path", f.path)
			continue
		}
		if r.lastFile != nil {
			r.send(*r.lastFile)
			r.lastFile = nil
		}
		it, complete := r.readFile(f)
		if !complete {
			break
		}
		if it.st.Error != "" {
			errs = append(errs, errors.New(it.st.Error))
		}
		r.lastFile = &it
	}
	return errors.Join(errs...)
}

// runWatch reads the complete capture files of the watched directory that
// were not read before, then new ones as they come, until the sensor
// stops.
func (r *runner) runWatch() error {
	if _, err := listDir(r.cfg.Watch); err != nil {
		return err
	}
	r.log.Info("watching directory", "dir", r.cfg.Watch, "settle", r.cfg.Settle.String())
	s := newSettler(r.cfg.Settle)
	failing := false
	for {
		files, err := listDir(r.cfg.Watch)
		if err != nil && !failing {
			r.log.Warn("cannot list the watched directory", "err", err)
		}
		failing = err != nil
		s.forget(files)
		for _, f := range files {
			if r.stop.Load() {
				return nil
			}
			if r.isDone(f) || !s.ready(f, time.Now()) || !looksLikeCapture(f.path) {
				continue
			}
			it, complete := r.readFile(f)
			if !complete {
				return nil
			}
			r.send(it)
		}
		r.housekeep(false)
		select {
		case <-r.ctx.Done():
			return nil
		case <-time.After(r.cfg.Poll):
		}
	}
}

// isDone reports whether this version of f was read before.
func (r *runner) isDone(f inputFile) bool {
	st, ok := r.done[f.path]
	return ok && st.same(stamp(f.info))
}

// readFile reads one capture file. complete is false when the sensor
// stopped inside it; otherwise the item records it, with the error that
// ended it early if any.
func (r *runner) readFile(f inputFile) (it fileItem, complete bool) {
	it = fileItem{path: f.path, st: stamp(f.info)}
	src, err := capture.Open(f.path)
	if err != nil {
		r.log.Error("cannot read capture file", "path", f.path, "err", err)
		it.st.Done, it.st.Error = time.Now().UTC(), err.Error()
		r.done[f.path] = it.st
		return it, true
	}
	defer src.Close()
	r.log.Info("reading capture file", "path", f.path, "bytes", f.info.Size())
	n, err := r.drain(src, r.cfg.Speed > 0)
	if errors.Is(err, errStopped) {
		r.log.Info("stopped inside capture file; it will be read again", "path", f.path, "packets", n)
		return it, false
	}
	if err != nil {
		r.log.Error("capture file ends early", "path", f.path, "packets", n, "err", err)
		it.st.Error = err.Error()
	}
	r.m.files.Add(1)
	r.housekeep(true)
	it.st.Done, it.st.Packets = time.Now().UTC(), n
	r.done[f.path] = it.st
	r.log.Info("capture file read", "path", f.path, "packets", n)
	return it, true
}

// housekeep publishes metrics, reports a mode switch and the start of
// learning, and hands inventory events and snapshots to the writer when
// they are due (all of them when force).
func (r *runner) housekeep(force bool) {
	now := time.Now()
	ps := r.pipe.Stats()
	m := r.m
	if r.live == nil { // else the tick goroutine takes them from the capture
		m.packets.Store(ps.Packets)
		m.bytes.Store(ps.Bytes)
	}
	m.flows.Store(int64(ps.Flows.Active))
	m.setOps(r.ops)
	ds := r.det.Stats()
	m.suppressed.Store(ds.Suppressed)
	m.setLimited(r.inv.Stats(), ds)
	r.checkMode()
	eventsDue := len(r.events) > 0 && (force || now.Sub(r.lastEvents) >= time.Second || len(r.events) >= 10000)
	snapDue := force || now.Sub(r.lastSnap) >= r.cfg.SnapshotInterval
	if !eventsDue && !snapDue {
		return
	}
	snap := r.inv.Snapshot()
	if eventsDue {
		it := eventsItem{events: make([]store.Event, len(r.events)), keys: map[inventory.DeviceID]string{}}
		addr := func(id inventory.DeviceID) string {
			d := snap.Device(id)
			if d == nil {
				return "" // merged into another since
			}
			it.keys[id] = d.Key()
			return store.DeviceAddr(d)
		}
		for i, e := range r.events {
			it.events[i] = store.EventOf(r.cfg.Name, e, addr)
		}
		clear(r.events)
		r.events = r.events[:0]
		r.lastEvents = now
		r.send(it)
	}
	if snapDue && len(snap.Devices)+len(snap.Connections) > 0 {
		r.lastSnap = now
		r.send(snap)
	}
}

// checkMode reports a switch of the detector's mode to the writer, which
// stores the baseline and then the mode.
func (r *runner) checkMode() {
	md := r.det.Mode()
	if md == r.mode {
		return
	}
	r.mode = md
	r.m.mode.Store(uint32(md))
	r.log.Info("sensor mode changed", "mode", md.String(), "capture_time", r.det.Now(), "baseline_entries", r.det.Baseline().Len())
	sm := store.ModeLearning
	if md == detect.Operational {
		sm = store.ModeOperational
	}
	r.send(modeItem{mode: sm, at: r.det.Now()})
}

// finish ends the input: the pipeline's flows, the inventory and the
// detector are flushed, what they give handed to the writer, and the
// writer's input closed.
func (r *runner) finish() {
	r.pipe.Close()
	r.inv.Flush()
	r.det.Flush()
	r.housekeep(true)
	if r.lastFile != nil {
		r.send(*r.lastFile)
		r.lastFile = nil
	}
	close(r.out)
}
