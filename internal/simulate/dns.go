package simulate

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// dnsQuery builds a DNS query (RFC 1035 section 4.1) for an A record.
func dnsQuery(id uint16, name string) []byte {
	b := be16(nil, id)
	b = append(b, 0x01, 0x00) // standard query, recursion desired
	b = be16(b, 1)            // QDCOUNT
	b = append(b, 0, 0, 0, 0, 0, 0)
	b = appendDNSName(b, name)
	return be16(be16(b, 1), 1) // QTYPE A, QCLASS IN
}

// dnsAnswer builds the response to dnsQuery(id, name) with one A record.
func dnsAnswer(id uint16, name string, a netip.Addr, ttl uint32) []byte {
	b := be16(nil, id)
	b = append(b, 0x81, 0x80) // response, recursion desired and available, no error
	b = be16(b, 1)
	b = be16(b, 1) // ANCOUNT
	b = append(b, 0, 0, 0, 0)
	b = appendDNSName(b, name)
	b = be16(be16(b, 1), 1)
	b = append(b, 0xc0, 12) // pointer to the question's name
	b = be16(be16(b, 1), 1)
	b = be32(b, ttl)
	b = be16(b, 4)
	return append(b, a.AsSlice()...)
}

func appendDNSName(b []byte, name string) []byte {
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			b = append(b, byte(i-start))
			b = append(b, name[start:i]...)
			start = i + 1
		}
	}
	return append(b, 0)
}

// dnsLookup has cli ask its gateway (the plant's resolver) for name, which
// resolves to a; it returns the time of the answer.
func (s *sim) dnsLookup(t time.Duration, cli *node, name string, a netip.Addr, rng *rand.Rand) time.Duration {
	res := cli.gw
	id := uint16(rng.Uint32())
	sport := uint16(49152 + rng.IntN(16000))
	s.emit(&frame{at: t, src: cli, ethSrc: cli.MAC, ethDst: res.MAC, ip: cli.ipv4(res.IP, layers.IPProtocolUDP),
		udp: &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: 53}, data: dnsQuery(id, name)})
	t += between(rng, 1*time.Millisecond, 6*time.Millisecond)
	s.emit(&frame{at: t, src: res, ethSrc: res.MAC, ethDst: cli.MAC, ip: res.ipv4(cli.IP, layers.IPProtocolUDP),
		udp: &layers.UDP{SrcPort: 53, DstPort: layers.UDPPort(sport)}, data: dnsAnswer(id, name, a, 300)})
	return t
}

// plantNames are the names the control hosts look up now and then.
var plantNames = []struct {
	name string
	addr netip.Addr
}{
	{"hist01.plant.local", ip("10.10.1.30")},
	{"ews01.plant.local", ip("10.10.1.10")},
	{"time.plant.local", ip("10.10.1.1")},
}

// scheduleDNS has the engineering workstation and the historian resolve
// plant names through the router every minute or so.
func (s *sim) scheduleDNS(p *plant, rng *rand.Rand) {
	for _, name := range []string{"ews01", "hist01"} {
		cli := p.byName[name]
		var next func()
		next = func() {
			if s.now+2*time.Second > s.end {
				return
			}
			n := plantNames[rng.IntN(len(plantNames))]
			s.dnsLookup(s.now, cli, n.name, n.addr, rng)
			s.at(s.now+between(rng, 40*time.Second, 80*time.Second), next)
		}
		s.at(between(rng, 3*time.Second, 10*time.Second), next)
	}
}
