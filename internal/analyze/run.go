package analyze

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/pipeline"
)

// Progress is called now and then while a file is read: which file, bytes
// consumed so far and its size on disk (0 when unknown, as for standard
// input; for a gzip file, consumed counts decompressed bytes).
type Progress func(path string, consumed, size int64)

// Tap sees everything the summary sees: every decoded frame and every
// operation (the inventory is one).
type Tap interface {
	pipeline.Observer
	dissect.Emitter
}

// Options configures an analysis.
type Options struct {
	Pipeline pipeline.Options
	Progress Progress
	// Taps are fed alongside the summary.
	Taps []Tap
}

// Files analyses capture files in order, as one continuous capture. A file
// that cannot be opened or ends in corruption stops the analysis with an
// error naming the file and offset; the Summary then covers every packet
// read before that point.
func Files(paths []string, opts Options) (*Summary, error) {
	c := NewCollector()
	p := pipeline.New(wire(c, opts))
	var runErr error
	for _, path := range paths {
		if err := runFile(p, path, opts.Progress); err != nil {
			runErr = err
			break
		}
	}
	p.Close()
	return c.Summary(paths, p.Stats()), runErr
}

// Source analyses packets from any source until it ends (io.EOF) or fails.
func Source(src capture.Source, name string, opts Options) (*Summary, error) {
	c := NewCollector()
	p := pipeline.New(wire(c, opts))
	err := drain(p, src, name, 0, nil)
	p.Close()
	return c.Summary([]string{name}, p.Stats()), err
}

// wire returns the pipeline options that feed the collector, the taps and
// the caller's own emitter.
func wire(c *Collector, opts Options) pipeline.Options {
	po := opts.Pipeline
	f := &fanout{taps: append([]Tap{c}, opts.Taps...), next: po.Emitter}
	po.Observer = f
	po.Emitter = f
	return po
}

// fanout hands every frame and operation to the collector and the taps, and
// operations to the caller's emitter.
type fanout struct {
	taps []Tap
	next dissect.Emitter
}

// Packet implements pipeline.Observer.
func (f *fanout) Packet(p *decode.Packet, err error) {
	for _, t := range f.taps {
		t.Packet(p, err)
	}
}

// Emit implements dissect.Emitter.
func (f *fanout) Emit(op *dissect.Operation) {
	for _, t := range f.taps {
		t.Emit(op)
	}
	if f.next != nil {
		f.next.Emit(op)
	}
}

func runFile(p *pipeline.Pipeline, path string, progress Progress) error {
	src, err := capture.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	var size int64
	if path != "-" {
		if fi, err := os.Stat(path); err == nil {
			size = fi.Size()
		}
	}
	return drain(p, src, path, size, progress)
}

func drain(p *pipeline.Pipeline, src capture.Source, name string, size int64, progress Progress) error {
	for n := 0; ; n++ {
		pkt, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			if progress != nil {
				progress(name, src.Stats().Offset, size)
			}
			return nil
		}
		if err != nil {
			var fe *capture.FileError
			if errors.As(err, &fe) {
				return err
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		p.Process(pkt)
		if progress != nil && n&0x3fff == 0 {
			progress(name, src.Stats().Offset, size)
		}
	}
}
