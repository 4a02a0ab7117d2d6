package anomaly

import (
	"math"
	"net/netip"
	"strconv"
	"time"
	"unsafe"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// How polling channels are learned and checked. A channel is a client
// sending requests of one industrial protocol to one server. While
// learning, its requests are counted in bins; a channel is periodic when
// it was seen over enough bins, with enough requests per bin and a small
// spread between bins. Afterwards, each window of a periodic channel is
// compared with the count its period predicts.
const (
	pollBin       = 30 * time.Second
	pollMinBins   = 4   // two minutes of learning
	pollMinPerBin = 2.0 // requests per bin: a poll at least every 15 s
	pollMaxCV     = 0.5 // coefficient of variation of the bin counts
	// pollFactor is the change of rate that is alerted, up or down.
	pollFactor = 3.0
	// pollMinChange is the smallest difference in requests per window
	// that is alerted, so that a slow poll's jitter is not.
	pollMinChange = 10
	// A window lasts pollWindowPeriods periods, at least pollMinWindow.
	pollMinWindow     = time.Minute
	pollWindowPeriods = 6
	// pollMaxBins bounds the zero bins added for a silence while learning.
	pollMaxBins = 1 << 20
)

// chanKey identifies a polling channel.
type chanKey struct {
	src, dst netip.Addr
	proto    string
}

// channel is one channel's learning statistics, then its checking state.
type channel struct {
	// src, dst and proto are the channel's key.
	src, dst netip.Addr
	proto    string
	binStart int64
	binN     int
	bins     float64
	sum      float64
	sumsq    float64
	total    uint64
	first    int64 // first and last request while learning
	last     int64

	periodic bool
	period   time.Duration
	window   time.Duration
	winStart int64
	n        int
}

// polling holds the channels.
type polling struct {
	m map[chanKey]*channel
	// gen is the generation of the channels cached in conversations
	// (convState): a conversation's client and server are its
	// channels', so a cached channel only has to match the operation's
	// protocol.
	gen     uint64
	loaded  bool // periodic channels known (learned or read from the baseline)
	dropped uint64
}

func newPolling() polling {
	return polling{m: make(map[chanKey]*channel)}
}

// sameString is a == b, deciding without a call when both are the same
// bytes in memory: dissectors name protocols with constant strings.
func sameString(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}

// cache keeps c in conversation cs (nil for none).
func (p *polling) cache(cs *convState, c *channel) {
	if cs == nil {
		return
	}
	if cs.pollGen != p.gen {
		cs.poll, cs.pollGen = [2]*channel{}, p.gen
	}
	if x := cs.poll[0]; x == nil || x.proto == c.proto {
		cs.poll[0] = c
		return
	}
	cs.poll[1] = c
}

// invalidate drops the cached channels, when channels are deleted or
// replaced.
func (p *polling) invalidate() { p.gen++ }

// operation counts one request of conversation cs (nil for none).
func (p *polling) operation(d *detect.Detector, op *dissect.Operation, cs *convState) {
	// The channel of op's protocol, if cs has it.
	var c *channel
	if cs != nil && cs.pollGen == p.gen {
		if x := cs.poll[0]; x != nil && sameString(x.proto, op.Protocol) {
			c = x
		} else if x := cs.poll[1]; x != nil && sameString(x.proto, op.Protocol) {
			c = x
		}
	}
	if c == nil {
		c = p.m[chanKey{op.Client.IP, op.Server.IP, op.Protocol}]
		if c != nil {
			p.cache(cs, c)
		} else if !d.Learning() && cs != nil {
			// Remember that the conversation's channel is not watched:
			// a placeholder that is never periodic.
			p.cache(cs, &channel{src: op.Client.IP, dst: op.Server.IP, proto: op.Protocol})
		}
	}
	if d.Learning() {
		t := op.Time.UnixNano()
		if c == nil {
			if len(p.m) >= maxTracked {
				p.dropped++
				return
			}
			c = &channel{src: op.Client.IP, dst: op.Server.IP, proto: op.Protocol, binStart: t, first: t}
			p.m[chanKey{op.Client.IP, op.Server.IP, op.Protocol}] = c
			p.cache(cs, c)
		}
		c.advance(t)
		c.binN++
		c.total++
		c.last = max(c.last, t)
		return
	}
	if c != nil && c.periodic {
		c.n++
	}
}

// advance closes the learning bins that end at or before t.
func (c *channel) advance(t int64) {
	if t < c.binStart+int64(pollBin) {
		return
	}
	c.bins++
	c.sum += float64(c.binN)
	c.sumsq += float64(c.binN) * float64(c.binN)
	c.binN = 0
	c.binStart += int64(pollBin)
	if k := (t - c.binStart) / int64(pollBin); k > 0 {
		c.bins += float64(min(k, pollMaxBins)) // silent bins add nothing to the sums
		c.binStart += k * int64(pollBin)
	}
}

// operational keeps the periodic channels and writes their periods to the
// baseline.
func (p *polling) operational(d *detect.Detector) {
	now := d.Now()
	for k, c := range p.m {
		c.advance(now.UnixNano())
		period, ok := c.learnedPeriod()
		if !ok {
			delete(p.m, k)
			p.invalidate()
			continue
		}
		d.Baseline().SetPeriod(RateEntry(k.src, k.dst, k.proto), now, period, c.total)
		c.start(period, now.UnixNano())
	}
	p.loaded = true
}

// learnedPeriod returns the channel's mean period if it is periodic: the
// bins tell whether it is, the first and last request how often it polls.
func (c *channel) learnedPeriod() (time.Duration, bool) {
	if c.bins < pollMinBins {
		return 0, false
	}
	mean := c.sum / c.bins
	if mean < pollMinPerBin {
		return 0, false
	}
	cv := math.Sqrt(max(0, c.sumsq/c.bins-mean*mean)) / mean
	if cv > pollMaxCV {
		return 0, false
	}
	if c.total < 2 || c.last <= c.first {
		return 0, false
	}
	return time.Duration((c.last - c.first) / int64(c.total-1)), true
}

// start makes the channel periodic with period from t. It keeps the
// channel's key.
func (c *channel) start(period time.Duration, t int64) {
	*c = channel{src: c.src, dst: c.dst, proto: c.proto, periodic: true, period: period, winStart: t,
		window: max(pollMinWindow, (pollWindowPeriods * period).Round(time.Second))}
}

// RateEntry is the baseline entry of a polling channel.
func RateEntry(client, server netip.Addr, protocol string) baseline.Entry {
	return baseline.Entry{Kind: baseline.KindRate, Client: client, Server: server, Protocol: protocol}
}

// load reads the periodic channels from the baseline, when the detector
// started operational with an imported baseline.
func (p *polling) load(d *detect.Detector) {
	p.loaded = true
	defer p.invalidate() // conversations cached as unwatched may be watched now
	now := d.Now().UnixNano()
	for _, r := range d.Baseline().Records() {
		if r.Kind != baseline.KindRate || r.Period <= 0 || len(p.m) >= maxTracked {
			continue
		}
		c := &channel{src: r.Client, dst: r.Server, proto: r.Protocol}
		c.start(r.Period, now)
		p.m[chanKey{r.Client, r.Server, r.Protocol}] = c
	}
}

// tick closes the windows that are over and raises those whose count is
// pollFactor times above or below what the period predicts. A window cut
// short by the end of the input is not judged.
func (p *polling) tick(d *detect.Detector, final bool) {
	if d.Learning() {
		return
	}
	if !p.loaded {
		p.load(d)
	}
	now := d.Now().UnixNano()
	for k, c := range p.m {
		end := c.winStart + int64(c.window)
		if now < end {
			continue
		}
		n := c.n
		c.n = 0
		if now-end > int64(c.window) {
			c.winStart = now // a gap in the input: the windows in it say nothing
			continue
		}
		c.winStart = end
		expected := float64(c.window) / float64(c.period)
		up := float64(n) >= pollFactor*expected && float64(n)-expected >= pollMinChange
		down := float64(n)*pollFactor <= expected && expected-float64(n) >= pollMinChange
		if !up && !down {
			continue
		}
		p.raise(d, k, c, n, expected, end)
	}
}

func (p *polling) raise(d *detect.Detector, k chanKey, c *channel, n int, expected float64, end int64) {
	var detail string
	if n == 0 {
		detail = "it sent no request in " + within(c.window) + ", where about " + strconv.Itoa(int(expected+0.5)) + " were expected"
	} else {
		now := c.window / time.Duration(n)
		detail = "it now polls about every " + roundDuration(now) + " instead of every " + roundDuration(c.period) +
			" (" + strconv.Itoa(n) + " requests in " + within(c.window) + " where about " + strconv.Itoa(int(expected+0.5)) + " were expected)"
	}
	d.Raise(detect.Finding{Type: PollingRate, Time: time.Unix(0, end).UTC(), Protocol: k.proto,
		Source: alert.Party{IP: k.src}, Destination: alert.Party{IP: k.dst}, Key: k.proto, Detail: detail,
		Details: []dissect.Attr{
			{Key: "requests", Value: strconv.Itoa(n)},
			{Key: "expected", Value: strconv.Itoa(int(expected + 0.5))},
			{Key: "window", Value: c.window.String()},
			{Key: "learned_period", Value: roundDuration(c.period)},
		}})
}

// roundDuration rounds a period for people: milliseconds below a second,
// tenths of seconds above.
func roundDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
