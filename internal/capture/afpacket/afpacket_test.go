//go:build linux

package afpacket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/testenv"
)

var (
	markerSrc = net.HardwareAddr{0x02, 0x4f, 0x54, 0x57, 0x00, 0x01}
	markerDst = net.HardwareAddr{0x02, 0x4f, 0x54, 0x57, 0x00, 0x02}
)

// vethPair is a veth pair with Capture in the test's network namespace and
// its peer Inject in a namespace of its own (NetNS, a name under /run/netns).
type vethPair struct {
	Capture, Inject, NetNS string
}

func newVethPair(t *testing.T) vethPair {
	t.Helper()
	return vethPair(testenv.NewVeth(t))
}

// openInjectorIn opens an Injector on iface inside the named network
// namespace: the socket stays there after the thread switches back.
func openInjectorIn(t *testing.T, netns, iface string) *Injector {
	t.Helper()
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("opening own network namespace: %v", err)
	}
	defer unix.Close(orig)
	target, err := unix.Open("/run/netns/"+netns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("opening network namespace %s: %v", netns, err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("entering network namespace %s: %v", netns, err)
	}
	in, injErr := OpenInjector(iface)
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: it dies with the goroutine instead of
		// running other goroutines in the wrong namespace.
		t.Fatalf("returning to the original network namespace: %v", err)
	}
	runtime.UnlockOSThread()
	if injErr != nil {
		t.Fatalf("OpenInjector in %s: %v", netns, injErr)
	}
	t.Cleanup(func() { _ = in.Close() })
	return in
}

type sentFrame struct {
	data    []byte
	modbus  bool // TCP with port 502
	tagged  bool
	ordinal int
}

// buildFrames makes n distinct frames: TCP to port 502, TCP to other ports
// and UDP, a tenth of them 802.1Q-tagged with a non-zero priority, and
// some behind 802.1ad tags, each carrying its ordinal in the payload.
func buildFrames(t *testing.T, n int) []sentFrame {
	t.Helper()
	out := make([]sentFrame, 0, n)
	for i := range n {
		src := net.IPv4(10, 99, byte(i>>8), byte(i)).To4()
		ip := &layers.IPv4{Version: 4, TTL: 64, Id: uint16(i), SrcIP: src, DstIP: net.IPv4(10, 99, 255, 1).To4()}
		payload := make([]byte, 8+i%300)
		binary.BigEndian.PutUint32(payload, uint32(i))
		copy(payload[4:], "OTW!")
		var l4 gopacket.SerializableLayer
		f := sentFrame{ordinal: i}
		switch i % 3 {
		case 0:
			ip.Protocol = layers.IPProtocolTCP
			tcp := &layers.TCP{SrcPort: layers.TCPPort(1024 + i), DstPort: 502, Seq: uint32(i), ACK: true, PSH: true, Window: 4096}
			_ = tcp.SetNetworkLayerForChecksum(ip)
			l4, f.modbus = tcp, true
		case 1:
			ip.Protocol = layers.IPProtocolTCP
			tcp := &layers.TCP{SrcPort: layers.TCPPort(1024 + i), DstPort: 503, Seq: uint32(i), ACK: true, Window: 4096}
			_ = tcp.SetNetworkLayerForChecksum(ip)
			l4 = tcp
		default:
			ip.Protocol = layers.IPProtocolUDP
			udp := &layers.UDP{SrcPort: 502, DstPort: layers.UDPPort(20000 + i)}
			_ = udp.SetNetworkLayerForChecksum(ip)
			l4 = udp
		}
		eth := &layers.Ethernet{SrcMAC: markerSrc, DstMAC: markerDst, EthernetType: layers.EthernetTypeIPv4}
		ls := []gopacket.SerializableLayer{eth}
		switch {
		case i%10 == 7:
			eth.EthernetType = layers.EthernetTypeDot1Q
			ls = append(ls, &layers.Dot1Q{Priority: 5, VLANIdentifier: uint16(100 + i%50), Type: layers.EthernetTypeIPv4})
			f.tagged = true
		case i%50 == 9:
			eth.EthernetType = layers.EthernetTypeQinQ
			ls = append(ls, &layers.Dot1Q{Priority: 1, DropEligible: true, VLANIdentifier: 300, Type: layers.EthernetTypeIPv4})
			f.tagged = true
		}
		ls = append(ls, ip, l4, gopacket.Payload(payload))
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
			t.Fatal(err)
		}
		f.data = append([]byte(nil), buf.Bytes()...)
		out = append(out, f)
	}
	return out
}

