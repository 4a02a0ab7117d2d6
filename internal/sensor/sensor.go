package sensor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/capture/afpacket"
	"github.com/otwatch/otwatch/internal/detect"
	_ "github.com/otwatch/otwatch/internal/detect/engines" // every engine
	_ "github.com/otwatch/otwatch/internal/dissect/all"    // every dissector
	"github.com/otwatch/otwatch/internal/evidence"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/store"
)

// Config configures a sensor. Name, Store and one input (Interface, Files
// or Watch) are required; zero durations and sizes take the defaults.
type Config struct {
	// Name is the sensor's name: its id in the store and on its alerts.
	Name string
	// Store receives what the sensor finds. Run does not close it.
	Store store.Store
	// Logger receives the sensor's log; slog.Default() when nil.
	Logger *slog.Logger
	// Metrics, if set, is updated as the sensor runs (a new one is used
	// otherwise); MetricsAddr, if set, serves it at /metrics.
	Metrics     *Metrics
	MetricsAddr string

	// Interface is a network interface to capture from live (AF_PACKET),
	// with the capture filter Filter (pcap-filter syntax).
	Interface string
	Filter    string
	// Files are capture files and directories (whose files are read in
	// name order), read once; Run returns when they are done.
	Files []string
	// Watch is a directory whose capture files are read in name order,
	// then new ones as they appear and are complete (unchanged for
	// Settle); Run returns when ctx is cancelled.
	Watch  string
	Settle time.Duration
	Poll   time.Duration // how often Watch is listed
	// Speed, if positive, paces capture files at Speed times the pace
	// they were recorded at (1: real time); 0 reads them at full speed.
	Speed float64

	// StatePath is the state file that records finished capture files and
	// the start of learning; "" keeps no state (every file is read again).
	StatePath string
	// Learn is the learning period of a sensor the store does not know as
	// operational, in capture time from its first frame; 0 starts the
	// sensor operational with the baseline the store holds.
	Learn time.Duration
	// Indicators are known-bad addresses, domains and hashes.
	Indicators *detect.Indicators

	// BatchSize and BatchInterval bound how long alerts wait for the
	// store: a batch is written when it holds BatchSize alerts or
	// BatchInterval after the last.
	BatchSize     int
	BatchInterval time.Duration
	// SnapshotInterval is how often the inventory (devices, connections)
	// is written; BaselineInterval how often the baseline is.
	SnapshotInterval time.Duration
	BaselineInterval time.Duration
	// ShutdownTimeout bounds how long Run keeps retrying a failing store
	// when it stops.
	ShutdownTimeout time.Duration
	// EvidenceBytes sizes the evidence ring that keeps recent packets of
	// every flow for alerts to take.
	EvidenceBytes int
}

// Defaults of Config.
const (
	DefaultSettle           = 2 * time.Second
	DefaultPoll             = time.Second
	DefaultBatchSize        = 1000
	DefaultBatchInterval    = time.Second
	DefaultSnapshotInterval = 30 * time.Second
	DefaultBaselineInterval = 5 * time.Minute
	DefaultShutdownTimeout  = 30 * time.Second
	DefaultEvidenceBytes    = 64 << 20
)

// ErrConfig is wrapped by errors about an invalid Config.
var ErrConfig = errors.New("sensor: invalid configuration")

