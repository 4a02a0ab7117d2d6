package devmap

import (
	"bufio"
	"fmt"
	"io"
	"unicode/utf8"
)

// SVGOptions control how a map is drawn.
type SVGOptions struct {
	// DeviceHref, when set, makes every device a link to DeviceHref
	// followed by the device's ID ("/devices/" gives "/devices/12").
	DeviceHref string
	// Focus starts the viewBox on Map.Focus when something is
	// highlighted, instead of the whole map.
	Focus bool
	// NoStyle leaves out the embedded stylesheet, for a page that links
	// Stylesheet itself.
	NoStyle bool
	// ID is the id attribute of the svg element ("" for none).
	ID string
}

// Stylesheet is the CSS the map's classes are drawn with. Every rule is
// scoped to the svg element's "devmap" class.
const Stylesheet = `.devmap{font-family:system-ui,sans-serif;font-size:12px}
.devmap .band rect{fill:#f4f6f8;stroke:#c9d1d9}
.devmap .band:nth-child(even) rect{fill:#eef1f4}
.devmap .band text{font-size:14px;font-weight:600;fill:#3b4754}
.devmap .grp{fill:#fff;stroke:#9aa7b4;stroke-dasharray:4 3}
.devmap .gl{font-size:11px;fill:#56636f}
.devmap .e{fill:none;stroke-width:1.2;stroke-opacity:.55}
.devmap .e.industrial{stroke:#c0392b}
.devmap .e.it{stroke:#2c6db3}
.devmap .e.relation{stroke:#7f8c8d;stroke-dasharray:3 3}
.devmap .d rect{fill:#fff;stroke:#5b6670;stroke-width:1}
.devmap .d text{fill:#1f2933}
.devmap .d .s{font-size:10px;fill:#56636f}
.devmap .d.plc rect,.devmap .d.rtu rect,.devmap .d.ied rect{fill:#fdecea}
.devmap .d.hmi rect,.devmap .d.ews rect,.devmap .d.scada rect,.devmap .d.hist rect,.devmap .d.opc rect{fill:#fff6e0}
.devmap .d.net rect{fill:#e8f1fb}
.devmap .d.ws rect,.devmap .d.srv rect{fill:#eaf6ec}
.devmap .d.iot rect{fill:#f3eafb}
.devmap a:focus .d rect,.devmap .d:hover rect{stroke:#111;stroke-width:2}
.devmap.hl .d:not(.hl),.devmap.hl .e:not(.hl){opacity:.3}
.devmap .d.hl rect{stroke:#d35400;stroke-width:3}
.devmap .e.hl{stroke:#d35400;stroke-width:3;stroke-opacity:1}
`

// svgWriter writes SVG; its bufio.Writer keeps the first write error.
type svgWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (s *svgWriter) str(v string) { s.w.WriteString(v) }

func (s *svgWriter) int(v int) {
	s.buf = appendInt(s.buf[:0], v)
	s.w.Write(s.buf)
}

// attr writes ` name="value"` with value escaped.
func (s *svgWriter) attr(name, value string) {
	s.w.WriteByte(' ')
	s.w.WriteString(name)
	s.w.WriteString(`="`)
	s.text(value)
	s.w.WriteByte('"')
}

// num writes ` name="value"`.
func (s *svgWriter) num(name string, v int) {
	s.w.WriteByte(' ')
	s.w.WriteString(name)
	s.w.WriteString(`="`)
	s.int(v)
	s.w.WriteByte('"')
}

func (s *svgWriter) rect(r Rect) {
	s.num("x", r.X)
	s.num("y", r.Y)
	s.num("width", r.W)
	s.num("height", r.H)
}

// text writes v escaped for XML text and attribute values, leaving out
// characters XML does not allow and replacing invalid UTF-8 with U+FFFD.
func (s *svgWriter) text(v string) {
	last := 0
	for i := 0; i < len(v); {
		r, n := utf8.DecodeRuneInString(v[i:])
		var rep string
		switch {
		case r == '&':
			rep = "&amp;"
		case r == '<':
			rep = "&lt;"
		case r == '>':
			rep = "&gt;"
		case r == '"':
			rep = "&quot;"
		case r == '\'':
			rep = "&#39;"
		case r == utf8.RuneError && n == 1:
			rep = "\uFFFD"
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0xFFFE, r == 0xFFFF:
			rep = ""
		default:
			i += n
			continue
		}
		s.w.WriteString(v[last:i])
		s.w.WriteString(rep)
		i += n
		last = i
	}
	s.w.WriteString(v[last:])
}

