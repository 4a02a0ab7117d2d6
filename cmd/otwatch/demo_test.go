package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/simulate"
	"github.com/otwatch/otwatch/internal/store"
)

// demoReadyWithin is the acceptance bound: the demo prints its URL and
// credentials and serves alerts of every engine within it.
const demoReadyWithin = 60 * time.Second

// demoAlertTypes returns the alert types the demo's scenarios are built to
// raise, as simulate declares them (scenarios that raise several declare
// none).
func demoAlertTypes(t *testing.T) []string {
	t.Helper()
	var types []string
	for _, s := range demoScenarios {
		i := slices.IndexFunc(simulate.Scenarios(), func(x simulate.Scenario) bool { return x.Name == s.name })
		if i < 0 {
			t.Fatalf("demo scenario %q is not a simulate scenario", s.name)
		}
		if typ := simulate.Scenarios()[i].Alert; typ != "" {
			types = append(types, typ)
		}
	}
	return types
}

// demoOutput is what the serving demo printed.
type demoOutput struct {
	url, password, fingerprint string
	alerts                     int64 // from the summary line
	engines                    map[string]int64
}

var (
	demoSummaryRE  = regexp.MustCompile(`demo: (\d+) packets, (\d+) alerts from (\d+) engines: (.*)`)
	demoPasswordRE = regexp.MustCompile(`(?m)^  password: (\S+)$`)
	demoPrintRE    = regexp.MustCompile(`certificate SHA-256 fingerprint: ([0-9a-f]{64})`)
)

