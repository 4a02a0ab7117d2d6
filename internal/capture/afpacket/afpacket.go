//go:build linux

package afpacket

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/capture/filter"
)

// Options configures a live capture. Open fills zero numeric fields from
// DefaultOptions; Promiscuous is used as given, so start from
// DefaultOptions and change what differs.
type Options struct {
	// Filter is a capture filter expression (see package filter), run in
	// the kernel; empty captures everything.
	Filter string
	// Snaplen is the most bytes kept of each frame.
	Snaplen int
	// BlockSize is the size of one ring block in bytes: a multiple of the
	// page size, larger than Snaplen.
	BlockSize int
	// NumBlocks is the number of blocks in the ring; the ring holds
	// BlockSize*NumBlocks bytes of frames the sensor has not read yet.
	NumBlocks int
	// Promiscuous puts the interface in promiscuous mode while the
	// capture is open, as a SPAN or TAP port needs.
	Promiscuous bool
	// PollTimeout bounds each wait for the kernel; it is also the longest
	// Close waits for a ReadPacket in progress to notice it.
	PollTimeout time.Duration
}

// DefaultOptions is a 32 MiB ring, full-size frames, promiscuous mode.
var DefaultOptions = Options{
	Snaplen:     262144,
	BlockSize:   1 << 20,
	NumBlocks:   32,
	Promiscuous: true,
	PollTimeout: 100 * time.Millisecond,
}

// tpacketHeadroom covers the TPACKET_V3 block and frame headers and the
// MAC offset alignment that share a block with the frame itself.
const tpacketHeadroom = 256

// Source is a live capture on one interface. ReadPacket must be called from
// one goroutine at a time; Stats and Close may be called from any goroutine.
type Source struct {
	tp    *afpacket.TPacket
	iface string

	mu     sync.Mutex // held while reading and while releasing the ring
	closed atomic.Bool

	packets atomic.Uint64
	bytes   atomic.Uint64

	statsMu  sync.Mutex // guards dropped, released and tp's socket stats
	dropped  uint64
	dropBase uint64 // drops counted before the filter was attached
	released bool
}

var _ capture.Source = (*Source)(nil)

// Open starts capturing on the named interface. It needs CAP_NET_RAW.
func Open(iface string, opts Options) (*Source, error) {
	o := opts
	if o.Snaplen <= 0 {
		o.Snaplen = DefaultOptions.Snaplen
	}
	if o.BlockSize <= 0 {
		o.BlockSize = DefaultOptions.BlockSize
	}
	if o.NumBlocks <= 0 {
		o.NumBlocks = DefaultOptions.NumBlocks
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = DefaultOptions.PollTimeout
	}
	if o.BlockSize%unix.Getpagesize() != 0 {
		return nil, fmt.Errorf("afpacket: block size %d is not a multiple of the page size %d", o.BlockSize, unix.Getpagesize())
	}
	if o.BlockSize < o.Snaplen+tpacketHeadroom {
		return nil, fmt.Errorf("afpacket: block size %d cannot hold a frame of snaplen %d", o.BlockSize, o.Snaplen)
	}
	prog, err := filter.Compile(o.Filter, o.Snaplen)
	if err != nil {
		return nil, fmt.Errorf("afpacket: filter %q: %w", o.Filter, err)
	}
	if _, err := net.InterfaceByName(iface); err != nil {
		return nil, fmt.Errorf("afpacket: interface %q: %w", iface, err)
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(iface),
		afpacket.TPacketVersion3,
		afpacket.OptFrameSize(unix.Getpagesize()),
		afpacket.OptBlockSize(o.BlockSize),
		afpacket.OptNumBlocks(o.NumBlocks),
		afpacket.OptPollTimeout(o.PollTimeout),
		afpacket.OptAddVLANHeader(true),
	)
	if err != nil {
		return nil, fmt.Errorf("afpacket: opening %s: %w", iface, err)
	}
	// The socket queued frames unfiltered from its creation on. As libpcap
	// does, reject everything, discard what is queued, then attach the
	// real filter (which also truncates to the snapshot length).
	if err := tp.SetBPF(rejectAll); err != nil {
		tp.Close()
		return nil, fmt.Errorf("afpacket: attaching filter on %s: %w", iface, err)
	}
	if o.Promiscuous {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, fmt.Errorf("afpacket: promiscuous mode on %s: %w", iface, err)
		}
	}
	drain(tp)
	_, v3, err := tp.SocketStats()
	if err != nil {
		tp.Close()
		return nil, fmt.Errorf("afpacket: socket statistics on %s: %w", iface, err)
	}
	if err := tp.SetBPF(prog); err != nil {
		tp.Close()
		return nil, fmt.Errorf("afpacket: attaching filter on %s: %w", iface, err)
	}
	return &Source{tp: tp, iface: iface, dropBase: uint64(v3.Drops())}, nil
}

// rejectAll is "ret #0".
var rejectAll = []bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: 0}}

// drain discards the frames in the ring. With rejectAll attached nothing
// new arrives; a block the kernel has partly filled is handed over at the
// latest after the block timeout, so drain waits that long for it.
func drain(tp *afpacket.TPacket) {
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		_, _, err := tp.ZeroCopyReadPacketData()
		if err != nil && (time.Since(start) > afpacket.DefaultBlockTimeout+20*time.Millisecond || !errors.Is(err, afpacket.ErrTimeout)) {
			return
		}
	}
}

// ReadPacket returns the next frame, with LinkType Ethernet and a UTC
// timestamp from the kernel. Data points into the ring and is valid until
// the next ReadPacket or Close. After Close, from any goroutine, ReadPacket
// returns io.EOF.
func (s *Source) ReadPacket() (capture.Packet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.closed.Load() {
			return capture.Packet{}, io.EOF
		}
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, unix.EINTR) {
				continue
			}
			if s.closed.Load() {
				return capture.Packet{}, io.EOF
			}
			return capture.Packet{}, fmt.Errorf("afpacket: reading %s: %w", s.iface, err)
		}
		s.packets.Add(1)
		s.bytes.Add(uint64(len(data)))
		length := ci.Length
		if length < len(data) {
			length = len(data)
		}
		return capture.Packet{
			Data:      data,
			Timestamp: ci.Timestamp.UTC(),
			Length:    length,
			LinkType:  layers.LinkTypeEthernet,
		}, nil
	}
}

// Stats reports the frames and bytes ReadPacket returned and the frames
// the kernel dropped because the ring was full, all since Open.
func (s *Source) Stats() capture.Stats {
	st := capture.Stats{Packets: s.packets.Load(), Bytes: s.bytes.Load()}
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.refreshDropsLocked()
	st.Dropped = s.dropped
	return st
}

func (s *Source) refreshDropsLocked() {
	if s.released {
		return
	}
	if _, v3, err := s.tp.SocketStats(); err == nil {
		s.dropped = uint64(v3.Drops()) - s.dropBase
	}
}

// Close stops the capture and releases the ring. A ReadPacket blocked in
// another goroutine returns io.EOF within PollTimeout. Close is idempotent.
func (s *Source) Close() error {
	s.closed.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.released {
		return nil
	}
	s.refreshDropsLocked()
	s.tp.Close()
	s.released = true
	return nil
}
