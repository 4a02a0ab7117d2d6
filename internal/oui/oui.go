package oui

// Kind says what sort of address a MAC is, from its first octet.
type Kind uint8

// Address kinds.
const (
	Global    Kind = iota // universally administered unicast
	Local                 // locally administered unicast (the U/L bit set)
	Multicast             // group address (the I/G bit set), not broadcast
	Broadcast             // ff:ff:ff:ff:ff:ff
)

var kindNames = [...]string{"global", "local", "multicast", "broadcast"}

// String returns the kind's name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "global"
}

// KindOf returns the kind of mac.
func KindOf(mac [6]byte) Kind {
	switch {
	case mac == [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}:
		return Broadcast
	case mac[0]&1 != 0:
		return Multicast
	case mac[0]&2 != 0:
		return Local
	}
	return Global
}

// Short and full names for addresses that are not registered to a vendor.
const (
	LocalShort     = "Local"
	LocalFull      = "Locally administered address"
	MulticastShort = "Multicast"
	MulticastFull  = "Multicast address"
	BroadcastShort = "Broadcast"
	BroadcastFull  = "Broadcast address"
)

// wellKnown names group addresses from the standards that define them:
// prefix, prefix length in bits, short and full name. The longest matching
// prefix wins.
var wellKnown = [...]struct {
	prefix [6]byte
	bits   uint8
	short  string
	full   string
}{
	{[6]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}, 48, "STP", "IEEE 802.1D Spanning Tree (bridge group address)"},
	{[6]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x02}, 48, "Slow-Protocols", "IEEE 802.3 Slow Protocols (LACP, OAM)"},
	{[6]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x03}, 48, "LLDP", "IEEE 802.1AB LLDP (nearest non-TPMR bridge)"},
	{[6]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}, 48, "LLDP", "IEEE 802.1AB LLDP / PTP peer delay (nearest bridge)"},
	{[6]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}, 44, "IEEE802.1", "IEEE 802.1 reserved group address"},
	{[6]byte{0x01, 0x1b, 0x19, 0x00, 0x00, 0x00}, 48, "PTP", "IEEE 1588 Precision Time Protocol"},
	{[6]byte{0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc}, 48, "CDP/VTP", "Cisco Discovery Protocol / VLAN Trunking Protocol"},
	{[6]byte{0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcd}, 48, "PVST+", "Cisco Per-VLAN Spanning Tree Plus"},
	{[6]byte{0x01, 0x0e, 0xcf, 0x00, 0x00, 0x00}, 24, "PROFINET", "PROFINET multicast (DCP, PTCP, MRP)"},
	{[6]byte{0x01, 0x15, 0x4e, 0x00, 0x00, 0x00}, 24, "MRP", "IEC 62439-2 Media Redundancy Protocol"},
	{[6]byte{0x01, 0x0c, 0xcd, 0x01, 0x00, 0x00}, 32, "GOOSE", "IEC 61850-8-1 GOOSE"},
	{[6]byte{0x01, 0x0c, 0xcd, 0x02, 0x00, 0x00}, 32, "GSSE", "IEC 61850-8-1 GSSE"},
	{[6]byte{0x01, 0x0c, 0xcd, 0x04, 0x00, 0x00}, 32, "SV", "IEC 61850-9-2 Sampled Values"},
	{[6]byte{0x01, 0x00, 0x5e, 0x00, 0x00, 0x00}, 25, "IPv4mcast", "IPv4 multicast (RFC 1112)"},
	{[6]byte{0x33, 0x33, 0x00, 0x00, 0x00, 0x00}, 16, "IPv6mcast", "IPv6 multicast (RFC 2464)"},
}

// Lookup returns the short and full name of the organisation a MAC address
// is registered to, trying 36-bit (MA-S, IAB), then 28-bit (MA-M), then
// 24-bit (MA-L) prefixes. A group address is named after the standard that
// defines it, or reported as MulticastShort/MulticastFull (BroadcastShort/
// BroadcastFull for ff:ff:ff:ff:ff:ff); a locally administered address that
// is not registered is reported as LocalShort/LocalFull. ok is false only
// for a universally administered unicast address in no registry. Lookup
// does not allocate.
func Lookup(mac [6]byte) (short, full string, ok bool) {
	switch KindOf(mac) {
	case Broadcast:
		return BroadcastShort, BroadcastFull, true
	case Multicast:
		return group(mac)
	}
	p := uint64(mac[0])<<40 | uint64(mac[1])<<32 | uint64(mac[2])<<24 | uint64(mac[3])<<16 | uint64(mac[4])<<8 | uint64(mac[5])
	if v, found := search(ma36Off, ma36Len, 5, p>>12); found {
		return vendor(v)
	}
	if v, found := search(ma28Off, ma28Len, 4, p>>20); found {
		return vendor(v)
	}
	if v, found := search(ma24Off, ma24Len, 3, p>>24); found {
		return vendor(v)
	}
	if mac[0]&2 != 0 {
		return LocalShort, LocalFull, true
	}
	return "", "", false
}

// Vendor returns the full organisation name of a unicast address registered
// to one, or "".
func Vendor(mac [6]byte) string {
	if KindOf(mac) >= Multicast {
		return ""
	}
	_, full, ok := Lookup(mac)
	if !ok || full == LocalFull {
		return ""
	}
	return full
}

// group names a multicast address.
func group(mac [6]byte) (short, full string, ok bool) {
	best := -1
	for i := range wellKnown {
		w := &wellKnown[i]
		if prefixMatch(mac, w.prefix, w.bits) && (best < 0 || w.bits > wellKnown[best].bits) {
			best = i
		}
	}
	if best < 0 {
		return MulticastShort, MulticastFull, true
	}
	return wellKnown[best].short, wellKnown[best].full, true
}

func prefixMatch(a, p [6]byte, bits uint8) bool {
	for i := 0; bits > 0; i++ {
		if bits >= 8 {
			if a[i] != p[i] {
				return false
			}
			bits -= 8
			continue
		}
		mask := byte(0xff << (8 - bits))
		return a[i]&mask == p[i]&mask
	}
	return true
}

// search binary-searches n records of keyLen key bytes and a 2-byte vendor
// index, starting at off in table, for key.
func search(off, n, keyLen int, key uint64) (vendor int, found bool) {
	rec := keyLen + 2
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if keyAt(off+m*rec, keyLen) < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < n {
		p := off + lo*rec
		if keyAt(p, keyLen) == key {
			return int(table[p+keyLen])<<8 | int(table[p+keyLen+1]), true
		}
	}
	return 0, false
}

func keyAt(p, keyLen int) uint64 {
	var k uint64
	for i := range keyLen {
		k = k<<8 | uint64(table[p+i])
	}
	return k
}

// vendor returns the names of vendor record v.
func vendor(v int) (short, full string, ok bool) {
	if v >= numVendors {
		return "", "", false
	}
	p := vendorsOff + v*5
	off := namesOff + (int(table[p])<<16 | int(table[p+1])<<8 | int(table[p+2]))
	full = table[off : off+int(table[p+3])]
	short = full[:table[p+4]]
	if short == "" {
		short = full
	}
	return short, full, true
}
