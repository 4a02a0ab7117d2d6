package recommend

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/inventory"
)

// fromMatch returns the recommendations of one advisory match: for an
// affected device the vendor fix and the mitigations, for a possibly
// affected one a confirmation of its firmware (or model).
func fromMatch(d *inventory.Device, m *csaf.Match) []Recommendation {
	a := m.Advisory
	if a == nil {
		return nil
	}
	sev := cvssSeverity(m.Vulnerabilities)
	ev := matchEvidence(m)
	base := func(kind Kind, sev alert.Severity) Recommendation {
		r := newRec(d, kind, a.ID, sev, SourceAdvisory)
		r.Advisory, r.URL = a.ID, a.URL
		r.CVEs = slices.Clone(m.CVEs)
		r.Evidence = slices.Clone(ev)
		return r
	}
	label := Ref(d).String()
	if m.Verdict != csaf.Affected {
		r := base(KindConfirm, lower(sev))
		what := "model"
		if strings.TrimSpace(d.Firmware) == "" || !readableVersion(d.Firmware) {
			what = "firmware version"
		}
		r.Title = fmt.Sprintf("Confirm the %s of %s against %s", what, label, a.ID)
		var b strings.Builder
		fmt.Fprintf(&b, "%s may be affected by %s (%s), but the sensor could not confirm it: %s.\n",
			label, a.ID, a.Title, strings.Join(uncertain(m), "; "))
		if what == "firmware version" {
			fmt.Fprintf(&b, "Read the firmware version from the device or its engineering tool and compare it with the affected versions of %s", productText(m.Product))
		} else {
			fmt.Fprintf(&b, "Check the device's exact model and order number against %s", productText(m.Product))
		}
		b.WriteString(" in the advisory. If it is affected, apply the advisory's fix or mitigations")
		if m.FixedIn != "" {
			fmt.Fprintf(&b, " (fixed in %s)", m.FixedIn)
		}
		b.WriteString(".")
		r.Text = b.String()
		return []Recommendation{r}
	}

	var updates, mitigations []csaf.Remediation
	noFix := ""
	for _, rem := range m.Remediations {
		instr, named := updateInstruction(rem, m.Product)
		switch {
		case rem.Category == "vendor_fix" || instr && named:
			updates = append(updates, rem)
		case instr:
			// An update instruction for the advisory's other products.
		case rem.Category == "mitigation" || rem.Category == "workaround":
			mitigations = append(mitigations, rem)
		case rem.Category == "no_fix_planned" || rem.Category == "none_available":
			noFix = rem.Category
		}
	}
	var out []Recommendation
	if len(updates) > 0 {
		r := base(KindUpdate, sev)
		vers := fixVersions(m, updates, d.Firmware)
		if len(vers) > 0 {
			r.Title = fmt.Sprintf("Update %s to %s or later (%s)", label, orList(vers), a.ID)
			r.Evidence = append(r.Evidence, "fixed version named by the advisory: "+strings.Join(vers, ", "))
		} else {
			r.Title = fmt.Sprintf("Apply the vendor fix of %s to %s", a.ID, label)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s is affected by %s (%s)", label, a.ID, a.Title)
		if d.Firmware != "" {
			fmt.Fprintf(&b, " at firmware %s", d.Firmware)
		}
		b.WriteString(". The vendor's fix:\n")
		writeRemediations(&b, updates)
		r.Text = strings.TrimRight(b.String(), "\n")
		if r.URL == "" {
			r.URL = firstURL(updates)
		}
		out = append(out, r)
	}
	if len(mitigations) > 0 || len(updates) == 0 {
		msev := sev
		if len(updates) > 0 {
			msev = lower(sev)
		}
		r := base(KindMitigate, msev)
		var b strings.Builder
		switch {
		case len(updates) > 0:
			r.Title = fmt.Sprintf("Apply the mitigations of %s to %s until it is updated", a.ID, label)
			b.WriteString("Until the fix is installed, the advisory recommends:\n")
		case noFix != "":
			r.Title = fmt.Sprintf("No fix for %s: apply its mitigations to %s", a.ID, label)
			verb := "no fix is planned"
			if noFix == "none_available" {
				verb = "no fix is available yet"
			}
			fmt.Fprintf(&b, "%s is affected by %s (%s) and %s; the advisory recommends:\n", label, a.ID, a.Title, verb)
		default:
			r.Title = fmt.Sprintf("Apply the mitigations of %s to %s", a.ID, label)
			fmt.Fprintf(&b, "%s is affected by %s (%s); the advisory recommends:\n", label, a.ID, a.Title)
		}
		if len(mitigations) == 0 {
			b.WriteString("- The advisory gives no remediation for this product: follow it for updates and restrict network access to the device.\n")
		}
		writeRemediations(&b, mitigations)
		r.Text = strings.TrimRight(b.String(), "\n")
		if r.URL == "" {
			r.URL = firstURL(mitigations)
		}
		out = append(out, r)
	}
	return out
}

// updateInstruction reports whether a mitigation or workaround is an
// instruction to update some products, given as a list of product names
// before a colon and an update or upgrade to a version after it
// ("CompactLogix 5370, ControlLogix 5570: Upgrade to v34.011 firmware"),
// and whether the list names product p (a trailing generic word such as
// "controllers" aside).
func updateInstruction(rem csaf.Remediation, p *csaf.Product) (instr, named bool) {
	if rem.Category != "mitigation" && rem.Category != "workaround" {
		return false, false
	}
	names, rest, ok := strings.Cut(rem.Details, ":")
	if !ok || len(names) > 300 || strings.Contains(names, "http") || !updateVerbRe.MatchString(rest) || !versionRe.MatchString(rest) {
		return false, false
	}
	if p == nil {
		return true, false
	}
	want := map[string]bool{}
	for _, n := range []string{p.ProductName, p.Name, strings.TrimSpace(p.Family + " " + p.ProductName)} {
		if n = normName(n); n != "" {
			want[n] = true
		}
	}
	for _, n := range listSplitRe.Split(names, -1) {
		n = strings.TrimPrefix(normName(n), "for ")
		if want[n] {
			return true, true
		}
	}
	return true, false
}

var (
	updateVerbRe = regexp.MustCompile(`(?i)\b(update|upgrade|install)`)
	versionRe    = regexp.MustCompile(`(?i)\b[vr]?\d+(?:\.\d+)+[a-z0-9]*\b`)
	listSplitRe  = regexp.MustCompile(`\s*(?:,|;|\band\b)\s*`)
	// genericTail are words a product list may leave out ("ControlLogix
	// 5570 controllers" is listed as "ControlLogix 5570").
	genericTail = []string{"controllers", "controller", "devices", "device", "series", "family", "products", "firmware"}
)

// normName lowercases a product name, collapses spaces and drops a
// trailing generic word.
func normName(s string) string {
	s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
	for _, w := range genericTail {
		if t, ok := strings.CutSuffix(s, " "+w); ok {
			return t
		}
	}
	return s
}

// fixVersions returns the fixed versions: the match's FixedIn, else the
// versions the update remediations name that are newer than the device's
// firmware (all of them when it cannot be compared).
func fixVersions(m *csaf.Match, updates []csaf.Remediation, firmware string) []string {
	if m.FixedIn != "" {
		return []string{m.FixedIn}
	}
	var out []string
	for _, rem := range updates {
		for _, v := range versionRe.FindAllString(rem.Details, -1) {
			if c, ok := compareFirmware(v, firmware); ok && c <= 0 {
				continue
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	if len(out) > 3 {
		return nil // a list of fixes for many products; the text says which
	}
	return out
}

func orList(vs []string) string {
	if len(vs) == 1 {
		return vs[0]
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " or " + vs[len(vs)-1]
}

func writeRemediations(b *strings.Builder, rems []csaf.Remediation) {
	for _, r := range rems {
		b.WriteString("- ")
		b.WriteString(strings.Join(strings.Fields(r.Details), " "))
		if r.URL != "" && !strings.Contains(r.Details, r.URL) {
			b.WriteString(" (" + r.URL + ")")
		}
		b.WriteString("\n")
	}
}

func firstURL(rems []csaf.Remediation) string {
	for _, r := range rems {
		if r.URL != "" {
			return r.URL
		}
	}
	return ""
}

// matchEvidence lists the advisory, its CVEs with their scores and why
// the device matched.
func matchEvidence(m *csaf.Match) []string {
	a := m.Advisory
	ev := []string{fmt.Sprintf("advisory %s: %s (%s, confidence %s %.2f)", a.ID, a.Title, m.Verdict, m.Level(), m.Confidence)}
	for _, v := range m.Vulnerabilities {
		s := v.CVE
		if s == "" {
			s = cmpOr(v.Title, "vulnerability without CVE")
		}
		if v.CVSS3 != nil {
			s += fmt.Sprintf(" (CVSS %s %.1f %s)", v.CVSS3.Version, v.CVSS3.Score, v.CVSS3.Vector)
		} else if v.CVSS4 != nil && v.CVSS4.Score > 0 {
			s += fmt.Sprintf(" (CVSS 4.0 %.1f)", v.CVSS4.Score)
		}
		if v.CWE != nil {
			s += " " + v.CWE.ID
			if v.CWE.Name != "" {
				s += " " + v.CWE.Name
			}
		}
		ev = append(ev, s)
	}
	return append(ev, m.Reasons...)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// uncertain returns the reasons of a match that say what is uncertain.
func uncertain(m *csaf.Match) []string {
	var out []string
	for _, r := range m.Reasons {
		l := strings.ToLower(r)
		if strings.Contains(l, "unknown") || strings.Contains(l, "partly") || strings.Contains(l, "cannot") ||
			strings.Contains(l, "not report") || strings.Contains(l, "does not") || strings.Contains(l, "not a version") ||
			strings.Contains(l, "related") {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		out = []string{"the match is not certain"}
	}
	return out
}

func productText(p *csaf.Product) string {
	if p == nil {
		return "the product"
	}
	s := fmt.Sprintf("%q", p.Name)
	switch {
	case p.VersionRange != "":
		s += " (" + p.VersionRange + ")"
	case p.Version != "":
		s += " (" + p.Version + ")"
	}
	return s
}

// cvssSeverity maps the highest base score of the vulnerabilities to a
// severity with CVSS v3's ratings: Critical from 9.0, High from 7.0,
// Medium from 4.0, Low below; Medium when none is scored.
func cvssSeverity(vs []*csaf.Vulnerability) alert.Severity {
	best, ok := 0.0, false
	for _, v := range vs {
		switch {
		case v.CVSS3 != nil:
			best, ok = max(best, v.CVSS3.Score), true
		case v.CVSS4 != nil && v.CVSS4.Score > 0:
			best, ok = max(best, v.CVSS4.Score), true
		}
	}
	switch {
	case !ok:
		return alert.Medium
	case best >= 9:
		return alert.Critical
	case best >= 7:
		return alert.High
	case best >= 4:
		return alert.Medium
	}
	return alert.Low
}

// lower returns the severity one step below s (Low stays Low).
func lower(s alert.Severity) alert.Severity {
	if s > alert.Low {
		return s - 1
	}
	return alert.Low
}
