package store

import "fmt"

// Places reads, inside a backend's write transaction, what the rules of
// sites, zones and sensors depend on: a zone's site exists, a sensor's
// zone is in its site, a deleted site has no zones or sensors and a
// deleted zone no sensors.
type Places interface {
	// SiteExists reports whether site id is stored.
	SiteExists(id string) (bool, error)
	// ZoneSite returns the site of zone id; ok is false when the zone is
	// not stored.
	ZoneSite(id string) (site string, ok bool, err error)
	// SiteUse counts the zones and sensors of site id.
	SiteUse(id string) (int64, error)
	// ZoneSensors counts the sensors of zone id.
	ZoneSensors(id string) (int64, error)
	// ZoneStrangers counts the sensors of zone id that are not in site.
	ZoneStrangers(id, site string) (int64, error)
}

// CheckDeleteSite reports whether site id may be deleted: ErrConflict
// while it has zones or sensors.
func CheckDeleteSite(p Places, id string) error {
	n, err := p.SiteUse(id)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w: site %s still has %d zones or sensors", ErrConflict, id, n)
	}
	return nil
}

// CheckDeleteZone reports whether zone id may be deleted: ErrConflict
// while it has sensors.
func CheckDeleteZone(p Places, id string) error {
	n, err := p.ZoneSensors(id)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w: zone %s still has %d sensors", ErrConflict, id, n)
	}
	return nil
}

// CheckZonePlace reports whether z may be stored where it says: ErrInvalid
// when its site is unknown, ErrConflict when sensors of another site are
// in it.
func CheckZonePlace(p Places, z Zone) error {
	ok, err := p.SiteExists(z.Site)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: zone %s: unknown site %q", ErrInvalid, z.ID, z.Site)
	}
	n, err := p.ZoneStrangers(z.ID, z.Site)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w: zone %s has sensors of another site", ErrConflict, z.ID)
	}
	return nil
}

// PlaceSensor returns s as it is stored, its Site the one of its Zone when
// it names none. A site or zone that is not stored, or a zone of another
// site, is ErrInvalid.
func PlaceSensor(p Places, s Sensor) (Sensor, error) {
	if s.Site != "" {
		ok, err := p.SiteExists(s.Site)
		if err != nil {
			return s, err
		}
		if !ok {
			return s, fmt.Errorf("%w: sensor %s: unknown site %q", ErrInvalid, s.ID, s.Site)
		}
	}
	if s.Zone != "" {
		site, ok, err := p.ZoneSite(s.Zone)
		if err != nil {
			return s, err
		}
		if !ok {
			return s, fmt.Errorf("%w: sensor %s: unknown zone %q", ErrInvalid, s.ID, s.Zone)
		}
		if s.Site == "" {
			s.Site = site
		} else if site != s.Site {
			return s, fmt.Errorf("%w: sensor %s: zone %s is in site %s, not %s", ErrInvalid, s.ID, s.Zone, site, s.Site)
		}
	}
	return s, nil
}
