package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/otwatch/otwatch/internal/analyze"
	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/capture/afpacket"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/pipeline"
)

func runAnalyze(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("analyze", "[flags] FILE... | -i IFACE",
		`Decode capture files (pcap or pcapng, optionally gzip-compressed; "-" reads
standard input) or a live Linux interface, and print a summary: packets, bytes,
duration, flows, endpoints with the role their traffic suggests, protocols and
the operations the dissectors found. Several files are read in order, as one
capture. A corrupt or truncated file is reported with its byte offset, after
the summary of every packet before it.`,
		`  otwatch analyze plant.pcapng
  otwatch analyze --json day1.pcap.gz day2.pcap.gz | jq .packets
  otwatch analyze --ops plant.pcap | jq 'select(.class == "program")'
  otwatch analyze --inventory plant.pcap
  otwatch analyze --alerts --learn 50% plant.pcap
  otwatch analyze --alerts --baseline normal.json --json plant.pcap | jq '.alerts[].title'
  otwatch analyze --map dot plant.pcap | dot -Tsvg > map.svg
  tcpdump -i eth1 -w - | otwatch analyze -
  sudo otwatch analyze -i eth1 -f 'tcp port 502 or udp port 47808' -c 100000`, stderr)
	jsonOut := fs.Bool("json", false, "print the summary as JSON (for machines)")
	invOut := fs.Bool("inventory", false, "print the device inventory (devices, types, Purdue levels, facts, connections) instead of the summary; with --json as JSON")
	mapOut := fs.String("map", "", "print the device map instead of the summary: `format` dot (Graphviz) or json (nodes and edges)")
	opsOut := fs.Bool("ops", false, "print every operation as one JSON object per line, with the frame numbers that carried it, instead of the summary")
	alertsOut := fs.Bool("alerts", false, "run detection and print the alerts instead of the summary; with --json as JSON")
	learn := fs.String("learn", "50%", "with --alerts: learn the baseline on this first part of the capture: a `duration` (5m) or a percentage of its time span (50%)")
	baseFile := fs.String("baseline", "", "with --alerts: start operational with the baseline in this `file` (from --save-baseline) instead of learning")
	saveBase := fs.String("save-baseline", "", "with --alerts: write the baseline at the end to this `file` (readable JSON)")
	iocFile := fs.String("indicators", "", "with --alerts: indicators of compromise from this `file` (STIX 2.1 bundle, or one IP, domain or hash per line)")
	evDir := fs.String("evidence", "", "with --alerts: write each alert's packets as a pcapng file into this `directory`")
	iface := fs.String("i", "", "capture live from this network `interface` (AF_PACKET, needs root or CAP_NET_RAW)")
	filter := fs.String("f", "", "capture filter `expression` for -i (pcap-filter syntax: host, net, port, tcp, udp, vlan, and/or/not)")
	count := fs.Uint64("c", 0, "with -i: stop after this many packets (0: until interrupted)")
	dur := fs.Duration("duration", 0, "with -i: stop after this long (0: until interrupted)")
	endpoints := fs.Int("endpoints", 50, "endpoints shown in the text summary (0: all)")
	progress := fs.Bool("progress", true, "show a progress bar on standard error when it is a terminal")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	opts := analyze.Options{Pipeline: pipeline.DefaultOptions}
	if *mapOut != "" && *mapOut != "dot" && *mapOut != "json" {
		return fmt.Errorf("%w: --map takes dot or json, not %q", errUsage, *mapOut)
	}
	if n := btoi(*invOut) + btoi(*mapOut != "") + btoi(*opsOut) + btoi(*alertsOut); n > 1 {
		return fmt.Errorf("%w: --inventory, --map, --ops and --alerts are different outputs; choose one", errUsage)
	}
	if !*alertsOut && (*baseFile != "" || *saveBase != "" || *iocFile != "" || *evDir != "") {
		return fmt.Errorf("%w: --baseline, --save-baseline, --indicators and --evidence go with --alerts", errUsage)
	}
	var det *analyze.Detection
	if *alertsOut {
		cfg, err := detectConfig(fs.Args(), *iface, *learn, *baseFile, *iocFile)
		if err != nil {
			return err
		}
		det = analyze.WithDetection(&opts, cfg)
	}
	var inv *inventory.Inventory
	if *invOut || *mapOut != "" {
		inv = inventory.New(inventory.DefaultOptions)
		opts.Taps = append(opts.Taps, inv)
	}
	var ops *opsWriter
	if *opsOut {
		if *jsonOut {
			return fmt.Errorf("%w: --ops and --json are two different outputs; choose one", errUsage)
		}
		ops = &opsWriter{w: bufio.NewWriterSize(stdout, 64<<10)}
		ops.enc = json.NewEncoder(ops.w)
		opts.Pipeline.Emitter = ops
	}
	var (
		sum *analyze.Summary
		err error
	)
	switch {
	case *iface != "" && fs.NArg() > 0:
		return fmt.Errorf("%w: give either -i or files, not both", errUsage)
	case *iface != "":
		sum, err = analyzeLive(*iface, *filter, *count, *dur, stderr, opts)
	case fs.NArg() == 0:
		return fmt.Errorf("%w: no capture file given (use - for standard input)", errUsage)
	default:
		if *filter != "" || *count != 0 || *dur != 0 {
			return fmt.Errorf("%w: -f, -c and --duration apply to live capture (-i) only", errUsage)
		}
		var bar *progressBar
		if *progress && isTerminal(stderr) {
			bar = &progressBar{w: stderr}
			opts.Progress = bar.update
		}
		sum, err = analyze.Files(fs.Args(), opts)
		bar.done()
	}
	if det != nil {
		det.Finish()
		werr := writeAlerts(stdout, det, *jsonOut, *saveBase, *evDir)
		return cmp.Or(err, werr)
	}
	if inv != nil {
		inv.Flush()
		snap := inv.Snapshot()
		var werr error
		switch {
		case *mapOut == "dot":
			werr = inventory.WriteDOT(stdout, snap)
		case *mapOut == "json":
			werr = inventory.WriteGraphJSON(stdout, snap)
		case *jsonOut:
			werr = inventory.WriteJSON(stdout, snap)
		default:
			werr = inventory.WriteTable(stdout, snap)
		}
		return cmp.Or(err, werr)
	}
	if ops != nil {
		if ferr := ops.w.Flush(); err == nil {
			err = cmp.Or(ops.err, ferr)
		}
		return err
	}
	if sum != nil {
		var werr error
		if *jsonOut {
			werr = analyze.WriteJSON(stdout, sum)
		} else {
			werr = analyze.WriteText(stdout, sum, *endpoints)
		}
		if err == nil {
			err = werr
		}
	}
	return err
}

