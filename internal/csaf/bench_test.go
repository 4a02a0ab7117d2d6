package csaf

import (
	"bytes"
	"testing"
)

// BenchmarkMatch matches one device against every shared advisory.
func BenchmarkMatch(b *testing.B) {
	cat := sharedCatalog(b)
	d := Device{Vendor: "Rockwell Automation/Allen-Bradley", Model: "1769-L33ER/A", Product: "1769-L33ER/A LOGIX5333ER", Firmware: "30.014"}
	b.ReportAllocs()
	for b.Loop() {
		if len(cat.Match(d)) != 3 {
			b.Fatal("want 3 matches")
		}
	}
}

// BenchmarkMatchUnknownVendor matches a device whose vendor is unknown,
// which compares it with every advisory.
func BenchmarkMatchUnknownVendor(b *testing.B) {
	cat := sharedCatalog(b)
	d := Device{Model: "6ES7 315-2EH14-0AB0", Product: "CPU 315-2 PN/DP", Firmware: "V3.2.6"}
	b.ReportAllocs()
	for b.Loop() {
		cat.Match(d)
	}
}

// BenchmarkLoad loads the whole shared folder of advisories.
func BenchmarkLoad(b *testing.B) {
	dir := csafDir(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := Load(dir); len(errs) > 0 {
			b.Fatal(errs[0])
		}
	}
}

// BenchmarkParse parses the handwritten advisory.
func BenchmarkParse(b *testing.B) {
	doc, err := readFile("testdata/advisory.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(doc), "advisory.json"); err != nil {
			b.Fatal(err)
		}
	}
}
