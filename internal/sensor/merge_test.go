package sensor

import (
	"context"
	"encoding/binary"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/simulate"
	"github.com/otwatch/otwatch/internal/store"
)

// Hosts of the merge captures: a Modbus client and server first seen as
// bare IP packets (a capture without link layer), later on Ethernet.
var (
	mergeClientIP  = net.IPv4(10, 0, 0, 5).To4()
	mergeServerIP  = net.IPv4(10, 0, 0, 1).To4()
	mergeClientIP2 = net.IPv4(10, 0, 0, 50).To4()
	mergeClientMAC = net.HardwareAddr{0x00, 0x1b, 0x1b, 0x00, 0x00, 0x05}
	mergeServerMAC = net.HardwareAddr{0x00, 0x1b, 0x1b, 0x00, 0x00, 0x01}
)

// captureWriter writes one capture file of frames of one link type.
type captureWriter struct {
	t    *testing.T
	f    *os.File
	w    *pcapgo.Writer
	link layers.LinkType
}

func newCapture(t *testing.T, path string, link layers.LinkType) *captureWriter {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriterNanos(f)
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	return &captureWriter{t: t, f: f, w: w, link: link}
}

// frame writes the layers as one frame at time at.
func (c *captureWriter) frame(at time.Time, ls ...gopacket.SerializableLayer) {
	c.t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		c.t.Fatal(err)
	}
	b := buf.Bytes()
	if err := c.w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(b), Length: len(b)}, b); err != nil {
		c.t.Fatal(err)
	}
}

// tcp writes a TCP segment from src to dst, inside an Ethernet frame
// from srcMAC to dstMAC when the capture is Ethernet.
func (c *captureWriter) tcp(at time.Time, srcMAC, dstMAC net.HardwareAddr, src, dst net.IP, sport, dport uint16, seq, ack uint32,
	syn bool, payload []byte) {
	c.t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: seq, Ack: ack, SYN: syn, ACK: ack != 0,
		PSH: len(payload) > 0, Window: 65535}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		c.t.Fatal(err)
	}
	ls := []gopacket.SerializableLayer{ip, tcp, gopacket.Payload(payload)}
	if c.link == layers.LinkTypeEthernet {
		ls = append([]gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4}}, ls...)
	}
	c.frame(at, ls...)
}

// arp writes a gratuitous ARP reply: mac announces that it holds ip.
func (c *captureWriter) arp(at time.Time, mac net.HardwareAddr, ip net.IP) {
	c.t.Helper()
	bcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	c.frame(at, &layers.Ethernet{SrcMAC: mac, DstMAC: bcast, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPReply, SourceHwAddress: mac, SourceProtAddress: ip, DstHwAddress: bcast, DstProtAddress: ip})
}

// modbus writes a TCP connection from client to server port 502 that
// polls one holding register every second from start for d.
func (c *captureWriter) modbus(start time.Time, d time.Duration, cMAC, sMAC net.HardwareAddr, client, server net.IP, sport uint16) {
	c.t.Helper()
	cs, ss := uint32(1000), uint32(5000)
	c.tcp(start, cMAC, sMAC, client, server, sport, 502, cs, 0, true, nil)
	c.tcp(start.Add(time.Millisecond), sMAC, cMAC, server, client, 502, sport, ss, cs+1, true, nil)
	cs, ss = cs+1, ss+1
	c.tcp(start.Add(2*time.Millisecond), cMAC, sMAC, client, server, sport, 502, cs, ss, false, nil)
	for i, at := 1, start.Add(time.Second); at.Before(start.Add(d)); i, at = i+1, at.Add(time.Second) {
		req := binary.BigEndian.AppendUint16(nil, uint16(i))
		req = append(req, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1) // read holding register 0 of unit 1
		resp := binary.BigEndian.AppendUint16(nil, uint16(i))
		resp = append(resp, 0, 0, 0, 5, 1, 3, 2, 0, byte(i))
		c.tcp(at, cMAC, sMAC, client, server, sport, 502, cs, ss, false, req)
		cs += uint32(len(req))
		c.tcp(at.Add(5*time.Millisecond), sMAC, cMAC, server, client, 502, sport, ss, cs, false, resp)
		ss += uint32(len(resp))
	}
}

func (c *captureWriter) close() {
	c.t.Helper()
	if err := c.f.Close(); err != nil {
		c.t.Fatal(err)
	}
}