// collect reads frames from the marker source until want arrive or the
// deadline passes, then closes src from another goroutine, which must make
// ReadPacket return io.EOF.
func collect(t *testing.T, src *Source, want int, deadline time.Duration) [][]byte {
	t.Helper()
	timer := time.AfterFunc(deadline, func() { _ = src.Close() })
	defer timer.Stop()
	var got [][]byte
	for {
		p, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Errorf("ReadPacket: %v", err)
			return got
		}
		if p.LinkType != layers.LinkTypeEthernet || p.Timestamp.Location() != time.UTC || p.Length < len(p.Data) {
			t.Errorf("packet metadata: link %v, timestamp %v, length %d for %d bytes", p.LinkType, p.Timestamp, p.Length, len(p.Data))
		}
		if time.Since(p.Timestamp).Abs() > time.Minute {
			t.Errorf("timestamp %v is not the capture time", p.Timestamp)
		}
		if len(p.Data) < 12 || !bytes.Equal(p.Data[6:12], markerSrc) {
			continue // not ours
		}
		got = append(got, append([]byte(nil), p.Data...))
		if len(got) == want {
			return got
		}
	}
}

func send(t *testing.T, in *Injector, frames []sentFrame) {
	t.Helper()
	for i, f := range frames {
		if err := in.WritePacket(f.data); err != nil {
			t.Errorf("frame %d: %v", i, err)
			return
		}
		if i%20 == 19 {
			time.Sleep(time.Millisecond)
		}
	}
}

func TestLiveCaptureAll(t *testing.T) {
	v := newVethPair(t)
	src, err := Open(v.Capture, DefaultOptions)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer src.Close()
	in := openInjectorIn(t, v.NetNS, v.Inject)
	frames := buildFrames(t, 2000)

	done := make(chan [][]byte)
	go func() { done <- collect(t, src, len(frames), 8*time.Second) }()
	send(t, in, frames)
	got := <-done

	if len(got) != len(frames) {
		t.Errorf("received %d frames, sent %d", len(got), len(frames))
	}
	for i := range min(len(got), len(frames)) {
		if !bytes.Equal(got[i], frames[i].data) {
			t.Fatalf("frame %d (tagged %v) differs:\n got % x\nwant % x", i, frames[i].tagged, got[i], frames[i].data)
		}
	}
	st := src.Stats()
	if st.Dropped != 0 {
		t.Errorf("Stats().Dropped = %d, want 0", st.Dropped)
	}
	if st.Packets < uint64(len(got)) {
		t.Errorf("Stats().Packets = %d, want at least %d", st.Packets, len(got))
	}
	var bytesSent uint64
	for _, f := range frames {
		bytesSent += uint64(len(f.data))
	}
	if st.Bytes < bytesSent {
		t.Errorf("Stats().Bytes = %d, want at least %d", st.Bytes, bytesSent)
	}
	if err := src.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := src.ReadPacket(); !errors.Is(err, io.EOF) {
		t.Errorf("ReadPacket after Close: %v, want io.EOF", err)
	}
}

// TestLiveCaptureFilter attaches "tcp port 502". The kernel runs the
// filter on the frame without its outer VLAN tag, so tagged frames carrying
// TCP port 502 pass too (see package filter).
func TestLiveCaptureFilter(t *testing.T) {
	v := newVethPair(t)
	opts := DefaultOptions
	opts.Filter = "tcp port 502"
	src, err := Open(v.Capture, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer src.Close()
	in := openInjectorIn(t, v.NetNS, v.Inject)
	frames := buildFrames(t, 900)
	var want []sentFrame
	for _, f := range frames {
		if f.modbus {
			want = append(want, f)
		}
	}
	done := make(chan [][]byte)
	// Wait past the last expected frame so that any frame that should have
	// been filtered out would be seen.
	go func() { done <- collect(t, src, -1, 3*time.Second) }()
	send(t, in, frames)
	got := <-done
	if len(got) != len(want) {
		t.Fatalf("received %d frames, want the %d with TCP port 502", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i].data) {
			t.Fatalf("frame %d (sent #%d) differs:\n got % x\nwant % x", i, want[i].ordinal, got[i], want[i].data)
		}
	}
	if d := src.Stats().Dropped; d != 0 {
		t.Errorf("Stats().Dropped = %d, want 0", d)
	}
}

