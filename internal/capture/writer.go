package capture

import (
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// ErrTimestampRange is returned by Writer.WritePacket for a time that a
// classic pcap record cannot hold (before 1970 or after 2106).
var ErrTimestampRange = errors.New("capture: timestamp out of pcap range")

// Writer writes a classic pcap file: little-endian, nanosecond timestamps
// (magic 0xa1b23c4d). It does not buffer; wrap w in a bufio.Writer for many
// small packets.
type Writer struct {
	w       io.Writer
	link    layers.LinkType
	snaplen int
	header  bool   // the file header was written
	buf     []byte // record header and data, reused
}

// NewWriter returns a Writer of packets of linkType; packets longer than
// snaplen (MaxPacket when snaplen <= 0 or larger) are cut to snaplen. The
// file header is written with the first packet or by WriteHeader.
func NewWriter(w io.Writer, linkType layers.LinkType, snaplen int) *Writer {
	if snaplen <= 0 || snaplen > MaxPacket {
		snaplen = MaxPacket
	}
	return &Writer{w: w, link: linkType, snaplen: snaplen}
}

// WriteHeader writes the file header if it has not been written yet, so
// that a capture with no packets is still a valid file.
func (w *Writer) WriteHeader() error {
	if w.header {
		return nil
	}
	var h [pcapHeaderLen]byte
	binary.LittleEndian.PutUint32(h[0:], pcapMagicNano)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], uint32(w.snaplen))
	binary.LittleEndian.PutUint32(h[20:], uint32(w.link))
	if _, err := w.w.Write(h[:]); err != nil {
		return err
	}
	w.header = true
	return nil
}

// WritePacket writes one record: data (cut to the snapshot length) captured
// at ts from a frame of length bytes on the wire (len(data) if smaller).
func (w *Writer) WritePacket(ts time.Time, data []byte, length int) error {
	sec := ts.Unix()
	if sec < 0 || sec > 1<<32-1 {
		return ErrTimestampRange
	}
	if err := w.WriteHeader(); err != nil {
		return err
	}
	length = max(length, len(data))
	if len(data) > w.snaplen {
		data = data[:w.snaplen]
	}
	var h [pcapRecordLen]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(sec))
	binary.LittleEndian.PutUint32(h[4:], uint32(ts.Nanosecond()))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(h[12:], uint32(min(length, 1<<32-1)))
	w.buf = append(append(w.buf[:0], h[:]...), data...)
	_, err := w.w.Write(w.buf)
	return err
}
