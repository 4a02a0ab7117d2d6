// Package vulns is what the console knows about the vulnerabilities of the
// devices in its store: for each device, the vendor advisories that concern
// it (csaf.Catalog.Match), the recommendations for it (recommend), with the
// status people gave them (store.RecommendationStatus), and its risk; and
// for the whole fleet, views by CVE, by device and by advisory. The web
// pages and the REST API both read it.
//
// A Fleet computes this from the store each time it is asked, so that a
// page shows what the sensors last reported, but does not repeat work:
// advisory matches are kept per device content (vendor, model, product,
// product code and firmware), so that a device is matched again only when
// one of those changes, and the fleet's assessment is kept until the
// devices, connections, alerts or statuses it was made from change.
// Devices are assessed through a recommend.Index, in time proportional to
// the size of the inventory.
//
// Recommendations are not stored, only people's decisions on them: a
// recommendation's status is the last stored status of its ID, Open when
// none. SetStatus checks the change against the recommendation's lifecycle
// (recommend.CheckTransition) and stores it, audited.
package vulns
