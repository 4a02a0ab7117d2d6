package csaf

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseAdvisory reads the handwritten testdata/advisory.json; every
// expected value below is written in that file.
func TestParseAdvisory(t *testing.T) {
	a, err := Parse(bytes.NewReader(readTestdata(t, "advisory.json")), "advisory.json")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "EX-2024-0001" || a.Title != "Example Industrial PLC-9 and Gateway GW-20" || a.Version != "2" ||
		a.Status != "final" || a.TLP != "WHITE" || a.Lang != "en-US" || a.Category != "csaf_security_advisory" {
		t.Errorf("metadata: %+v", a)
	}
	if want := (Publisher{Name: "Example Industrial PSIRT", Category: "vendor", Namespace: "https://psirt.example.com"}); a.Publisher != want {
		t.Errorf("Publisher = %+v, want %+v", a.Publisher, want)
	}
	if !a.Released.Equal(time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)) || !a.Updated.Equal(time.Date(2024, 4, 15, 8, 30, 0, 0, time.UTC)) {
		t.Errorf("Released %v, Updated %v", a.Released, a.Updated)
	}
	if a.URL != "https://psirt.example.com/advisories/ex-2024-0001" {
		t.Errorf("URL = %q, want the web version of the self references", a.URL)
	}
	if len(a.Revisions) != 2 || a.Revisions[1].Summary != "Added the GW-20" {
		t.Errorf("Revisions = %+v", a.Revisions)
	}
	if len(a.References) != 3 || a.References[2].Category != "external" {
		t.Errorf("References = %+v (a reference without category is external)", a.References)
	}
	var ids []string
	for _, p := range a.Products {
		ids = append(ids, p.ID)
	}
	if want := []string{"PLC910-2", "PLC910-fixed", "GW20", "AGENT-3.1", "STUDIO", "AGENT-ON-GW20"}; !slices.Equal(ids, want) {
		t.Errorf("product IDs = %v, want %v", ids, want)
	}
	plc := a.Product("PLC910-2")
	if plc.Vendor != "Example Industrial" || plc.Family != "PLC-9 family" || plc.ProductName != "PLC-9 CPU 910" ||
		plc.VersionRange != "vers:generic/>=2.0|<2.9.4" || plc.CPE != "cpe:2.3:h:example:plc-9_cpu_910:*:*:*:*:*:*:*:*" ||
		plc.PURL != "pkg:generic/example/plc-9-cpu-910" || !slices.Equal(plc.ModelNumbers, []string{"9EX9 910-0AA00-0AB0"}) {
		t.Errorf("PLC910-2 = %+v", plc)
	}
	if p := a.Product("PLC910-fixed"); p.Version != "V2.9.4" || p.VersionRange != "" {
		t.Errorf("PLC910-fixed = %+v", p)
	}
	rel := a.Product("AGENT-ON-GW20")
	if rel.Relationship == nil || rel.Relationship.Category != "installed_on" ||
		rel.Relationship.Component != a.Product("AGENT-3.1") || rel.Relationship.Platform != a.Product("GW20") ||
		rel.Vendor != "Example Industrial" || rel.ProductName != "Gateway GW-20" || rel.Version != "3.1" {
		t.Errorf("relationship product = %+v", rel)
	}
	if len(a.Groups) != 1 || !slices.Equal(a.Groups[0].ProductIDs, []string{"PLC910-2", "PLC910-fixed"}) {
		t.Errorf("Groups = %+v", a.Groups)
	}
	if len(a.Vulnerabilities) != 2 {
		t.Fatalf("%d vulnerabilities, want 2", len(a.Vulnerabilities))
	}
	v := a.Vulnerabilities[0]
	if v.CVE != "CVE-2024-0001" || v.CWE == nil || v.CWE.ID != "CWE-121" || v.Title == "" {
		t.Errorf("vulnerability 0 = %+v", v)
	}
	if v.CVSS3 == nil || v.CVSS3.Score != 9.8 || v.CVSS3.Severity != "CRITICAL" || v.CVSS3.Version != "3.1" {
		t.Errorf("CVSS3 = %+v, want the highest score (9.8)", v.CVSS3)
	}
	if v.CVSS4 == nil || v.CVSS4.Vector != "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" {
		t.Errorf("CVSS4 = %+v, want the vector of the calculator reference", v.CVSS4)
	}
	if !slices.Equal(v.KnownAffected, []string{"PLC910-2", "GW20"}) || !slices.Equal(v.Fixed, []string{"PLC910-fixed"}) ||
		!slices.Equal(v.KnownNotAffected, []string{"STUDIO"}) {
		t.Errorf("product status = %v %v %v", v.KnownAffected, v.Fixed, v.KnownNotAffected)
	}
	if len(v.Remediations) != 3 || !slices.Equal(v.Remediations[0].ProductIDs, []string{"PLC910-2", "PLC910-fixed"}) ||
		v.Remediations[0].URL != "https://www.example.com/downloads/plc9" || v.Remediations[0].Category != "vendor_fix" {
		t.Errorf("remediations = %+v (group ALL-PLC9 resolved)", v.Remediations)
	}
	if len(v.Threats) != 2 || v.Threats[0].Category != "exploit_status" {
		t.Errorf("threats = %+v", v.Threats)
	}
	if f := a.Vulnerabilities[1].Flags; len(f) != 1 || f[0].Label != "component_not_present" {
		t.Errorf("flags = %+v", f)
	}
	if got := a.AffectedCVEs("GW20"); !slices.Equal(got, []string{"CVE-2024-0001"}) {
		t.Errorf("AffectedCVEs(GW20) = %v", got)
	}
	if s, ok := a.MaxCVSS3(); !ok || s != 9.8 {
		t.Errorf("MaxCVSS3 = %v, %v", s, ok)
	}
	e := a.Exploitability
	if !e.PublicExploit || !e.Remote || !e.LowSkill || e.NoKnownExploit || e.NotRemote {
		t.Errorf("Exploitability = %+v", e)
	}
}

