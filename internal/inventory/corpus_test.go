package inventory

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/dissect"
	_ "github.com/otwatch/otwatch/internal/dissect/all" // every built-in dissector
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/testenv"
)

// identity is one identity record of a corpus oracle: tshark's fields,
// each a string or a list of strings.
type identity map[string]any

func (id identity) values(k string) []string {
	switch v := id[k].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (id identity) value(k string) string {
	if v := id.values(k); len(v) > 0 {
		return v[0]
	}
	return ""
}

// expectation is one value the inventory must hold for a device, under
// one of the given fact keys.
type expectation struct {
	keys  []string
	value string
	// numbers compares the digits groups only ("4.3" = "4.003" = "V4.3").
	numbers bool
}

// expectations turns an oracle identity record into what the inventory
// must know about the sending device.
func expectations(proto string, id identity) []expectation {
	var out []expectation
	add := func(v string, numbers bool, keys ...string) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, expectation{keys, v, numbers})
		}
	}
	switch id.value("kind") {
	case "list_identity", "cip_identity_object":
		add(id.value("product_name"), false, dissect.FactProduct, dissect.FactModel)
		if r := id.value("revision_major_minor"); r != "" {
			add(r, true, dissect.FactFirmware)
		} else if id.value("major_rev") != "" {
			add(id.value("major_rev")+"."+id.value("minor_rev"), true, dissect.FactFirmware)
		}
	case "read_device_identification":
		objs, vals := id.values("object_id"), id.values("object_value")
		for i := range min(len(objs), len(vals)) {
			switch objs[i] {
			case "0":
				add(vals[i], false, dissect.FactVendor)
			case "1":
				add(vals[i], false, dissect.FactProductCode, dissect.FactModel, dissect.FactProduct)
			case "2":
				add(vals[i], false, dissect.FactFirmware)
			}
		}
	case "szl_0x0011_module_identification":
		for _, o := range id.values("order_number") {
			if o = strings.TrimSpace(o); o != "" && !strings.EqualFold(o, "Boot Loader") {
				add(o, false, dissect.FactModel, dissect.FactModule)
				break
			}
		}
	case "i_am":
		// A routed I-Am (SNET present) describes a device behind a BACnet
		// router: its facts are compared on that device (routedDevice).
		add(id.value("vendor_id"), false, dissect.FactVendorID)
		add("device:"+id.value("instance"), false, dissect.FactAddress)
	case "szl_0x001c_component_identification":
		add(id.value("serial"), false, dissect.FactSerial)
		add(id.value("module_type_name"), false, dissect.FactProduct, dissect.FactModel, dissect.FactModule)
		add(id.value("plc_name"), false, dissect.FactHostname)
	}
	return out
}

func digits(s string) []int {
	var out []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

// TestCorpusIdentities runs every corpus case whose oracle holds ENIP,
// Modbus, S7 or BACnet identity records through the pipeline into an
// inventory and checks that the device sending each record (by tshark's
// src_ip, else its src_mac) carries the identity tshark decoded; a routed
// BACnet record (snet) must be on the device behind that sender at snet
// and sadr_mstp or sadr_eth, not on the sender. A protocol whose dissector is not
// registered yet is skipped.
func TestCorpusIdentities(t *testing.T) {
	dir := testenv.Corpus(t)
	oracles, err := filepath.Glob(filepath.Join(dir, "*", "*", "oracle.json"))
	if err != nil || len(oracles) == 0 {
		t.Fatalf("no oracles under %s: %v", dir, err)
	}
	for _, path := range oracles {
		var o struct {
			Protocols map[string]struct {
				Identities []identity `json:"identities"`
			} `json:"protocols"`
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &o); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, proto := range []string{"enip", "modbus", "s7comm", "bacnet"} {
			ids := o.Protocols[proto].Identities
			if len(ids) == 0 {
				continue
			}
			name, _ := filepath.Rel(dir, filepath.Dir(path))
			t.Run(name+"/"+proto, func(t *testing.T) {
				if dissect.ByName(proto) == nil {
					t.Skipf("no %s dissector registered yet: identities of %s not compared", proto, name)
				}
				snap := inventoryOf(t, filepath.Dir(path))
				for _, id := range ids {
					// A sender without an IP address (BACnet/Ethernet) is
					// found by its MAC address.
					src := id.value("src_ip")
					var dev *Device
					for i := range snap.Devices {
						if src != "" && slices.Contains(snap.Devices[i].IPs, src) ||
							src == "" && strings.EqualFold(snap.Devices[i].MAC, id.value("src_mac")) {
							dev = &snap.Devices[i]
						}
					}
					if src == "" {
						src = id.value("src_mac")
					}
					if dev == nil {
						t.Errorf("%s: no device for %s, which sent %s", id.value("kind"), src, id.value("kind"))
						continue
					}
					if snet := id.value("snet"); snet != "" {
						sadr := id.value("sadr_mstp") + id.value("sadr_eth")
						r := routedDevice(snap, dev.ID, snet, sadr)
						if r == nil {
							t.Errorf("%s %s: no device at network %s MAC %s behind device %d", src, id.value("kind"), snet, sadr, dev.ID)
							continue
						}
						// The sender only forwards: unless it also says it is
						// that device instance itself, it must not hold it.
						own := slices.ContainsFunc(ids, func(o identity) bool {
							return o.value("snet") == "" && o.value("src_ip") == id.value("src_ip") &&
								o.value("src_mac") == id.value("src_mac") && o.value("instance") == id.value("instance")
						})
						if !own && slices.ContainsFunc(dev.Facts, func(f Fact) bool {
							return f.Key == dissect.FactAddress && f.Value == "device:"+id.value("instance")
						}) {
							t.Errorf("%s: routed device:%s is on the router's device", src, id.value("instance"))
						}
						src = fmt.Sprintf("network %s MAC %s via %s", snet, sadr, src)
						dev = r
					}
					for _, e := range expectations(proto, id) {
						ok := slices.ContainsFunc(dev.Facts, func(f Fact) bool {
							if !slices.Contains(e.keys, f.Key) {
								return false
							}
							if e.numbers {
								return slices.Equal(digits(f.Value), digits(e.value))
							}
							return strings.TrimSpace(f.Value) == e.value
						})
						if !ok {
							t.Errorf("%s %s: no %v fact %q; facts %+v", src, id.value("kind"), e.keys, e.value, dev.Facts)
						}
					}
				}
			})
		}
	}
}

// routedDevice returns the device at BACnet network snet, MAC address sadr
// (hex octets, or decimal for a one-octet MS/TP address, compared without
// regard to case), whose messages router forwards.
func routedDevice(s *Snapshot, router DeviceID, snet, sadr string) *Device {
	for i := range s.Devices {
		d := &s.Devices[i]
		if d.RoutedBy == router && strings.EqualFold(d.Address, "bacnet:"+snet+":"+sadr) {
			return d
		}
	}
	return nil
}

// inventoryOf runs a corpus case's capture into a fresh inventory.
func inventoryOf(t *testing.T, caseDir string) *Snapshot {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(caseDir, "capture.pcap*"))
	if len(files) == 0 {
		t.Fatalf("no capture in %s", caseDir)
	}
	src, err := capture.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	inv := New(DefaultOptions)
	po := pipeline.DefaultOptions
	po.Observer, po.Emitter = inv, inv
	p := pipeline.New(po)
	for {
		pkt, err := src.ReadPacket()
		if err != nil {
			break
		}
		p.Process(pkt)
	}
	p.Close()
	inv.Flush()
	return inv.Snapshot()
}
