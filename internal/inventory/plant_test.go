package inventory

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/simulate"
)

// runPlant simulates the plant and feeds it through the pipeline into an
// inventory.
func runPlant(t *testing.T, o simulate.Options, sink Sink) (simulate.Summary, *Inventory) {
	t.Helper()
	return watchPlant(t, o, sink, 0, nil)
}

// watchPlant is runPlant that also calls watch once, before the first
// packet at or after offset at from the capture's start.
func watchPlant(t *testing.T, o simulate.Options, sink Sink, at time.Duration, watch func(*Inventory)) (simulate.Summary, *Inventory) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := simulate.Generate(&buf, o)
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions
	opts.Sink = sink
	inv := New(opts)
	po := pipeline.DefaultOptions
	po.Observer = inv
	po.Emitter = inv
	p := pipeline.New(po)
	src, err := capture.NewReader(bytes.NewReader(buf.Bytes()), "plant.pcap")
	if err != nil {
		t.Fatal(err)
	}
	for {
		pkt, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if watch != nil && !pkt.Timestamp.Before(sum.Start.Add(at)) {
			watch(inv)
			watch = nil
		}
		p.Process(pkt)
	}
	p.Close()
	inv.Flush()
	return sum, inv
}

// roleType is the type each simulated role must get from today's traffic
// (Modbus/TCP, ARP, DHCP and a SYN scan; no Modbus dissector yet, so only
// the per-flow service operations and the frames themselves):
//   - the RTU is an rtu when it serves DNP3 or IEC 104; when it answers
//     Modbus only, nothing in its traffic tells it from a PLC: plc;
//   - the historian polls every PLC and the RTU at a fixed interval and
//     serves no database in the simulation: polling alone makes it an hmi;
//   - the engineering workstation and the unknown laptop open occasional
//     Modbus sessions to a PLC without a polling interval;
//   - the scanner exchanges no data with anyone: unknown (with the
//     scanning evidence).
var roleType = map[simulate.Role]Type{
	simulate.RoleRouter:      TypeNetwork,
	simulate.RoleEngineering: TypeEngineering,
	simulate.RoleHMI:         TypeHMI,
	simulate.RoleHistorian:   TypeHMI,
	simulate.RolePLC:         TypePLC,
	simulate.RoleRTU:         TypeRTU,
	simulate.RoleScanner:     TypeUnknown,
	simulate.RoleLaptop:      TypeEngineering,
}

