package recommend

import (
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/inventory"
)

// Kind is what a recommendation is about. Kinds are stable identifiers:
// they are part of a recommendation's ID.
type Kind string

// Kinds of recommendation from advisories.
const (
	// KindUpdate: apply the vendor fix (update the firmware or software).
	KindUpdate Kind = "advisory_update"
	// KindMitigate: apply the advisory's mitigations and workarounds.
	KindMitigate Kind = "advisory_mitigation"
	// KindConfirm: the device is possibly affected; confirm its firmware
	// version (or its model) against the advisory.
	KindConfirm Kind = "advisory_confirm"
)

// Kinds of recommendation from what the sensor saw.
const (
	KindInsecureProtocol     Kind = "insecure_protocol"
	KindCleartextCredentials Kind = "cleartext_credentials"
	KindRemoteAccess         Kind = "remote_access"
	KindInternet             Kind = "internet_exposure"
	KindOutdatedFirmware     Kind = "outdated_firmware"
	KindPLCMode              Kind = "plc_mode"
	KindPLCProgramming       Kind = "plc_programming"
	KindITOTCrossing         Kind = "it_ot_crossing"
)

// Source says where a recommendation comes from.
type Source string

// Sources.
const (
	SourceAdvisory Source = "advisory" // a vendor advisory matched to the device
	SourceObserved Source = "observed" // what the sensor saw on the network
)

// DeviceRef names the device a recommendation is for.
type DeviceRef struct {
	ID   inventory.DeviceID `json:"id"`
	IP   string             `json:"ip,omitempty"`  // the device's first IP address
	MAC  string             `json:"mac,omitempty"` // its MAC address, when seen
	Name string             `json:"name,omitempty"`
}

// String returns "PLC01 (10.10.2.11)", the IP or MAC alone without a name,
// or "device N" when nothing else is known.
func (r DeviceRef) String() string {
	addr := cmp.Or(r.IP, r.MAC)
	switch {
	case r.Name != "" && addr != "":
		return r.Name + " (" + addr + ")"
	case r.Name != "":
		return r.Name
	case addr != "":
		return addr
	}
	return fmt.Sprintf("device %d", r.ID)
}

// Ref returns the DeviceRef of an inventory device.
func Ref(d *inventory.Device) DeviceRef {
	r := DeviceRef{ID: d.ID, MAC: d.MAC, Name: d.Name}
	if len(d.IPs) > 0 {
		r.IP = d.IPs[0]
	} else if d.Address != "" {
		r.IP = d.Address
	}
	return r
}

// A Recommendation is one action to take on one device.
type Recommendation struct {
	// ID is stable: the same device, kind and key give the same ID in
	// every analysis (see ID).
	ID     string    `json:"id"`
	Device DeviceRef `json:"device"`
	Kind   Kind      `json:"kind"`
	// Key distinguishes recommendations of one kind on one device: the
	// advisory's tracking ID, a protocol, a direction.
	Key      string         `json:"key,omitempty"`
	Severity alert.Severity `json:"severity"`
	Title    string         `json:"title"`
	Text     string         `json:"text"`
	// Evidence is what the recommendation rests on: what the sensor saw,
	// or the advisory, its CVEs and why the device matched.
	Evidence []string `json:"evidence"`
	Source   Source   `json:"source"`
	// Advisory, CVEs and URL are set for recommendations from advisories.
	Advisory string   `json:"advisory,omitempty"`
	CVEs     []string `json:"cves,omitempty"`
	URL      string   `json:"url,omitempty"`
	Status   Status   `json:"status"`
	// Reason is why the status was last changed (required to dismiss).
	Reason string `json:"reason,omitempty"`
}

// DeviceKey returns the identity of a device that outlives one inventory:
// its MAC address, else its routed address, else its first IP address
// (inventory.Device.Key, which the store also keeps device IDs by).
func DeviceKey(d *inventory.Device) string { return d.Key() }

// ID returns the ID of the recommendation of a kind and key for the device
// with the given DeviceKey: a name-based UUID (version 5 layout, SHA-1).
func ID(deviceKey string, kind Kind, key string) string {
	h := sha1.New()
	for _, s := range []string{"recommendation", deviceKey, string(kind), key} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// newRec starts a recommendation for d.
func newRec(d *inventory.Device, kind Kind, key string, sev alert.Severity, src Source) Recommendation {
	return Recommendation{ID: ID(DeviceKey(d), kind, key), Device: Ref(d), Kind: kind, Key: key,
		Severity: sev, Source: src, Status: Open}
}

// ForDevice returns the recommendations for device d of snap: from its
// advisory matches and from what the sensor saw (snap's services, facts
// and connections, and the alerts that involve d). Every recommendation
// is Open. They are sorted by severity, advisories first, then kind and
// key.
func ForDevice(snap *inventory.Snapshot, d *inventory.Device, matches []csaf.Match, alerts []*alert.Alert) []Recommendation {
	return forDevice(snap, d, matches, alerts, nil)
}

// forDevice is ForDevice with, when newer is not nil, the newer firmware
// of d's model already found (see Index).
func forDevice(snap *inventory.Snapshot, d *inventory.Device, matches []csaf.Match, alerts []*alert.Alert, newer *newerFirmware) []Recommendation {
	var out []Recommendation
	for i := range matches {
		out = append(out, fromMatch(d, &matches[i])...)
	}
	out = append(out, observed(snap, d, alerts, newer)...)
	sortRecs(out)
	return out
}

// All returns the recommendations for every device of snap, the devices
// ranked by risk (see RankDevices). A nil catalog gives only the
// recommendations from what the sensor saw.
func All(snap *inventory.Snapshot, catalog *csaf.Catalog, alerts []*alert.Alert) []Recommendation {
	var out []Recommendation
	for _, a := range RankDevices(snap, catalog, alerts) {
		out = append(out, a.Recommendations...)
	}
	return out
}

func sortRecs(rs []Recommendation) {
	slices.SortStableFunc(rs, func(a, b Recommendation) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(sourceOrder(a.Source), sourceOrder(b.Source)),
			strings.Compare(string(a.Kind), string(b.Kind)),
			strings.Compare(a.Key, b.Key))
	})
}

func sourceOrder(s Source) int {
	if s == SourceAdvisory {
		return 0
	}
	return 1
}

// involves reports whether an alert party is device d (by IP, else MAC).
func involves(p alert.Party, d *inventory.Device) bool {
	if p.IP.IsValid() {
		return slices.Contains(d.IPs, p.IP.String())
	}
	return !p.MAC.IsZero() && d.MAC != "" && p.MAC.String() == d.MAC
}

// isPublic reports whether a is a public internet address: global
// unicast, not private (RFC 1918, RFC 4193) and not shared (RFC 6598).
func isPublic(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// publicOnly reports whether every address of d is a public internet
// address (a host on the internet, not a plant device).
func publicOnly(d *inventory.Device) bool {
	if len(d.IPs) == 0 {
		return false
	}
	for _, s := range d.IPs {
		a, err := netip.ParseAddr(s)
		if err != nil || !isPublic(a) {
			return false
		}
	}
	return true
}

// listOf joins up to five items and counts the rest.
func listOf(items []string) string {
	if len(items) > 5 {
		return strings.Join(items[:5], ", ") + fmt.Sprintf(" and %d more", len(items)-5)
	}
	return strings.Join(items, ", ")
}
