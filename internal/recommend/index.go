package recommend

import (
	"slices"
	"strings"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/inventory"
)

// alertTypes are the alert types the rules compare by equality.
var alertTypes = []string{alertCleartext, alertRemoteAccess, alertInternet, alertITOT, alertS7Stop, alertS7Start,
	alertCIPMode, alertProgramming, alertS7Download, alertOB1Write}

// AlertTypes returns the alert types recommendations and risk read besides
// the indicator types (malware.ioc_*; see ReadsAlert). A caller that loads
// alerts for ForDevice, ExposureOf or DeviceRisk may load only those:
// alerts of other types change nothing.
func AlertTypes() []string { return slices.Clone(alertTypes) }

// ReadsAlert reports whether recommendations or risk read alerts of type
// typ: one of AlertTypes, or an indicator of compromise (malware.ioc_*).
func ReadsAlert(typ string) bool {
	return slices.Contains(alertTypes, typ) || strings.HasPrefix(typ, "malware.ioc_")
}

// InternetHost reports whether every address of d is a public internet
// address: a host on the internet rather than a device of the plant.
// Assess does not match such hosts against advisories.
func InternetHost(d *inventory.Device) bool { return publicOnly(d) }

// An Index prepares a snapshot for assessing many of its devices. A
// device's recommendations and risk read only its own connections, the
// devices at their other end and the firmware of the devices of its model;
// the Index finds those in advance, so that assessing every device of a
// large inventory costs in proportion to its size rather than its square.
// Its methods give the same results as the functions of the same name on
// the whole snapshot. An Index is safe for concurrent use; the snapshot
// must not change while it is used.
type Index struct {
	snap  *inventory.Snapshot
	conns map[inventory.DeviceID][]int32 // the device's connections, as indexes into snap.Connections, in order
	newer map[inventory.DeviceID]*newerFirmware
}

// NewIndex indexes snap (its devices sorted by ID, as Snapshot.Device
// needs).
func NewIndex(snap *inventory.Snapshot) *Index {
	x := &Index{snap: snap, conns: map[inventory.DeviceID][]int32{}, newer: map[inventory.DeviceID]*newerFirmware{}}
	for i, c := range snap.Connections {
		x.conns[c.Client] = append(x.conns[c.Client], int32(i))
		if c.Server != c.Client {
			x.conns[c.Server] = append(x.conns[c.Server], int32(i))
		}
	}
	// The devices of each model, in order; then, once per firmware version
	// of the model, what outdatedFirmware finds among them.
	models := map[string][]*inventory.Device{}
	var keys []string
	for i := range snap.Devices {
		d := &snap.Devices[i]
		if key := modelKey(d); key != "" {
			if _, ok := models[key]; !ok {
				keys = append(keys, key)
			}
			models[key] = append(models[key], d)
		}
	}
	for _, key := range keys {
		byVersion := map[string]*newerFirmware{}
		for _, d := range models[key] {
			if !readableVersion(d.Firmware) {
				continue
			}
			nf, ok := byVersion[d.Firmware]
			if !ok {
				// The device itself runs fw, which is not newer than fw:
				// leaving it among the others changes nothing.
				nf = newestFirmware(models[key], d.Firmware)
				byVersion[d.Firmware] = nf
			}
			x.newer[d.ID] = nf
		}
	}
	return x
}

// part returns the part of the snapshot that the rules read for its
// device d, but for the firmware of d's model: d, its connections in the
// snapshot's order and the devices at their other end. The devices are
// shallow copies; the first result is the copy of d.
func (x *Index) part(d *inventory.Device) (*inventory.Device, *inventory.Snapshot) {
	part := &inventory.Snapshot{Time: x.snap.Time}
	ids := []inventory.DeviceID{d.ID}
	for _, ci := range x.conns[d.ID] {
		c := &x.snap.Connections[ci]
		part.Connections = append(part.Connections, *c)
		ids = append(ids, c.Client, c.Server)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	part.Devices = make([]inventory.Device, 0, len(ids))
	for _, id := range ids {
		if id == d.ID {
			part.Devices = append(part.Devices, *d)
		} else if pd := x.snap.Device(id); pd != nil {
			part.Devices = append(part.Devices, *pd)
		}
	}
	return part.Device(d.ID), part
}

// ForDevice returns the recommendations for device d of the snapshot, as
// the function ForDevice does.
func (x *Index) ForDevice(d *inventory.Device, matches []csaf.Match, alerts []*alert.Alert) []Recommendation {
	pd, part := x.part(d)
	nf := x.newer[d.ID]
	if nf == nil {
		nf = &newerFirmware{}
	}
	return forDevice(part, pd, matches, alerts, nf)
}

// DeviceRisk returns the risk of device d of the snapshot, as the function
// DeviceRisk does.
func (x *Index) DeviceRisk(d *inventory.Device, matches []csaf.Match, alerts []*alert.Alert, recs []Recommendation) Risk {
	pd, part := x.part(d)
	return DeviceRisk(part, pd, matches, alerts, recs)
}