// analyzeLive captures from iface until count packets, the duration, or an
// interrupt, and summarises what it saw.
func analyzeLive(iface, filter string, count uint64, dur time.Duration, stderr io.Writer, opts analyze.Options) (*analyze.Summary, error) {
	ao := afpacket.DefaultOptions
	ao.Filter = filter
	src, err := afpacket.Open(iface, ao)
	if err != nil {
		return nil, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dur)
		defer cancel()
	}
	lim := &limitSource{Source: src, max: count}
	var once sync.Once
	closeSrc := func() { once.Do(func() { src.Close() }) }
	go func() {
		<-ctx.Done()
		closeSrc()
	}()
	fmt.Fprintf(stderr, "capturing on %s%s; interrupt to stop\n", iface, map[bool]string{true: " (filter: " + filter + ")", false: ""}[filter != ""])
	sum, err := analyze.Source(lim, iface, opts)
	st := src.Stats()
	closeSrc()
	fmt.Fprintf(stderr, "%d packets captured, %d dropped by the kernel\n", st.Packets, st.Dropped)
	return sum, err
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// opsWriter writes operations as JSON lines.
type opsWriter struct {
	w   *bufio.Writer
	enc *json.Encoder
	err error
}

// Emit implements dissect.Emitter.
func (o *opsWriter) Emit(op *dissect.Operation) {
	if o.err == nil {
		o.err = o.enc.Encode(op)
	}
}

// limitSource ends a source after max packets (0: no limit).
type limitSource struct {
	capture.Source
	max, n uint64
}

func (l *limitSource) ReadPacket() (capture.Packet, error) {
	if l.max > 0 && l.n >= l.max {
		return capture.Packet{}, io.EOF
	}
	l.n++
	return l.Source.ReadPacket()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressBar draws one line on a terminal: file, percent, bytes.
type progressBar struct {
	w     io.Writer
	last  time.Time
	drawn bool
}

func (b *progressBar) update(path string, consumed, size int64) {
	if time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	b.drawn = true
	if size <= 0 {
		fmt.Fprintf(b.w, "\r%s: %d MB read\x1b[K", path, consumed>>20)
		return
	}
	frac := min(float64(consumed)/float64(size), 1)
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(b.w, "\r%s [%s%s] %3.0f%%\x1b[K", path, strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100)
}

func (b *progressBar) done() {
	if b != nil && b.drawn {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
}