// parseDemoOutput parses the demo's banner once it is complete.
func parseDemoOutput(s string) (demoOutput, bool) {
	if !strings.Contains(s, "Ready in") {
		return demoOutput{}, false
	}
	var o demoOutput
	if m := consoleURL.FindStringSubmatch(s); m != nil {
		o.url = m[1]
	}
	if m := demoPasswordRE.FindStringSubmatch(s); m != nil {
		o.password = m[1]
	}
	if m := demoPrintRE.FindStringSubmatch(s); m != nil {
		o.fingerprint = m[1]
	}
	if m := demoSummaryRE.FindStringSubmatch(s); m != nil {
		o.alerts, _ = strconv.ParseInt(m[2], 10, 64)
		o.engines = map[string]int64{}
		for _, part := range strings.Split(m[4], ", ") {
			k, v, _ := strings.Cut(part, " ")
			o.engines[k], _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return o, true
}

// consoleClient is a logged-in client of a console.
type consoleClient struct {
	t      *testing.T
	http   *http.Client
	url    string
	cookie *http.Cookie
}

// login logs in to the console at url through the API.
func login(t *testing.T, client *http.Client, url, user, password string) *consoleClient {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": user, "password": password})
	resp, err := client.Post(url+"api/v1/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	defer resp.Body.Close()
	var me struct{ Role string }
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil || resp.StatusCode != http.StatusOK || me.Role != "admin" || len(resp.Cookies()) != 1 {
		t.Fatalf("login: status %d, role %q, cookies %v, %v", resp.StatusCode, me.Role, resp.Cookies(), err)
	}
	return &consoleClient{t: t, http: client, url: url, cookie: resp.Cookies()[0]}
}

// get fetches path and decodes its JSON into v (if not nil); it returns the
// response's status and content type.
func (c *consoleClient) get(path string, v any) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.url+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.AddCookie(c.cookie)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			c.t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode, resp.Header.Get("Content-Type")
}

// demoPlantZones are the zones the demo makes for the simulated plant's
// subnets, as the simulator's documentation lays them out.
var demoPlantZones = []struct {
	subnet netip.Prefix
	zone   string
}{
	{netip.MustParsePrefix("10.10.1.0/24"), "control"},
	{netip.MustParsePrefix("10.10.2.0/24"), "field"},
	{netip.MustParsePrefix("10.10.3.0/24"), "building"},
	{netip.MustParsePrefix("10.10.4.0/24"), "substation"},
}

// demoPlantZone returns the zone an alert between the given addresses
// must carry: that of the first address in a plant subnet, the
// destination before the source; "" when neither is.
func demoPlantZone(addrs ...netip.Addr) string {
	for _, a := range addrs {
		for _, z := range demoPlantZones {
			if a.IsValid() && z.subnet.Contains(a) {
				return z.zone
			}
		}
	}
	return ""
}

// checkDemoConsole checks, through the API of a demo console, that every
// engine raised alerts, that every scenario's alert type is there, that
// the counts agree with the printed summary, and that every alert carries
// the zone of its destination, else of its source.
func checkDemoConsole(t *testing.T, c *consoleClient, out demoOutput) {
	t.Helper()
	var fc store.Facets
	if code, _ := c.get("api/v1/alerts/facets", &fc); code != http.StatusOK {
		t.Fatalf("facets: status %d", code)
	}
	got := map[alert.Engine]int64{}
	for _, v := range fc.Counts[store.DimEngine] {
		e, err := alert.ParseEngine(v.Value)
		if err != nil {
			t.Errorf("facet engine %q: %v", v.Value, err)
		}
		got[e] = v.Count
	}
	for _, e := range alert.Engines() {
		if got[e] == 0 {
			t.Errorf("no alert of engine %s in the console; facets %+v", e, fc.Counts[store.DimEngine])
		}
		if out.engines[e.Key()] != got[e] {
			t.Errorf("summary says %d %s alerts, the console %d", out.engines[e.Key()], e.Key(), got[e])
		}
	}
	if fc.Total != out.alerts {
		t.Errorf("summary says %d alerts, the console %d", out.alerts, fc.Total)
	}
	var types []string
	for _, v := range fc.Counts[store.DimType] {
		types = append(types, v.Value)
	}
	for _, want := range demoAlertTypes(t) {
		if !slices.Contains(types, want) {
			t.Errorf("no %s alert in the console; types %v", want, types)
		}
	}
	var page store.AlertPage
	if code, _ := c.get("api/v1/alerts?limit=200", &page); code != http.StatusOK || int64(len(page.Alerts)) != fc.Total {
		t.Fatalf("alerts: status %d, %d alerts, want %d", code, len(page.Alerts), fc.Total)
	}
	zones := map[string]int{}
	for _, a := range page.Alerts {
		if a.Sensor != demoSensor || a.Site != demoSite {
			t.Errorf("alert %s: sensor %q site %q, want %q %q", a.Type, a.Sensor, a.Site, demoSensor, demoSite)
		}
		if want := demoPlantZone(a.Destination.IP, a.Source.IP); a.Zone != want {
			t.Errorf("alert %s from %v to %v: zone %q, want %q", a.Type, a.Source.IP, a.Destination.IP, a.Zone, want)
		}
		zones[a.Zone]++
	}
	t.Logf("alerts by zone: %v", zones)
	for _, z := range []string{"control", "field"} {
		if zones[z] == 0 {
			t.Errorf("no alert in zone %s; by zone %v", z, zones)
		}
	}
	if code, ctype := c.get("alerts", nil); code != http.StatusOK || !strings.HasPrefix(ctype, "text/html") {
		t.Errorf("alerts page: status %d, %s", code, ctype)
	}
}

// TestDemoServes runs `otwatch demo` as a user would, with its defaults
// (HTTPS, ten minutes of traffic), and checks that within the acceptance
// bound it prints the console's URL and credentials and serves alerts of
// every engine; then that SIGINT stops it cleanly and removes its files.
func TestDemoServes(t *testing.T) {
	bin := buildSensorBinary(t)
	tmp := t.TempDir()
	cmd := exec.Command(bin, "demo", "--listen", "127.0.0.1:0", "--for", "5m")
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "OTWATCH_ADMIN_PASSWORD=") || strings.HasPrefix(kv, "TMPDIR=")
	}), "TMPDIR="+tmp)
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
		}
	})

	var out demoOutput
	for ok := false; !ok; time.Sleep(20 * time.Millisecond) {
		if out, ok = parseDemoOutput(stdout.String()); ok {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("demo exited: %v\n%s%s", err, stdout, stderr)
		default:
		}
		if time.Since(start) > demoReadyWithin {
			t.Fatalf("demo not ready within %v:\n%s%s", demoReadyWithin, stdout, stderr)
		}
	}
	t.Logf("ready after %v:\n%s", time.Since(start).Round(time.Millisecond), stdout)
	if !strings.HasPrefix(out.url, "https://127.0.0.1:") || out.password == "" || out.fingerprint == "" || out.engines == nil {
		t.Fatalf("banner incomplete: %+v\n%s", out, stdout)
	}
	// Trust exactly the certificate whose fingerprint was printed.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if hex.EncodeToString(sum[:]) != out.fingerprint {
				return errors.New("certificate does not match the printed fingerprint")
			}
			return nil
		},
	}}}
	c := login(t, client, out.url, "admin", out.password)
	checkDemoConsole(t, c, out)
	if d := time.Since(start); d > demoReadyWithin {
		t.Errorf("alerts of every engine served after %v, want within %v", d, demoReadyWithin)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("demo after SIGINT: %v\n%s", err, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("demo did not stop within 30s of SIGINT\n%s", stderr)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the demo left %s in the temporary directory", left[0].Name())
	}
}

