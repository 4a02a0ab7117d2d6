//go:build linux

package afpacket

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// Injector sends raw Ethernet frames on one interface through an AF_PACKET
// socket that receives nothing. The socket belongs to the network
// namespace of the thread that opened it.
type Injector struct {
	fd    int
	iface string
}

// OpenInjector opens a sending socket bound to the named interface. It
// needs CAP_NET_RAW.
func OpenInjector(iface string) (*Injector, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("afpacket: injector interface %q: %w", iface, err)
	}
	// Protocol 0: the socket is not attached to the receive path.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("afpacket: injector socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("afpacket: binding injector to %s: %w", iface, err)
	}
	return &Injector{fd: fd, iface: iface}, nil
}

// WritePacket sends one frame, starting with its Ethernet header, as is.
func (in *Injector) WritePacket(frame []byte) error {
	n, err := unix.Write(in.fd, frame)
	if err != nil {
		return fmt.Errorf("afpacket: sending on %s: %w", in.iface, err)
	}
	if n != len(frame) {
		return fmt.Errorf("afpacket: sending on %s: wrote %d of %d bytes", in.iface, n, len(frame))
	}
	return nil
}

// Close closes the socket.
func (in *Injector) Close() error {
	if in.fd < 0 {
		return nil
	}
	err := unix.Close(in.fd)
	in.fd = -1
	if err != nil {
		return fmt.Errorf("afpacket: closing injector on %s: %w", in.iface, err)
	}
	return nil
}