// TestSimulatedPlant checks the exact device list against the simulator's
// ground truth: every host found once, by MAC, holding exactly its IPs
// (the router's two interfaces share one MAC), typed from its role, with
// no device for the router's forwarded IPs, broadcast or multicast.
func TestSimulatedPlant(t *testing.T) {
	var events []Event
	sim, inv := runPlant(t, simulate.Options{Seed: 1, Duration: 10 * time.Minute, Scenarios: []string{"portscan", "new-device"}},
		SinkFunc(func(e Event) { events = append(events, e) }))
	snap := inv.Snapshot()
	type want struct {
		ips   []string
		roles []simulate.Role
		names []string
	}
	byMAC := map[string]*want{}
	for _, h := range sim.Hosts {
		w := byMAC[h.MAC.String()]
		if w == nil {
			w = &want{}
			byMAC[h.MAC.String()] = w
		}
		w.ips = append(w.ips, h.IP.String())
		w.roles = append(w.roles, h.Role)
		w.names = append(w.names, h.Name)
	}
	seen := map[string]bool{}
	for _, d := range snap.Devices {
		w := byMAC[d.MAC]
		if w == nil {
			t.Errorf("phantom device %d: MAC %q IPs %v type %s (%v)", d.ID, d.MAC, d.IPs, d.Type, d.Evidence)
			continue
		}
		if seen[d.MAC] {
			t.Errorf("%s (%s) found twice", w.names[0], d.MAC)
		}
		seen[d.MAC] = true
		ips := slices.Clone(w.ips)
		slices.Sort(ips)
		if !slices.Equal(d.IPs, ips) {
			t.Errorf("%s (%s): IPs %v, want %v", w.names[0], d.MAC, d.IPs, ips)
		}
		wt := roleType[w.roles[0]]
		if wt == TypeRTU && !slices.ContainsFunc(d.Serves, func(s Service) bool { return s.Protocol == "dnp3" || s.Protocol == "iec104" }) {
			wt = TypePLC
		}
		if d.Type != wt {
			t.Errorf("%s (%s, %s): type %s, want %s; evidence %q", w.names[0], d.MAC, w.roles[0], d.Type, wt, d.Evidence)
		}
		if len(d.Evidence) == 0 {
			t.Errorf("%s: no evidence", w.names[0])
		}
		t.Logf("%-15s %-17s %-12v %-24s L%d %q", w.names[0], d.MAC, d.IPs, d.Type, d.Purdue, d.Evidence)
	}
	for mac, w := range byMAC {
		if !seen[mac] {
			t.Errorf("%s (%s) not found", w.names[0], mac)
		}
	}
	// Vendors from the OUI agree with the simulator's (IEEE-registered)
	// vendor names, compared case-insensitively on their first word.
	for _, h := range sim.Hosts {
		for _, d := range snap.Devices {
			if d.MAC == h.MAC.String() {
				first := strings.ToLower(strings.Fields(h.Vendor)[0])
				if !strings.HasPrefix(strings.ToLower(d.Vendor), first[:min(len(first), 7)]) {
					t.Errorf("%s: vendor %q, simulator says %q", h.Name, d.Vendor, h.Vendor)
				}
			}
		}
	}
	// Purdue: PLCs level 1, HMIs and workstations level 2.
	for _, d := range snap.Devices {
		if want := d.Type.fixedLevel(); want >= 0 && d.Purdue != want {
			t.Errorf("device %d (%s): Purdue %d, want %d", d.ID, d.Type, d.Purdue, want)
		}
	}
	// Every HMI polls the three PLCs: connections with modbus/502.
	hmi := 0
	for _, c := range snap.Connections {
		cl, sv := snap.Device(c.Client), snap.Device(c.Server)
		if cl.Type == TypeHMI && sv.Type == TypePLC && c.Port == 502 && c.Protocol == "modbus" && c.Regular {
			hmi++
			if !c.CrossesSubnet {
				t.Errorf("HMI %v → PLC %v does not cross subnets", cl.IPs, sv.IPs)
			}
		}
	}
	if hmi < 2*3 {
		t.Errorf("%d regular HMI→PLC Modbus connections, want at least 6 (2 HMIs × 3 PLCs)", hmi)
	}
	// Events: one new_device per host; the laptop joins mid-capture.
	newDev := 0
	for _, e := range events {
		if e.Type == EventNewDevice {
			newDev++
		}
	}
	if newDev != len(byMAC) {
		t.Errorf("%d new_device events, want %d", newDev, len(byMAC))
		for _, e := range events {
			t.Log(e)
		}
	}
}

// TestSimulatedSubstation checks that both protection relays of the
// substation cell are IEDs: ied01 serves MMS, ied02 only publishes GOOSE,
// which in IEC 61850-8-1 only an IED does.
func TestSimulatedSubstation(t *testing.T) {
	sim, inv := runPlant(t, simulate.Options{Seed: 1, Duration: 2 * time.Minute, Cells: []string{simulate.CellSubstation}}, nil)
	snap := inv.Snapshot()
	n := 0
	for _, h := range sim.Hosts {
		if h.Role != simulate.RoleIED {
			continue
		}
		n++
		i := slices.IndexFunc(snap.Devices, func(d Device) bool { return d.MAC == h.MAC.String() })
		if i < 0 {
			t.Errorf("%s (%s) not found", h.Name, h.MAC)
			continue
		}
		if d := snap.Devices[i]; d.Type != TypeIED {
			t.Errorf("%s (%s): type %s, want ied; evidence %q", h.Name, h.MAC, d.Type, d.Evidence)
		}
	}
	if n != 2 {
		t.Fatalf("%d IEDs in the simulated substation, want 2", n)
	}
}
