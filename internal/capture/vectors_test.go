package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// Hand-built captures. Field layouts follow the libpcap file format
// (pcap-savefile(5)) and draft-ietf-opsawg-pcapng; every expected value in
// the tables below was computed by hand from the bytes, as noted beside them.

// unhex decodes hex digits, ignoring white space.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// rec is what a test expects of one packet.
type rec struct {
	ts     string // epoch seconds with 9 decimals
	length int
	link   layers.LinkType
	iface  int
	data   string // hex
}

func (r rec) String() string {
	return fmt.Sprintf("{%s len=%d link=%d if=%d data=%s}", r.ts, r.length, r.link, r.iface, r.data)
}

func epoch(p Packet) string {
	return fmt.Sprintf("%d.%09d", p.Timestamp.Unix(), p.Timestamp.Nanosecond())
}

func toRec(p Packet) rec {
	return rec{epoch(p), p.Length, p.LinkType, p.Interface, hex.EncodeToString(p.Data)}
}

// readAll reads src to its end and returns the packets and the final error.
func readAll(src Source) ([]rec, error) {
	var got []rec
	for {
		p, err := src.ReadPacket()
		if err != nil {
			return got, err
		}
		if p.Timestamp.Location().String() != "UTC" {
			return got, fmt.Errorf("timestamp %v not in UTC", p.Timestamp)
		}
		if p.Length < len(p.Data) {
			return got, fmt.Errorf("Length %d < len(Data) %d", p.Length, len(p.Data))
		}
		got = append(got, toRec(p))
	}
}

const (
	// pcap, little-endian, microseconds, snaplen 65535, Ethernet.
	pcapLEMicro = `d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000
		00105e5f 20a10700 04000000 3c000000 01020304
		01105e5f 01000000 02000000 02000000 aabb`
	// pcap, big-endian, nanoseconds, snaplen 1024, Linux SLL.
	pcapBENano = `a1b23c4d 0002 0004 00000000 00000000 00000400 00000071
		5f5e1000 3b9ac9ff 00000003 00000010 0a0b0c`
	// pcap, little-endian, nanoseconds, snaplen 0 (unlimited), Linux SLL2.
	pcapLENano = `4d3cb2a1 0200 0400 00000000 00000000 00000000 14010000
		00105e5f 01000000 01000000 01000000 ff`
	// pcap, big-endian, microseconds, 3 records: the file of the truncation test.
	pcapThree = `a1b2c3d4 0002 0004 00000000 00000000 0000ffff 00000001
		5f5e1000 00000001 00000002 00000002 1111
		5f5e1001 00000002 00000001 00000040 22
		5f5e1002 00000003 00000003 00000003 333333`

	// pcapng, two sections. Section 1 (little-endian): interface 0 is
	// Ethernet with default (microsecond) resolution, interface 1 is raw IP
	// with if_tsresol=9 (ns) and if_tsoffset=1600000000; packets in an EPB,
	// an EPB with options, an SPB and an OPB, with a name resolution block,
	// an interface statistics block and a custom block to skip. Section 2
	// (big-endian): interface 0 is Linux SLL with if_tsresol=2^-10.
	pcapngTwoSections = `
		0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000
		01000000 14000000 0100 0000 00000000 14000000
		01000000 2c000000 6500 0000 00000100
			0900 0100 09000000
			0e00 0800 00105e5f 00000000
			0000 0000
			2c000000
		06000000 28000000 01000000 00000000 002f6859 05000000 05000000 4500000a 0b000000 28000000
		06000000 30000000 00000000 31af0500 8384c207 04000000 64000000 deadbeef
			0200 0400 01000000 0000 0000 30000000
		04000000 10000000 0000 0000 10000000
		03000000 14000000 03000000 aabbcc00 14000000
		05000000 18000000 00000000 00000000 00000000 18000000
		02000000 24000000 0100 0000 00000000 00943577 02000000 02000000 0102 0000 24000000
		ad0b0000 14000000 d2040000 01020304 14000000
		0a0d0d0a 0000001c 1a2b3c4d 0001 0000 ffffffff ffffffff 0000001c
		00000001 00000020 0071 0000 00000000 0009 0001 8a000000 0000 0000 00000020
		00000006 00000024 00000000 0000017d 78400100 00000003 00000010 0a0b0c00 00000024`

	// pcapng, little-endian, one Ethernet interface, 3 EPBs with
	// microsecond timestamps 1, 2 and 3 seconds after the epoch: the file of
	// the truncation test.
	pcapngThree = `
		0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000
		01000000 14000000 0100 0000 00000000 14000000
		06000000 24000000 00000000 00000000 40420f00 02000000 02000000 1111 0000 24000000
		05000000 18000000 00000000 00000000 00000000 18000000
		06000000 24000000 00000000 00000000 80841e00 01000000 40000000 22 000000 24000000
		06000000 24000000 00000000 00000000 c0c62d00 03000000 03000000 333333 00 24000000`
)