// TestRunDeviceMerged: hosts first seen as bare IP addresses are stored
// as devices of their own; when their MACs are learned the inventory
// merges each into its MAC's device, and so must the store: one device
// per host, which keeps its connections and events, whether the store
// knew the MAC's device before the merge or not, and still one after the
// sensor restarts on the same database.
func TestRunDeviceMerged(t *testing.T) {
	t0 := simulate.DefaultStart
	// bare: the hosts talk, seen without link layer: two devices known by IP.
	bare := func(t *testing.T, path string) {
		c := newCapture(t, path, layers.LinkTypeRaw)
		c.modbus(t0, time.Minute, nil, nil, mergeClientIP, mergeServerIP, 40000)
		c.close()
	}
	// early: the client's MAC is seen with another of its addresses.
	early := func(t *testing.T, path string) {
		c := newCapture(t, path, layers.LinkTypeEthernet)
		c.arp(t0.Add(65*time.Second), mergeClientMAC, mergeClientIP2)
		c.modbus(t0.Add(66*time.Second), 20*time.Second, mergeClientMAC, mergeServerMAC, mergeClientIP2, mergeServerIP, 41000)
		c.close()
	}
	// learned: on Ethernet, the client claims its address in ARP and both
	// hosts talk from their MACs.
	learned := func(start time.Duration) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			c := newCapture(t, path, layers.LinkTypeEthernet)
			c.arp(t0.Add(start), mergeClientMAC, mergeClientIP)
			c.modbus(t0.Add(start+time.Second), time.Minute, mergeClientMAC, mergeServerMAC, mergeClientIP, mergeServerIP, 42000)
			c.close()
		}
	}
	tests := []struct {
		name  string
		files []func(t *testing.T, path string)
	}{
		{"MAC new with the merge", []func(*testing.T, string){bare, learned(90 * time.Second)}},
		{"MAC stored before the merge", []func(*testing.T, string){bare, early, learned(90 * time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var paths []string
			for i, write := range tt.files {
				p := filepath.Join(dir, string(rune('a'+i))+".pcap")
				write(t, p)
				paths = append(paths, p)
			}
			restart := filepath.Join(dir, "z.pcap")
			c := newCapture(t, restart, layers.LinkTypeEthernet)
			for i, ip := range []net.IP{mergeClientIP, mergeClientIP2} {
				at := t0.Add(10*time.Minute + time.Duration(i)*time.Second)
				c.arp(at, mergeClientMAC, ip)
				c.modbus(at.Add(5*time.Second), time.Minute, mergeClientMAC, mergeServerMAC, ip, mergeServerIP, 43000+uint16(i))
			}
			c.close()
			st := openStore(t, filepath.Join(dir, "otwatch.db"))
			run := func(files ...string) { runMerge(t, st, dir, files...) }

			run(paths...)
			ref := reference(t, "m", time.Minute, "", paths...)
			ref.Inventory.Flush()
			snap := ref.Inventory.Snapshot()
			first := checkMerged(t, st, snap)
			merges, err := st.Events(context.Background(), store.EventQuery{Sensors: []string{"m"}, Types: []string{string(inventory.EventMerged)}})
			if err != nil || len(merges.Events) != 2 {
				t.Fatalf("%d device_merged events stored (%v), want 2: the capture does not show what the test is about", len(merges.Events), err)
			}

			// A restart reads only the new file, in which the hosts are
			// on Ethernet from the start (the client with both its
			// addresses): nothing merges.
			run(append(paths, restart)...)
			after := checkMerged(t, st, snap)
			if !maps.Equal(after, first) {
				t.Errorf("after a restart the devices are %v; they were %v", after, first)
			}
		})
	}
}

// runMerge runs sensor m over files into st, learning for a minute, with
// its state file in dir (so that a later run reads only new files).
func runMerge(t *testing.T, st store.Store, dir string, files ...string) {
	t.Helper()
	var logs logBuffer
	cfg := Config{Name: "m", Store: st, Logger: logs.logger(), Files: files, StatePath: filepath.Join(dir, "state.json"),
		Learn: time.Minute}
	if err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("Run over %q: %v", files, err)
	}
}

