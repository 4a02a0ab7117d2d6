package api

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

func (a *API) listDevices(c *call) (any, error) {
	q := store.DeviceQuery{Sensors: c.queryAll("sensor"), Sites: c.queryAll("site"), Zones: c.queryAll("zone"),
		Vendors: c.queryAll("vendor"), Protocols: c.queryAll("protocol"), Text: c.query("q"), Inactive: c.queryBool("inactive"),
		Sort: store.DeviceSort(c.query("sort")), Ascending: c.query("order") == "asc", Cursor: c.query("cursor"), Limit: c.queryInt("limit")}
	for _, t := range c.queryAll("type") {
		q.Types = append(q.Types, inventory.Type(t))
	}
	for _, p := range c.queryAll("purdue") {
		n, _ := strconv.Atoi(p)
		q.Purdue = append(q.Purdue, n)
	}
	var err error
	if q.Devices, err = store.NormalizeAddrs(c.queryAll("device")); err != nil {
		return nil, badRequest("device: %s", clean(err))
	}
	if q.From, err = parseTime("from", c.query("from")); err != nil {
		return nil, err
	}
	if q.Until, err = parseTime("until", c.query("until")); err != nil {
		return nil, err
	}
	if err := checkCursor(q.Cursor); err != nil {
		return nil, err
	}
	if q, err = q.Normalize(); err != nil {
		return nil, err
	}
	p, err := a.st.Devices(c.ctx, q)
	if p.Devices == nil {
		p.Devices = []*store.DeviceRecord{}
	}
	return p, err
}

func checkCursor(s string) error {
	if s == "" {
		return nil
	}
	if _, err := store.DecodeCursor(s); err != nil {
		return badRequest("cursor: not a cursor this API gave (pass the next value of the previous page)")
	}
	return nil
}

// device returns the device the path names.
func (c *call) device() (*store.DeviceRecord, error) {
	return c.api.st.Device(c.ctx, c.r.PathValue("sensor"), inventory.DeviceID(c.pathInt("id")))
}

// deviceAddrs returns the addresses alerts and events name a device by:
// its IPs and its MAC, at most store.MaxValues.
func deviceAddrs(d *store.DeviceRecord) []string {
	var out []string
	for _, s := range append(slices.Clone(d.IPs), d.MAC) {
		if a, err := store.NormalizeAddr(s); err == nil && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) > store.MaxValues {
		out = out[:store.MaxValues]
	}
	return out
}

// overrideAddr returns the address a device's override is kept by: its
// MAC, else its first IP, else its routed address.
func overrideAddr(d *store.DeviceRecord) (string, error) {
	switch {
	case d.MAC != "":
		return d.MAC, nil
	case len(d.IPs) > 0:
		return d.IPs[0], nil
	case d.Address != "":
		return d.Address, nil
	}
	return "", fmt.Errorf("%w: device %d has no address to keep an override by", store.ErrInvalid, d.ID)
}

func (a *API) getDevice(c *call) (any, error) { return c.device() }

func (a *API) deviceConnections(c *call) (any, error) {
	d, err := c.device()
	if err != nil {
		return nil, err
	}
	cs, err := a.st.Connections(c.ctx, d.Sensor, d.ID)
	if cs == nil {
		cs = []inventory.Connection{}
	}
	return map[string][]inventory.Connection{"connections": cs}, err
}

func (a *API) deviceAlerts(c *call) (any, error) {
	d, err := c.device()
	if err != nil {
		return nil, err
	}
	q, err := c.alertPageQuery()
	if err != nil {
		return nil, err
	}
	if q.Devices = deviceAddrs(d); len(q.Devices) == 0 {
		return alertPage(store.AlertPage{}), nil
	}
	p, err := a.st.Alerts(c.ctx, q)
	return alertPage(p), err
}

func (a *API) deviceTimeline(c *call) (any, error) {
	d, err := c.device()
	if err != nil {
		return nil, err
	}
	q, err := c.eventQuery()
	if err != nil {
		return nil, err
	}
	if q.Devices = deviceAddrs(d); len(q.Devices) == 0 {
		return store.EventPage{Events: []store.Event{}}, nil
	}
	return a.events(c, q)
}

// overrideInput is the body of PUT .../override.
type overrideInput struct {
	Type       inventory.Type `json:"type"`
	Name       string         `json:"name"`
	Purdue     *int           `json:"purdue_level"`
	Authorized *bool          `json:"authorized"`
}

func (a *API) putOverride(c *call) (any, error) {
	var in overrideInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	d, err := c.device()
	if err != nil {
		return nil, err
	}
	addr, err := overrideAddr(d)
	if err != nil {
		return nil, err
	}
	o := inventory.Override{Type: in.Type, Name: in.Name, Purdue: in.Purdue, Authorized: in.Authorized}
	if err := a.st.PutOverride(c.ctx, addr, o, c.actor()); err != nil {
		return nil, err
	}
	os, err := a.st.Overrides(c.ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range os {
		if o.Addr == addr {
			return o, nil
		}
	}
	return nil, fmt.Errorf("api: override of %s not found after it was set", addr)
}

func (a *API) deleteOverride(c *call) (any, error) {
	d, err := c.device()
	if err != nil {
		return nil, err
	}
	addr, err := overrideAddr(d)
	if err != nil {
		return nil, err
	}
	return noContent{}, a.st.DeleteOverride(c.ctx, addr, c.actor())
}

func (a *API) listOverrides(c *call) (any, error) {
	os, err := a.st.Overrides(c.ctx)
	if os == nil {
		os = []store.DeviceOverride{}
	}
	return map[string][]store.DeviceOverride{"overrides": os}, err
}

// eventQuery builds the event query of the call's parameters.
func (c *call) eventQuery() (store.EventQuery, error) {
	q := store.EventQuery{Sensors: c.queryAll("sensor"), Types: c.queryAll("type"), AlertID: c.query("alert"),
		Ascending: c.query("order") == "asc", Cursor: c.query("cursor"), Limit: c.queryInt("limit")}
	var err error
	if q.Devices, err = store.NormalizeAddrs(c.queryAll("device")); err != nil {
		return q, badRequest("device: %s", clean(err))
	}
	if q.From, err = parseTime("from", c.query("from")); err != nil {
		return q, err
	}
	if q.Until, err = parseTime("until", c.query("until")); err != nil {
		return q, err
	}
	if err := checkCursor(q.Cursor); err != nil {
		return q, err
	}
	return q, nil
}

func (a *API) events(c *call, q store.EventQuery) (any, error) {
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	p, err := a.st.Events(c.ctx, q)
	if p.Events == nil {
		p.Events = []store.Event{}
	}
	return p, err
}

func (a *API) listEvents(c *call) (any, error) {
	q, err := c.eventQuery()
	if err != nil {
		return nil, err
	}
	return a.events(c, q)
}
