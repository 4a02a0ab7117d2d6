package analyze

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes s as indented JSON.
func WriteJSON(w io.Writer, s *Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("analyze: writing JSON: %w", err)
	}
	return nil
}

// WriteText writes s as tables for people. maxEndpoints limits the endpoint
// table (0: all).
func WriteText(w io.Writer, s *Summary, maxEndpoints int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Input:\t%s\n", strings.Join(s.Inputs, ", "))
	fmt.Fprintf(tw, "Packets:\t%d\n", s.Packets)
	fmt.Fprintf(tw, "Bytes:\t%d\n", s.Bytes)
	if !s.First.IsZero() {
		fmt.Fprintf(tw, "Time:\t%s … %s (%s)\n", s.First.Format(time.RFC3339Nano), s.Last.Format(time.RFC3339Nano), s.Duration.Round(time.Millisecond))
	}
	fmt.Fprintf(tw, "Flows:\t%d\n", s.Flows)
	fmt.Fprintf(tw, "Addresses:\t%d MAC, %d IP\n", s.MACs, s.IPs)
	fmt.Fprintf(tw, "Malformed:\t%d\n", s.Malformed)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "ENDPOINT\tIP\tROLE\tSERVES\tSENT\tRECEIVED")
	for i, e := range s.Endpoints {
		if maxEndpoints > 0 && i == maxEndpoints {
			fmt.Fprintf(tw, "… %d more (use --json or --endpoints 0 for all)\t\t\t\t\t\n", len(s.Endpoints)-i)
			break
		}
		mac := e.MAC
		if mac == "" {
			mac = "-"
		}
		ips := strings.Join(e.IPs, ",")
		if ips == "" {
			ips = "-"
		}
		serves := strings.Join(e.Serves, ", ")
		if serves == "" {
			serves = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d pkts\t%d pkts\n", mac, ips, e.Role, serves, e.PacketsTx, e.PacketsRx)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "PROTOCOL\tPACKETS\tBYTES")
	for _, p := range s.Protocols {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", p.Name, p.Packets, p.Bytes)
	}
	if len(s.Operations) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "OPERATION\tFUNCTION\tCLASS\tRESULT\tCOUNT")
		for _, o := range s.Operations {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", o.Protocol, o.Function, o.Class, o.Status, o.Count)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("analyze: writing report: %w", err)
	}
	return nil
}
