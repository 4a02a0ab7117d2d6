package inventory

import (
	"slices"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/simulate"
)

// scenarioHosts returns the simulated hosts a scenario's alert is from
// (the host that claims an address in ARP) and about (the host the
// address belongs to).
func scenarioHosts(t *testing.T, sim simulate.Summary, name string) (from, about simulate.Host) {
	t.Helper()
	i := slices.IndexFunc(simulate.Scenarios(), func(s simulate.Scenario) bool { return s.Name == name })
	if i < 0 {
		t.Fatalf("no simulated scenario %q", name)
	}
	sc := simulate.Scenarios()[i]
	host := func(n string) simulate.Host {
		j := slices.IndexFunc(sim.Hosts, func(h simulate.Host) bool { return h.Name == n })
		if j < 0 {
			t.Fatalf("scenario %s: no simulated host %q", name, n)
		}
		return sim.Hosts[j]
	}
	return host(sc.Source), host(sc.Destination)
}

// byMAC returns the device with MAC m, or nil.
func byMAC(s *Snapshot, m string) *Device {
	for i := range s.Devices {
		if s.Devices[i].MAC == m {
			return &s.Devices[i]
		}
	}
	return nil
}

// TestSimulatedARPClaims feeds the simulated ARP attacks: a host poisons
// another's cache with the gateway's address for 30 s, and a rogue device
// joins with a PLC's address. The host that owns the address by steady
// traffic keeps it, during the attack (snapshot taken mid-attack) and
// after; the claimant stays a device of its own with only its own
// addresses, not a router; the claim shows as its claimed_ip fact and one
// ip_conflict event naming both devices; no address moves.
func TestSimulatedARPClaims(t *testing.T) {
	const start = 3 * time.Minute // the attack's start, from the capture's
	tests := []struct {
		scenario string
		snapshot time.Duration // when the snapshot is taken, from the capture's start; 0 at its end
	}{
		{"arp-spoofing", start + 20*time.Second},
		{"arp-spoofing", 0},
		{"arp-duplicate_ip", start + 5*time.Second},
		{"arp-duplicate_ip", 0},
	}
	for _, tt := range tests {
		t.Run(tt.scenario+"/"+tt.snapshot.String(), func(t *testing.T) {
			var events []Event
			var snap *Snapshot
			var take func(*Inventory)
			if tt.snapshot != 0 {
				take = func(inv *Inventory) {
					inv.Flush()
					snap = inv.Snapshot()
				}
			}
			sim, inv := watchPlant(t, simulate.Options{Seed: 1, Duration: 6 * time.Minute, Scenarios: []string{tt.scenario},
				ScenarioStart: map[string]time.Duration{tt.scenario: start}},
				SinkFunc(func(e Event) { events = append(events, e) }), tt.snapshot, take)
			if take == nil {
				snap = inv.Snapshot()
			}
			claimant, owner := scenarioHosts(t, sim, tt.scenario)
			ip := owner.IP.String()
			od, cd := byMAC(snap, owner.MAC.String()), byMAC(snap, claimant.MAC.String())
			if od == nil || cd == nil {
				t.Fatalf("owner %s (%s) → %v, claimant %s (%s) → %v", owner.Name, owner.MAC, od, claimant.Name, claimant.MAC, cd)
			}
			if !slices.Contains(od.IPs, ip) {
				t.Errorf("owner %s (%s): IPs %v, want %s among them", owner.Name, od.MAC, od.IPs, ip)
			}
			var own []string // the claimant's own addresses: those of its host other than the claimed one
			for _, h := range sim.Hosts {
				if h.MAC.String() == claimant.MAC.String() && h.IP != owner.IP {
					own = append(own, h.IP.String())
				}
			}
			if !slices.Equal(cd.IPs, own) {
				t.Errorf("claimant %s (%s): IPs %v, want %v", claimant.Name, cd.MAC, cd.IPs, own)
			}
			if cd.Forwards || cd.Type == TypeNetwork {
				t.Errorf("claimant %s taken for a router: forwards %v, type %s, evidence %q", claimant.Name, cd.Forwards, cd.Type, cd.Evidence)
			}
			if owner.Role != simulate.RoleRouter && (od.Forwards || od.Type == TypeNetwork) {
				t.Errorf("owner %s taken for a router: forwards %v, type %s, evidence %q", owner.Name, od.Forwards, od.Type, od.Evidence)
			}
			if !slices.ContainsFunc(cd.Facts, func(f Fact) bool {
				return f.Key == FactClaimedIP && f.Value == ip && f.Source == "arp"
			}) {
				t.Errorf("claimant %s: no %s fact %s from arp in %+v", claimant.Name, FactClaimedIP, ip, cd.Facts)
			}
			if slices.ContainsFunc(od.Facts, func(f Fact) bool { return f.Key == FactClaimedIP }) {
				t.Errorf("owner %s has a %s fact: %+v", owner.Name, FactClaimedIP, od.Facts)
			}
			var conflicts []Event
			for _, e := range events {
				switch e.Type {
				case EventIPConflict:
					conflicts = append(conflicts, e)
				case EventIPMoved, EventMerged:
					t.Errorf("unexpected event %+v", e)
				}
			}
			if len(conflicts) != 1 {
				t.Fatalf("%d ip_conflict events, want 1: %+v", len(conflicts), conflicts)
			}
			e := conflicts[0]
			if e.Device != cd.ID || e.Peer != od.ID {
				t.Errorf("ip_conflict device %d, peer %d; want %d (%s), %d (%s)", e.Device, e.Peer, cd.ID, claimant.Name, od.ID, owner.Name)
			}
			want := claimant.MAC.String() + " claims " + ip + " held by " + owner.MAC.String()
			if e.Detail != want {
				t.Errorf("ip_conflict detail %q, want %q", e.Detail, want)
			}
			if start := sim.Start.Add(start); e.Time.Before(start) || e.Time.After(start.Add(5*time.Second)) {
				t.Errorf("ip_conflict at %v, want within 5 s of the attack's start %v", e.Time, start)
			}
			newDev := slices.IndexFunc(events, func(e Event) bool { return e.Type == EventNewDevice && e.Device == cd.ID })
			if at := slices.IndexFunc(events, func(e Event) bool { return e.Type == EventIPConflict }); newDev < 0 || newDev > at {
				t.Errorf("ip_conflict (event %d) told before the claimant's new_device (event %d)", at, newDev)
			}
		})
	}
}

