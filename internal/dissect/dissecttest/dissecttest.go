// Package dissecttest holds what every dissector's tests need: hex input,
// a test flow and context, a stream feeder that behaves like reassembly
// (leftover bytes presented again), the whole-versus-split equivalence
// check for fuzz targets, fuzz seeding from captures, test captures and
// the tshark and corpus readers the dissectors' oracle tests share.
package dissecttest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/pipeline"
)

// Hex decodes hex text, ignoring spaces, newlines and '|' separators.
func Hex(t testing.TB, s string) []byte {
	t.Helper()
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\n', '\t', '|':
			return -1
		}
		return r
	}, s)
	b, err := hex.DecodeString(clean)
	if err != nil {
		t.Fatalf("dissecttest: bad hex %q: %v", s, err)
	}
	return b
}

// Start is the time of the test flow.
var Start = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// Flow returns a TCP flow from 10.10.1.20:50000 to 10.10.2.10:port.
func Flow(t dissect.Transport, port uint16) *dissect.Flow {
	return &dissect.Flow{
		ID:        1,
		Transport: t,
		Client:    dissect.Endpoint{IP: netip.MustParseAddr("10.10.1.20"), Port: 50000},
		Server:    dissect.Endpoint{IP: netip.MustParseAddr("10.10.2.10"), Port: port},
		Start:     Start,
	}
}

// Collector keeps a copy of every operation emitted to it.
type Collector struct{ Ops []*dissect.Operation }

// Emit implements dissect.Emitter.
func (c *Collector) Emit(op *dissect.Operation) { c.Ops = append(c.Ops, op.Clone()) }

// JSONL returns the operations as JSON lines, for comparisons.
func (c *Collector) JSONL() string {
	var b strings.Builder
	for _, op := range c.Ops {
		j, _ := json.Marshal(op)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// Discard is an Emitter that drops operations.
var Discard dissect.Emitter = dissect.EmitterFunc(func(*dissect.Operation) {})

// Context returns a context for flow f whose operations go to emit.
func Context(f *dissect.Flow, emit dissect.Emitter) *dissect.Context {
	return &dissect.Context{Flow: f, Time: Start, Packet: dissect.PacketRef{Flow: f.ID}, Emitter: emit}
}

// Feeder hands chunks to a session the way reassembly does: bytes the
// session did not consume are presented again with the next chunk.
type Feeder struct {
	Session dissect.Session
	Ctx     *dissect.Context
	pending [2][]byte
	// Err is the first error the session returned; feeding stops after it.
	Err error
}

// Feed appends chunk to direction dir's pending bytes and feeds them.
func (f *Feeder) Feed(dir dissect.Direction, chunk []byte) {
	if f.Err != nil {
		return
	}
	f.pending[dir] = append(f.pending[dir], chunk...)
	n, err := f.Session.Feed(dir, f.pending[dir], f.Ctx)
	if err != nil {
		f.Err = err
		return
	}
	if n < 0 || n > len(f.pending[dir]) {
		f.Err = errors.New("dissecttest: Feed returned a count outside the data")
		return
	}
	f.pending[dir] = append(f.pending[dir][:0], f.pending[dir][n:]...)
}

// FeedWholeAndSplit feeds data to one session in one piece and to another
// split at cut, and fails the test unless both emit the same operations.
// It is the body of every dissector's session fuzz target: it also proves
// that no input panics.
func FeedWholeAndSplit(t *testing.T, d dissect.Dissector, dir dissect.Direction, data []byte, cut int) {
	t.Helper()
	port := uint16(0)
	flow := Flow(dissect.TransportTCP, port)
	var whole, split Collector
	fw := &Feeder{Session: d.NewSession(flow), Ctx: Context(flow, &whole)}
	fw.Feed(dir, data)
	fw.Session.Close(fw.Ctx)
	fs := &Feeder{Session: d.NewSession(flow), Ctx: Context(flow, &split)}
	if len(data) > 0 {
		cut %= len(data) + 1
	} else {
		cut = 0
	}
	fs.Feed(dir, data[:cut])
	fs.Feed(dir, data[cut:])
	fs.Session.Close(fs.Ctx)
	if (fw.Err == nil) != (fs.Err == nil) {
		t.Fatalf("whole input error %v, split at %d error %v", fw.Err, cut, fs.Err)
	}
	if w, s := whole.JSONL(), split.JSONL(); w != s {
		t.Fatalf("split at %d changes the operations:\nwhole:\n%s\nsplit:\n%s", cut, w, s)
	}
}

// SeedFromPcaps adds the TCP and UDP payloads of the captures matching
// glob as seeds of f (at most max per file). Missing files add nothing.
func SeedFromPcaps(f *testing.F, glob string, max int) {
	files, _ := filepath.Glob(glob)
	for _, name := range files {
		for _, p := range Payloads(f, name, max) {
			f.Add(p)
		}
	}
}

// Payloads returns up to max non-empty TCP/UDP payloads of a capture.
func Payloads(t testing.TB, path string, max int) [][]byte {
	t.Helper()
	src, err := capture.Open(path)
	if err != nil {
		t.Fatalf("dissecttest: %v", err)
	}
	defer src.Close()
	dec := decode.NewDecoder(decode.DefaultOptions)
	var p decode.Packet
	var out [][]byte
	for len(out) < max {
		pkt, err := src.ReadPacket()
		if err != nil {
			break
		}
		if dec.Decode(pkt.LinkType, pkt.Data, pkt.Timestamp, &p) == nil && len(p.Payload) > 0 &&
			(p.Transport == decode.ProtoTCP || p.Transport == decode.ProtoUDP) {
			out = append(out, bytes.Clone(p.Payload))
		}
	}
	return out
}

// Operations runs a capture through the whole pipeline and returns every
// operation emitted, with protocol in keep (all when keep is empty).
func Operations(t testing.TB, path string, keep ...string) *Collector {
	t.Helper()
	src, err := capture.Open(path)
	if err != nil {
		t.Fatalf("dissecttest: %v", err)
	}
	defer src.Close()
	var c Collector
	filter := dissect.EmitterFunc(func(op *dissect.Operation) {
		if len(keep) == 0 || contains(keep, op.Protocol) {
			c.Emit(op)
		}
	})
	opts := pipeline.DefaultOptions
	opts.Emitter = filter
	p := pipeline.New(opts)
	for {
		pkt, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("dissecttest: %v", err)
		}
		p.Process(pkt)
	}
	p.Close()
	return &c
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