// TestDemoDatabase serves the demo in process over plain HTTP with a
// named database, a given password and an advisory for the plant's Siemens
// PLC, for a short time, and checks the console, then that the database
// stays and is refused by a second demo.
func TestDemoDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	adv := filepath.Join(t.TempDir(), "s7.json")
	writeAdvisory(t, adv, "TEST-S7", s7Name, "vers:all/<V3.2.16", nil)
	const password = "a demo passphrase"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- demoMain(ctx, []string{"--duration", "2m", "--tls=false", "--listen", "127.0.0.1:0", "--db", db, "--admin-password", password, "--for", "2m",
			"--advisories", adv}, stdout, stderr)
	}()
	var out demoOutput
	deadline := time.Now().Add(demoReadyWithin)
	for ok := false; !ok; time.Sleep(20 * time.Millisecond) {
		if out, ok = parseDemoOutput(stdout.String()); ok {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("demo ended: %v\n%s%s", err, stdout, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo not ready within %v:\n%s%s", demoReadyWithin, stdout, stderr)
		}
	}
	if !strings.HasPrefix(out.url, "http://127.0.0.1:") || out.password != "" || out.fingerprint != "" || strings.Contains(stdout.String(), password) {
		t.Errorf("banner: %+v\n%s", out, stdout)
	}
	c := login(t, &http.Client{Timeout: 10 * time.Second}, out.url, "admin", password)
	checkDemoConsole(t, c, out)
	if !strings.Contains(stdout.String(), "vendor advisories: 1 loaded from "+adv) {
		t.Errorf("the banner does not say the advisory was loaded:\n%s", stdout)
	}
	var cves struct {
		CVEs []struct {
			CVE      string
			Affected []struct{ Address string }
		}
	}
	if code, _ := c.get("api/v1/vulnerabilities?by=cve", &cves); code != http.StatusOK || len(cves.CVEs) != 1 || cves.CVEs[0].CVE != "CVE-2018-4843" ||
		len(cves.CVEs[0].Affected) != 1 || cves.CVEs[0].Affected[0].Address != "10.10.2.11" {
		t.Errorf("vulnerabilities: %d %+v, want CVE-2018-4843 affecting the Siemens PLC 10.10.2.11", code, cves)
	}
	if code, ctype := c.get("vulnerabilities", nil); code != http.StatusOK || !strings.HasPrefix(ctype, "text/html") {
		t.Errorf("vulnerabilities page: status %d, %s", code, ctype)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo after cancel: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("database not kept: %v", err)
	}
	code, _, errOut := runCmd(t, "demo", "--duration", "1m", "--db", db, "--listen", "127.0.0.1:0")
	if code != 2 || !strings.Contains(errOut, "exists") {
		t.Errorf("second demo on %s: code %d, %s", db, code, errOut)
	}
}

// demoAlertRow is one row of the alert table of `demo --serve=false`.
type demoAlertRow struct{ engine, typ string }

// parseAlertTable reads the ENGINE and TYPE columns of the alert table.
func parseAlertTable(t *testing.T, out string) []demoAlertRow {
	t.Helper()
	_, table, ok := strings.Cut(out, "\nFIRST ")
	if !ok {
		t.Fatalf("no alert table in:\n%s", out)
	}
	var rows []demoAlertRow
	lines := strings.Split(table, "\n")[1:]
	for _, l := range lines {
		if l == "" {
			break
		}
		f := strings.Fields(l)
		if len(f) < 6 {
			t.Fatalf("alert row %q", l)
		}
		// FIRST is a date and a time: ENGINE and TYPE are fields 4 and 5.
		rows = append(rows, demoAlertRow{f[3], f[4]})
	}
	return rows
}

