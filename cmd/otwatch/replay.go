package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/capture/afpacket"
)

func runReplay(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", "[flags] -i IFACE FILE...",
		`Send the frames of capture files out of a network interface, to feed a
sensor on the other end of a cable, a veth pair or a switch port. By default
frames keep their recorded spacing; --speed 0 sends as fast as possible.
Only Ethernet captures can be replayed.`,
		`  sudo otwatch replay -i veth0 plant.pcap
  sudo otwatch replay -i veth0 --speed 0 --loop 10 plant.pcap`, stderr)
	iface := fs.String("i", "", "send on this network `interface`")
	speed := fs.Float64("speed", 1, "time multiplier (2: twice as fast; 0: no waiting)")
	loops := fs.Int("loop", 1, "send the files this many times")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if *iface == "" || fs.NArg() == 0 {
		return fmt.Errorf("%w: need -i IFACE and at least one file", errUsage)
	}
	inj, err := afpacket.OpenInjector(*iface)
	if err != nil {
		return err
	}
	defer inj.Close()
	var sent uint64
	for range *loops {
		for _, path := range fs.Args() {
			n, err := replayFile(inj, path, *speed)
			sent += n
			if err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(stderr, "sent %d frames on %s\n", sent, *iface)
	return nil
}

func replayFile(inj *afpacket.Injector, path string, speed float64) (uint64, error) {
	src, err := capture.Open(path)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	var (
		sent        uint64
		first       time.Time
		wallStarted time.Time
	)
	for {
		pkt, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			return sent, nil
		}
		if err != nil {
			return sent, err
		}
		if pkt.LinkType != 1 {
			return sent, fmt.Errorf("%s: link type %v cannot be replayed on Ethernet", path, pkt.LinkType)
		}
		if speed > 0 {
			if first.IsZero() {
				first, wallStarted = pkt.Timestamp, time.Now()
			}
			due := wallStarted.Add(time.Duration(float64(pkt.Timestamp.Sub(first)) / speed))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		if err := inj.WritePacket(pkt.Data); err != nil {
			return sent, fmt.Errorf("%s: sending frame %d: %w", path, sent+1, err)
		}
		sent++
	}
}
