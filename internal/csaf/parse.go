package csaf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A ValidationError is one way a document breaks the CSAF 2.0 schema (a
// required field missing, a value of the wrong type, an unknown category)
// or one of the mandatory tests on product IDs (6.1.1 a product ID used
// but not defined, 6.1.2 a product ID defined twice). Path is the JSON
// pointer of the problem, e.g. /product_tree/branches/0/name.
type ValidationError struct {
	File string
	Path string
	Msg  string
}

// Error formats the problem as "csaf: FILE: PATH: MSG".
func (e *ValidationError) Error() string {
	return "csaf: " + e.File + ": " + e.Path + ": " + e.Msg
}

// maxValidationErrors bounds the problems reported for one document.
const maxValidationErrors = 20

// maxDocumentSize bounds what Parse reads: the largest real CSAF document
// is a few megabytes.
const maxDocumentSize = 64 << 20

// ErrNotCSAF is returned by Parse for JSON that is not a CSAF document
// (no "document" object), such as a ROLIE feed or provider metadata.
var ErrNotCSAF = errors.New("csaf: not a CSAF document")

// Parse reads one CSAF 2.0 document from r; name identifies it in errors
// and becomes Advisory.File. A document that breaks the schema's required
// fields or the product ID tests gives no advisory and an error that
// joins one *ValidationError per problem (at most 20); errors.As finds the
// first. Malformed JSON gives an error with the byte offset.
func Parse(r io.Reader, name string) (*Advisory, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("csaf: reading %s: %w", name, err)
	}
	if len(data) > maxDocumentSize {
		return nil, fmt.Errorf("csaf: %s: larger than %d bytes", name, maxDocumentSize)
	}
	return parseBytes(data, name)
}

func parseBytes(data []byte, name string) (*Advisory, error) {
	root, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("csaf: %s: %w", name, err)
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, &ValidationError{File: name, Path: "", Msg: "document root must be an object"}
	}
	if _, ok := obj["document"]; !ok {
		return nil, fmt.Errorf("%w: %s has no /document", ErrNotCSAF, name)
	}
	rd := &reader{file: name}
	a := rd.advisory(obj)
	if len(rd.errs) > 0 {
		errs := make([]error, 0, len(rd.errs)+1)
		for _, e := range rd.errs {
			errs = append(errs, e)
		}
		if rd.dropped > 0 {
			errs = append(errs, fmt.Errorf("csaf: %s: %d more problems", name, rd.dropped))
		}
		return nil, errors.Join(errs...)
	}
	a.File = name
	return a, nil
}

// decodeJSON decodes one JSON value, numbers as json.Number, and rejects
// trailing data.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Offset counts the bytes read, the bad one included.
			return nil, fmt.Errorf("invalid JSON at byte offset %d: %w", max(se.Offset-1, 0), err)
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("invalid JSON: data after the top-level value at byte offset %d", dec.InputOffset())
	}
	return v, nil
}

// A reader walks the decoded document, builds the Advisory and records
// every schema problem with its JSON pointer.
type reader struct {
	file    string
	errs    []*ValidationError
	dropped int

	defined map[string]string // product ID → path of its definition
	used    []idUse
}

// An idUse is a product ID referenced somewhere, to be checked against the
// definitions once the whole document is read.
type idUse struct{ id, path string }

