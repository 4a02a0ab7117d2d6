package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/console"
	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/detect/malware"
	"github.com/otwatch/otwatch/internal/sensor"
	"github.com/otwatch/otwatch/internal/simulate"
	"github.com/otwatch/otwatch/internal/store"
)

const (
	// demoSensor names the demo's sensor; demoSite its site.
	demoSensor = "demo"
	demoSite   = "demo-plant"
	// demoLearnShare is the part of the capture the sensor learns on.
	demoLearnShare = "50%"
	// demoMinDuration is the shortest capture in which every attack step
	// of demoScenarios fits after the learning half.
	demoMinDuration = time.Minute
)

// demoScenarios are the attack steps of the demo in the order they happen,
// each starting at a percentage of the capture's span, all after the
// learning half. Together they raise alerts of every engine.
var demoScenarios = []struct {
	name string
	at   int // start, in percent of the capture
}{
	{simulate.ScenarioPortScan, 55}, // anomaly: an unknown host scans the field network
	{"policy-new-device", 60},       // policy: a Raspberry Pi joins the control network
	{"malware-ioc-domain", 65},      // malware: the workstation resolves a C2 domain
	{"malware-ioc-address", 70},     // malware: and connects to a C2 address
	{"modbus-illegal-function", 75}, // protocol violation: an HMI sends function code 0
	{simulate.ScenarioPLCStop, 80},  // operational: an HMI stops the Siemens PLC
}

// demoSimulation returns the simulation of the demo: every cell of the
// plant, and demoScenarios.
func demoSimulation(seed int64, d time.Duration) simulate.Options {
	o := simulate.Options{Seed: seed, Duration: d, Cells: []string{simulate.CellAll},
		ScenarioStart: make(map[string]time.Duration, len(demoScenarios))}
	for _, s := range demoScenarios {
		o.Scenarios = append(o.Scenarios, s.name)
		o.ScenarioStart[s.name] = (d * time.Duration(s.at) / 100).Truncate(time.Second)
	}
	return o
}

// demoIndicators returns the indicators of compromise of the simulated
// malware.
func demoIndicators() (*detect.Indicators, error) {
	in := detect.NewIndicators()
	if err := malware.ReadList(strings.NewReader(strings.Join(simulate.Indicators(), "\n")), "otwatch demo", in); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return in, nil
}

// demoZoneNames names the zones of the simulated plant's subnets.
var demoZoneNames = map[netip.Prefix][2]string{
	netip.MustParsePrefix("10.10.1.0/24"): {"control", "Control network"},
	netip.MustParsePrefix("10.10.2.0/24"): {"field", "Field network"},
	netip.MustParsePrefix("10.10.3.0/24"): {"building", "Building automation"},
	netip.MustParsePrefix("10.10.4.0/24"): {"substation", "Substation"},
}

// demoZones returns a zone for every private subnet of hosts, in the
// order they first appear; a subnet without a name in demoZoneNames is
// named after itself. The subnets of the simulated internet hosts are not
// the plant's and get no zone.
func demoZones(hosts []simulate.Host) []store.Zone {
	var zones []store.Zone
	var seen []netip.Prefix
	for _, h := range hosts {
		p := h.Subnet.Masked()
		if !p.IsValid() || !p.Addr().IsPrivate() || slices.Contains(seen, p) {
			continue
		}
		seen = append(seen, p)
		n, ok := demoZoneNames[p]
		if !ok {
			n = [2]string{"net-" + strings.NewReplacer(".", "-", "/", "-", ":", "-").Replace(p.String()), p.String()}
		}
		zones = append(zones, store.Zone{ID: n[0], Site: demoSite, Name: n[1], Subnets: []netip.Prefix{p}})
	}
	return zones
}

// checkListen fails early when the console could not listen on addr.
func checkListen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("demo: the console cannot listen on %s (choose another address with --listen): %w", addr, err)
	}
	return ln.Close()
}