// mutate decodes a JSON document, applies f to it and encodes it again.
func mutate(t *testing.T, doc []byte, f func(root map[string]any)) []byte {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(doc, &root); err != nil {
		t.Fatal(err)
	}
	f(root)
	b, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// at walks a slash-separated path of keys and indexes.
func at(v any, path string) any {
	for _, k := range strings.Split(strings.Trim(path, "/"), "/") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, _ := strconv.Atoi(k)
			v = x[i]
		}
	}
	return v
}

// TestParseInvalid breaks testdata/advisory.json in the ways the CSAF 2.0
// schema forbids and checks the reported JSON pointer and message.
func TestParseInvalid(t *testing.T) {
	doc := readTestdata(t, "advisory.json")
	tests := []struct {
		name, path, msg string
		f               func(root map[string]any)
	}{
		{"no document title", "/document/title", "required property is missing",
			func(r map[string]any) { delete(at(r, "document").(map[string]any), "title") }},
		{"branch without name", "/product_tree/branches/0/branches/0/name", "required property is missing",
			func(r map[string]any) { delete(at(r, "product_tree/branches/0/branches/0").(map[string]any), "name") }},
		{"branch category", "/product_tree/branches/0/category", `"maker" is not one of`,
			func(r map[string]any) { at(r, "product_tree/branches/0").(map[string]any)["category"] = "maker" }},
		{"branch with both", "/product_tree/branches/0/branches/1", "either branches or product",
			func(r map[string]any) {
				at(r, "product_tree/branches/0/branches/1").(map[string]any)["product"] = map[string]any{"name": "x", "product_id": "X"}
			}},
		{"csaf version", "/document/csaf_version", `"2.1" is not 2.0`,
			func(r map[string]any) { at(r, "document").(map[string]any)["csaf_version"] = "2.1" }},
		{"tracking id type", "/document/tracking/id", "must be a string, is a number",
			func(r map[string]any) { at(r, "document/tracking").(map[string]any)["id"] = 7 }},
		{"release date", "/document/tracking/initial_release_date", "not an RFC 3339 date-time",
			func(r map[string]any) {
				at(r, "document/tracking").(map[string]any)["initial_release_date"] = "March 2024"
			}},
		{"empty revision history", "/document/tracking/revision_history", "at least 1 items",
			func(r map[string]any) { at(r, "document/tracking").(map[string]any)["revision_history"] = []any{} }},
		{"publisher category", "/document/publisher/category", "is not one of",
			func(r map[string]any) { at(r, "document/publisher").(map[string]any)["category"] = "psirt" }},
		{"undefined product", "/vulnerabilities/0/product_status/known_affected/1", `product ID "NOPE" is not defined`,
			func(r map[string]any) {
				at(r, "vulnerabilities/0/product_status").(map[string]any)["known_affected"] = []any{"PLC910-2", "NOPE"}
			}},
		{"duplicate product", "/product_tree/full_product_names/0/product_id", "already defined",
			func(r map[string]any) {
				at(r, "product_tree/full_product_names/0").(map[string]any)["product_id"] = "GW20"
			}},
		{"cve pattern", "/vulnerabilities/1/cve", "not a CVE ID",
			func(r map[string]any) { at(r, "vulnerabilities/1").(map[string]any)["cve"] = "CVE-24-1" }},
		{"cvss score range", "/vulnerabilities/0/scores/0/cvss_v3/baseScore", "not a number from 0 to 10",
			func(r map[string]any) { at(r, "vulnerabilities/0/scores/0/cvss_v3").(map[string]any)["baseScore"] = 11 }},
		{"score without cvss", "/vulnerabilities/1/scores/0", "must have cvss_v2 or cvss_v3",
			func(r map[string]any) { delete(at(r, "vulnerabilities/1/scores/0").(map[string]any), "cvss_v3") }},
		{"remediation category", "/vulnerabilities/1/remediations/1/category", "is not one of",
			func(r map[string]any) {
				at(r, "vulnerabilities/1/remediations/1").(map[string]any)["category"] = "patch"
			}},
		{"remediation details", "/vulnerabilities/0/remediations/0/details", "required property is missing",
			func(r map[string]any) { delete(at(r, "vulnerabilities/0/remediations/0").(map[string]any), "details") }},
		{"unknown group", "/vulnerabilities/0/remediations/0/group_ids/0", `product group "ALL-PLC9" is not defined`,
			func(r map[string]any) { delete(at(r, "product_tree").(map[string]any), "product_groups") }},
		{"vulnerabilities not array", "/vulnerabilities", "must be an array, is an object",
			func(r map[string]any) { r["vulnerabilities"] = map[string]any{} }},
		{"relationship reference", "/product_tree/relationships/0/relates_to_product_reference", `"GW99" is not defined`,
			func(r map[string]any) {
				at(r, "product_tree/relationships/0").(map[string]any)["relates_to_product_reference"] = "GW99"
			}},
		{"note without text", "/document/notes/1/text", "required property is missing",
			func(r map[string]any) { delete(at(r, "document/notes/1").(map[string]any), "text") }},
		{"slash in key escaped", "/document/notes/0/category", `"a/b" is not one of`,
			func(r map[string]any) { at(r, "document/notes/0").(map[string]any)["category"] = "a/b" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(bytes.NewReader(mutate(t, doc, tt.f)), "bad.json")
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse error = %v, want a *ValidationError", err)
			}
			if ve.Path != tt.path || !strings.Contains(ve.Msg, tt.msg) || ve.File != "bad.json" {
				t.Errorf("first problem %q: %q, want %q: %q", ve.Path, ve.Msg, tt.path, tt.msg)
			}
		})
	}
}