// checkMerged checks that sensor m stored one device per device of snap,
// known by the same key, with snap's connections, and that stored events
// name devices by their store IDs; it returns the store ID of each key.
func checkMerged(t *testing.T, st store.Store, snap *inventory.Snapshot) map[string]inventory.DeviceID {
	t.Helper()
	devs, stored := storedInventory(t, st, "m")
	ids := map[string]inventory.DeviceID{}
	for id, d := range devs {
		if other, dup := ids[d.Key()]; dup {
			t.Errorf("device %s stored as %d and %d", d.Key(), other, id)
		}
		ids[d.Key()] = id
	}
	var want []string
	for i := range snap.Devices {
		want = append(want, snap.Devices[i].Key())
	}
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(ids)); !slices.Equal(got, want) {
		t.Errorf("stored devices %q; the inventory holds %q", got, want)
	}
	if wl := links(t, snap); !maps.Equal(stored, wl) {
		t.Errorf("stored connections %v; the inventory holds %v", stored, wl)
	}
	for _, ip := range []net.IP{mergeClientIP, mergeServerIP} {
		p, err := st.Devices(context.Background(), store.DeviceQuery{Sensors: []string{"m"}, Devices: []string{ip.String()}})
		if err != nil || len(p.Devices) != 1 {
			t.Errorf("%d devices stored with %s (%v), want 1", len(p.Devices), ip, err)
		}
	}
	evs, err := st.Events(context.Background(), store.EventQuery{Sensors: []string{"m"}, Ascending: true, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, e := range evs.Events {
		for _, x := range []struct {
			addr string
			id   inventory.DeviceID
		}{{e.Device, e.DeviceID}, {e.Peer, e.PeerID}} {
			if x.addr == "" {
				continue
			}
			dv := devs[x.id]
			if dv == nil || !slices.Contains(append([]string{dv.MAC}, dv.IPs...), x.addr) {
				t.Errorf("%s event at %v names %s as device %d, stored as %v", e.Type, e.Time, x.addr, x.id, dv)
				continue
			}
			named[e.Type+" "+x.addr] = true
		}
	}
	for _, k := range []string{"new_device " + mergeClientIP.String(), "new_device " + mergeServerIP.String()} {
		if !named[k] {
			t.Errorf("no %s event stored; events %v", k, slices.Sorted(maps.Keys(named)))
		}
	}
	return ids
}

// TestRunDeviceLearnedLater: hosts a first run saw only as bare IP
// addresses, and a later run sees on Ethernet from the start, are one
// device each in the store: the later run's inventory has nothing to
// merge, so the sensor has the MAC devices take over the stored IP-only
// records, with their connections and events.
func TestRunDeviceLearnedLater(t *testing.T) {
	t0 := simulate.DefaultStart
	dir := t.TempDir()
	bare := filepath.Join(dir, "a.pcap")
	c := newCapture(t, bare, layers.LinkTypeRaw)
	c.modbus(t0, time.Minute, nil, nil, mergeClientIP, mergeServerIP, 40000)
	c.close()
	later := filepath.Join(dir, "b.pcap")
	c = newCapture(t, later, layers.LinkTypeEthernet)
	c.arp(t0.Add(10*time.Minute), mergeClientMAC, mergeClientIP)
	c.arp(t0.Add(10*time.Minute), mergeServerMAC, mergeServerIP)
	c.modbus(t0.Add(10*time.Minute+time.Second), time.Minute, mergeClientMAC, mergeServerMAC, mergeClientIP, mergeServerIP, 42000)
	c.close()

	st := openStore(t, filepath.Join(dir, "otwatch.db"))
	run := func(files ...string) { runMerge(t, st, dir, files...) }
	run(bare)
	before, _ := storedInventory(t, st, "m")
	if len(before) != 2 {
		t.Fatalf("%d devices stored after the IP-only capture, want 2 (client and server by IP)", len(before))
	}
	ids := map[string]inventory.DeviceID{}
	for id, d := range before {
		ids[d.Key()] = id
	}
	// The restart reads only the later file; its inventory holds the two
	// hosts by MAC from their first frame.
	run(bare, later)
	merges, err := st.Events(context.Background(), store.EventQuery{Sensors: []string{"m"}, Types: []string{string(inventory.EventMerged)}})
	if err != nil || len(merges.Events) != 0 {
		t.Fatalf("%d device_merged events stored (%v), want none: the restart must not see the IP-only hosts", len(merges.Events), err)
	}
	ref := reference(t, "m", time.Minute, "", bare, later)
	ref.Inventory.Flush()
	after := checkMerged(t, st, ref.Inventory.Snapshot())
	// Each MAC device took over its host's IP-only record and ID.
	for ip, mac := range map[string]string{mergeClientIP.String(): mergeClientMAC.String(), mergeServerIP.String(): mergeServerMAC.String()} {
		if ids[ip] == 0 || after[mac] != ids[ip] {
			t.Errorf("%s stored as %d; its IP %s was %d", mac, after[mac], ip, ids[ip])
		}
	}
}