// TestCloseUnblocksRead closes a source with no traffic while ReadPacket
// waits.
func TestCloseUnblocksRead(t *testing.T) {
	v := newVethPair(t)
	src, err := Open(v.Capture, DefaultOptions)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	errc := make(chan error, 1)
	go func() {
		for {
			if _, err := src.ReadPacket(); err != nil {
				errc <- err
				return
			}
		}
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, io.EOF) {
			t.Errorf("ReadPacket after Close: %v, want io.EOF", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ReadPacket still blocked 2s after Close")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_ = src.Stats()
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, iface string
		opts        Options
		want        string // part of the error message that names the cause
	}{
		{"bad filter", "lo", Options{Filter: "tcp port"}, `afpacket: filter "tcp port"`},
		{"block smaller than snaplen", "lo", Options{Snaplen: 65536, BlockSize: 4096}, "cannot hold a frame of snaplen 65536"},
		{"block not page multiple", "lo", Options{BlockSize: 1<<20 + 1}, "block size 1048577 is not a multiple of the page size"},
		{"missing interface", "otwatch-no-such-if", DefaultOptions, `afpacket: interface "otwatch-no-such-if"`},
	}
	for _, tt := range tests {
		src, err := Open(tt.iface, tt.opts)
		if err == nil {
			src.Close()
			t.Errorf("%s: Open succeeded", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

var _ capture.Source = (*Source)(nil)

// TestKernelStripsVLAN shows why Source restores tags: read without it, a
// tagged frame arrives untagged, its VLAN ID reported beside it.
func TestKernelStripsVLAN(t *testing.T) {
	v := newVethPair(t)
	tp, err := afpacket.NewTPacket(afpacket.OptInterface(v.Capture), afpacket.TPacketVersion3,
		afpacket.OptPollTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatalf("NewTPacket: %v", err)
	}
	defer tp.Close()
	in := openInjectorIn(t, v.NetNS, v.Inject)
	var tagged sentFrame
	for _, f := range buildFrames(t, 20) {
		if f.tagged {
			tagged = f
			break
		}
	}
	if err := in.WritePacket(tagged.data); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		data, ci, err := tp.ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(data) < 12 || !bytes.Equal(data[6:12], markerSrc) {
			continue
		}
		untagged := append(append([]byte{}, tagged.data[:12]...), tagged.data[16:]...)
		if !bytes.Equal(data, untagged) {
			t.Errorf("frame read without tag restoration:\n got % x\nwant % x", data, untagged)
		}
		vid := int(binary.BigEndian.Uint16(tagged.data[14:]) & 0x0fff)
		if len(ci.AncillaryData) != 1 || ci.AncillaryData[0] != (afpacket.AncillaryVLAN{VLAN: vid}) {
			t.Errorf("AncillaryData = %v, want VLAN %d", ci.AncillaryData, vid)
		}
		return
	}
	t.Fatal("tagged frame not received")
}

// TestReadPacketAllocs pins zero allocations per untagged frame.
func TestReadPacketAllocs(t *testing.T) {
	v := newVethPair(t)
	src, err := Open(v.Capture, DefaultOptions)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer src.Close()
	in := openInjectorIn(t, v.NetNS, v.Inject)
	var untagged []sentFrame
	for _, f := range buildFrames(t, 200) {
		if !f.tagged {
			untagged = append(untagged, f)
		}
	}
	send(t, in, untagged[:150])
	// Let the kernel retire the block so every frame is readable at once.
	time.Sleep(300 * time.Millisecond)
	n := testing.AllocsPerRun(100, func() {
		if _, err := src.ReadPacket(); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("ReadPacket allocates %v times per frame, want 0", n)
	}
}