// TestARPClaimTakeover checks when an ARP claim on an address another MAC
// owns moves the address: at once when the owner was seen from it only
// once (one gratuitous ARP is not ownership), after the owner has been
// silent for Options.Hold when it held the address, and never while it
// keeps talking.
func TestARPClaimTakeover(t *testing.T) {
	old, peer := mk(1, "10.0.0.5"), mk(9, "10.0.0.9")
	repl := host{[6]byte{0x00, 0x0e, 0x8c, 0x00, 0x00, 0x02}, old.ip} // same address, another MAC
	tests := []struct {
		name string
		// ownerFrames are the owner's ARP claims, one a second from t0;
		// ownerUntil is how long it keeps polling peer after that.
		ownerFrames int
		ownerUntil  time.Duration
		claimAt     time.Duration // the replacement's first claim; it claims every 10 s after
		claimUntil  time.Duration
		replPolls   bool // the replacement polls peer from claimAt to 10 min
		wantMoved   bool
		conflicts   int
	}{
		{"single claim is not ownership", 1, 0, 30 * time.Second, 40 * time.Second, false, true, 0},
		{"owner talks on", 5, 15 * time.Minute, 1 * time.Minute, 10 * time.Minute, true, false, 1},
		{"owner gone silent, claims go on", 5, 1 * time.Minute, 2 * time.Minute, 10 * time.Minute, false, true, 1},
		{"owner gone silent, claimant talks on", 5, 1 * time.Minute, 90 * time.Second, 91 * time.Second, true, true, 1},
		{"claims stop long before owner goes silent", 5, 1 * time.Minute, 10 * time.Second, 30 * time.Second, false, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var events []Event
			opts := DefaultOptions
			opts.Sink = SinkFunc(func(e Event) { events = append(events, e) })
			inv := New(opts)
			arp(inv, peer, t0)
			for i := range tt.ownerFrames {
				arp(inv, old, t0.Add(time.Duration(i)*time.Second))
			}
			type frame struct {
				at    time.Duration
				claim bool
				tick  bool // peer's ARP: capture time passes for everyone
				repl  bool // the replacement polls peer
			}
			var frames []frame
			for d := time.Duration(0); d <= 20*time.Minute; d += 5 * time.Second {
				frames = append(frames, frame{at: d + time.Second/2, tick: true})
			}
			for d := time.Duration(0); d < tt.ownerUntil; d += 5 * time.Second {
				frames = append(frames, frame{at: time.Duration(tt.ownerFrames)*time.Second + d})
			}
			for d := tt.claimAt; d < tt.claimUntil; d += 10 * time.Second {
				frames = append(frames, frame{at: d, claim: true})
			}
			if tt.replPolls {
				for d := tt.claimAt + time.Second; d < 10*time.Minute; d += 5 * time.Second {
					frames = append(frames, frame{at: d, repl: true})
				}
			}
			slices.SortStableFunc(frames, func(a, b frame) int { return int(a.at - b.at) })
			for _, f := range frames {
				switch {
				case f.tick:
					arp(inv, peer, t0.Add(f.at))
				case f.claim:
					arp(inv, repl, t0.Add(f.at))
				case f.repl:
					poll(inv, repl, peer, "modbus", 502, 1, t0.Add(f.at), time.Second, 1)
				default:
					poll(inv, old, peer, "modbus", 502, 1, t0.Add(f.at), time.Second, 1)
				}
			}
			inv.Flush()
			s := inv.Snapshot()
			d := find(s, old)
			if d == nil {
				t.Fatalf("no device holds %s", old.ip)
			}
			moved := d.MAC == macString(repl.mac)
			if !moved && d.MAC != macString(old.mac) {
				t.Fatalf("%s held by %s, want %s or %s", old.ip, d.MAC, macString(old.mac), macString(repl.mac))
			}
			if r := byMAC(s, macString(repl.mac)); r == nil || r.Forwards {
				t.Errorf("replacement %v: missing or taken for a router", r)
			}
			if moved != tt.wantMoved {
				t.Errorf("address moved to the replacement: %v, want %v", moved, tt.wantMoved)
			}
			if n := count(events, EventIPConflict); n != tt.conflicts {
				t.Errorf("%d ip_conflict events, want %d", n, tt.conflicts)
			}
			if n := count(events, EventIPMoved); (n == 1) != tt.wantMoved || n > 1 {
				t.Errorf("%d ip_moved events, want %d", n, map[bool]int{true: 1}[tt.wantMoved])
			}
		})
	}
}