func TestReadVectors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []rec
	}{
		{"pcap LE us", pcapLEMicro, []rec{
			{"1600000000.500000000", 60, layers.LinkTypeEthernet, 0, "01020304"}, // 0x5f5e1000 s, 0x07a120 us
			{"1600000001.000001000", 2, layers.LinkTypeEthernet, 0, "aabb"},
		}},
		{"pcap BE ns", pcapBENano, []rec{
			{"1600000000.999999999", 16, layers.LinkTypeLinuxSLL, 0, "0a0b0c"}, // 0x3b9ac9ff ns
		}},
		{"pcap LE ns", pcapLENano, []rec{
			{"1600000000.000000001", 1, layers.LinkTypeLinuxSLL2, 0, "ff"},
		}},
		{"pcap BE us three", pcapThree, []rec{
			{"1600000000.000001000", 2, layers.LinkTypeEthernet, 0, "1111"},
			{"1600000001.000002000", 64, layers.LinkTypeEthernet, 0, "22"},
			{"1600000002.000003000", 3, layers.LinkTypeEthernet, 0, "333333"},
		}},
		{"pcap header only", `d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000`, nil},
		{"pcapng two sections", pcapngTwoSections, []rec{
			{"1600000001.500000000", 5, layers.LinkTypeRaw, 1, "4500000a0b"},      // 0x59682f00 ns + offset
			{"1600000002.000003000", 100, layers.LinkTypeEthernet, 0, "deadbeef"}, // 0x5af3107c28483 us
			{"0.000000000", 3, layers.LinkTypeEthernet, 0, "aabbcc"},              // SPB: no timestamp
			{"1600000002.000000000", 2, layers.LinkTypeRaw, 1, "0102"},            // OPB: 0x77359400 ns + offset
			{"1600000000.250000000", 16, layers.LinkTypeLinuxSLL, 0, "0a0b0c"},    // 0x17d78400100 / 1024
		}},
		{"pcapng three", pcapngThree, []rec{
			{"1.000000000", 2, layers.LinkTypeEthernet, 0, "1111"}, // 0x0f4240 us
			{"2.000000000", 64, layers.LinkTypeEthernet, 0, "22"},
			{"3.000000000", 3, layers.LinkTypeEthernet, 0, "333333"},
		}},
		{"pcapng header only", `0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000`, nil},
	}
	for _, tt := range tests {
		in := unhex(t, tt.in)
		for _, gz := range []bool{false, true} {
			name := tt.name
			data := in
			if gz {
				name += " gzip"
				data = gzipBytes(t, in)
			}
			t.Run(name, func(t *testing.T) {
				src, err := NewReader(bytes.NewReader(data), "vec")
				if err != nil {
					t.Fatalf("NewReader: %v", err)
				}
				defer src.Close()
				got, err := readAll(src)
				if err != io.EOF {
					t.Fatalf("after %d packets: err = %v, want io.EOF", len(got), err)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("packets:\n got %v\nwant %v", got, tt.want)
				}
				st := src.Stats()
				if st.Packets != uint64(len(tt.want)) || st.Offset != int64(len(in)) {
					t.Errorf("Stats = %+v, want %d packets, offset %d", st, len(tt.want), len(in))
				}
			})
		}
	}
}

