package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/recommend"
)

// advisoryDoc is a CSAF 2.0 advisory written for these tests after the
// CSAF 2.0 specification (section 3.1 product tree, 3.2.3 vulnerabilities):
// TRACKING names product NAME with the version range RANGE, affected by
// CVE-2018-4843, fixed by "Update to V3.2.16 or later version".
const advisoryDoc = `{
  "document": {
    "category": "csaf_security_advisory",
    "csaf_version": "2.0",
    "title": "Test advisory for TRACKING",
    "publisher": {"category": "vendor", "name": "Test PSIRT", "namespace": "https://psirt.example.com"},
    "tracking": {
      "id": "TRACKING", "status": "final", "version": "1",
      "initial_release_date": "2024-03-01T10:00:00Z", "current_release_date": "2024-03-01T10:00:00Z",
      "revision_history": [{"date": "2024-03-01T10:00:00Z", "number": "1", "summary": "Initial release"}]
    }
  },
  "product_tree": {
    "branches": [{"category": "vendor", "name": "Siemens", "branches": [
      {"category": "product_name", "name": "NAME", "branches": [
        {"category": "product_version_range", "name": "RANGE",
         "product": {"name": "Siemens NAME RANGE", "product_id": "P1"}}]}]}]
  },
  "vulnerabilities": [{
    "cve": "CVE-2018-4843",
    "scores": [{"products": ["P1"], "cvss_v3": {"version": "3.1", "baseScore": 6.5, "baseSeverity": "MEDIUM",
      "vectorString": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}}],
    "product_status": {"known_affected": ["P1"]},
    "remediations": [
      {"category": "vendor_fix", "details": "Update to V3.2.16 or later version", "product_ids": ["P1"],
       "url": "https://support.example.com/update"},
      {"category": "mitigation", "details": "Protect network access to port 102/tcp.", "product_ids": ["P1"]}
    ]
  }]
}`