// TestConflictsBounded: the inventory remembers at most maxConflicts ARP
// conflicts. A held address claimed by maxConflicts+10 other MACs in turn
// (one gratuitous ARP each) makes maxConflicts ip_conflict events and
// claimed_ip facts; the 10 claims past the limit are counted as dropped;
// the address stays with its owner throughout.
func TestConflictsBounded(t *testing.T) {
	var events []Event
	inv := New(Options{Sink: SinkFunc(func(e Event) { events = append(events, e) })})
	owner, peer := mk(1, "10.0.0.1"), mk(2, "10.0.0.2")
	for i := range 5 { // the owner claims its address once a second: it holds it
		arp(inv, owner, t0.Add(time.Duration(i)*time.Second))
	}
	arp(inv, peer, t0.Add(6*time.Second)) // past a resolution tick, which binds the address
	claims := maxConflicts + 10
	for i := range claims {
		rival := host{mac: [6]byte{0x02, 0x01, 0x00, byte(i >> 16), byte(i >> 8), byte(i)}, ip: owner.ip}
		arp(inv, rival, t0.Add(10*time.Second+time.Duration(i)*time.Microsecond))
	}
	inv.Flush()
	if got := inv.Stats().ConflictsDropped; got != 10 {
		t.Errorf("ConflictsDropped = %d, want 10", got)
	}
	if n := count(events, EventIPConflict); n != maxConflicts {
		t.Errorf("%d ip_conflict events, want %d", n, maxConflicts)
	}
	snap := inv.Snapshot()
	if d := find(snap, owner); d == nil || !slices.Contains(d.IPs, owner.ip.String()) {
		t.Errorf("the owner lost %s: %+v", owner.ip, d)
	}
}