func (rd *reader) fail(path, format string, args ...any) {
	if len(rd.errs) >= maxValidationErrors {
		rd.dropped++
		return
	}
	rd.errs = append(rd.errs, &ValidationError{File: rd.file, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// ptr appends one reference token to a JSON pointer (RFC 6901 escaping).
func ptr(path string, key any) string {
	switch k := key.(type) {
	case int:
		return path + "/" + strconv.Itoa(k)
	case string:
		k = strings.ReplaceAll(k, "~", "~0")
		k = strings.ReplaceAll(k, "/", "~1")
		return path + "/" + k
	}
	return path
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// object returns m[key] as an object; a missing required key or a value
// of another type is a problem.
func (rd *reader) object(m map[string]any, key, path string, required bool) map[string]any {
	v, ok := m[key]
	p := ptr(path, key)
	if !ok {
		if required {
			rd.fail(p, "required property is missing")
		}
		return nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		rd.fail(p, "must be an object, is %s", typeName(v))
		return nil
	}
	return o
}

// array returns m[key] as an array with at least minItems items.
func (rd *reader) array(m map[string]any, key, path string, required bool, minItems int) []any {
	v, ok := m[key]
	p := ptr(path, key)
	if !ok {
		if required {
			rd.fail(p, "required property is missing")
		}
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		rd.fail(p, "must be an array, is %s", typeName(v))
		return nil
	}
	if len(a) < minItems {
		rd.fail(p, "must have at least %d items, has %d", minItems, len(a))
	}
	return a
}

// str returns m[key] as a non-empty string.
func (rd *reader) str(m map[string]any, key, path string, required bool) string {
	v, ok := m[key]
	p := ptr(path, key)
	if !ok {
		if required {
			rd.fail(p, "required property is missing")
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		rd.fail(p, "must be a string, is %s", typeName(v))
		return ""
	}
	if s == "" {
		rd.fail(p, "must not be empty")
	}
	return s
}

// enum returns m[key] as one of the allowed strings.
func (rd *reader) enum(m map[string]any, key, path string, required bool, allowed ...string) string {
	s := rd.str(m, key, path, required)
	if s == "" {
		return ""
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	rd.fail(ptr(path, key), "%q is not one of %s", s, strings.Join(allowed, ", "))
	return s
}

// date returns m[key] as an RFC 3339 date-time.
func (rd *reader) date(m map[string]any, key, path string, required bool) time.Time {
	s := rd.str(m, key, path, required)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		rd.fail(ptr(path, key), "%q is not an RFC 3339 date-time", s)
	}
	return t
}

// number returns m[key] as a number in [lo, hi].
func (rd *reader) number(m map[string]any, key, path string, required bool, lo, hi float64) float64 {
	v, ok := m[key]
	p := ptr(path, key)
	if !ok {
		if required {
			rd.fail(p, "required property is missing")
		}
		return 0
	}
	n, ok := v.(json.Number)
	if !ok {
		rd.fail(p, "must be a number, is %s", typeName(v))
		return 0
	}
	f, err := n.Float64()
	if err != nil || f < lo || f > hi {
		rd.fail(p, "%s is not a number from %g to %g", n, lo, hi)
	}
	return f
}

// elem returns item i of an array as an object.
func (rd *reader) elem(v any, path string) map[string]any {
	o, ok := v.(map[string]any)
	if !ok {
		rd.fail(path, "must be an object, is %s", typeName(v))
	}
	return o
}

// strList returns m[key] as an array of non-empty strings (product IDs,
// model numbers).
func (rd *reader) strList(m map[string]any, key, path string, required bool, minItems int) []string {
	a := rd.array(m, key, path, required, minItems)
	if a == nil {
		return nil
	}
	out := make([]string, 0, len(a))
	for i, v := range a {
		s, ok := v.(string)
		if !ok || s == "" {
			rd.fail(ptr(ptr(path, key), i), "must be a non-empty string, is %s", typeName(v))
			continue
		}
		out = append(out, s)
	}
	return out
}

// productRefs reads a list of product IDs and records them for the
// definition check.
func (rd *reader) productRefs(m map[string]any, key, path string, required bool, minItems int) []string {
	ids := rd.strList(m, key, path, required, minItems)
	for i, id := range ids {
		rd.used = append(rd.used, idUse{id, ptr(ptr(path, key), i)})
	}
	return ids
}

var (
	publisherCategories    = []string{"coordinator", "discoverer", "other", "translator", "user", "vendor"}
	noteCategories         = []string{"description", "details", "faq", "general", "legal_disclaimer", "other", "summary"}
	branchCategories       = []string{"architecture", "host_name", "language", "legacy", "patch_level", "product_family", "product_name", "product_version", "product_version_range", "service_pack", "specification", "vendor"}
	relationshipCategories = []string{"default_component_of", "external_component_of", "installed_on", "installed_with", "optional_component_of"}
	remediationCategories  = []string{"mitigation", "no_fix_planned", "none_available", "vendor_fix", "workaround"}
	threatCategories       = []string{"exploit_status", "impact", "target_set"}
	flagLabels             = []string{"component_not_present", "inline_mitigations_already_exist", "vulnerable_code_cannot_be_controlled_by_adversary", "vulnerable_code_not_in_execute_path", "vulnerable_code_not_present"}
	productStatusKeys      = []string{"first_affected", "first_fixed", "fixed", "known_affected", "known_not_affected", "last_affected", "recommended", "under_investigation"}
	cveRe                  = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)
	cweRe                  = regexp.MustCompile(`^CWE-[1-9]\d{0,5}$`)
	cvss4URLRe             = regexp.MustCompile(`CVSS:4\.0/[A-Za-z:/]+`)
)

func (rd *reader) advisory(root map[string]any) *Advisory {
	a := &Advisory{products: map[string]*Product{}}
	rd.defined = map[string]string{}
	if doc := rd.object(root, "document", "", true); doc != nil {
		rd.document(doc, "/document", a)
	}
	if pt := rd.object(root, "product_tree", "", false); pt != nil {
		rd.productTree(pt, "/product_tree", a)
	}
	if vs := rd.array(root, "vulnerabilities", "", false, 1); vs != nil {
		for i, v := range vs {
			p := ptr("/vulnerabilities", i)
			if o := rd.elem(v, p); o != nil {
				a.Vulnerabilities = append(a.Vulnerabilities, rd.vulnerability(o, p, a))
			}
		}
	}
	for _, u := range rd.used {
		if _, ok := rd.defined[u.id]; !ok {
			rd.fail(u.path, "product ID %q is not defined in the product tree", u.id)
		}
	}
	a.Exploitability = exploitability(a)
	return a
}

func (rd *reader) document(doc map[string]any, path string, a *Advisory) {
	a.Category = rd.str(doc, "category", path, true)
	if v := rd.str(doc, "csaf_version", path, true); v != "" && v != "2.0" {
		rd.fail(ptr(path, "csaf_version"), "%q is not 2.0", v)
	}
	a.Title = rd.str(doc, "title", path, true)
	a.Lang = rd.str(doc, "lang", path, false)
	if pub := rd.object(doc, "publisher", path, true); pub != nil {
		p := ptr(path, "publisher")
		a.Publisher = Publisher{
			Category:  rd.enum(pub, "category", p, true, publisherCategories...),
			Name:      rd.str(pub, "name", p, true),
			Namespace: rd.str(pub, "namespace", p, true),
		}
	}
	if dist := rd.object(doc, "distribution", path, false); dist != nil {
		p := ptr(path, "distribution")
		if tlp := rd.object(dist, "tlp", p, false); tlp != nil {
			a.TLP = rd.enum(tlp, "label", ptr(p, "tlp"), true, "AMBER", "GREEN", "RED", "WHITE")
		}
	}
	if tr := rd.object(doc, "tracking", path, true); tr != nil {
		p := ptr(path, "tracking")
		a.ID = rd.str(tr, "id", p, true)
		a.Released = rd.date(tr, "initial_release_date", p, true)
		a.Updated = rd.date(tr, "current_release_date", p, true)
		a.Status = rd.enum(tr, "status", p, true, "draft", "final", "interim")
		a.Version = rd.str(tr, "version", p, true)
		for i, v := range rd.array(tr, "revision_history", p, true, 1) {
			rp := ptr(ptr(p, "revision_history"), i)
			if o := rd.elem(v, rp); o != nil {
				a.Revisions = append(a.Revisions, Revision{
					Date:    rd.date(o, "date", rp, true),
					Number:  rd.str(o, "number", rp, true),
					Summary: rd.str(o, "summary", rp, true),
				})
			}
		}
		if g := rd.object(tr, "generator", p, false); g != nil {
			if e := rd.object(g, "engine", ptr(p, "generator"), true); e != nil {
				rd.str(e, "name", ptr(ptr(p, "generator"), "engine"), true)
			}
		}
	}
	a.Notes = rd.notes(doc, path)
	a.References = rd.references(doc, path)
	for _, r := range a.References {
		if r.Category == "self" && (a.URL == "" || !strings.HasSuffix(strings.ToLower(r.URL), ".json") && strings.HasSuffix(strings.ToLower(a.URL), ".json")) {
			a.URL = r.URL
		}
	}
	for i, v := range rd.array(doc, "acknowledgments", path, false, 1) {
		p := ptr(ptr(path, "acknowledgments"), i)
		if o := rd.elem(v, p); o != nil && len(o) == 0 {
			rd.fail(p, "must have at least one property")
		}
	}
	if s := rd.object(doc, "aggregate_severity", path, false); s != nil {
		rd.str(s, "text", ptr(path, "aggregate_severity"), true)
	}
}

func (rd *reader) notes(m map[string]any, path string) []Note {
	var out []Note
	for i, v := range rd.array(m, "notes", path, false, 1) {
		p := ptr(ptr(path, "notes"), i)
		if o := rd.elem(v, p); o != nil {
			out = append(out, Note{
				Category: rd.enum(o, "category", p, true, noteCategories...),
				Text:     rd.str(o, "text", p, true),
				Title:    rd.str(o, "title", p, false),
			})
		}
	}
	return out
}

func (rd *reader) references(m map[string]any, path string) []Reference {
	var out []Reference
	for i, v := range rd.array(m, "references", path, false, 1) {
		p := ptr(ptr(path, "references"), i)
		if o := rd.elem(v, p); o != nil {
			r := Reference{
				Category: rd.enum(o, "category", p, false, "external", "self"),
				Summary:  rd.str(o, "summary", p, true),
				URL:      rd.str(o, "url", p, true),
			}
			if r.Category == "" {
				r.Category = "external"
			}
			out = append(out, r)
		}
	}
	return out
}

// branchPath is what the branches above a product say about it.
type branchPath struct {
	vendor, family, name, version, rng string
	qualifiers                         []string
}

func (rd *reader) productTree(pt map[string]any, path string, a *Advisory) {
	if bs := rd.array(pt, "branches", path, false, 1); bs != nil {
		rd.branches(bs, ptr(path, "branches"), branchPath{}, a, 0)
	}
	for i, v := range rd.array(pt, "full_product_names", path, false, 1) {
		p := ptr(ptr(path, "full_product_names"), i)
		if o := rd.elem(v, p); o != nil {
			rd.fullProduct(o, p, branchPath{}, a)
		}
	}
	type rel struct {
		prod           *Product
		comp, platform string
		category       string
	}
	var rels []rel
	for i, v := range rd.array(pt, "relationships", path, false, 1) {
		p := ptr(ptr(path, "relationships"), i)
		o := rd.elem(v, p)
		if o == nil {
			continue
		}
		r := rel{
			category: rd.enum(o, "category", p, true, relationshipCategories...),
			comp:     rd.str(o, "product_reference", p, true),
			platform: rd.str(o, "relates_to_product_reference", p, true),
		}
		rd.used = append(rd.used, idUse{r.comp, ptr(p, "product_reference")}, idUse{r.platform, ptr(p, "relates_to_product_reference")})
		if fp := rd.object(o, "full_product_name", p, true); fp != nil {
			r.prod = rd.fullProduct(fp, ptr(p, "full_product_name"), branchPath{}, a)
		}
		rels = append(rels, r)
	}
	for _, r := range rels {
		if r.prod == nil {
			continue
		}
		comp, plat := a.products[r.comp], a.products[r.platform]
		r.prod.Relationship = &Relationship{Category: r.category, Component: comp, Platform: plat}
		if comp != nil && plat != nil {
			r.prod.Vendor = firstNonEmpty(comp.Vendor, plat.Vendor)
			r.prod.Family = plat.Family
			r.prod.ProductName = plat.ProductName
			r.prod.Version, r.prod.VersionRange = comp.Version, comp.VersionRange
		}
	}
	for i, v := range rd.array(pt, "product_groups", path, false, 1) {
		p := ptr(ptr(path, "product_groups"), i)
		if o := rd.elem(v, p); o != nil {
			a.Groups = append(a.Groups, ProductGroup{
				ID:         rd.str(o, "group_id", p, true),
				Summary:    rd.str(o, "summary", p, false),
				ProductIDs: rd.productRefs(o, "product_ids", p, true, 2),
			})
		}
	}
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// maxBranchDepth bounds the nesting of branches; CSAF trees are a handful
// of levels deep, and hostile input must not exhaust the stack.
const maxBranchDepth = 30

func (rd *reader) branches(bs []any, path string, bp branchPath, a *Advisory, depth int) {
	if depth > maxBranchDepth {
		rd.fail(path, "branches nested deeper than %d levels", maxBranchDepth)
		return
	}
	for i, v := range bs {
		p := ptr(path, i)
		o := rd.elem(v, p)
		if o == nil {
			continue
		}
		cat := rd.enum(o, "category", p, true, branchCategories...)
		name := rd.str(o, "name", p, true)
		sub := bp
		sub.qualifiers = bp.qualifiers[:len(bp.qualifiers):len(bp.qualifiers)]
		switch cat {
		case "vendor":
			sub.vendor = name
		case "product_family":
			sub.family = strings.TrimSpace(sub.family + " " + name)
		case "product_name":
			sub.name = name
		case "product_version":
			sub.version = name
		case "product_version_range":
			sub.rng = name
		case "":
		default:
			sub.qualifiers = append(sub.qualifiers, cat+": "+name)
		}
		_, hasBranches := o["branches"]
		_, hasProduct := o["product"]
		switch {
		case hasBranches && hasProduct:
			rd.fail(p, "must have either branches or product, not both")
		case !hasBranches && !hasProduct:
			rd.fail(p, "must have branches or product")
		case hasBranches:
			if sb := rd.array(o, "branches", p, true, 1); sb != nil {
				rd.branches(sb, ptr(p, "branches"), sub, a, depth+1)
			}
		default:
			if prod := rd.object(o, "product", p, true); prod != nil {
				rd.fullProduct(prod, ptr(p, "product"), sub, a)
			}
		}
	}
}

// fullProduct reads a full_product_name object and defines its product.
func (rd *reader) fullProduct(o map[string]any, path string, bp branchPath, a *Advisory) *Product {
	p := &Product{
		Name:         rd.str(o, "name", path, true),
		ID:           rd.str(o, "product_id", path, true),
		Vendor:       strings.TrimSpace(bp.vendor),
		Family:       strings.TrimSpace(bp.family),
		ProductName:  strings.TrimSpace(bp.name),
		Version:      strings.TrimSpace(bp.version),
		VersionRange: strings.TrimSpace(bp.rng),
		Qualifiers:   bp.qualifiers,
	}
	if p.Version != "" && looksLikeModel(p.Version) {
		p.Model, p.Version = p.Version, ""
	}
	if h := rd.object(o, "product_identification_helper", path, false); h != nil {
		hp := ptr(path, "product_identification_helper")
		p.CPE = rd.str(h, "cpe", hp, false)
		p.PURL = rd.str(h, "purl", hp, false)
		p.ModelNumbers = rd.strList(h, "model_numbers", hp, false, 1)
		p.SKUs = rd.strList(h, "skus", hp, false, 1)
		p.SerialNumbers = rd.strList(h, "serial_numbers", hp, false, 1)
		for i, v := range rd.array(h, "hashes", hp, false, 1) {
			vp := ptr(ptr(hp, "hashes"), i)
			if ho := rd.elem(v, vp); ho != nil {
				rd.str(ho, "filename", vp, true)
				rd.array(ho, "file_hashes", vp, true, 1)
			}
		}
	}
	if p.ID == "" {
		return nil
	}
	if prev, dup := rd.defined[p.ID]; dup {
		rd.fail(ptr(path, "product_id"), "product ID %q is already defined at %s", p.ID, prev)
		return nil
	}
	rd.defined[p.ID] = ptr(path, "product_id")
	a.products[p.ID] = p
	a.Products = append(a.Products, p)
	return p
}

func (rd *reader) vulnerability(o map[string]any, path string, a *Advisory) *Vulnerability {
	v := &Vulnerability{}
	if cve := rd.str(o, "cve", path, false); cve != "" {
		v.CVE = cve
		if !cveRe.MatchString(cve) {
			rd.fail(ptr(path, "cve"), "%q is not a CVE ID", cve)
		}
	}
	v.Title = rd.str(o, "title", path, false)
	if c := rd.object(o, "cwe", path, false); c != nil {
		p := ptr(path, "cwe")
		v.CWE = &CWE{ID: rd.str(c, "id", p, true), Name: rd.str(c, "name", p, true)}
		if v.CWE.ID != "" && !cweRe.MatchString(v.CWE.ID) {
			rd.fail(ptr(p, "id"), "%q is not a CWE ID", v.CWE.ID)
		}
	}
	v.Released = rd.date(o, "release_date", path, false)
	v.Discovered = rd.date(o, "discovery_date", path, false)
	v.Notes = rd.notes(o, path)
	v.References = rd.references(o, path)
	for i, x := range rd.array(o, "ids", path, false, 1) {
		p := ptr(ptr(path, "ids"), i)
		if e := rd.elem(x, p); e != nil {
			v.IDs = append(v.IDs, rd.str(e, "system_name", p, true)+": "+rd.str(e, "text", p, true))
		}
	}
	if ps := rd.object(o, "product_status", path, false); ps != nil {
		p := ptr(path, "product_status")
		if len(ps) == 0 {
			rd.fail(p, "must have at least one property")
		}
		lists := map[string]*[]string{
			"first_affected": &v.FirstAffected, "first_fixed": &v.FirstFixed, "fixed": &v.Fixed,
			"known_affected": &v.KnownAffected, "known_not_affected": &v.KnownNotAffected,
			"last_affected": &v.LastAffected, "recommended": &v.Recommended,
			"under_investigation": &v.UnderInvestigation,
		}
		for _, k := range productStatusKeys {
			*lists[k] = rd.productRefs(ps, k, p, false, 1)
		}
	}
	for i, x := range rd.array(o, "scores", path, false, 1) {
		p := ptr(ptr(path, "scores"), i)
		e := rd.elem(x, p)
		if e == nil {
			continue
		}
		s := Score{Products: rd.productRefs(e, "products", p, true, 1)}
		if c := rd.object(e, "cvss_v3", p, false); c != nil {
			s.CVSS3 = rd.cvss(c, ptr(p, "cvss_v3"), "3.0", "3.1")
		}
		if c := rd.object(e, "cvss_v4", p, false); c != nil {
			s.CVSS4 = rd.cvss(c, ptr(p, "cvss_v4"), "4.0")
		}
		_, v2 := e["cvss_v2"]
		if c := rd.object(e, "cvss_v2", p, false); c != nil {
			rd.str(c, "vectorString", ptr(p, "cvss_v2"), true)
			rd.number(c, "baseScore", ptr(p, "cvss_v2"), true, 0, 10)
		}
		if s.CVSS3 == nil && s.CVSS4 == nil && !v2 {
			rd.fail(p, "must have cvss_v2 or cvss_v3")
		}
		v.Scores = append(v.Scores, s)
		if s.CVSS3 != nil && (v.CVSS3 == nil || s.CVSS3.Score > v.CVSS3.Score) {
			v.CVSS3 = s.CVSS3
		}
		if s.CVSS4 != nil && (v.CVSS4 == nil || s.CVSS4.Score > v.CVSS4.Score) {
			v.CVSS4 = s.CVSS4
		}
	}
	if v.CVSS4 == nil {
		for _, r := range v.References {
			if m := cvss4URLRe.FindString(r.URL); m != "" {
				v.CVSS4 = &CVSS{Version: "4.0", Vector: strings.TrimRight(m, "/")}
				break
			}
		}
	}
	groups := map[string][]string{}
	for _, g := range a.Groups {
		groups[g.ID] = g.ProductIDs
	}
	for i, x := range rd.array(o, "remediations", path, false, 1) {
		p := ptr(ptr(path, "remediations"), i)
		if e := rd.elem(x, p); e != nil {
			r := Remediation{
				Category:   rd.enum(e, "category", p, true, remediationCategories...),
				Details:    rd.str(e, "details", p, true),
				URL:        rd.str(e, "url", p, false),
				Date:       rd.date(e, "date", p, false),
				ProductIDs: rd.productRefs(e, "product_ids", p, false, 1),
			}
			r.ProductIDs = append(r.ProductIDs, rd.groupProducts(e, p, groups)...)
			v.Remediations = append(v.Remediations, r)
		}
	}
	for i, x := range rd.array(o, "threats", path, false, 1) {
		p := ptr(ptr(path, "threats"), i)
		if e := rd.elem(x, p); e != nil {
			t := Threat{
				Category:   rd.enum(e, "category", p, true, threatCategories...),
				Details:    rd.str(e, "details", p, true),
				Date:       rd.date(e, "date", p, false),
				ProductIDs: rd.productRefs(e, "product_ids", p, false, 1),
			}
			t.ProductIDs = append(t.ProductIDs, rd.groupProducts(e, p, groups)...)
			v.Threats = append(v.Threats, t)
		}
	}
	for i, x := range rd.array(o, "flags", path, false, 1) {
		p := ptr(ptr(path, "flags"), i)
		if e := rd.elem(x, p); e != nil {
			f := Flag{
				Label:      rd.enum(e, "label", p, true, flagLabels...),
				ProductIDs: rd.productRefs(e, "product_ids", p, false, 1),
			}
			f.ProductIDs = append(f.ProductIDs, rd.groupProducts(e, p, groups)...)
			v.Flags = append(v.Flags, f)
		}
	}
	return v
}

// groupProducts resolves the group_ids of a remediation, threat or flag.
func (rd *reader) groupProducts(e map[string]any, path string, groups map[string][]string) []string {
	var out []string
	for i, g := range rd.strList(e, "group_ids", path, false, 1) {
		ids, ok := groups[g]
		if !ok {
			rd.fail(ptr(ptr(path, "group_ids"), i), "product group %q is not defined", g)
			continue
		}
		out = append(out, ids...)
	}
	return out
}

func (rd *reader) cvss(c map[string]any, path string, versions ...string) *CVSS {
	return &CVSS{
		Version:  rd.enum(c, "version", path, true, versions...),
		Vector:   rd.str(c, "vectorString", path, true),
		Score:    rd.number(c, "baseScore", path, true, 0, 10),
		Severity: rd.enum(c, "baseSeverity", path, true, "NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL"),
	}
}

// exploitability reads what the notes and threats of a document say about
// exploits.
func exploitability(a *Advisory) Exploitability {
	var e Exploitability
	var texts []string
	consider := func(text string) {
		t := strings.ToLower(text)
		found := false
		switch {
		case strings.Contains(t, "no known public exploit"), strings.Contains(t, "no public exploit"),
			strings.Contains(t, "not aware of any public exploit"), strings.Contains(t, "no known exploit"):
			e.NoKnownExploit, found = true, true
		case strings.Contains(t, "public exploits are available"), strings.Contains(t, "publicly available"),
			strings.Contains(t, "exploits are available"), strings.Contains(t, "actively exploited"),
			strings.Contains(t, "known to be exploited"), strings.Contains(t, "exploitation in the wild"),
			strings.Contains(t, "exploit code is public"), strings.Contains(t, "exploited in the wild"):
			if !strings.Contains(t, "recommended practices are publicly available") && !strings.Contains(t, "guidance and recommended") {
				e.PublicExploit, found = true, true
			}
		}
		if strings.Contains(t, "public exploits are available") {
			e.PublicExploit, found = true, true
		}
		switch {
		case strings.Contains(t, "not exploitable remotely"), strings.Contains(t, "not remotely exploitable"):
			e.NotRemote, found = true, true
		case strings.Contains(t, "exploitable remotely"), strings.Contains(t, "remotely exploitable"):
			e.Remote, found = true, true
		}
		switch {
		case strings.Contains(t, "low skill"), strings.Contains(t, "low attack complexity"):
			e.LowSkill, found = true, true
		case strings.Contains(t, "high skill"), strings.Contains(t, "high attack complexity"):
			e.HighSkill, found = true, true
		}
		if found {
			texts = append(texts, strings.TrimSpace(text))
		}
	}
	for _, n := range a.Notes {
		title := strings.ToLower(n.Title)
		if strings.Contains(title, "exploit") || strings.Contains(title, "risk evaluation") {
			consider(n.Text)
		}
	}
	for _, v := range a.Vulnerabilities {
		for _, t := range v.Threats {
			if t.Category == "exploit_status" {
				consider(t.Details)
			}
		}
	}
	e.Text = strings.Join(texts, " ")
	return e
}
