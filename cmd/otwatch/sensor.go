package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/otwatch/otwatch/internal/detect/malware"
	"github.com/otwatch/otwatch/internal/sensor"
	"github.com/otwatch/otwatch/internal/store"
	_ "github.com/otwatch/otwatch/internal/store/all" // every store backend
)

func runSensor(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sensor", "[flags] -i IFACE | --watch DIR | FILE|DIR...",
		`Run a sensor: capture from a live interface, read capture files, or watch a
directory for new ones, and keep the devices, connections, timeline events,
baseline and alerts (with their packets as pcapng evidence) in a database.

The sensor learns for --learn, in capture time from its first frame, then
alerts on what deviates from the baseline. Its mode and baseline are stored,
so a restarted sensor carries on where it stopped. Capture files read to
their end are recorded in a state file and not read again; a file cut short
by a crash is read again, which stores nothing twice.

With FILE or DIR arguments the sensor stops when they are read. With -i or
--watch it runs until interrupted (SIGINT or SIGTERM), then stops the
capture, flushes everything to the database and exits 0. It logs to
standard error; after each batch of alerts it logs "alerts committed".`,
		`  otwatch sensor --db plant.db --sensor line1 -i eth1 -f 'not port 22'
  otwatch sensor --db postgres://otwatch@db/otwatch --sensor line1 --watch /var/spool/captures
  otwatch sensor --db plant.db --learn 1h --metrics 127.0.0.1:9108 day1.pcap day2.pcap
  otwatch simulate --duration 1h --scenario plc-stop -o plant.pcap && otwatch sensor --learn 20m plant.pcap`, stderr)
	host, _ := os.Hostname()
	iface := fs.String("i", "", "capture live from this network `interface` (AF_PACKET, needs root or CAP_NET_RAW)")
	filter := fs.String("f", "", "capture filter `expression` for -i (pcap-filter syntax)")
	watch := fs.String("watch", "", "read the capture files of this `directory` in name order, then new ones as they appear and are complete")
	settle := fs.Duration("settle", sensor.DefaultSettle, "with --watch: a file is complete once unchanged for this `duration`")
	db := fs.String("db", "otwatch.db", "database: a SQLite file `path` or a postgres:// URL")
	name := fs.String("sensor", cmp.Or(host, "sensor"), "sensor `name`, its id in the database and on its alerts")
	learn := fs.Duration("learn", 24*time.Hour, "learning `period` of a new sensor, in capture time (0: operational at once)")
	iocFile := fs.String("indicators", "", "indicators of compromise from this `file` (STIX 2.1 bundle, or one IP, domain or hash per line)")
	stateFile := fs.String("state", "", "state `file` recording the capture files read (default: next to the SQLite database, or in the working directory)")
	metrics := fs.String("metrics", "", "serve Prometheus metrics at http://`addr`/metrics (host:port)")
	speed := fs.Float64("speed", 0, "read capture files at this `factor` of their recorded pace (1: real time; 0: as fast as possible)")
	batch := fs.Int("batch", sensor.DefaultBatchSize, "write alerts to the database in batches of at most this `many`")
	flush := fs.Duration("flush", sensor.DefaultBatchInterval, "write pending alerts to the database at least this `often`")
	evMax := fs.Int64("evidence-max", 0, "cap on the total size of stored evidence, in `MiB` (0: the database's default, 1024)")
	logFormat := fs.String("log-format", "text", "log `format`: text or json")
	logLevel := fs.String("log-level", "info", "log `level`: debug (also logs every committed alert id), info, warn or error")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("%w: --log-level: %v", errUsage, err)
	}
	hopts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, hopts)
	case "json":
		handler = slog.NewJSONHandler(stderr, hopts)
	default:
		return fmt.Errorf("%w: --log-format takes text or json, not %q", errUsage, *logFormat)
	}
	log := slog.New(handler)
	cfg := sensor.Config{
		Name: *name, Logger: log, MetricsAddr: *metrics,
		Interface: *iface, Filter: *filter, Files: fs.Args(), Watch: *watch, Settle: *settle, Speed: *speed,
		Learn: *learn, BatchSize: *batch, BatchInterval: *flush,
	}
	switch {
	case *name == "":
		return fmt.Errorf("%w: --sensor must not be empty", errUsage)
	case btoi(*iface != "")+btoi(*watch != "")+btoi(fs.NArg() > 0) != 1:
		return fmt.Errorf("%w: give one input: -i IFACE, --watch DIR, or capture files and directories", errUsage)
	case *filter != "" && *iface == "":
		return fmt.Errorf("%w: -f applies to live capture (-i) only", errUsage)
	case *speed < 0 || *learn < 0 || *batch <= 0 || *evMax < 0:
		return fmt.Errorf("%w: --speed, --learn, --evidence-max must not be negative and --batch must be positive", errUsage)
	case *batch > store.MaxBatch:
		return fmt.Errorf("%w: --batch is at most %d", errUsage, store.MaxBatch)
	}
	for _, p := range fs.Args() {
		if p == "-" {
			return fmt.Errorf("%w: the sensor reads files, not standard input (use otwatch analyze)", errUsage)
		}
	}
	if *iocFile != "" {
		in, err := malware.LoadIndicators(*iocFile)
		if err != nil {
			return err
		}
		cfg.Indicators = in
	}
	backend, err := store.BackendOf(*db)
	if err != nil {
		return fmt.Errorf("%w: --db: %v", errUsage, err)
	}
	cfg.StatePath = *stateFile
	if cfg.StatePath == "" {
		cfg.StatePath = defaultStatePath(backend, *db, *name)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := store.Open(context.WithoutCancel(ctx), *db, store.Options{EvidenceMaxBytes: *evMax << 20})
	if err != nil {
		return fmt.Errorf("opening database %s: %w", store.Redact(*db), err)
	}
	cfg.Store = st
	log.Info("database open", "db", store.Redact(*db), "backend", backend, "state", cfg.StatePath)
	err = sensor.Run(ctx, cfg)
	if cerr := st.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("closing database: %w", cerr))
	}
	if errors.Is(err, sensor.ErrConfig) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return err
}

// defaultStatePath returns where the state file goes when --state is not
// given: beside a SQLite database file, else in the working directory.
func defaultStatePath(backend, db, sensorName string) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, sensorName)
	if backend == "sqlite" {
		p := db
		for _, pre := range []string{"sqlite3:", "sqlite:", "file:"} {
			if len(p) >= len(pre) && strings.EqualFold(p[:len(pre)], pre) {
				p = strings.TrimPrefix(p[len(pre):], "//")
				break
			}
		}
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return p + "." + safe + ".state.json"
	}
	return filepath.Join(".", "otwatch-"+safe+".state.json")
}