// WriteSVG draws the map as an SVG document: the bands, the group boxes,
// the edges and the devices, each with CSS classes (the device's type,
// the edge's kind, "hl" when highlighted), devices with id "d<ID>" and
// data-device-id, edges with data-from, data-to and data-protocols.
func (m *Map) WriteSVG(w io.Writer, o SVGOptions) error {
	if m == nil {
		return fmt.Errorf("devmap: writing SVG: nil map")
	}
	s := &svgWriter{w: bufio.NewWriterSize(w, 64<<10)}
	vb := Rect{W: m.Width, H: m.Height}
	if o.Focus && m.Highlighted {
		vb = m.Focus
	}
	s.str(`<svg xmlns="http://www.w3.org/2000/svg"`)
	if o.ID != "" {
		s.attr("id", o.ID)
	}
	if m.Highlighted {
		s.str(` class="devmap hl"`)
	} else {
		s.str(` class="devmap"`)
	}
	s.str(` viewBox="`)
	s.int(vb.X)
	s.str(" ")
	s.int(vb.Y)
	s.str(" ")
	s.int(vb.W)
	s.str(" ")
	s.int(vb.H)
	s.str(`"`)
	s.num("width", vb.W)
	s.num("height", vb.H)
	s.num("data-width", m.Width)
	s.num("data-height", m.Height)
	s.str(">\n")
	if !o.NoStyle {
		s.str("<style>\n")
		s.str(Stylesheet)
		s.str("</style>\n")
	}

	s.str(`<g class="bands">` + "\n")
	for i := range m.Bands {
		b := &m.Bands[i]
		s.str(`<g class="band"`)
		s.num("data-level", b.Level)
		s.str("><rect")
		s.rect(b.Rect)
		s.str("/><text")
		s.num("x", b.X+bandPad)
		s.num("y", b.Y+20)
		s.str(">")
		s.text(b.Label)
		s.str("</text></g>\n")
	}
	s.str("</g>\n")

	s.str(`<g class="groups">` + "\n")
	for i := range m.Groups {
		g := &m.Groups[i]
		s.str(`<rect class="grp"`)
		s.rect(g.Rect)
		s.num("data-group", i)
		s.str("/><text class=\"gl\"")
		s.num("x", g.X+groupPad)
		s.num("y", g.Y+16)
		s.str(">")
		s.text(capText(g.Label, (g.W-2*groupPad)/6))
		s.str("</text>\n")
	}
	s.str("</g>\n")

	s.str(`<g class="edges">` + "\n")
	for i := range m.Edges {
		e := &m.Edges[i]
		s.str(`<path class="e `)
		s.str(e.Kind)
		if e.Highlight {
			s.str(" hl")
		}
		s.str(`" d="M`)
		s.int(e.X1)
		s.str(" ")
		s.int(e.Y1)
		s.str("L")
		s.int(e.X2)
		s.str(" ")
		s.int(e.Y2)
		s.str(`"`)
		s.num("data-from", int(e.From))
		s.num("data-to", int(e.To))
		s.str(` data-protocols="`)
		for j, p := range e.Protocols {
			if j == 4 {
				s.str(" …")
				break
			}
			if j > 0 {
				s.str(" ")
			}
			s.text(capText(p, 32))
		}
		s.str("\"/>\n")
	}
	s.str("</g>\n")

	s.str(`<g class="devices">` + "\n")
	for i := range m.Devices {
		n := &m.Devices[i]
		if o.DeviceHref != "" {
			s.str(`<a href="`)
			s.text(o.DeviceHref)
			s.int(int(n.ID))
			s.str(`">`)
		}
		s.str(`<g id="d`)
		s.int(int(n.ID))
		s.str(`" class="d `)
		s.str(typeClass(n.Type))
		if n.Highlight {
			s.str(" hl")
		}
		s.str(`"`)
		s.num("data-device-id", int(n.ID))
		s.str("><rect")
		s.rect(n.Rect)
		s.str(` rx="4"/><text`)
		s.num("x", n.X+8)
		s.num("y", n.Y+16)
		s.str(">")
		s.text(n.Label)
		s.str(`</text><text class="s"`)
		s.num("x", n.X+8)
		s.num("y", n.Y+32)
		s.str(">")
		s.text(n.Sub)
		s.str("</text>")
		if n.Label != n.Name {
			s.str("<title>")
			s.text(n.Name)
			s.str("</title>")
		}
		s.str("</g>")
		if o.DeviceHref != "" {
			s.str("</a>")
		}
		s.str("\n")
	}
	s.str("</g>\n</svg>\n")
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("devmap: writing SVG: %w", err)
	}
	return nil
}
