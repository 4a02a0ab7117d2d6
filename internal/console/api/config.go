package api

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/otwatch/otwatch/internal/store"
)

func (a *API) listSites(c *call) (any, error) {
	ss, err := a.st.Sites(c.ctx)
	if ss == nil {
		ss = []store.Site{}
	}
	return map[string][]store.Site{"sites": ss}, err
}

// site returns site id, ErrNotFound when there is none.
func (a *API) site(c *call, id string) (store.Site, error) {
	ss, err := a.st.Sites(c.ctx)
	if err != nil {
		return store.Site{}, err
	}
	for _, s := range ss {
		if s.ID == id {
			return s, nil
		}
	}
	return store.Site{}, fmt.Errorf("%w: site %q", store.ErrNotFound, clip(id))
}

func (a *API) createSite(c *call) (any, error) {
	var in store.Site
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if _, err := a.site(c, in.ID); err == nil {
		return nil, fmt.Errorf("%w: site %s exists", store.ErrConflict, in.ID)
	}
	if err := a.st.PutSite(c.ctx, in, c.actor()); err != nil {
		return nil, err
	}
	return a.site(c, in.ID)
}

func (a *API) getSite(c *call) (any, error) { return a.site(c, c.r.PathValue("id")) }

func (a *API) updateSite(c *call) (any, error) {
	var in store.Site
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	old, err := a.site(c, c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	in.ID = old.ID
	if err := a.st.PutSite(c.ctx, in, c.actor()); err != nil {
		return nil, err
	}
	return a.site(c, in.ID)
}

func (a *API) deleteSite(c *call) (any, error) {
	return noContent{}, a.st.DeleteSite(c.ctx, c.r.PathValue("id"), c.actor())
}

func (a *API) listZones(c *call) (any, error) {
	zs, err := a.st.Zones(c.ctx, c.query("site"))
	if zs == nil {
		zs = []store.Zone{}
	}
	return map[string][]store.Zone{"zones": zs}, err
}

func (a *API) zone(c *call, id string) (store.Zone, error) {
	zs, err := a.st.Zones(c.ctx, "")
	if err != nil {
		return store.Zone{}, err
	}
	for _, z := range zs {
		if z.ID == id {
			return z, nil
		}
	}
	return store.Zone{}, fmt.Errorf("%w: zone %q", store.ErrNotFound, clip(id))
}

// zoneInput is the body of zone changes.
type zoneInput struct {
	ID          string   `json:"id"`
	Site        string   `json:"site"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Subnets     []string `json:"subnets"`
}

func (in *zoneInput) zone() (store.Zone, error) {
	z := store.Zone{ID: in.ID, Site: in.Site, Name: in.Name, Description: in.Description}
	for _, s := range in.Subnets {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return z, badRequest("subnets: %q is not a CIDR prefix (10.1.2.0/24)", clip(s))
		}
		z.Subnets = append(z.Subnets, p.Masked())
	}
	return z, nil
}

func (a *API) createZone(c *call) (any, error) {
	var in zoneInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	z, err := in.zone()
	if err != nil {
		return nil, err
	}
	if _, err := a.zone(c, z.ID); err == nil {
		return nil, fmt.Errorf("%w: zone %s exists", store.ErrConflict, z.ID)
	}
	if err := a.st.PutZone(c.ctx, z, c.actor()); err != nil {
		return nil, err
	}
	return a.zone(c, z.ID)
}

func (a *API) getZone(c *call) (any, error) { return a.zone(c, c.r.PathValue("id")) }

func (a *API) updateZone(c *call) (any, error) {
	var in zoneInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	old, err := a.zone(c, c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	in.ID = old.ID
	z, err := in.zone()
	if err != nil {
		return nil, err
	}
	if err := a.st.PutZone(c.ctx, z, c.actor()); err != nil {
		return nil, err
	}
	return a.zone(c, z.ID)
}

func (a *API) deleteZone(c *call) (any, error) {
	return noContent{}, a.st.DeleteZone(c.ctx, c.r.PathValue("id"), c.actor())
}

func (a *API) listSensors(c *call) (any, error) {
	ss, err := a.st.Sensors(c.ctx)
	if ss == nil {
		ss = []store.Sensor{}
	}
	return map[string][]store.Sensor{"sensors": ss}, err
}

func (a *API) createSensor(c *call) (any, error) {
	var in store.Sensor
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if _, err := a.st.Sensor(c.ctx, in.ID); err == nil {
		return nil, fmt.Errorf("%w: sensor %s exists", store.ErrConflict, in.ID)
	}
	if in.Mode == "" {
		in.Mode = store.ModeLearning
	}
	if err := a.placeSensor(c, &in); err != nil {
		return nil, err
	}
	if err := a.st.PutSensor(c.ctx, in, c.actor()); err != nil {
		return nil, err
	}
	return a.st.Sensor(c.ctx, in.ID)
}

// placeSensor checks a sensor's site and zone, taking the site from the
// zone when only the zone is given.
func (a *API) placeSensor(c *call, s *store.Sensor) error {
	if s.Zone != "" {
		z, err := a.zone(c, s.Zone)
		if errors.Is(err, store.ErrNotFound) {
			return badRequest("zone: unknown zone %q", clip(s.Zone))
		} else if err != nil {
			return err
		}
		if s.Site == "" {
			s.Site = z.Site
		}
		if z.Site != s.Site {
			return badRequest("zone: zone %s is in site %s, not %s", z.ID, z.Site, clip(s.Site))
		}
	}
	if s.Site != "" {
		if _, err := a.site(c, s.Site); errors.Is(err, store.ErrNotFound) {
			return badRequest("site: unknown site %q", clip(s.Site))
		} else if err != nil {
			return err
		}
	}
	return nil
}

func (a *API) getSensor(c *call) (any, error) { return a.st.Sensor(c.ctx, c.r.PathValue("id")) }

func (a *API) updateSensor(c *call) (any, error) {
	var in store.Sensor
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	old, err := a.st.Sensor(c.ctx, c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	in.ID, in.Created, in.LastSeen = old.ID, old.Created, old.LastSeen
	if in.Mode == "" {
		in.Mode = old.Mode
	}
	if err := a.placeSensor(c, &in); err != nil {
		return nil, err
	}
	if err := a.st.PutSensor(c.ctx, in, c.actor()); err != nil {
		return nil, err
	}
	return a.st.Sensor(c.ctx, in.ID)
}

func (a *API) deleteSensor(c *call) (any, error) {
	return noContent{}, a.st.DeleteSensor(c.ctx, c.r.PathValue("id"), c.actor())
}

func (a *API) setSensorMode(c *call) (any, error) {
	var in struct {
		Mode string `json:"mode"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	m, err := store.ParseSensorMode(in.Mode)
	if err != nil {
		return nil, err
	}
	id := c.r.PathValue("id")
	if err := a.st.SetSensorMode(c.ctx, id, m, c.actor()); err != nil {
		return nil, err
	}
	return a.st.Sensor(c.ctx, id)
}

func (a *API) listExclusions(c *call) (any, error) {
	rs, err := a.st.Exclusions(c.ctx)
	if rs == nil {
		rs = []store.Exclusion{}
	}
	return map[string][]store.Exclusion{"exclusions": rs}, err
}

// exclusionInput is the body of exclusion rule changes.
type exclusionInput struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Device   string `json:"device"`
	Subnet   string `json:"subnet"`
	Sensor   string `json:"sensor"`
	From     string `json:"from"`
	Until    string `json:"until"`
	Disabled bool   `json:"disabled"`
	Comment  string `json:"comment"`
}

