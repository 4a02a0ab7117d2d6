package evidence

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// WriteOptions describes the pcapng file written by WritePcapng.
type WriteOptions struct {
	// Comment, if not empty, is the section header's comment (for example
	// the alert's title).
	Comment string
	// Application names the writer in the section header; "otwatch" when
	// empty.
	Application string
}

// maxComment is the longest option value pcapng can carry (a 16-bit length),
// rounded down to keep the value's padding within it.
const maxComment = 0xFFFC

// WritePcapng writes pkts, which may come from several flows, into a pcapng
// file ordered by timestamp (ties keep their order in pkts). The file has
// one section, one interface description block per link type in order of
// first appearance, all with nanosecond resolution, and one enhanced packet
// block per packet carrying its Comment if any. Comments longer than a
// pcapng option allows are cut at a UTF-8 boundary. With no packets, the
// file holds one Ethernet interface and no packets. pkts is not modified.
func WritePcapng(w io.Writer, pkts []Packet, opts WriteOptions) error {
	order := make([]int, len(pkts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return pkts[a].Timestamp.Compare(pkts[b].Timestamp)
	})

	var ifaces []layers.LinkType
	for _, i := range order {
		if !slices.Contains(ifaces, pkts[i].LinkType) {
			ifaces = append(ifaces, pkts[i].LinkType)
		}
	}
	if len(ifaces) == 0 {
		ifaces = append(ifaces, layers.LinkTypeEthernet)
	}

	app := cmp.Or(opts.Application, "otwatch")
	nw, err := pcapgo.NewNgWriterInterface(w, iface(ifaces[0]), pcapgo.NgWriterOptions{
		SectionInfo: pcapgo.NgSectionInfo{Application: clip(app), Comment: clip(opts.Comment)},
	})
	if err != nil {
		return fmt.Errorf("evidence: writing pcapng header: %w", err)
	}
	for _, lt := range ifaces[1:] {
		if _, err := nw.AddInterface(iface(lt)); err != nil {
			return fmt.Errorf("evidence: writing pcapng interface %v: %w", lt, err)
		}
	}
	for _, i := range order {
		p := &pkts[i]
		ci := gopacket.CaptureInfo{
			Timestamp:      p.Timestamp,
			CaptureLength:  len(p.Data),
			Length:         max(p.Length, len(p.Data)),
			InterfaceIndex: slices.Index(ifaces, p.LinkType),
		}
		var po pcapgo.NgPacketOptions
		if p.Comment != "" {
			po.Comments = []string{clip(p.Comment)}
		}
		if err := nw.WritePacketWithOptions(ci, p.Data, po); err != nil {
			return fmt.Errorf("evidence: writing packet %d of flow %d: %w", p.Index, p.Flow, err)
		}
	}
	if err := nw.Flush(); err != nil {
		return fmt.Errorf("evidence: writing pcapng: %w", err)
	}
	return nil
}

func iface(lt layers.LinkType) pcapgo.NgInterface {
	return pcapgo.NgInterface{
		Name:                fmt.Sprintf("otwatch-%d", uint16(lt)),
		Description:         "otwatch evidence, link type " + lt.String(),
		LinkType:            lt,
		TimestampResolution: 9,
	}
}

// clip cuts s to at most maxComment bytes without splitting a UTF-8
// sequence.
func clip(s string) string {
	if len(s) <= maxComment {
		return s
	}
	n := maxComment
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
