package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/otwatch/otwatch/internal/analyze"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/simulate"
)

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "[flags]",
		`Simulate a small plant with an attack in progress (a port scan of the PLC
network, an unknown laptop that starts talking Modbus to a PLC, and an HMI
that stops the Siemens PLC over S7comm), then analyse the capture as a sensor
would: it learns the plant's normal traffic on the first third of the
capture and prints the summary and the alerts it raised. Needs nothing but
this binary.`,
		`  otwatch demo
  otwatch demo --duration 30m --keep plant.pcap`, stderr)
	dur := fs.Duration("duration", 5*time.Minute, "simulated time span")
	seed := fs.Int64("seed", 1, "random seed")
	keep := fs.String("keep", "", "also keep the simulated capture in this `file`")
	jsonOut := fs.Bool("json", false, "print the summary as JSON")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	path := *keep
	if path == "" {
		dir, err := os.MkdirTemp("", "otwatch-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "plant.pcap")
	}
	opts := simulate.Options{Seed: *seed, Duration: *dur, Scenarios: []string{"portscan", "new-device", "plc-stop"}}
	sim, err := writeSimulation(path, nil, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "simulated %s of plant traffic: %d packets, %d hosts, scenarios: portscan, new-device, plc-stop\n", *dur, sim.Packets, len(sim.Hosts))
	until, err := analyze.LearnUntil("35%", []string{path})
	if err != nil {
		return err
	}
	opts2 := analyze.Options{Pipeline: pipeline.DefaultOptions}
	det := analyze.WithDetection(&opts2, detect.Config{Sensor: "demo", LearnUntil: until, Keep: true})
	sum, err := analyze.Files([]string{path}, opts2)
	if err != nil {
		return err
	}
	det.Finish()
	sum.Inputs = []string{fmt.Sprintf("simulated plant (seed %d, %s)", *seed, *dur)}
	if *keep != "" {
		sum.Inputs = []string{*keep}
	}
	if *jsonOut {
		return analyze.WriteJSON(stdout, sum)
	}
	if err := analyze.WriteText(stdout, sum, 0); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nAlerts (learning on the first 35%% of the capture, until %s):\n\n", until.UTC().Format("15:04:05"))
	return writeAlerts(stdout, det, false, "", "")
}