func writeAdvisory(t *testing.T, path, tracking, name, rng string, edit func(string) string) {
	t.Helper()
	doc := strings.NewReplacer("TRACKING", tracking, "NAME", name, "RANGE", rng).Replace(advisoryDoc)
	if edit != nil {
		doc = edit(doc)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runAdv runs `otwatch advisories ARGS`.
func runAdv(args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	err = runAdvisories(args, &o, &e)
	return o.String(), e.String(), err
}

const s7Name = "SIMATIC S7-300 CPU 315-2 PN/DP (6ES7315-2EH14-0AB0)"

// TestAdvisoriesImport imports a valid advisory and two broken ones, each
// reported with its file and the JSON pointer of its problem.
func TestAdvisoriesImport(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	writeAdvisory(t, good, "TEST-1", s7Name, "vers:all/<V3.2.16", nil)
	noTitle := filepath.Join(dir, "sub", "no-title.json")
	writeAdvisory(t, noTitle, "TEST-2", s7Name, "vers:all/<V3.2.16", func(s string) string {
		return strings.Replace(s, `"title": "Test advisory for TEST-2",`, "", 1)
	})
	undefined := filepath.Join(dir, "sub", "undefined.json")
	writeAdvisory(t, undefined, "TEST-3", s7Name, "vers:all/<V3.2.16", func(s string) string {
		return strings.Replace(s, `"known_affected": ["P1"]`, `"known_affected": ["P9"]`, 1)
	})

	out, _, err := runAdv("import", "--json", dir)
	if err == nil || !strings.Contains(err.Error(), "2 of the documents") {
		t.Errorf("import of a folder with 2 invalid documents: err %v", err)
	}
	var rep importReport
	if jerr := json.Unmarshal([]byte(out), &rep); jerr != nil {
		t.Fatalf("--json output: %v\n%s", jerr, out)
	}
	if rep.Documents != 1 || rep.Vulnerabilities != 1 || rep.CVEs != 1 || rep.Products != 1 || rep.Invalid != 2 {
		t.Errorf("counts %+v, want 1 document, 1 vulnerability, 1 CVE, 1 product, 2 invalid", rep)
	}
	wantProblems := map[string]string{
		noTitle:   "/document/title",
		undefined: "/vulnerabilities/0/product_status/known_affected/0",
	}
	for file, path := range wantProblems {
		if !slices.ContainsFunc(rep.Problems, func(p importProblem) bool { return p.File == file && p.Path == path && p.Message != "" }) {
			t.Errorf("no problem at %s in %s: %+v", path, file, rep.Problems)
		}
	}

	out, _, _ = runAdv("import", dir)
	for _, want := range []string{"Documents:        1", "Invalid:          2", noTitle + ": /document/title: "} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if out, _, err := runAdv("import", good); err != nil || !strings.Contains(out, "Documents:        1") {
		t.Errorf("import of a valid document: err %v\n%s", err, out)
	}
	if out, _, err := runAdv("import", "--json", filepath.Join(dir, "missing")); err == nil || !strings.Contains(out, "missing") {
		t.Errorf("import of a missing path: err %v\n%s", err, out)
	}
	if _, _, err := runAdv("import"); !errors.Is(err, errUsage) {
		t.Errorf("import without a path: err %v, want a usage error", err)
	}
}

// equal2 reports whether a and b agree to two decimals.
func equal2(a, b float64) bool { return math.Round(a*100) == math.Round(b*100) }

// TestAdvisoriesMatch matches the simulated plant to two handwritten
// advisories for the Siemens CPU 315-2 PN/DP it simulates at V3.2.6: one
// for versions below V3.2.16 (so affected), one below V3.2.0 (not).
func TestAdvisoriesMatch(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "plant.pcap")
	if code, _, errOut := runCmd(t, "simulate", "--duration", "3m", "--scenario", "malware-cleartext-credentials", "-o", pcap); code != 0 {
		t.Fatalf("simulate: %s", errOut)
	}
	advDir := filepath.Join(dir, "csaf")
	writeAdvisory(t, filepath.Join(advDir, "affected.json"), "TEST-AFFECTED", s7Name, "vers:all/<V3.2.16", nil)
	writeAdvisory(t, filepath.Join(advDir, "older.json"), "TEST-OLDER", s7Name, "vers:all/<V3.2.0", nil)

	out, errOut, err := runAdv("match", "--advisories", advDir, "--json", pcap)
	if err != nil {
		t.Fatalf("match: %v\n%s", err, errOut)
	}
	var rep matchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if rep.Advisories != 2 || len(rep.Devices) != 1 {
		t.Fatalf("report: %d advisories, %d devices listed, want 2 and 1 (the Siemens PLC)\n%s", rep.Advisories, len(rep.Devices), out)
	}
	d := rep.Devices[0]
	if d.Device.IP != "10.10.2.11" || d.Firmware != "V3.2.6" || len(d.Matches) != 1 {
		t.Fatalf("device %+v", d)
	}
	m := d.Matches[0]
	if m.Advisory != "TEST-AFFECTED" || m.Verdict != "affected" || !slices.Equal(m.CVEs, []string{"CVE-2018-4843"}) || m.MaxCVSS != 6.5 ||
		m.FixedIn != "V3.2.16" || !equal2(m.Confidence, 0.95) || m.Level != "high" {
		t.Errorf("match %+v", m)
	}
	// The vendor, then the order number the device reports (its model
	// 6ES7 315-2EH14-0AB0 without spaces), then the firmware in the range.
	wantReasons := []string{
		`vendor "Siemens" is Siemens, as is the advisory's "Siemens"`,
		`order number 6ES73152EH140AB0 is listed for "` + s7Name + `"`,
		`firmware V3.2.6 is within the affected versions "vers:all/<V3.2.16"`,
	}
	if !slices.Equal(m.Reasons, wantReasons) {
		t.Errorf("reasons\n%q\nwant\n%q", m.Reasons, wantReasons)
	}
	// csaf.Risk, per vulnerability r = B × E × X × C × W:
	//   B = 6.5   the CVSS v3.1 base score of CVE-2018-4843
	//   E = 0.9   the advisory says nothing of exploits or the skill needed
	//   X = 0.8   adjacent attack vector (AV:A)
	//   C = 1.0   a plc
	//   W = 0.95  affected, confidence 0.95: an order number match (0.95)
	//             with a bounded version range (no further factor)
	// r = 6.5 × 0.9 × 0.8 × 1.0 × 0.95 = 4.446; one CVE, so R = r1 = 4.45.
	// The plant's traffic gives no observed recommendation for the PLC
	// (H = 0), so the score is V + (10 − V) × 0.3 × 0 = 4.45.
	if r := d.Risk; !equal2(r.Vulnerability, 4.45) || !equal2(r.Score, 4.45) || r.Observed != 0 || r.DeviceType != "plc" || r.Internet || r.Remote ||
		!slices.Equal(r.Factors, []string{"reached only from inside its zone"}) {
		t.Errorf("risk %+v, want vulnerability and score 4.45 of a plc reached only from inside its zone", r)
	}
	if !slices.ContainsFunc(d.Recommendations, func(r recommend.Recommendation) bool {
		return r.Kind == "advisory_update" && strings.Contains(r.Title, "V3.2.16") && r.URL == "https://support.example.com/update"
	}) {
		t.Errorf("no update recommendation to V3.2.16: %+v", d.Recommendations)
	}

	// --all lists the RTU the workstation logged in to over Telnet.
	out, _, err = runAdv("match", "--advisories", advDir, "--json", "--all", pcap)
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("match --all: %v\n%s", err, out)
	}
	if !slices.ContainsFunc(rep.Devices, func(d deviceReport) bool {
		return d.Device.IP == "10.10.2.20" && slices.ContainsFunc(d.Recommendations, func(r recommend.Recommendation) bool { return r.Kind == "cleartext_credentials" })
	}) {
		t.Errorf("--all does not list the RTU's cleartext credentials")
	}

	out, _, err = runAdv("match", "--advisories", advDir, pcap)
	for _, want := range []string{"PLC01 Mixing (10.10.2.11)", "TEST-AFFECTED  affected", "CVE-2018-4843", "risk ", "Update PLC01 Mixing (10.10.2.11) to V3.2.16 or later", "--all lists them"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("text report lacks %q (err %v):\n%s", want, err, out)
		}
	}
	if strings.Contains(out, "TEST-OLDER") {
		t.Errorf("V3.2.6 matched the advisory for versions below V3.2.0:\n%s", out)
	}

	// A broken advisory is reported and skipped; none valid is an error.
	bad := filepath.Join(dir, "bad", "bad.json")
	writeAdvisory(t, bad, "TEST-BAD", s7Name, "vers:all/<V3.2.16", func(s string) string {
		return strings.Replace(s, `"csaf_version": "2.0"`, `"csaf_version": "1.2"`, 1)
	})
	if _, errOut, err := runAdv("match", "--advisories", advDir, "--advisories", bad, pcap); err != nil || !strings.Contains(errOut, bad) || !strings.Contains(errOut, "/document/csaf_version") {
		t.Errorf("match with a broken advisory: err %v, stderr %q", err, errOut)
	}
	if _, _, err := runAdv("match", "--advisories", bad, pcap); err == nil || !strings.Contains(err.Error(), "no valid CSAF advisory") {
		t.Errorf("match with only a broken advisory: err %v", err)
	}
}

func TestAdvisoriesUsage(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"import", "--help"}, {"match", "--help"}} {
		out, errOut, err := runAdv(args...)
		want := "Usage: otwatch advisories"
		if len(args) > 1 {
			want += " " + args[0]
		}
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, want) || errOut != "" {
			t.Errorf("%v: err %v, stdout %q, stderr %q", args, err, out, errOut)
		}
	}
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{nil, "want a subcommand"},
		{[]string{"list"}, "unknown subcommand"},
		{[]string{"match", "plant.pcap"}, "--advisories is required"},
		{[]string{"match", "--advisories", "csaf"}, "no capture file"},
		{[]string{"match", "--advisories", "csaf", "-"}, "standard input"},
		{[]string{"match", "--nosuch"}, "nosuch"},
	} {
		if _, _, err := runAdv(tt.args...); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%v: err %v, want a usage error with %q", tt.args, err, tt.msg)
		}
	}
}