// serveDemo reads the simulated capture at path into a new store with a
// sensor, then serves the console over it until ctx ends (or for
// f.serveFor).
func serveDemo(ctx context.Context, f demoFlags, dir, path string, sim simulate.Summary, inds *detect.Indicators, stdout, stderr io.Writer) (err error) {
	dsn := cmp.Or(f.db, filepath.Join(dir, "otwatch.db"))
	st, err := store.Open(context.WithoutCancel(ctx), dsn, store.Options{})
	if err != nil {
		return fmt.Errorf("demo: opening database %s: %w", store.Redact(dsn), err)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("demo: closing database: %w", cerr))
		}
	}()
	if err := demoSetup(ctx, st, sim.Hosts); err != nil {
		return err
	}
	cat, advPaths := loadAdvisories(f.advPaths, stderr)
	m := sensor.NewMetrics()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	err = sensor.Run(ctx, sensor.Config{Name: demoSensor, Store: st, Logger: log, Metrics: m,
		Files: []string{path}, Learn: f.dur / 2, Indicators: inds})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if ctx.Err() != nil {
		return nil // interrupted while reading the capture
	}
	summary, err := demoSummary(ctx, st, m.Packets())
	if err != nil {
		return err
	}

	a := auth.New(st, auth.Options{Secure: f.tls})
	created, pw, err := a.Bootstrap(ctx, "admin", f.adminPW)
	if err != nil {
		return fmt.Errorf("demo: creating the console user: %w", err)
	}
	var login string
	switch {
	case !created:
		login = "  log in as a user of the database\n"
	case f.adminPW == "":
		login = fmt.Sprintf("  user:     admin\n  password: %s\n", pw)
	default:
		login = "  user:     admin\n  password: the one given (--admin-password or $OTWATCH_ADMIN_PASSWORD)\n"
	}
	sctx := ctx
	if f.serveFor > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, f.serveFor)
		defer cancel()
	}
	opts := console.ServerOptions{Addr: f.listen, TLS: f.tls, Logger: log,
		Ready: func(url, fingerprint string) {
			fmt.Fprintf(stdout, "%s\n%s\notwatch console at %s\n%s", summary, advisoriesLine(cat, advPaths), url, login)
			if fingerprint != "" {
				fmt.Fprintf(stdout, "certificate SHA-256 fingerprint: %s\n", fingerprint)
			}
			until := "until interrupted (Ctrl-C)"
			if f.serveFor > 0 {
				until = "for " + f.serveFor.String()
			}
			fmt.Fprintf(stdout, "Ready in %.1fs; serving %s.\n", time.Since(f.start).Seconds(), until)
		}}
	if f.tls {
		certDir := ""
		if backend, _ := store.BackendOf(dsn); backend != "sqlite" {
			certDir = dir
		}
		base, err := certBase(dsn, certDir)
		if err != nil {
			return err
		}
		opts.SelfSignedCert, opts.SelfSignedKey = base+".console-cert.pem", base+".console-key.pem"
	} else if host, _, err := net.SplitHostPort(f.listen); err == nil {
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			fmt.Fprintf(stderr, "warning: serving the console without TLS on %s: passwords and session cookies cross the network in clear\n", f.listen)
		}
	}
	h := console.New(st, console.Options{Auth: a, TLS: f.tls, Pages: consolePages(cat), Version: version, Logger: log, Advisories: cat})
	if err := console.Serve(sctx, h, opts); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "otwatch demo stopped")
	return nil
}

// demoSetup makes the demo's site, its zones (one per subnet of hosts) and
// its sensor, learning, in st. A store that already holds the demo's
// sensor is refused.
func demoSetup(ctx context.Context, st store.Store, hosts []simulate.Host) error {
	switch _, err := st.Sensor(ctx, demoSensor); {
	case err == nil:
		return fmt.Errorf("%w: the database already holds the sensor %q of a demo", errUsage, demoSensor)
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("demo: %w", err)
	}
	const actor = "otwatch demo"
	if err := st.PutSite(ctx, store.Site{ID: demoSite, Name: "Demo plant", Description: "a simulated plant"}, actor); err != nil {
		return fmt.Errorf("demo: creating the site: %w", err)
	}
	for _, z := range demoZones(hosts) {
		if err := st.PutZone(ctx, z, actor); err != nil {
			return fmt.Errorf("demo: creating zone %s: %w", z.ID, err)
		}
	}
	s := store.Sensor{ID: demoSensor, Name: demoSensor, Site: demoSite, Mode: store.ModeLearning}
	if err := st.PutSensor(ctx, s, actor); err != nil {
		return fmt.Errorf("demo: creating the sensor: %w", err)
	}
	return nil
}

// demoSummary returns the one-line summary of what the sensor stored.
func demoSummary(ctx context.Context, st store.Store, packets uint64) (string, error) {
	q, err := store.AlertQuery{Sensors: []string{demoSensor}}.Normalize()
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	fc, err := st.AlertFacets(ctx, q)
	if err != nil {
		return "", fmt.Errorf("demo: counting alerts: %w", err)
	}
	counts := map[alert.Engine]int64{}
	for _, c := range fc.Counts[store.DimEngine] {
		if e, err := alert.ParseEngine(c.Value); err == nil {
			counts[e] += c.Count
		}
	}
	var parts []string
	engines := 0
	for _, e := range alert.Engines() {
		parts = append(parts, fmt.Sprintf("%s %d", e.Key(), counts[e]))
		if counts[e] > 0 {
			engines++
		}
	}
	return fmt.Sprintf("demo: %d packets, %d alerts from %d engines: %s", packets, fc.Total, engines, strings.Join(parts, ", ")), nil
}