func (in *exclusionInput) rule(id int64) (store.Exclusion, error) {
	r := store.Exclusion{ID: id, Name: in.Name, Type: in.Type, Device: in.Device, Sensor: in.Sensor, Disabled: in.Disabled, Comment: in.Comment}
	var err error
	if in.Subnet != "" {
		if r.Subnet, err = netip.ParsePrefix(in.Subnet); err != nil {
			return r, badRequest("subnet: %q is not a CIDR prefix (10.1.2.0/24)", clip(in.Subnet))
		}
	}
	if r.From, err = parseTime("from", in.From); err != nil {
		return r, err
	}
	if r.Until, err = parseTime("until", in.Until); err != nil {
		return r, err
	}
	return r.Normalize()
}

func (a *API) createExclusion(c *call) (any, error) {
	var in exclusionInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	r, err := in.rule(0)
	if err != nil {
		return nil, err
	}
	return a.st.PutExclusion(c.ctx, r, c.actor())
}

func (a *API) getExclusion(c *call) (any, error) { return a.st.Exclusion(c.ctx, c.pathInt("id")) }

func (a *API) updateExclusion(c *call) (any, error) {
	var in exclusionInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	id := c.pathInt("id")
	if _, err := a.st.Exclusion(c.ctx, id); err != nil {
		return nil, err
	}
	r, err := in.rule(id)
	if err != nil {
		return nil, err
	}
	return a.st.PutExclusion(c.ctx, r, c.actor())
}

func (a *API) deleteExclusion(c *call) (any, error) {
	return noContent{}, a.st.DeleteExclusion(c.ctx, c.pathInt("id"), c.actor())
}
