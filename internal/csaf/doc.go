// Package csaf imports security advisories in CSAF 2.0 (OASIS Common
// Security Advisory Framework, the format CISA publishes its ICS advisories
// in) and matches them to the devices of the inventory.
//
// # Import
//
// Parse reads one document into an Advisory: metadata, notes, references,
// the product tree (vendor, product family, product name, version or
// version range branches, CPE, purl and model numbers, relationships,
// product groups), and the vulnerabilities (CVE, CWE, CVSS v3 and v4,
// product status, remediations, threats, flags). It validates the document
// against the required fields, types, patterns and categories of the CSAF
// 2.0 JSON schema and the mandatory tests 6.1.1 and 6.1.2 (every product ID
// used is defined, once); each problem is a ValidationError naming the JSON
// pointer where it is (/product_tree/branches/0/name).
//
// Load reads files and directories, and a provider's layout mirrored to
// disk: provider-metadata.json, ROLIE feeds and index.txt are followed to
// the documents they list. An invalid document is reported and skipped;
// the rest are returned in a Catalog.
//
// # Matching
//
// Catalog.Match finds the advisories that concern a Device (vendor, model,
// product name, product code, firmware):
//
//   - Vendors are compared by canonical key through a table of names,
//     brands and former names ("Rockwell Automation/Allen-Bradley" and
//     "Rockwell Automation"; "Hirschmann" and "Belden"; "3S-Smart Software
//     Solutions" and "CODESYS"); a document naming several vendors concerns
//     each, and ABB and Hitachi Energy (the former ABB Power Grids) are
//     related.
//   - Product names are compared by order numbers (Siemens MLFB, catalog
//     and article numbers), model designations with their placeholders and
//     lists ("1756-L8x", "ILC 3xx", "Q04/06/10UDEHCPU", "750-831/xxx-xxx",
//     "FX5U-xMy/z", "UC-8100 Series"), the families catalog numbers belong
//     to (1756-L83E is a ControlLogix 5580, 6ES7 516-3AN01-0AB0 an S7-1500
//     CPU, 750-8202 a PFC200) and product-line words; see matchName.
//   - Firmware is compared with the product's versions: `vers:` ranges,
//     CSAF product_version and product_version_range branches and the free
//     text CISA writes ("< V2.9.4", "<= 8.3.5", ">= V2.0 < V3.0", "All
//     versions", "prior to 4.0", "1.0 - 2.3", "R15x", "> FW16 up to and
//     including FW26"), with versions such as "V3.2.6", "20.11",
//     "V4.5 SP1 Upd 2", "FW 1.2.3", "15.2(4a)EA5" or "R302-V3". A product
//     given for all versions whose vendor fix names a fixed version
//     ("Update to V2.9.4 or later") is affected below that version only.
//
// Each Match gives a verdict, a confidence and its reasons. Affected needs
// a known vendor, a product match without doubt and firmware inside the
// range; a device with unknown or unreadable firmware, an unknown vendor,
// a partial product match or a range that cannot be read is
// PossiblyAffected. Versions outside the range, fixed versions and products
// listed as fixed or not affected give no Match.
//
// A Catalog indexes its products by the order numbers, models and words a
// device needs to match their names, so a device is compared only with the
// few products it can match, even when its vendor is unknown; and it
// remembers the device names it has prepared, as a plant has many devices
// of few models. A Matcher also remembers the matches of every device it
// has seen, for an inventory's identical devices; MatchFleet matches a
// whole inventory on all CPUs. Both give the results of Catalog.Match.
//
// # Risk
//
// Risk turns a device's matches into a score from 0 to 10 from the CVSS
// base scores, what the advisory says about exploits (Exploitability), the
// device's type and its exposure.
package csaf
