package csaf

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must return an advisory or
// an error, never panic, and an advisory's product references must
// resolve.
func FuzzParse(f *testing.F) {
	doc, err := readFile("testdata/advisory.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(doc)
	f.Add([]byte(`{"document": {}}`))
	f.Add([]byte(`{"document": {"csaf_version": "2.0"}, "product_tree": {"branches": [{"category": "vendor", "name": "x", "branches": [{"category": "product_name", "name": "y", "product": {"name": "z", "product_id": "1"}}]}]}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Parse(bytes.NewReader(data), "fuzz.json")
		if (a == nil) == (err == nil) {
			t.Fatalf("Parse = %v, %v: want exactly one of advisory and error", a, err)
		}
		var ve *ValidationError
		if err != nil && errors.As(err, &ve) && ve.File != "fuzz.json" {
			t.Errorf("ValidationError.File = %q", ve.File)
		}
		if a == nil {
			return
		}
		for _, v := range a.Vulnerabilities {
			for _, id := range v.KnownAffected {
				if a.Product(id) == nil {
					t.Errorf("known_affected %q has no product", id)
				}
			}
		}
		NewCatalog(a).Match(Device{Vendor: "x", Product: "y z", Firmware: "1.0"})
	})
}

// FuzzMatch matches arbitrary device texts against the handwritten
// advisory: no panic, verdicts and confidences in range.
func FuzzMatch(f *testing.F) {
	doc, err := readFile("testdata/advisory.json")
	if err != nil {
		f.Fatal(err)
	}
	a, err := Parse(bytes.NewReader(doc), "advisory.json")
	if err != nil {
		f.Fatal(err)
	}
	cat := NewCatalog(a)
	f.Add("Example Industrial", "9EX9 910-0AA00-0AB0", "PLC-9 CPU 910", "", "V2.5")
	f.Add("", "GW-20/x*(((", "Gateway GW-20", "1234567", "")
	f.Fuzz(func(t *testing.T, vendor, model, product, code, fw string) {
		for _, m := range cat.Match(Device{Vendor: vendor, Model: model, Product: product, ProductCode: code, Firmware: fw}) {
			if m.Confidence <= 0 || m.Confidence > 1 || (m.Verdict != Affected && m.Verdict != PossiblyAffected) {
				t.Errorf("match %+v out of range", m)
			}
			if m.Verdict == Affected && fw == "" {
				t.Errorf("affected verdict without firmware: %+v", m)
			}
		}
	})
}