// TestParseErrors covers input that is not a CSAF document at all.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
		notCSAF        bool
	}{
		{"syntax", `{"document": {"title": "x",}}`, "byte offset 27", false},
		{"trailing data", `{"document": {}} {}`, "data after the top-level value", false},
		{"array root", `[1, 2]`, "document root must be an object", false},
		{"rolie feed", `{"feed": {"entry": []}}`, "not a CSAF document", true},
		{"empty", ``, "invalid JSON", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Parse(strings.NewReader(tt.in), "x.json")
			if a != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse = %v, %v; want an error with %q", a, err, tt.want)
			}
			if errors.Is(err, ErrNotCSAF) != tt.notCSAF {
				t.Errorf("errors.Is(err, ErrNotCSAF) = %v, want %v", !tt.notCSAF, tt.notCSAF)
			}
		})
	}
}

// TestParseManyProblems checks that problems are capped and counted.
func TestParseManyProblems(t *testing.T) {
	doc := mutate(t, readTestdata(t, "advisory.json"), func(r map[string]any) {
		var notes []any
		for range 30 {
			notes = append(notes, map[string]any{"category": "nonsense"})
		}
		at(r, "document").(map[string]any)["notes"] = notes
	})
	_, err := Parse(bytes.NewReader(doc), "many.json")
	if err == nil || !strings.Contains(err.Error(), "40 more problems") {
		t.Fatalf("err = %v, want 20 problems and \"40 more problems\" (60 in all: category and text of 30 notes)", err)
	}
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// TestParseCVSS4Score reads a CVSS v4.0 score given in scores (as CSAF 2.1
// writes it) in preference to a vector in a reference URL.
func TestParseCVSS4Score(t *testing.T) {
	doc := mutate(t, readTestdata(t, "advisory.json"), func(r map[string]any) {
		at(r, "vulnerabilities/0/scores/0").(map[string]any)["cvss_v4"] = map[string]any{
			"version": "4.0", "vectorString": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H",
			"baseScore": 10, "baseSeverity": "CRITICAL",
		}
	})
	a, err := Parse(bytes.NewReader(doc), "v4.json")
	if err != nil {
		t.Fatal(err)
	}
	if c := a.Vulnerabilities[0].CVSS4; c == nil || c.Score != 10 || c.Severity != "CRITICAL" || !strings.HasSuffix(c.Vector, "SA:H") {
		t.Errorf("CVSS4 = %+v", c)
	}
}
