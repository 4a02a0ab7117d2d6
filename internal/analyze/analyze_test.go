package analyze

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/simulate"
)

// TestRolesOfSimulatedPlant checks the role guessed for every host of the
// simulated plant against the simulator's ground truth.
func TestRolesOfSimulatedPlant(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plant.pcap")
	var buf bytes.Buffer
	sim, err := simulate.Generate(&buf, simulate.Options{Seed: 3, Duration: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := Files([]string{path}, Options{Pipeline: pipeline.DefaultOptions})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Packets != uint64(sim.Packets) {
		t.Errorf("packets %d, simulated %d", sum.Packets, sim.Packets)
	}
	want := map[simulate.Role]string{
		simulate.RoleRouter:    "router",
		simulate.RolePLC:       "PLC/RTU/IED",
		simulate.RoleRTU:       "PLC/RTU/IED",
		simulate.RoleHMI:       "HMI/SCADA/EWS",
		simulate.RoleHistorian: "HMI/SCADA/EWS",
	}
	byMAC := map[string]Endpoint{}
	for _, e := range sum.Endpoints {
		byMAC[e.MAC] = e
	}
	for _, h := range sim.Hosts {
		w, ok := want[h.Role]
		if !ok {
			continue
		}
		e, seen := byMAC[h.MAC.String()]
		if !seen {
			t.Errorf("%s (%s) not among the endpoints", h.Name, h.MAC)
			continue
		}
		if e.Role != w {
			t.Errorf("%s (%s, %s): role %q, want %q", h.Name, h.MAC, h.Role, e.Role, w)
		}
	}
	if e := byMAC["ff:ff:ff:ff:ff:ff"]; e.Role != "broadcast" {
		t.Errorf("broadcast address role %q", e.Role)
	}
}
