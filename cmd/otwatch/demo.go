package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/otwatch/otwatch/internal/analyze"
	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/simulate"
)

func runDemo(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return demoMain(ctx, args, stdout, stderr)
}

// demoFlags are the demo command's settings.
type demoFlags struct {
	dur      time.Duration
	seed     int64
	keep     string
	jsonOut  bool
	serve    bool
	db       string
	listen   string
	tls      bool
	adminPW  string
	serveFor time.Duration
	advPaths pathList
	start    time.Time // when the command started
}

// demoMain is the demo command; it serves until ctx ends.
func demoMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "[flags]",
		`Run a complete otwatch installation on a simulated plant with an attack in
progress: a control network, a field network with Siemens, Schneider and
Rockwell PLCs and an RTU, a building network and a substation. In the second
half of the capture an intruder scans the field network, a Raspberry Pi
joins the control network, the engineering workstation looks up and contacts
a known command-and-control server, an HMI sends a PLC an illegal Modbus
function and another stops the Siemens PLC over S7comm.

A sensor reads the capture into a SQLite database in a temporary directory
(or --db), learning the plant's normal traffic on the first half, with the
malicious addresses and domains loaded as indicators of compromise. Then
the console serves that database: the command prints its URL, the user name
and password to log in with, and how many alerts each engine raised. It
serves HTTPS with a self-signed certificate unless --tls=false, until
interrupted (SIGINT or SIGTERM) or for --for; the temporary directory is
removed when it stops.

With --advisories (or $OTWATCH_ADVISORIES) the console matches the plant's
devices against vendor advisories in CSAF 2.0, such as CISA's ICS
advisories: the Rockwell and Siemens PLCs of the plant run firmware that
several of them name.

With --serve=false it analyses the capture without a database and prints
the summary and the alerts instead. Needs nothing but this binary.`,
		`  otwatch demo
  otwatch demo --listen 0.0.0.0:8443 --admin-password 'a long passphrase'
  otwatch demo --db demo.db --tls=false --listen 127.0.0.1:8080
  otwatch demo --advisories ../shared/data/csaf
  otwatch demo --serve=false --duration 30m --keep plant.pcap`, stderr)
	f := demoFlags{start: time.Now()}
	fs.DurationVar(&f.dur, "duration", simulate.DefaultDuration, "simulated time span (at least 1m)")
	fs.Int64Var(&f.seed, "seed", 1, "random seed")
	fs.StringVar(&f.keep, "keep", "", "also keep the simulated capture in this `file`")
	fs.BoolVar(&f.jsonOut, "json", false, "with --serve=false: print the summary as JSON")
	fs.BoolVar(&f.serve, "serve", true, "serve the console; false prints the summary and the alerts and exits")
	fs.StringVar(&f.db, "db", "", "keep the demo's database in this new SQLite `file` (default: a temporary one, removed at the end)")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8443", "`address` the console serves on")
	fs.BoolVar(&f.tls, "tls", true, "serve HTTPS with a self-signed certificate")
	fs.StringVar(&f.adminPW, "admin-password", "", "password of the console user admin (default $OTWATCH_ADMIN_PASSWORD, else generated)")
	fs.DurationVar(&f.serveFor, "for", 0, "stop serving after this `duration` (0: until interrupted)")
	fs.Var(&f.advPaths, "advisories", "CSAF advisory `path` the console matches devices against: a file or a directory; repeat for several (default $OTWATCH_ADVISORIES)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case f.dur < demoMinDuration:
		return fmt.Errorf("%w: --duration must be at least %v", errUsage, demoMinDuration)
	case f.serveFor < 0:
		return fmt.Errorf("%w: --for must not be negative", errUsage)
	case f.jsonOut && f.serve:
		return fmt.Errorf("%w: --json goes with --serve=false", errUsage)
	case len(f.advPaths) > 0 && !f.serve:
		return fmt.Errorf("%w: --advisories goes with serving the console (otwatch advisories match reads a capture)", errUsage)
	}
	if f.serve {
		if f.adminPW == "" {
			f.adminPW = os.Getenv("OTWATCH_ADMIN_PASSWORD")
		}
		if f.adminPW != "" {
			if err := auth.CheckPassword("admin", f.adminPW); err != nil {
				return fmt.Errorf("%w: admin password: %v", errUsage, err)
			}
		}
		if f.db != "" {
			if _, err := os.Stat(f.db); err == nil {
				return fmt.Errorf("%w: --db %s exists: the demo makes a new database", errUsage, f.db)
			}
		}
		if err := checkListen(f.listen); err != nil {
			return err
		}
	}

	dir, err := os.MkdirTemp("", "otwatch-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	path := f.keep
	if path == "" {
		path = filepath.Join(dir, "plant.pcap")
	}
	opts := demoSimulation(f.seed, f.dur)
	sim, err := writeSimulation(path, nil, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "simulated %s of plant traffic: %d packets, %d hosts, scenarios: %s\n",
		f.dur, sim.Packets, len(sim.Hosts), strings.Join(opts.Scenarios, ", "))
	inds, err := demoIndicators()
	if err != nil {
		return err
	}
	if f.serve {
		return serveDemo(ctx, f, dir, path, sim, inds, stdout, stderr)
	}
	return printDemo(f, path, inds, stdout)
}

// printDemo analyses the capture without a store and prints the summary
// and the alerts.
func printDemo(f demoFlags, path string, inds *detect.Indicators, stdout io.Writer) error {
	until, err := analyze.LearnUntil(demoLearnShare, []string{path})
	if err != nil {
		return err
	}
	opts := analyze.Options{Pipeline: pipeline.DefaultOptions}
	det := analyze.WithDetection(&opts, detect.Config{Sensor: demoSensor, LearnUntil: until, Keep: true, Indicators: inds})
	sum, err := analyze.Files([]string{path}, opts)
	if err != nil {
		return err
	}
	det.Finish()
	sum.Inputs = []string{fmt.Sprintf("simulated plant (seed %d, %s)", f.seed, f.dur)}
	if f.keep != "" {
		sum.Inputs = []string{f.keep}
	}
	if f.jsonOut {
		return analyze.WriteJSON(stdout, sum)
	}
	if err := analyze.WriteText(stdout, sum, 0); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nAlerts (learning on the first %s of the capture, until %s):\n\n", demoLearnShare, until.UTC().Format("15:04:05"))
	return writeAlerts(stdout, det, false, "", "")
}
