package capture

import (
	"errors"
	"fmt"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Packet is one captured frame.
//
// Data is owned by the Source and is valid only until the next call to
// ReadPacket or Close: a caller that keeps any of it must copy it.
type Packet struct {
	// Data holds the captured bytes, at most the snapshot length.
	Data []byte
	// Timestamp is when the frame was captured, in UTC.
	Timestamp time.Time
	// Length is the frame's length on the wire; it is at least len(Data).
	Length int
	// LinkType says how Data begins (Ethernet, Linux cooked, BSD null, raw IP).
	LinkType layers.LinkType
	// Interface is the index of the capture interface in a multi-interface
	// source (pcapng interface id); 0 for single-interface sources.
	Interface int
}

// Source is a stream of captured frames.
type Source interface {
	// ReadPacket returns the next frame. It returns io.EOF after the last
	// frame; any other error ends the source and names where it happened.
	// The returned Packet's Data is valid until the next ReadPacket.
	ReadPacket() (Packet, error)
	// Stats reports what the source has seen so far.
	Stats() Stats
	// Close releases the source. ReadPacket must not be called afterwards.
	Close() error
}

// Stats counts what a source delivered and, for live sources, what the
// kernel dropped before otwatch could read it.
type Stats struct {
	Packets uint64 // frames returned by ReadPacket
	Bytes   uint64 // captured bytes returned by ReadPacket
	Dropped uint64 // frames the kernel dropped (live sources only)
	Offset  int64  // bytes of the file consumed (file sources only)
}

// ErrTruncated is wrapped by errors for files that end inside a record.
var ErrTruncated = errors.New("capture: truncated file")

// ErrFormat is wrapped by errors for files that are not pcap/pcapng or whose
// structure is corrupt.
var ErrFormat = errors.New("capture: bad file format")

// FileError says which file failed and at which byte offset. Every packet
// before Offset was delivered.
type FileError struct {
	Path   string // file name, or "-" for standard input
	Offset int64  // byte offset in the (decompressed) stream where the bad record starts
	Err    error  // wraps ErrTruncated, ErrFormat or an I/O error
}

// Error returns "path: at byte offset N: reason".
func (e *FileError) Error() string {
	return fmt.Sprintf("%s: at byte offset %d: %v", e.Path, e.Offset, e.Err)
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }
