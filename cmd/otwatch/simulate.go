package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/simulate"
)

func scenarioHelp() string {
	var b strings.Builder
	for _, s := range simulate.Scenarios() {
		fmt.Fprintf(&b, "  %-16s %s\n", s.Name, s.Description)
	}
	return b.String()
}

func runSimulate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("simulate", "[flags] -o FILE",
		`Write a deterministic capture (pcap, nanosecond timestamps) of a small plant:
an engineering workstation, two HMIs and a historian on the control network,
Siemens, Schneider and Rockwell PLCs and an RTU on the field network, with
realistic timing: Modbus/TCP polling, S7comm reads and engineering sessions,
EtherNet/IP/CIP tag reads and class-1 I/O, DNP3 polls and unsolicited
responses, ARP and DHCP. The same seed always gives the same bytes. --cells
adds a building network (BACnet/IP), a substation (IEC 104, MMS, GOOSE) and an
OPC UA server. Scenarios inject events into the timeline (a cell's scenario
adds its cell):

`+scenarioHelp(),
		`  otwatch simulate -o plant.pcap
  otwatch simulate --duration 1h --seed 7 --scenario portscan,new-device -o attack.pcap
  otwatch simulate --scenario plc-program,plc-stop,firmware-update,restart -o maintenance.pcap
  otwatch simulate --cells all --scenario goose-stnum-jump -o substation.pcap
  otwatch simulate -o - | otwatch analyze -`, stderr)
	out := fs.String("o", "", "write the capture to this `file` (- for standard output)")
	seed := fs.Int64("seed", 1, "random seed")
	dur := fs.Duration("duration", 10*time.Minute, "simulated time span")
	start := fs.String("start", "2026-01-05T08:00:00Z", "time of the first packet (RFC 3339)")
	scen := fs.String("scenario", "", "comma-separated scenarios to inject (see above)")
	cells := fs.String("cells", "", "comma-separated optional cells to add: "+strings.Join(simulate.Cells(), ", ")+" or "+simulate.CellAll)
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: -o FILE is required", errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	t0, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		return fmt.Errorf("%w: --start: %v", errUsage, err)
	}
	opts := simulate.Options{Seed: *seed, Start: t0, Duration: *dur}
	if *scen != "" {
		opts.Scenarios = strings.Split(*scen, ",")
	}
	if *cells != "" {
		opts.Cells = strings.Split(*cells, ",")
	}
	sum, err := writeSimulation(*out, stdout, opts)
	if err != nil {
		return err
	}
	if *out != "-" {
		fmt.Fprintf(stderr, "wrote %s: %d packets, %d bytes, %d hosts\n", *out, sum.Packets, sum.Bytes, len(sum.Hosts))
	}
	return nil
}

// writeSimulation generates a capture into path ("-": w).
func writeSimulation(path string, w io.Writer, opts simulate.Options) (simulate.Summary, error) {
	if path == "-" {
		bw := bufio.NewWriter(w)
		sum, err := simulate.Generate(bw, opts)
		if err == nil {
			err = bw.Flush()
		}
		return sum, err
	}
	f, err := os.Create(path)
	if err != nil {
		return simulate.Summary{}, err
	}
	bw := bufio.NewWriter(f)
	sum, err := simulate.Generate(bw, opts)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return sum, fmt.Errorf("writing %s: %w", path, err)
	}
	return sum, nil
}
