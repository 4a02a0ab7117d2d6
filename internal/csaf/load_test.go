package csaf

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestLoadMatchesIndex loads every shared advisory and compares each
// document with its row of index.tsv, which was made from the JSON files
// by a separate script (see the data README): tracking ID, title, dates,
// version, vendors, products, CVEs, counts of vulnerabilities and product
// IDs, the highest CVSS v3 score and the remediation categories.
func TestLoadMatchesIndex(t *testing.T) {
	dir := csafDir(t)
	cat := sharedCatalog(t)
	f, err := os.Open(filepath.Join(dir, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var header []string
	rows, vulns, prods := 0, 0, 0
	byFile := map[string]*Advisory{}
	for _, a := range cat.Advisories {
		rel, err := filepath.Rel(dir, a.File)
		if err != nil {
			t.Fatal(err)
		}
		byFile[filepath.ToSlash(rel)] = a
	}
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if header == nil {
			header = fields
			continue
		}
		row := map[string]string{}
		for i, h := range header {
			row[h] = fields[i]
		}
		rows++
		a := byFile[row["file"]]
		if a == nil {
			t.Errorf("%s: not loaded", row["file"])
			continue
		}
		check := func(what, got, want string) {
			if got != want {
				t.Errorf("%s: %s = %q, index.tsv says %q", row["file"], what, got, want)
			}
		}
		check("ID", a.ID, row["advisory_id"])
		check("title", a.Title, row["title"])
		check("version", a.Version, row["tracking_version"])
		check("initial release", a.Released.Format("2006-01-02"), row["initial_release"])
		check("current release", a.Updated.Format("2006-01-02"), row["current_release"])
		check("vulnerabilities", strconv.Itoa(len(a.Vulnerabilities)), row["n_vulnerabilities"])
		check("product IDs", strconv.Itoa(len(a.Products)), row["n_product_ids"])
		var cves []string
		for _, v := range a.Vulnerabilities {
			if v.CVE != "" && !slices.Contains(cves, v.CVE) {
				cves = append(cves, v.CVE)
			}
		}
		check("CVEs", strings.Join(cves, ","), row["cves"])
		maxScore := ""
		if s, ok := a.MaxCVSS3(); ok {
			maxScore = strconv.FormatFloat(s, 'f', -1, 64)
		}
		if want := row["max_cvss_v3"]; maxScore != want {
			if w, err := strconv.ParseFloat(want, 64); err != nil || maxScore != strconv.FormatFloat(w, 'f', -1, 64) {
				t.Errorf("%s: max CVSS v3 = %q, index.tsv says %q", row["file"], maxScore, want)
			}
		}
		var cats []string
		for _, v := range a.Vulnerabilities {
			for _, r := range v.Remediations {
				if !slices.Contains(cats, r.Category) {
					cats = append(cats, r.Category)
				}
			}
		}
		slices.Sort(cats)
		want := strings.Split(row["remediation_categories"], ",")
		slices.Sort(want)
		check("remediation categories", strings.Join(cats, ","), strings.Join(want, ","))
		check("has remediations", strconv.FormatBool(len(cats) > 0), row["has_remediations"])
		vendors := map[string]bool{}
		names := map[string]bool{}
		for _, p := range a.Products {
			if p.Relationship == nil && p.Vendor != "" {
				vendors[p.Vendor] = true
			}
			// index.tsv folds whitespace runs to one space.
			names[strings.Join(strings.Fields(p.ProductName), " ")] = true
			names[strings.Join(strings.Fields(p.Name), " ")] = true
			names[strings.Join(strings.Fields(p.Family), " ")] = true
		}
		for _, v := range strings.Split(row["vendors"], "; ") {
			if !vendors[strings.TrimSpace(v)] {
				t.Errorf("%s: vendor %q of index.tsv is not a product's vendor (have %v)", row["file"], v, vendors)
			}
		}
		for _, p := range strings.Split(row["products"], "; ") {
			if !names[strings.Join(strings.Fields(p), " ")] {
				t.Errorf("%s: product %q of index.tsv is not a product name", row["file"], p)
			}
		}
		vulns += len(a.Vulnerabilities)
		prods += len(a.Products)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// The totals the data README states.
	if rows != 283 || cat.Len() != 283 || vulns != 655 || prods != 2941 {
		t.Errorf("index rows %d, documents %d, vulnerabilities %d, product IDs %d; want 283, 283, 655, 2941",
			rows, cat.Len(), vulns, prods)
	}
	fmt.Printf("csaf load: %d documents, %d vulnerabilities, %d product IDs\n", cat.Len(), vulns, prods)

	// Further counts the data README gives: 1,625 version leaves, 107
	// products with model numbers, "fixed" in 3 vulnerabilities and
	// "known_not_affected" in 24, a CVSS v4 vector in 10 documents (in
	// reference URLs only).
	var leaves, models, fixed, notAffected, v4docs int
	for _, a := range cat.Advisories {
		hasV4 := false
		for _, p := range a.Products {
			if p.Relationship == nil && (p.Version != "" || p.VersionRange != "" || p.Model != "") {
				leaves++
			}
			if len(p.ModelNumbers) > 0 {
				models++
			}
		}
		for _, v := range a.Vulnerabilities {
			if len(v.Fixed) > 0 {
				fixed++
			}
			if len(v.KnownNotAffected) > 0 {
				notAffected++
			}
			if v.CVSS4 != nil {
				hasV4 = true
			}
		}
		if hasV4 {
			v4docs++
		}
	}
	if leaves != 1625 || models != 107 || fixed != 3 || notAffected != 24 || v4docs != 10 {
		t.Errorf("version leaves %d, products with model numbers %d, fixed %d, known_not_affected %d, CVSS v4 documents %d; want 1625, 107, 3, 24, 10",
			leaves, models, fixed, notAffected, v4docs)
	}
}

// writeDoc writes testdata/advisory.json with another tracking ID and
// version to path.
func writeDoc(t *testing.T, path, id, version, updated string) {
	t.Helper()
	doc := mutate(t, readTestdata(t, "advisory.json"), func(r map[string]any) {
		tr := at(r, "document/tracking").(map[string]any)
		tr["id"] = id
		tr["version"] = version
		tr["current_release_date"] = updated
	})
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoadProviderMirror loads a CSAF provider's layout mirrored to disk:
// provider-metadata.json pointing to a ROLIE feed, the feed's entries
// pointing to documents by URL, a directory index.txt, an invalid document
// and JSON that is not CSAF.
func TestLoadProviderMirror(t *testing.T) {
	root := t.TempDir()
	site := filepath.Join(root, "psirt.example.com", ".well-known", "csaf")
	writeFile(t, filepath.Join(site, "provider-metadata.json"), `{
  "canonical_url": "https://psirt.example.com/.well-known/csaf/provider-metadata.json",
  "metadata_version": "2.0",
  "distributions": [
    {"rolie": {"feeds": [{"summary": "WHITE", "tlp_label": "WHITE", "url": "https://psirt.example.com/.well-known/csaf/white/example-feed-tlp-white.json"}]}},
    {"directory_url": "https://psirt.example.com/.well-known/csaf/green/"}
  ]
}`)
	writeFile(t, filepath.Join(site, "white", "example-feed-tlp-white.json"), `{"feed": {
  "id": "example-feed-tlp-white", "title": "Example CSAF feed (TLP:WHITE)",
  "entry": [
    {"id": "EX-2024-0001", "content": {"type": "application/json", "src": "https://psirt.example.com/.well-known/csaf/white/2024/ex-2024-0001.json"}},
    {"id": "EX-2024-0002", "link": [{"rel": "self", "href": "https://psirt.example.com/.well-known/csaf/white/2024/ex-2024-0002.json"}]},
    {"id": "EX-2024-0009", "content": {"src": "https://psirt.example.com/.well-known/csaf/white/2024/ex-2024-0009.json"}}
  ]}}`)
	writeDoc(t, filepath.Join(site, "white", "2024", "ex-2024-0001.json"), "EX-2024-0001", "2", "2024-04-15T08:30:00Z")
	writeDoc(t, filepath.Join(site, "white", "2024", "ex-2024-0002.json"), "EX-2024-0002", "1", "2024-05-01T00:00:00Z")
	writeFile(t, filepath.Join(site, "white", "2024", "ex-2024-0002.json.sha512"), "0000  ex-2024-0002.json\n")
	// The green directory is listed by its index.txt only.
	writeFile(t, filepath.Join(site, "green", "index.txt"), "2023/ex-2023-0007.json\n2023/ex-2023-0008.json\n")
	writeDoc(t, filepath.Join(site, "green", "2023", "ex-2023-0007.json"), "EX-2023-0007", "1", "2023-07-01T00:00:00Z")
	writeFile(t, filepath.Join(site, "green", "2023", "ex-2023-0008.json"), `{"document": {"csaf_version": "2.0"}}`)

	t.Run("provider metadata", func(t *testing.T) {
		cat, errs := Load(filepath.Join(site, "provider-metadata.json"))
		var ids []string
		for _, a := range cat.Advisories {
			ids = append(ids, a.ID)
		}
		if want := []string{"EX-2023-0007", "EX-2024-0001", "EX-2024-0002"}; !slices.Equal(ids, want) {
			t.Errorf("loaded %v, want %v", ids, want)
		}
		var sawMissing, sawInvalid bool
		for _, err := range errs {
			var ve *ValidationError
			switch {
			case strings.Contains(err.Error(), "ex-2024-0009.json is not mirrored"):
				sawMissing = true
			case errors.As(err, &ve) && strings.HasSuffix(ve.File, "ex-2023-0008.json") && ve.Path == "/document/category":
				sawInvalid = true
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if !sawMissing || !sawInvalid {
			t.Errorf("errors %v: want the unmirrored feed entry and the invalid document (path /document/category)", errs)
		}
	})
	t.Run("directory walk", func(t *testing.T) {
		// Walking finds every document once, however many feeds and
		// indexes also list it, and skips the feed and metadata files.
		cat, errs := Load(root, filepath.Join(site, "white", "example-feed-tlp-white.json"))
		if cat.Len() != 3 {
			t.Errorf("loaded %d advisories, want 3", cat.Len())
		}
		if len(errs) != 2 {
			t.Errorf("errors %v: want 2 (invalid document, unmirrored entry)", errs)
		}
	})
	t.Run("newest revision wins", func(t *testing.T) {
		dir := t.TempDir()
		writeDoc(t, filepath.Join(dir, "a.json"), "EX-1", "1", "2024-01-01T00:00:00Z")
		writeDoc(t, filepath.Join(dir, "b.json"), "EX-1", "3", "2024-03-01T00:00:00Z")
		writeDoc(t, filepath.Join(dir, "c.json"), "EX-1", "2", "2024-02-01T00:00:00Z")
		cat, errs := Load(dir)
		if len(errs) != 0 || cat.Len() != 1 || cat.Advisory("EX-1").Version != "3" {
			t.Errorf("Load = %d advisories (version %q), %v; want only version 3", cat.Len(), cat.Advisory("EX-1").Version, errs)
		}
	})
	t.Run("not CSAF", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "other.json")
		writeFile(t, p, `{"hello": "world"}`)
		cat, errs := Load(p, filepath.Join(root, "does-not-exist"))
		if cat.Len() != 0 || len(errs) != 2 {
			t.Errorf("Load = %d advisories, %v; want none and two errors", cat.Len(), errs)
		}
	})
}