func TestPcapLinkTypes(t *testing.T) {
	tests := []struct {
		field string // linktype field of the file header, big-endian
		want  layers.LinkType
	}{
		{"00000001", layers.LinkTypeEthernet},
		{"00000071", layers.LinkTypeLinuxSLL},
		{"00000114", layers.LinkTypeLinuxSLL2},
		{"00000000", layers.LinkTypeNull},
		{"0000006c", layers.LinkTypeLoop},
		{"00000065", layers.LinkTypeRaw},
		{"0000000c", layers.LinkTypeRaw}, // DLT_RAW on most platforms
		{"0000000e", layers.LinkTypeRaw}, // DLT_RAW on OpenBSD
		{"000000e4", layers.LinkTypeIPv4},
		{"000000e5", layers.LinkTypeIPv6},
		{"14000001", layers.LinkTypeEthernet}, // FCS length 2 in bits 28-31, F bit 26
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			in := unhex(t, "a1b2c3d4 0002 0004 00000000 00000000 0000ffff "+tt.field+
				"5f5e1000 00000000 00000001 00000001 45")
			src, err := NewReader(bytes.NewReader(in), "lt")
			if err != nil {
				t.Fatal(err)
			}
			p, err := src.ReadPacket()
			if err != nil || p.LinkType != tt.want {
				t.Errorf("ReadPacket = link %d, %v; want %d", p.LinkType, err, tt.want)
			}
		})
	}
}

