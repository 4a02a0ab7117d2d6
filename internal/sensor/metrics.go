package sensor

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/inventory"
)

// Metrics holds a sensor's counters and gauges. Its methods are safe for
// concurrent use; ServeHTTP writes them in the Prometheus text exposition
// format (version 0.0.4).
type Metrics struct {
	packets     atomic.Uint64
	bytes       atomic.Uint64
	drops       atomic.Uint64
	flows       atomic.Int64
	events      atomic.Uint64
	batches     atomic.Uint64
	storeErrors atomic.Uint64
	suppressed  atomic.Uint64
	// limited counts what the sensor's tables dropped at their limits:
	// MACs, IP addresses, connections and ARP conflicts of the
	// inventory, hosts of the detector.
	limited [len(limitedTables)]atomic.Uint64
	files   atomic.Uint64
	mode    atomic.Uint32 // detect.Mode
	alerts  [alert.Operational + 1][alert.Critical + 1]atomic.Uint64
	base    atomic.Pointer[baseline.Baseline]

	mu  sync.Mutex
	ops map[string]uint64 // operations by protocol
}

// NewMetrics returns metrics at zero.
func NewMetrics() *Metrics { return &Metrics{ops: map[string]uint64{}} }

// setOps replaces the operation counts by protocol.
func (m *Metrics) setOps(ops map[string]uint64) {
	m.mu.Lock()
	if m.ops == nil {
		m.ops = make(map[string]uint64, len(ops))
	}
	maps.Copy(m.ops, ops)
	m.mu.Unlock()
}

// limitedTables name the tables of Metrics.limited.
var limitedTables = [...]string{"inventory_macs", "inventory_addresses", "inventory_connections", "inventory_conflicts", "detector_hosts"}

// setLimited records the drop counts of the inventory and the detector.
func (m *Metrics) setLimited(inv inventory.Stats, det detect.Stats) {
	for i, v := range [...]uint64{inv.MACsDropped, inv.AddressesDropped, inv.ConnectionsDropped, inv.ConflictsDropped, det.HostsDropped} {
		m.limited[i].Store(v)
	}
}

// alertOpened counts a new alert.
func (m *Metrics) alertOpened(a *alert.Alert) {
	if int(a.Engine) < len(m.alerts) && int(a.Severity) < len(m.alerts[0]) {
		m.alerts[a.Engine][a.Severity].Add(1)
	}
}

// Alerts returns how many alerts were opened, of every engine and severity.
func (m *Metrics) Alerts() uint64 {
	var n uint64
	for i := range m.alerts {
		for j := range m.alerts[i] {
			n += m.alerts[i][j].Load()
		}
	}
	return n
}

// Packets returns how many frames were processed.
func (m *Metrics) Packets() uint64 { return m.packets.Load() }

// ServeHTTP writes the metrics.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if r.Method == http.MethodHead {
		return
	}
	_ = m.Write(w)
}

// Write writes the metrics in the Prometheus text exposition format: for
// each metric family a HELP and a TYPE line, then its samples, one per
// line as `name{label="value",...} value`.
func (m *Metrics) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	family := func(name, typ, help string) {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
	}
	sample := func(name string, v uint64, labels ...string) {
		bw.WriteString(name)
		if len(labels) > 0 {
			bw.WriteByte('{')
			for i := 0; i+1 < len(labels); i += 2 {
				if i > 0 {
					bw.WriteByte(',')
				}
				bw.WriteString(labels[i])
				bw.WriteString(`="`)
				bw.WriteString(escapeLabel(labels[i+1]))
				bw.WriteByte('"')
			}
			bw.WriteByte('}')
		}
		bw.WriteByte(' ')
		bw.WriteString(strconv.FormatUint(v, 10))
		bw.WriteByte('\n')
	}
	counter := func(name, help string, v uint64) {
		family(name, "counter", help)
		sample(name, v)
	}
	counter("otwatch_packets_total", "Frames captured or read and processed.", m.packets.Load())
	counter("otwatch_bytes_total", "Captured bytes of the frames processed.", m.bytes.Load())
	counter("otwatch_drops_total", "Frames the kernel dropped before the sensor could read them (live capture).", m.drops.Load())
	family("otwatch_flows_active", "gauge", "Flows in the flow table.")
	sample("otwatch_flows_active", uint64(max(m.flows.Load(), 0)))

	family("otwatch_operations_total", "counter", "Operations the dissectors decoded, by protocol.")
	m.mu.Lock()
	ops := maps.Clone(m.ops)
	m.mu.Unlock()
	for _, p := range slices.Sorted(maps.Keys(ops)) {
		sample("otwatch_operations_total", ops[p], "protocol", p)
	}

	family("otwatch_alerts_total", "counter", "Alerts opened, by engine and severity.")
	for _, e := range alert.Engines() {
		for s := alert.Low; s <= alert.Critical; s++ {
			sample("otwatch_alerts_total", m.alerts[e][s].Load(), "engine", e.Key(), "severity", strings.ToLower(s.String()))
		}
	}
	counter("otwatch_alerts_suppressed_total", "New alerts dropped by exclusion rules and mutes.", m.suppressed.Load())
	family("otwatch_limit_dropped_total", "counter", "Entries the sensor's tables did not keep because they were full (a MAC flood, a scan of many addresses), by table.")
	for i, what := range limitedTables {
		sample("otwatch_limit_dropped_total", m.limited[i].Load(), "table", what)
	}
	counter("otwatch_events_total", "Inventory events (new devices, connections, changes) seen.", m.events.Load())
	counter("otwatch_files_total", "Capture files read to their end.", m.files.Load())
	counter("otwatch_store_batches_total", "Batches of alerts written to the store.", m.batches.Load())
	counter("otwatch_store_errors_total", "Writes to the store that failed (and were retried or given up).", m.storeErrors.Load())

	family("otwatch_mode", "gauge", "The sensor's mode: 1 for the current one.")
	cur := detect.Mode(m.mode.Load())
	for _, md := range []detect.Mode{detect.Learning, detect.Operational} {
		v := uint64(0)
		if md == cur {
			v = 1
		}
		sample("otwatch_mode", v, "mode", md.String())
	}
	family("otwatch_baseline_entries", "gauge", "Entries in the sensor's baseline.")
	n := 0
	if b := m.base.Load(); b != nil {
		n = b.Len()
	}
	sample("otwatch_baseline_entries", uint64(n))
	return bw.Flush()
}

// escapeHelp escapes a HELP text: backslash and line feed.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// escapeLabel escapes a label value: backslash, double quote and line feed.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
