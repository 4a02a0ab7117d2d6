package csaf

import "time"

// An Advisory is one CSAF 2.0 document: its metadata, the products it
// names and the vulnerabilities it reports.
type Advisory struct {
	ID              string    // document.tracking.id, e.g. "ICSA-21-131-01"
	Title           string    // document.title
	Category        string    // document.category, e.g. "csaf_security_advisory"
	Publisher       Publisher // document.publisher
	Released        time.Time // document.tracking.initial_release_date
	Updated         time.Time // document.tracking.current_release_date
	Version         string    // document.tracking.version
	Status          string    // document.tracking.status: draft, interim or final
	Lang            string    // document.lang, when given
	TLP             string    // document.distribution.tlp.label, when given
	URL             string    // the web version among the "self" references, else the first self reference
	File            string    // the name the document was read from
	Notes           []Note    // document.notes
	References      []Reference
	Revisions       []Revision // document.tracking.revision_history
	Products        []*Product // every product the product tree defines, in document order
	Groups          []ProductGroup
	Vulnerabilities []*Vulnerability
	// Exploitability summarizes what the document says about exploits
	// (notes and threats); see Exploitability.
	Exploitability Exploitability

	products map[string]*Product
}

// A Publisher is the organization that issued a document.
type Publisher struct {
	Name      string
	Category  string // coordinator, discoverer, other, translator, user, vendor
	Namespace string
}

// A Note is a piece of text of a document or vulnerability.
type Note struct {
	Category string // description, details, faq, general, legal_disclaimer, other, summary
	Title    string
	Text     string
}

// A Reference is a link given by a document or vulnerability.
type Reference struct {
	Category string // self or external
	Summary  string
	URL      string
}

// A Revision is one entry of a document's revision history.
type Revision struct {
	Date    time.Time
	Number  string
	Summary string
}

// A ProductGroup names a set of products that remediations and threats can
// refer to at once.
type ProductGroup struct {
	ID         string
	Summary    string
	ProductIDs []string
}

// A Product is one product the product tree defines: a leaf of the branch
// tree, a full_product_names entry or a relationship. The branch path gives
// its vendor, family, name and version (or version range).
type Product struct {
	ID   string // product_id, unique in its document
	Name string // the full product name as the document writes it

	Vendor       string // the vendor branch, as written
	Family       string // product_family branches, joined by " "
	ProductName  string // the product_name branch
	Version      string // a product_version branch
	VersionRange string // a product_version_range branch
	// Model is a product_version branch that names a model or order
	// number rather than a version ("1783-SAD2T2SBK9"); the product then
	// covers every version.
	Model string
	// Other branch categories on the path (architecture, patch_level,
	// service_pack, ...), as "category: name".
	Qualifiers []string

	CPE           string   // product_identification_helper.cpe
	PURL          string   // product_identification_helper.purl
	ModelNumbers  []string // product_identification_helper.model_numbers
	SKUs          []string // product_identification_helper.skus
	SerialNumbers []string

	// Relationship is set for a product defined by a relationship: a
	// component installed on or with a platform product.
	Relationship *Relationship
}

// A Relationship combines two products into a third: Component (the
// product_reference, e.g. a firmware) Category (e.g. installed_on) Platform
// (relates_to_product_reference, e.g. a camera model).
type Relationship struct {
	Category  string
	Component *Product
	Platform  *Product
}

// A Vulnerability is one entry of a document's vulnerabilities.
type Vulnerability struct {
	CVE   string
	Title string
	CWE   *CWE
	// CVSS3 is the highest-scoring CVSS v3.x entry of the scores; CVSS4
	// the highest v4.0 entry, or, when no score gives one, a v4.0 vector
	// found in a reference URL (Score is then 0).
	CVSS3  *CVSS
	CVSS4  *CVSS
	Scores []Score

	// Product status lists (product IDs), with product groups resolved.
	KnownAffected      []string
	FirstAffected      []string
	LastAffected       []string
	Fixed              []string
	FirstFixed         []string
	KnownNotAffected   []string
	Recommended        []string
	UnderInvestigation []string

	Remediations []Remediation
	Threats      []Threat
	Flags        []Flag
	Notes        []Note
	References   []Reference
	IDs          []string // other identifiers, as "system_name: text"
	Released     time.Time
	Discovered   time.Time
}

// A CWE is a weakness from MITRE's Common Weakness Enumeration.
type CWE struct {
	ID   string // e.g. "CWE-787"
	Name string
}

// A CVSS is one CVSS score.
type CVSS struct {
	Version  string  // "3.0", "3.1" or "4.0"
	Vector   string  // e.g. "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
	Score    float64 // base score
	Severity string  // NONE, LOW, MEDIUM, HIGH, CRITICAL
}

// A Score is one scores entry: the CVSS values that apply to some products.
type Score struct {
	Products []string
	CVSS3    *CVSS
	CVSS4    *CVSS
}

// A Remediation is advice for some products: a vendor fix, a mitigation, a
// workaround, or the statement that none is available or planned.
type Remediation struct {
	Category   string // mitigation, no_fix_planned, none_available, vendor_fix, workaround
	Details    string
	URL        string
	Date       time.Time
	ProductIDs []string // with product groups resolved
}

// A Threat is what a document says about a vulnerability's impact,
// exploitation status or targets.
type Threat struct {
	Category   string // exploit_status, impact, target_set
	Details    string
	Date       time.Time
	ProductIDs []string
}

// A Flag states why products are not affected (e.g.
// vulnerable_code_not_present).
type Flag struct {
	Label      string
	ProductIDs []string
}

// Exploitability is what a document says about how exploitable its
// vulnerabilities are. CISA's advisories say it in notes ("No known public
// exploits specifically target these vulnerabilities", "Exploitable
// remotely/low skill level to exploit", "Public exploits are available");
// CSAF threats of category exploit_status say it for each vulnerability.
type Exploitability struct {
	PublicExploit  bool   // exploits are public or exploitation was seen
	NoKnownExploit bool   // the document says no public exploit is known
	Remote         bool   // said to be exploitable remotely
	NotRemote      bool   // said not to be exploitable remotely
	LowSkill       bool   // said to need low skill or have low attack complexity
	HighSkill      bool   // said to need high skill or have high attack complexity
	Text           string // the note or threat texts this was read from
}

// Product returns the product with the given ID, or nil.
func (a *Advisory) Product(id string) *Product { return a.products[id] }

// AffectedCVEs returns the CVEs of the vulnerabilities that list the
// product as known, first or last affected.
func (a *Advisory) AffectedCVEs(productID string) []string {
	var out []string
	for _, v := range a.Vulnerabilities {
		if v.Affects(productID) {
			out = append(out, v.CVE)
		}
	}
	return out
}

// Affects reports whether the vulnerability lists the product as known,
// first or last affected.
func (v *Vulnerability) Affects(productID string) bool {
	for _, l := range [][]string{v.KnownAffected, v.FirstAffected, v.LastAffected} {
		for _, id := range l {
			if id == productID {
				return true
			}
		}
	}
	return false
}

// MaxCVSS3 returns the highest CVSS v3 base score of the advisory's
// vulnerabilities, and false when none has one.
func (a *Advisory) MaxCVSS3() (float64, bool) {
	best, ok := 0.0, false
	for _, v := range a.Vulnerabilities {
		if v.CVSS3 != nil && (!ok || v.CVSS3.Score > best) {
			best, ok = v.CVSS3.Score, true
		}
	}
	return best, ok
}
