package csaf

import "strings"

// A familyRule recognizes a catalog or order number (or a model name) and
// names the product family it belongs to, in the words advisories use:
// 1756-L83E is a "ControlLogix 5580" controller, 6ES7 516-3AN01-0AB0 a
// "SIMATIC S7-1500" CPU, BMX P34 2020 a "Modicon M340".
type familyRule struct {
	re   quickRe // on the lower-case device text
	name func(m []string) string
	why  string
}

var familyRules = []familyRule{
	{mustQuick(`\b1756-l([678])(\d)([a-z0-9]*)`), func(m []string) string {
		line := "controllogix"
		if strings.Contains(m[3], "s") {
			line = "guardlogix"
		}
		return line + " 55" + m[1] + "0"
	}, "Rockwell Automation catalog number"},
	{mustQuick(`\b1769-l([123])(\d)(er[a-z0-9]*)`), func(m []string) string {
		prefix := ""
		if strings.Contains(m[3], "o") {
			prefix = "armor "
		}
		if strings.HasSuffix(m[3], "s") {
			return prefix + "compact guardlogix 5370"
		}
		return prefix + "compactlogix 5370 l" + m[1]
	}, "Rockwell Automation catalog number"},
	{mustQuick(`\b5069-l([34])(\d+)([a-z0-9]*)`), func(m []string) string {
		if strings.Contains(m[3], "s") {
			return "compact guardlogix 5" + m[1] + "80"
		}
		return "compactlogix 5" + m[1] + "80"
	}, "Rockwell Automation catalog number"},
	{mustQuick(`\b1766-l32`), fixed("micrologix 1400"), "Rockwell Automation catalog number"},
	{mustQuick(`\b1763-l16`), fixed("micrologix 1100"), "Rockwell Automation catalog number"},
	{mustQuick(`\b1762-l`), fixed("micrologix 1200"), "Rockwell Automation catalog number"},
	{mustQuick(`\b1764-l`), fixed("micrologix 1500"), "Rockwell Automation catalog number"},
	{mustQuick(`\b1761-l`), fixed("micrologix 1000"), "Rockwell Automation catalog number"},
	{mustQuick(`\b2080-l[a-z]?(\d)\d`), func(m []string) string { return "micro8" + m[1] + "0" }, "Rockwell Automation catalog number"},
	{mustQuick(`\b1747-l5`), fixed("slc 500"), "Rockwell Automation catalog number"},
	{mustQuick(`\b1783-(bms|hms|ims|ms|rms|sad|wap)\d`), func(m []string) string {
		return map[string]string{"bms": "stratix 5700", "hms": "stratix 5400", "ims": "stratix 5410",
			"ms": "stratix 8000", "rms": "stratix 8300", "sad": "stratix 5950", "wap": "stratix 5100"}[m[1]]
	}, "Rockwell Automation catalog number"},
	{mustQuick(`\b2711p-`), fixed("panelview plus"), "Rockwell Automation catalog number"},
	{mustQuick(`\b2715p-`), fixed("panelview 5510"), "Rockwell Automation catalog number"},
	{mustQuick(`\b6(es7|ag1)\s?([2345])(1)\d`), func(m []string) string {
		brand := "simatic"
		if m[1] == "ag1" {
			brand = "siplus"
		}
		return brand + " " + map[string]string{"2": "s7-1200", "3": "s7-300", "4": "s7-400", "5": "s7-1500"}[m[2]] + " cpu"
	}, "Siemens order number"},
	{mustQuick(`\b6(es7|ag1)\s?15[1-4]`), func(m []string) string {
		if m[1] == "ag1" {
			return "siplus et200 cpu"
		}
		return "simatic et200 cpu"
	}, "Siemens order number"},
	{mustQuick(`\bcpu\s*(3[01]\d|4[01]\d|15\d\d|12\d\d)`), func(m []string) string {
		switch {
		case len(m[1]) == 3 && m[1][0] == '3':
			return "simatic s7-300"
		case len(m[1]) == 3:
			return "simatic s7-400"
		case strings.HasPrefix(m[1], "15"):
			return "simatic s7-1500"
		}
		return "simatic s7-1200"
	}, "Siemens CPU name"},
	{mustQuick(`\bbm[xe]\s?p34`), fixed("modicon m340"), "Schneider Electric reference"},
	{mustQuick(`\bbm[ex]\s?[ph]58`), fixed("modicon m580"), "Schneider Electric reference"},
	{mustQuick(`\btm(221|241|251|258|262)`), func(m []string) string { return "modicon m" + m[1] }, "Schneider Electric reference"},
	{mustQuick(`\b140\s?cpu`), fixed("modicon quantum"), "Schneider Electric reference"},
	{mustQuick(`\btsx\s?p57`), fixed("modicon premium"), "Schneider Electric reference"},
	{mustQuick(`\bic69[58](cp[elu]\d{3}|cru\d{3}|cpl\d{3})`), func(m []string) string { return m[1] }, "GE catalog number"},
	{mustQuick(`\b750-82\d\d`), fixed("pfc200"), "WAGO article number"},
	{mustQuick(`\b750-81\d\d`), fixed("pfc100"), "WAGO article number"},
	{mustQuick(`\b751-9301`), fixed("compact controller cc100"), "WAGO article number"},
	{mustQuick(`\b752-8303`), fixed("edge controller"), "WAGO article number"},
	{mustQuick(`\bscalance\s+x([a-z]?)(\d)\d\d(\S*)`), func(m []string) string {
		fam := "scalance x" + m[1] + "-" + m[2] + "00"
		switch {
		case strings.Contains(m[3], "irt"):
			fam += "irt"
		case strings.Contains(m[3], "rna"):
			fam += "rna"
		}
		return fam
	}, "Siemens SCALANCE X family"},
	{mustQuick(`\bfx5u[cj]?-`), fixed("melsec iq-f"), "Mitsubishi Electric model name"},
	{mustQuick(`\br\d{2,3}(en|p|sf)?cpu\b`), fixed("melsec iq-r"), "Mitsubishi Electric model name"},
	{mustQuick(`\bgt2([1357])\d\d-`), func(m []string) string { return "got2000 gt2" + m[1] }, "Mitsubishi Electric model name"},
	{mustQuick(`\bgt1([0-6])\d\d-`), func(m []string) string { return "got1000 gt1" + m[1] }, "Mitsubishi Electric model name"},
	{mustQuick(`\b(nj|nx)\d{3}-`), func(m []string) string { return m[1] + "-series machine automation controller" }, "Omron model name"},
	{mustQuick(`\bcj[12][a-z]?-`), fixed("plc cj series"), "Omron model name"},
	{mustQuick(`\b(rs|rsr|rsb|ms|octopus)\d{2}-`), func(m []string) string { return "classic platform switches " + m[1] }, "Hirschmann model name"},
	{mustQuick(`\b(nae|nie|nce)-?(\d{2})\d*`), func(m []string) string { return m[1] + m[2] }, "Johnson Controls model number"},
	{mustQuick(`\b(sne|snc)-?\d{4,}`), func(m []string) string { return m[1] }, "Johnson Controls model number"},
}

func fixed(s string) func([]string) string { return func([]string) string { return s } }

// A derivedName is a family name found for a device and the reason.
type derivedName struct {
	name, from, why string
}

// deriveFamilies returns the product families that the device text
// (model, product name, product code; lower-case) belongs to.
func deriveFamilies(text string) []derivedName {
	var out []derivedName
	for _, r := range familyRules {
		for _, m := range r.re.FindAllStringSubmatch(text, 4) {
			if n := r.name(m); n != "" {
				out = append(out, derivedName{name: n, from: strings.ToUpper(strings.TrimSpace(m[0])), why: r.why})
			}
		}
	}
	return out
}
