package capture

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket/layers"
)

// MaxPacket is the largest captured length a file record may declare
// (libpcap's and Wireshark's limit for common link types). A record that
// declares more is treated as corrupt.
const MaxPacket = 256 << 10

// bufSize is the size of the read buffer: a whole record of MaxPacket bytes
// plus generous room for pcapng block headers and options always fits, so
// records are handed out straight from the buffer without copying.
const bufSize = MaxPacket + 64<<10

// Open opens a capture file (pcap or pcapng, optionally gzip-compressed), or
// standard input when path is "-", and reads its file header. Errors about
// the content are *FileError values naming path.
func Open(path string) (Source, error) {
	if path == "-" {
		return NewReader(os.Stdin, "-")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	s, err := newSource(f, path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// NewReader reads a capture (pcap or pcapng, optionally gzip-compressed)
// from r; name is used in errors. It reads the file header before returning.
// Closing the Source does not close r.
func NewReader(r io.Reader, name string) (Source, error) {
	return newSource(r, name, nil)
}

func newSource(r io.Reader, name string, c io.Closer) (Source, error) {
	st := stream{path: name, closer: c}
	st.br = bufio.NewReaderSize(r, bufSize)
	m, err := st.br.Peek(2)
	if err != nil {
		return nil, st.fail(0, classify(err))
	}
	if m[0] == 0x1f && m[1] == 0x8b {
		zr, err := gzip.NewReader(st.br)
		if err != nil {
			return nil, st.fail(0, classify(err))
		}
		st.zr = zr
		st.br = bufio.NewReaderSize(zr, bufSize)
	}
	m, err = st.br.Peek(4)
	if err != nil {
		return nil, st.fail(0, classify(err))
	}
	switch {
	case m[0] == 0x0a && m[1] == 0x0d && m[2] == 0x0d && m[3] == 0x0a:
		r, err := newPcapng(st)
		if err != nil {
			return nil, err
		}
		return r, nil
	case isPcapMagic(m):
		r, err := newPcap(st)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	return nil, st.fail(0, fmt.Errorf("%w: unknown magic % x (not pcap or pcapng)", ErrFormat, m))
}

// stream holds what both file formats share: the buffered decompressed
// input, the position in it and the sticky error that ended it.
type stream struct {
	path   string
	br     *bufio.Reader
	zr     *gzip.Reader // non-nil for gzip input
	closer io.Closer    // the file Open opened, if any
	off    int64        // bytes of the decompressed stream consumed
	stats  Stats
	err    error // error returned by every ReadPacket once set
}

// fail records err at offset off as the error that ends the stream.
func (s *stream) fail(off int64, err error) error {
	s.err = &FileError{Path: s.path, Offset: off, Err: err}
	return s.err
}

// peek returns the next n bytes of a record that starts at offset start,
// without consuming them. When nothing at all is left and eofOK is set it
// returns io.EOF; any other short read is an error at start.
func (s *stream) peek(n int, start int64, eofOK bool) ([]byte, error) {
	b, err := s.br.Peek(n)
	if err == nil {
		return b, nil
	}
	if err == io.EOF && len(b) == 0 && eofOK {
		s.err = io.EOF
		return nil, io.EOF
	}
	return nil, s.fail(start, classify(err))
}

// discard consumes n bytes of a record that starts at offset start.
func (s *stream) discard(n int, start int64) error {
	d, err := s.br.Discard(n)
	s.off += int64(d)
	if err != nil {
		if err == io.EOF {
			err = ErrTruncated
		}
		return s.fail(start, classify(err))
	}
	return nil
}

// classify maps errors from the underlying reader to the package's
// sentinels: a stream that ends early is truncated, a corrupt gzip stream
// is a format error, anything else (an I/O error) is kept as is.
func classify(err error) error {
	var ce flate.CorruptInputError
	switch {
	case err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF):
		return ErrTruncated
	case errors.Is(err, ErrTruncated), errors.Is(err, ErrFormat):
		return err
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, &ce):
		return fmt.Errorf("%w: gzip: %w", ErrFormat, err)
	}
	return err
}

// Stats reports the packets and bytes returned and the bytes consumed.
func (s *stream) Stats() Stats {
	st := s.stats
	st.Offset = s.off
	return st
}

// Close releases the decompressor and the file opened by Open.
func (s *stream) Close() error {
	var err error
	if s.zr != nil {
		err = s.zr.Close()
		s.zr = nil
	}
	if s.closer != nil {
		if cerr := s.closer.Close(); err == nil {
			err = cerr
		}
		s.closer = nil
	}
	if s.err == nil {
		s.err = errClosed
	}
	return err
}

var errClosed = errors.New("capture: source closed")

// linkType maps a file's link-layer header type to the one otwatch decodes:
// the platform-dependent DLT_RAW values 12 and 14 become LINKTYPE_RAW.
func linkType(v uint32) layers.LinkType {
	v &= 0x03ffffff // LT_LINKTYPE: the upper bits carry FCS information
	switch v {
	case 12, 14:
		return layers.LinkTypeRaw
	}
	return layers.LinkType(v)
}