// TestDemoNoServe checks the text report of `demo --serve=false`, for the
// one-minute capture CI runs and for the default: alerts of every engine,
// and of every type the scenarios are built to raise.
func TestDemoNoServe(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"1m", []string{"--duration", "1m"}},
		{"default", nil},
		{"seed 7", []string{"--seed", "7", "--duration", "3m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, append([]string{"demo", "--serve=false"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("code %d: %s", code, errOut)
			}
			if !strings.Contains(out, "Alerts (learning on the first 50% of the capture") {
				t.Errorf("no alert heading in:\n%s", out)
			}
			rows := parseAlertTable(t, out)
			for _, e := range alert.Engines() {
				if !slices.ContainsFunc(rows, func(r demoAlertRow) bool { return r.engine == e.Key() }) {
					t.Errorf("no %s alert in:\n%s", e.Key(), out)
				}
			}
			for _, typ := range demoAlertTypes(t) {
				if !slices.ContainsFunc(rows, func(r demoAlertRow) bool { return r.typ == typ }) {
					t.Errorf("no %s alert in:\n%s", typ, out)
				}
			}
			if !strings.Contains(out, fmt.Sprintf("\n%d alerts", len(rows))) {
				t.Errorf("the alert count does not match the %d rows:\n%s", len(rows), out)
			}
		})
	}
}

// TestDemoScenariosAfterLearning checks, against the events the simulator
// reports, that every attack step of the demo starts after the learning
// half, for the shortest capture the demo takes and longer ones.
func TestDemoScenariosAfterLearning(t *testing.T) {
	for _, d := range []time.Duration{demoMinDuration, 90 * time.Second, simulate.DefaultDuration, 2 * time.Hour} {
		t.Run(d.String(), func(t *testing.T) {
			opts := demoSimulation(1, d)
			sum, err := simulate.Generate(io.Discard, opts)
			if err != nil {
				t.Fatal(err)
			}
			learnEnd := sum.Start.Add(d / 2)
			first := map[string]time.Time{}
			for _, e := range sum.Events {
				if _, ok := first[e.Scenario]; !ok {
					first[e.Scenario] = e.Time
				}
			}
			for _, s := range demoScenarios {
				at, ok := first[s.name]
				switch {
				case !ok:
					t.Errorf("scenario %s has no event", s.name)
				case !at.After(learnEnd):
					t.Errorf("scenario %s starts at %v, before learning ends at %v", s.name, at, learnEnd)
				}
			}
		})
	}
}

// TestDemoZones checks the zones the demo makes: the plant's named
// subnets, an unnamed private subnet named after itself, and no zone for
// a simulated internet host.
func TestDemoZones(t *testing.T) {
	internet := simulate.Host{Name: "c2", Role: "internet", IP: netip.MustParseAddr("203.0.113.66"), Subnet: netip.MustParsePrefix("203.0.113.0/24")}
	other := simulate.Host{Name: "lab", IP: netip.MustParseAddr("192.168.7.5"), Subnet: netip.MustParsePrefix("192.168.7.0/24")}
	tests := []struct {
		name  string
		hosts []simulate.Host
		want  []string // zone ID and subnet
	}{
		{"plant", simulate.Plant(), []string{"control 10.10.1.0/24", "field 10.10.2.0/24"}},
		{"internet host", append(simulate.Plant(), internet), []string{"control 10.10.1.0/24", "field 10.10.2.0/24"}},
		{"unnamed subnet", []simulate.Host{other, internet}, []string{"net-192-168-7-0-24 192.168.7.0/24"}},
	}
	for _, tt := range tests {
		var got []string
		for _, z := range demoZones(tt.hosts) {
			if z.Site != demoSite || len(z.Subnets) != 1 {
				t.Errorf("%s: zone %+v", tt.name, z)
				continue
			}
			got = append(got, z.ID+" "+z.Subnets[0].String())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: zones %q, want %q", tt.name, got, tt.want)
		}
	}
	for _, z := range demoPlantZones {
		if n, ok := demoZoneNames[z.subnet]; !ok || n[0] != z.zone {
			t.Errorf("demo zone of %v: %q, want %q", z.subnet, n[0], z.zone)
		}
	}
}

func TestDemoErrors(t *testing.T) {
	t.Setenv("OTWATCH_ADMIN_PASSWORD", "")
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"short duration", []string{"--duration", "30s"}, 2, "--duration"},
		{"negative for", []string{"--for", "-1s"}, 2, "--for"},
		{"json while serving", []string{"--json"}, 2, "--serve=false"},
		{"advisories without serving", []string{"--serve=false", "--advisories", "csaf"}, 2, "--advisories"},
		{"weak password", []string{"--admin-password", "short"}, 2, "admin password"},
		{"argument", []string{"extra"}, 2, "unexpected argument"},
		{"existing database", []string{"--db", existing}, 2, "exists"},
		{"busy address", []string{"--listen", busy.Addr().String()}, 1, "--listen"},
		{"bad address", []string{"--listen", "nowhere"}, 1, "--listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, append([]string{"demo"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Errorf("demo %v: code %d, stderr %q; want %d and %q", tt.args, code, errOut, tt.code, tt.msg)
			}
		})
	}
}