func (c *Config) check() error {
	inputs := 0
	for _, set := range []bool{c.Interface != "", len(c.Files) > 0, c.Watch != ""} {
		if set {
			inputs++
		}
	}
	switch {
	case c.Name == "":
		return fmt.Errorf("%w: no sensor name", ErrConfig)
	case c.Store == nil:
		return fmt.Errorf("%w: no store", ErrConfig)
	case inputs != 1:
		return fmt.Errorf("%w: give exactly one input: an interface, capture files, or a directory to watch", ErrConfig)
	case c.Filter != "" && c.Interface == "":
		return fmt.Errorf("%w: a capture filter applies to a live interface only", ErrConfig)
	case c.Speed < 0 || c.Learn < 0:
		return fmt.Errorf("%w: negative speed or learning period", ErrConfig)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Settle, DefaultSettle)
	def(&c.Poll, DefaultPoll)
	def(&c.BatchInterval, DefaultBatchInterval)
	def(&c.SnapshotInterval, DefaultSnapshotInterval)
	def(&c.BaselineInterval, DefaultBaselineInterval)
	def(&c.ShutdownTimeout, DefaultShutdownTimeout)
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.EvidenceBytes <= 0 {
		c.EvidenceBytes = DefaultEvidenceBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	return nil
}

// Run runs the sensor until its input ends (Files) or ctx is cancelled,
// then stops the capture, flushes the pipeline, the inventory and the
// detector, writes everything to the store and returns. A cancelled ctx
// is a normal stop, not an error. Run returns an error when the sensor
// cannot start, when a capture file is unreadable or corrupt (after the
// other files were read), when live capture fails, or when the store
// refused what was found for longer than ShutdownTimeout at the end.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.check(); err != nil {
		return err
	}
	log := cfg.Logger.With("sensor", cfg.Name)
	st := cfg.Store
	// Store writes outlive the cancellation that stops the capture.
	sctx := context.WithoutCancel(ctx)
	actor := "sensor:" + cfg.Name

	state, err := LoadState(cfg.StatePath, cfg.Name)
	if err != nil {
		return err
	}
	sn, err := st.Sensor(sctx, cfg.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		sn = store.Sensor{ID: cfg.Name, Name: cfg.Name, Mode: store.ModeLearning}
		if cfg.Learn == 0 {
			sn.Mode = store.ModeOperational
		}
		if err := st.PutSensor(sctx, sn, actor); err != nil {
			return fmt.Errorf("sensor: registering %q: %w", cfg.Name, err)
		}
	case err != nil:
		return fmt.Errorf("sensor: reading sensor %q: %w", cfg.Name, err)
	}
	base := baseline.New(0)
	recs, err := st.Baseline(sctx, cfg.Name)
	if err != nil {
		return fmt.Errorf("sensor: loading the baseline: %w", err)
	}
	if len(recs) > 0 {
		if base, err = baselineOf(recs); err != nil {
			return err
		}
	}
	sup, err := store.NewSuppressor(sctx, st, cfg.Name)
	if err != nil {
		return err
	}

	dc := detect.Config{
		Sensor:     cfg.Name,
		Site:       sn.Site,
		Zone:       sn.Zone,
		Baseline:   base,
		Indicators: cfg.Indicators,
		Suppress:   sup.Suppress,
	}
	switch {
	case sn.Mode == store.ModeOperational:
		dc.Operational = true
	case cfg.Learn == 0:
		dc.Operational = true
		if err := st.SetSensorMode(sctx, cfg.Name, store.ModeOperational, actor); err != nil {
			return fmt.Errorf("sensor: setting the mode: %w", err)
		}
	case !state.LearnStart.IsZero():
		dc.LearnUntil = state.LearnStart.Add(cfg.Learn)
	default:
		dc.Learn = cfg.Learn
	}
	if sn.Site != "" {
		zones, err := st.Zones(sctx, sn.Site)
		if err != nil {
			return fmt.Errorf("sensor: loading the zones of site %q: %w", sn.Site, err)
		}
		for _, z := range zones {
			if len(z.Subnets) > 0 {
				dc.Zones = append(dc.Zones, detect.Zone{Name: z.ID, Subnets: z.Subnets})
			}
		}
	}

	m := cfg.Metrics
	m.base.Store(base)
	r := &runner{cfg: &cfg, log: log, m: m, ops: map[string]uint64{}, done: state.Files, learnSent: !state.LearnStart.IsZero()}
	r.ctx, r.cancel = context.WithCancel(ctx)
	defer r.cancel()
	ring := evidence.New(evidence.Options{ArenaBytes: cfg.EvidenceBytes})
	dc.Evidence = ring
	dc.Sink = r
	r.det = detect.New(dc)
	iopts := inventory.DefaultOptions
	iopts.Sink = r
	r.inv = inventory.New(iopts)
	overrides, err := st.Overrides(sctx)
	if err != nil {
		return fmt.Errorf("sensor: loading device overrides: %w", err)
	}
	for _, o := range overrides {
		if err := r.inv.SetOverride(o.Addr, o.Override); err != nil {
			log.Warn("ignoring a device override", "addr", o.Addr, "err", err)
		}
	}
	po := pipeline.DefaultOptions
	po.Evidence = ring
	po.Observer = r
	po.Emitter = r
	r.pipe = pipeline.New(po)
	r.mode = r.det.Mode()
	m.mode.Store(uint32(r.mode))

	if cfg.Interface != "" {
		ao := afpacket.DefaultOptions
		ao.Filter = cfg.Filter
		live, err := afpacket.Open(cfg.Interface, ao)
		if err != nil {
			return fmt.Errorf("sensor: %w", err)
		}
		defer live.Close()
		r.live = live
	}

	var srv *http.Server
	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("sensor: metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", m)
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		log.Info("metrics listening", "addr", ln.Addr().String())
	}

	w := &writer{
		st: st, sensor: cfg.Name, actor: actor, log: log, m: m, base: base, sup: sup,
		statePath: cfg.StatePath, state: state.clone(),
		batchSize: cfg.BatchSize, interval: cfg.BatchInterval, baseInterval: cfg.BaselineInterval, timeout: cfg.ShutdownTimeout,
		in: make(chan any, 4096), done: make(chan error, 1), stop: r.ctx.Done(), alerts: map[string]*pendingAlert{},
	}
	r.out = w.in
	go w.run(sctx)

	switch {
	case dc.Operational:
		log.Info("sensor started", "mode", r.mode.String(), "baseline_entries", base.Len())
	case !dc.LearnUntil.IsZero():
		log.Info("sensor started", "mode", r.mode.String(), "baseline_entries", base.Len(), "learn_until", dc.LearnUntil)
	default:
		log.Info("sensor started", "mode", r.mode.String(), "baseline_entries", base.Len(), "learn", dc.Learn.String())
	}
	stopTicks := r.startTicks()
	var runErr error
	switch {
	case r.live != nil:
		runErr = r.runLive()
	case cfg.Watch != "":
		runErr = r.runWatch()
	default:
		runErr = r.runFiles()
	}
	stopTicks()
	r.finish()
	werr := <-w.done
	if srv != nil {
		sd, cancel := context.WithTimeout(sctx, 2*time.Second)
		_ = srv.Shutdown(sd)
		cancel()
	}
	st2 := r.pipe.Stats()
	log.Info("sensor stopped", "packets", st2.Packets, "alerts", m.Alerts(), "mode", r.det.Mode().String(),
		"baseline_entries", base.Len(), "suppressed", sup.Suppressed())
	return errors.Join(runErr, werr)
}

// baselineOf makes a Baseline of stored records.
func baselineOf(recs []baseline.Record) (*baseline.Baseline, error) {
	doc := struct {
		Format  string            `json:"format"`
		Version int               `json:"version"`
		Entries []baseline.Record `json:"entries"`
	}{"otwatch-baseline", baseline.FileVersion, recs}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("sensor: stored baseline: %w", err)
	}
	base, err := baseline.Read(bytes.NewReader(b), nil)
	if err != nil {
		return nil, fmt.Errorf("sensor: stored baseline: %w", err)
	}
	return base, nil
}