func TestPcapngTimestampResolutions(t *testing.T) {
	// One IDB (little-endian, Ethernet) with the given if_tsresol byte, then
	// one EPB with the given 64-bit timestamp split in high and low words.
	tests := []struct {
		tsresol  string
		high     string
		low      string
		want     string
		wantNote string
	}{
		{"06", "00000000", "40420f00", "1.000000000", "1e6 us"},
		{"03", "00000000", "e9030000", "1.001000000", "1001 ms"},
		{"00", "00000000", "05000000", "5.000000000", "5 s"},
		{"09", "01000000", "00000000", "4.294967296", "2^32 ns"},
		{"0c", "7e8d0300", "e883c6a4", "1000.000000001", "0x38d7ea4c683e8 ps = 1e15+1000 ps"},
		{"13", "00000000", "ffffffff", "0.000000000", "4294967295e-19 s, below 1 ns"},
		{"80", "00000000", "07000000", "7.000000000", "2^0: seconds"},
		{"81", "00000000", "03000000", "1.500000000", "3/2 s"},
		{"94", "00000000", "00001000", "1.000000000", "2^20 units of 2^-20 s"},
		{"a0", "01000000", "00000080", "1.500000000", "0x180000000 / 2^32"},
		{"c0", "00000000", "00000080", "0.000000000", "2^31 / 2^64 s = 1.16e-10 s"},
	}
	for _, tt := range tests {
		t.Run(tt.wantNote, func(t *testing.T) {
			in := unhex(t, `0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000
				01000000 1c000000 0100 0000 00000000 0900 0100 `+tt.tsresol+`000000 1c000000
				06000000 20000000 00000000 `+tt.high+tt.low+` 00000000 00000000 20000000`)
			src, err := NewReader(bytes.NewReader(in), "res")
			if err != nil {
				t.Fatal(err)
			}
			p, err := src.ReadPacket()
			if err != nil || epoch(p) != tt.want {
				t.Errorf("ReadPacket = %s, %v; want %s", epoch(p), err, tt.want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	pcapHdr := "d4c3b2a1 0200 0400 00000000 00000000 04000000 01000000 "
	ngHdr := "0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000 " +
		"01000000 14000000 0100 0000 00000000 14000000 "
	tests := []struct {
		name    string
		in      string
		packets int   // packets delivered before the error
		off     int64 // FileError.Offset
		err     error
	}{
		{"empty", "", 0, 0, ErrTruncated},
		{"one byte", "d4", 0, 0, ErrTruncated},
		{"garbage header", "00112233 44556677 8899aabb ccddeeff 00112233 44556677", 0, 0, ErrFormat},
		{"text file", hex.EncodeToString([]byte("hello, world\n")), 0, 0, ErrFormat},
		{"pcap short header", "d4c3b2a1 0200 0400 00000000", 0, 0, ErrTruncated},
		{"pcap major version 1", "d4c3b2a1 0100 0400 00000000 00000000 04000000 01000000", 0, 0, ErrFormat},
		{"pcap record longer than snaplen", pcapHdr +
			"00000000 00000000 04000000 04000000 01020304 " + // record at 24, 20 bytes
			"00000000 00000000 05000000 05000000 0102030405", 1, 44, ErrFormat},
		{"pcap record over 256 KiB, snaplen 0", "d4c3b2a1 0200 0400 00000000 00000000 00000000 01000000" +
			"00000000 00000000 01000400 01000400", 0, 24, ErrFormat}, // incl_len 0x40001
		{"pcap truncated record header", pcapHdr + "00000000 00000000 04", 0, 24, ErrTruncated},
		{"pcap truncated record body", pcapHdr + "00000000 00000000 04000000 04000000 0102", 0, 24, ErrTruncated},
		{"pcapng bad byte-order magic", "0a0d0d0a 1c000000 4d3c2b1b 0100 0000 ffffffff ffffffff 1c000000", 0, 0, ErrFormat},
		{"pcapng major version 2", "0a0d0d0a 1c000000 4d3c2b1a 0200 0000 ffffffff ffffffff 1c000000", 0, 0, ErrFormat},
		{"pcapng SHB length too small", "0a0d0d0a 18000000 4d3c2b1a 0100 0000 ffffffff 18000000", 0, 0, ErrFormat},
		{"pcapng block length not a multiple of 4", ngHdr + "05000000 15000000 00000000 00000000 00000000 0000 15000000", 0, 48, ErrFormat},
		{"pcapng block length below 12", ngHdr + "05000000 08000000", 0, 48, ErrFormat},
		{"pcapng block length huge", ngHdr + "05000000 00000080 00000000", 0, 48, ErrFormat},
		{"pcapng trailer mismatch", ngHdr + "06000000 20000000 00000000 00000000 00000000 00000000 00000000 24000000", 0, 48, ErrFormat},
		{"pcapng undeclared interface", ngHdr + "06000000 20000000 01000000 00000000 00000000 00000000 00000000 20000000", 0, 48, ErrFormat},
		{"pcapng packet before any interface", "0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000" +
			"03000000 10000000 00000000 10000000", 0, 28, ErrFormat},
		{"pcapng caplen beyond block", ngHdr + "06000000 24000000 00000000 00000000 00000000 08000000 08000000 01020304 24000000", 0, 48, ErrFormat},
		{"pcapng SPB beyond block", ngHdr + "03000000 14000000 05000000 01020304 14000000", 0, 48, ErrFormat},
		{"pcapng option overrun", "0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000" +
			"01000000 1c000000 0100 0000 00000000 0900 0900 09000000 1c000000", 0, 28, ErrFormat},
		{"pcapng tsresol 10^-20", "0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000" +
			"01000000 1c000000 0100 0000 00000000 0900 0100 14000000 1c000000", 0, 28, ErrFormat},
		{"pcapng truncated skipped block", ngHdr +
			"06000000 20000000 00000000 00000000 00000000 00000000 00000000 20000000" +
			"05000000 18000000 00000000", 1, 80, ErrTruncated},
		{"pcapng truncated second SHB", ngHdr + "0a0d0d0a 1c000000", 0, 48, ErrTruncated},
		{"gzip bad method", "1f8b 07 00 00000000 00 ff", 0, 0, ErrFormat},
		{"gzip short header", "1f8b 08", 0, 0, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := unhex(t, tt.in)
			n := 0
			src, err := NewReader(bytes.NewReader(in), "bad.pcap")
			if err == nil {
				var got []rec
				got, err = readAll(src)
				n = len(got)
				if _, err2 := src.ReadPacket(); err2 != err {
					t.Errorf("ReadPacket after the error = %v, want the same error %v", err2, err)
				}
			}
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want a *FileError wrapping %v", err, tt.err)
			}
			if n != tt.packets || fe.Offset != tt.off || fe.Path != "bad.pcap" {
				t.Errorf("got %d packets, error at %q offset %d; want %d packets, offset %d",
					n, fe.Path, fe.Offset, tt.packets, tt.off)
			}
		})
	}
}

// TestTruncated cuts small files at every byte and checks that the packets
// before the cut are returned and the error points at the cut record.
func TestTruncated(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		records [][2]int // start, end of each record after the file header
		packet  []bool   // whether the record is a packet
		header  int      // length of the file header
	}{
		{"pcap", pcapThree, [][2]int{{24, 42}, {42, 59}, {59, 78}}, []bool{true, true, true}, 24},
		{"pcapng", pcapngThree, [][2]int{{28, 48}, {48, 84}, {84, 108}, {108, 144}, {144, 180}},
			[]bool{false, true, false, true, true}, 28},
	}
	for _, tt := range tests {
		full := unhex(t, tt.in)
		if end := tt.records[len(tt.records)-1][1]; end != len(full) {
			t.Fatalf("%s: records end at %d, file has %d bytes", tt.name, end, len(full))
		}
		for cut := 0; cut < len(full); cut++ {
			wantPackets, wantOff, wantEOF := 0, int64(0), cut >= tt.header
			for i, r := range tt.records {
				if r[1] <= cut && tt.packet[i] {
					wantPackets++
				}
				if r[0] < cut && cut < r[1] {
					wantOff, wantEOF = int64(r[0]), false
				}
			}
			src, err := NewReader(bytes.NewReader(full[:cut]), "cut")
			var got []rec
			if err == nil {
				got, err = readAll(src)
			}
			if wantEOF {
				if err != io.EOF || len(got) != wantPackets {
					t.Errorf("%s cut at %d: %d packets, %v; want %d, io.EOF", tt.name, cut, len(got), err, wantPackets)
				}
				continue
			}
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, ErrTruncated) || fe.Path != "cut" || fe.Offset != wantOff || len(got) != wantPackets {
				t.Errorf("%s cut at %d: %d packets, %v; want %d packets, ErrTruncated at %d", tt.name, cut, len(got), err, wantPackets, wantOff)
			}
		}
	}
}

// TestTruncatedGzip cuts a compressed file at every byte: the packets read
// are a prefix of the full file's and the error wraps ErrTruncated.
func TestTruncatedGzip(t *testing.T) {
	for _, in := range []string{pcapThree, pcapngThree} {
		full := unhex(t, in)
		all, _ := readAll(mustReader(t, full))
		z := gzipBytes(t, full)
		for cut := 0; cut < len(z); cut++ {
			src, err := NewReader(bytes.NewReader(z[:cut]), "cut.gz")
			var got []rec
			if err == nil {
				got, err = readAll(src)
			}
			if !errors.Is(err, ErrTruncated) || fmt.Sprint(got) != fmt.Sprint(all[:len(got)]) {
				t.Errorf("cut at %d: %v, %v", cut, got, err)
			}
		}
	}
}

func TestRandomBytes(t *testing.T) {
	seed := uint64(1)
	for i := range 2000 {
		n := i % 300
		b := make([]byte, n)
		for j := range b {
			seed = seed*6364136223846793005 + 1442695040888963407
			b[j] = byte(seed >> 56)
		}
		if i%3 == 1 && n >= 4 {
			copy(b, []byte{0xd4, 0xc3, 0xb2, 0xa1})
		} else if i%3 == 2 && n >= 12 {
			copy(b, unhex(t, "0a0d0d0a 1c000000 4d3c2b1a"))
		}
		checkReader(t, b)
	}
}

func mustReader(t testing.TB, b []byte) Source {
	t.Helper()
	src, err := NewReader(bytes.NewReader(b), "mem")
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return src
}

// TestLargeBlocks reads records at the size limits and a pcapng block larger
// than the read buffer.
func TestLargeBlocks(t *testing.T) {
	le := binary.LittleEndian
	t.Run("pcap record of MaxPacket bytes", func(t *testing.T) {
		in := unhex(t, "d4c3b2a1 0200 0400 00000000 00000000 00000000 01000000 00000000 00000000 00000400 00000400")
		in = append(in, make([]byte, MaxPacket)...)
		got, err := readAll(mustReader(t, in))
		if err != io.EOF || len(got) != 1 || got[0].length != 262144 {
			t.Errorf("got %d packets, %v; want one of 262144 bytes", len(got), err)
		}
	})
	t.Run("pcapng EPB with 450 KB of options", func(t *testing.T) {
		in := unhex(t, `0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000
			01000000 14000000 0100 0000 00000000 14000000`)
		const opts = 7
		total := 32 + 4 + opts*(4+65532)
		in = le.AppendUint32(in, ngEPB)
		in = le.AppendUint32(in, uint32(total))
		in = append(in, unhex(t, "00000000 00000000 40420f00 04000000 04000000 c0ffee00")...)
		for range opts {
			in = append(in, 1, 0, 0xfc, 0xff) // opt_comment, 65532 bytes
			in = append(in, bytes.Repeat([]byte{'x'}, 65532)...)
		}
		in = le.AppendUint32(in, uint32(total))
		in = append(in, unhex(t, "06000000 20000000 00000000 00000000 80841e00 00000000 00000000 20000000")...)
		got, err := readAll(mustReader(t, in))
		want := []rec{{"1.000000000", 4, layers.LinkTypeEthernet, 0, "c0ffee00"}, {"2.000000000", 0, layers.LinkTypeEthernet, 0, ""}}
		if err != io.EOF || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %v, %v; want %v", got, err, want)
		}
	})
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "three.pcapng")
	packed := filepath.Join(dir, "three.pcap.gz")
	bad := filepath.Join(dir, "bad.pcap")
	if err := os.WriteFile(plain, unhex(t, pcapngThree), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(packed, gzipBytes(t, unhex(t, pcapThree)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, unhex(t, pcapThree)[:50], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{plain, packed} {
		src, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := readAll(src); err != io.EOF || len(got) != 3 {
			t.Errorf("%s: %d packets, %v; want 3, io.EOF", path, len(got), err)
		}
		if err := src.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	src, err := Open(bad)
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAll(src)
	var fe *FileError
	if !errors.As(err, &fe) || fe.Path != bad || fe.Offset != 42 || !errors.Is(err, ErrTruncated) {
		t.Errorf("Open(%s) read error = %v; want truncated at 42 naming the file", bad, err)
	}
	if _, err := Open(filepath.Join(dir, "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want os.ErrNotExist", err)
	}
}

func TestOpenStdin(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(unhex(t, pcapThree)[:70]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	src, err := Open("-")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(src)
	var fe *FileError
	if len(got) != 2 || !errors.As(err, &fe) || fe.Path != "-" || fe.Offset != 59 {
		t.Errorf("got %d packets, %v; want 2 and a truncated record at 59 of \"-\"", len(got), err)
	}
	src.Close()
	if _, err := f.Stat(); err != nil {
		t.Errorf("Close closed standard input: %v", err)
	}
}
