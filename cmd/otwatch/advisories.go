package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/otwatch/otwatch/internal/analyze"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/recommend"
)

const advisoriesExamples = `  otwatch advisories import csaf/
  otwatch advisories import --json provider-mirror/provider-metadata.json | jq .problems
  otwatch advisories match --advisories csaf/ plant.pcapng
  otwatch advisories match --advisories csaf/ --json --all day1.pcap day2.pcap`

func runAdvisories(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "import":
			return runAdvisoriesImport(args[1:], stdout, stderr)
		case "match":
			return runAdvisoriesMatch(args[1:], stdout, stderr)
		}
	}
	fs := newFlags("advisories", "import|match [flags] ...",
		`Work with security advisories in CSAF 2.0 (the format CISA publishes its ICS
advisories in):

  import PATH...                         read and validate advisories and count them
  match --advisories PATH CAPTURE...     match them to the devices of captures, with
                                         risk and recommendations

Run 'otwatch advisories import --help' or 'otwatch advisories match --help' for
their flags.`, advisoriesExamples, stderr)
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: want a subcommand: import or match", errUsage)
	}
	return fmt.Errorf("%w: unknown subcommand %q (want import or match)", errUsage, fs.Arg(0))
}

// importReport is the JSON form of `advisories import`.
type importReport struct {
	Inputs          []string        `json:"inputs"`
	Documents       int             `json:"documents"`
	Vulnerabilities int             `json:"vulnerabilities"`
	CVEs            int             `json:"cves"`
	Products        int             `json:"products"`
	Invalid         int             `json:"invalid"`
	Problems        []importProblem `json:"problems"`
}

// importProblem is one problem of a document: the file, the JSON pointer
// where it is (for a schema or product ID problem) and what it is.
type importProblem struct {
	File    string `json:"file,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// problemsOf flattens a Load error into its validation problems.
func problemsOf(err error) []importProblem {
	if ve, ok := err.(*csaf.ValidationError); ok {
		return []importProblem{{File: ve.File, Path: cmp.Or(ve.Path, "/"), Message: ve.Msg}}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []importProblem
		for _, e := range j.Unwrap() {
			out = append(out, problemsOf(e)...)
		}
		return out
	}
	return []importProblem{{Message: err.Error()}}
}

func runAdvisoriesImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("advisories import", "[flags] PATH...",
		`Read CSAF 2.0 advisories from files, directories (walked for *.json) and
provider mirrors (provider-metadata.json, ROLIE feeds and index.txt are
followed to the documents they list), validate them against the CSAF 2.0
schema's required fields and the mandatory product ID tests, and print how
many documents, vulnerabilities, CVEs and products they hold. Each invalid
document is listed with the JSON path of its problem
(/product_tree/branches/0/name). The exit status is 1 when a document is
invalid or unreadable; the valid ones are still counted.`, advisoriesExamples, stderr)
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no advisory file or directory given", errUsage)
	}
	cat, errs := csaf.Load(fs.Args()...)
	rep := importReport{Inputs: fs.Args(), Documents: cat.Len(), Invalid: len(errs), Problems: []importProblem{}}
	cves := map[string]bool{}
	for _, a := range cat.Advisories {
		rep.Vulnerabilities += len(a.Vulnerabilities)
		rep.Products += len(a.Products)
		for _, v := range a.Vulnerabilities {
			if v.CVE != "" {
				cves[v.CVE] = true
			}
		}
	}
	rep.CVEs = len(cves)
	for _, err := range errs {
		rep.Problems = append(rep.Problems, problemsOf(err)...)
	}
	var werr error
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		werr = enc.Encode(rep)
	} else {
		var b strings.Builder
		fmt.Fprintf(&b, "Documents:        %d\n", rep.Documents)
		fmt.Fprintf(&b, "Vulnerabilities:  %d\n", rep.Vulnerabilities)
		fmt.Fprintf(&b, "CVEs:             %d\n", rep.CVEs)
		fmt.Fprintf(&b, "Products:         %d\n", rep.Products)
		fmt.Fprintf(&b, "Invalid:          %d\n", rep.Invalid)
		if len(rep.Problems) > 0 {
			b.WriteString("\nProblems:\n")
			for _, p := range rep.Problems {
				switch {
				case p.File != "":
					fmt.Fprintf(&b, "  %s: %s: %s\n", p.File, p.Path, p.Message)
				default:
					fmt.Fprintf(&b, "  %s\n", p.Message)
				}
			}
		}
		_, werr = io.WriteString(stdout, b.String())
	}
	if werr != nil {
		return werr
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d of the documents read are invalid or unreadable", len(errs))
	}
	return nil
}

// matchReport is the JSON form of `advisories match`.
type matchReport struct {
	Inputs     []string       `json:"inputs"`
	Advisories int            `json:"advisories"`
	Devices    []deviceReport `json:"devices"`
	// Others counts the devices not listed: without matches (and, without
	// --all, with recommendations from what the sensor saw only).
	Others int `json:"other_devices"`
}

// deviceReport is one device of a matchReport.
type deviceReport struct {
	Device          recommend.DeviceRef        `json:"device"`
	Type            inventory.Type             `json:"type"`
	Purdue          int                        `json:"purdue_level"`
	Vendor          string                     `json:"vendor,omitempty"`
	Product         string                     `json:"product,omitempty"`
	Model           string                     `json:"model,omitempty"`
	Firmware        string                     `json:"firmware,omitempty"`
	Risk            recommend.Risk             `json:"risk"`
	Matches         []matchSummary             `json:"matches"`
	Recommendations []recommend.Recommendation `json:"recommendations"`
}

// matchSummary is one advisory match of a device.
type matchSummary struct {
	Advisory   string   `json:"advisory"`
	Title      string   `json:"title"`
	URL        string   `json:"url,omitempty"`
	Product    string   `json:"product,omitempty"`
	Verdict    string   `json:"verdict"`
	Confidence float64  `json:"confidence"`
	Level      string   `json:"level"`
	CVEs       []string `json:"cves"`
	MaxCVSS    float64  `json:"max_cvss,omitempty"`
	FixedIn    string   `json:"fixed_in,omitempty"`
	Reasons    []string `json:"reasons"`
}

func summarize(m *csaf.Match) matchSummary {
	s := matchSummary{Advisory: m.Advisory.ID, Title: m.Advisory.Title, URL: m.Advisory.URL, Verdict: m.Verdict.String(),
		Confidence: m.Confidence, Level: m.Level(), CVEs: m.CVEs, FixedIn: m.FixedIn, Reasons: m.Reasons}
	if m.Product != nil {
		s.Product = m.Product.Name
	}
	if s.CVEs == nil {
		s.CVEs = []string{}
	}
	for _, v := range m.Vulnerabilities {
		switch {
		case v.CVSS3 != nil:
			s.MaxCVSS = max(s.MaxCVSS, v.CVSS3.Score)
		case v.CVSS4 != nil:
			s.MaxCVSS = max(s.MaxCVSS, v.CVSS4.Score)
		}
	}
	return s
}

func runAdvisoriesMatch(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("advisories match", "--advisories PATH [flags] CAPTURE...",
		`Analyse capture files (as one capture) into a device inventory, run detection
(learning on the first part of the capture), and match the devices' vendor,
model and firmware to CSAF advisories. For each device with a match, print its
identity, the advisories and CVEs with their verdict (affected or possibly
affected), confidence and reasons, its risk score, and the recommendations:
the advisories' fixes and mitigations, and what the sensor saw (insecure
protocols, cleartext passwords, remote access, internet traffic, outdated
firmware, PLC modes, IT/OT crossings). Devices are sorted by risk.`, advisoriesExamples, stderr)
	var advPaths []string
	fs.Func("advisories", "CSAF advisories: a `path` (file, directory or provider mirror); repeat for several", func(s string) error {
		advPaths = append(advPaths, s)
		return nil
	})
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	all := fs.Bool("all", false, "also list devices without advisory matches that have recommendations")
	learn := fs.String("learn", "50%", "learn the detection baseline on this first part of the capture: a `duration` (5m) or a percentage of its time span (50%)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if len(advPaths) == 0 {
		return fmt.Errorf("%w: --advisories is required", errUsage)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no capture file given", errUsage)
	}
	if slices.Contains(fs.Args(), "-") {
		return fmt.Errorf("%w: advisories match reads capture files, not standard input", errUsage)
	}
	cat, errs := csaf.Load(advPaths...)
	for _, err := range errs {
		fmt.Fprintf(stderr, "warning: %v\n", err)
	}
	if cat.Len() == 0 {
		return fmt.Errorf("no valid CSAF advisory in %s", strings.Join(advPaths, ", "))
	}
	cfg, err := detectConfig(fs.Args(), "", *learn, "", "")
	if err != nil {
		return err
	}
	opts := analyze.Options{Pipeline: pipeline.DefaultOptions}
	obs := recommend.NewObserver()
	opts.Pipeline.Emitter = obs
	det := analyze.WithDetection(&opts, cfg)
	_, runErr := analyze.Files(fs.Args(), opts)
	det.Finish()
	snap := det.Inventory.Snapshot()
	obs.Annotate(snap)
	alerts := det.Detector.Alerts()
	ranked := recommend.RankDevices(snap, cat, alerts)

	rep := matchReport{Inputs: fs.Args(), Advisories: cat.Len(), Devices: []deviceReport{}}
	for i := range ranked {
		a := &ranked[i]
		if len(a.Matches) == 0 && (!*all || len(a.Recommendations) == 0) {
			rep.Others++
			continue
		}
		d := a.Device
		dr := deviceReport{Device: recommend.Ref(d), Type: d.Type, Purdue: d.Purdue, Vendor: d.Vendor, Product: d.Product,
			Model: d.Model, Firmware: d.Firmware, Risk: a.Risk, Matches: []matchSummary{}, Recommendations: a.Recommendations}
		for j := range a.Matches {
			dr.Matches = append(dr.Matches, summarize(&a.Matches[j]))
		}
		if dr.Recommendations == nil {
			dr.Recommendations = []recommend.Recommendation{}
		}
		rep.Devices = append(rep.Devices, dr)
	}
	var werr error
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		werr = enc.Encode(rep)
	} else {
		werr = writeMatchText(stdout, &rep, ranked, *all)
	}
	return cmp.Or(runErr, werr)
}

// writeMatchText prints the devices of rep, one block each.
func writeMatchText(w io.Writer, rep *matchReport, ranked []recommend.Assessment, all bool) error {
	var b strings.Builder
	affected, possibly, recs := 0, 0, 0
	for _, d := range rep.Devices {
		fmt.Fprintf(&b, "%s  %s", d.Device, d.Type)
		if d.Purdue >= 0 {
			fmt.Fprintf(&b, " (Purdue %d)", d.Purdue)
		}
		if d.Device.MAC != "" {
			fmt.Fprintf(&b, "  %s", d.Device.MAC)
		}
		fmt.Fprintf(&b, "  risk %.2f\n", d.Risk.Score)
		id := strings.Join(nonEmptyStrings(d.Vendor, d.Product, d.Model), ", ")
		if id == "" {
			id = "identity unknown"
		}
		fmt.Fprintf(&b, "  %s; firmware %s\n", id, cmp.Or(d.Firmware, "unknown"))
		fmt.Fprintf(&b, "  exposure: %s\n", strings.Join(d.Risk.Factors, "; "))
		if len(d.Matches) > 0 {
			b.WriteString("  Advisories:\n")
		}
		for _, m := range d.Matches {
			if m.Verdict == csaf.Affected.String() {
				affected++
			} else {
				possibly++
			}
			cves := strings.Join(m.CVEs, ", ")
			if m.MaxCVSS > 0 {
				cves += fmt.Sprintf(" (CVSS up to %.1f)", m.MaxCVSS)
			}
			fmt.Fprintf(&b, "    %s  %s, confidence %s %.2f  %s\n", m.Advisory, m.Verdict, m.Level, m.Confidence, cves)
			fmt.Fprintf(&b, "      %s\n", m.Title)
			for _, r := range m.Reasons {
				fmt.Fprintf(&b, "      - %s\n", r)
			}
		}
		if len(d.Recommendations) > 0 {
			b.WriteString("  Recommendations:\n")
		}
		for _, r := range d.Recommendations {
			recs++
			fmt.Fprintf(&b, "    [%s] %s  (%s, %s)\n", r.Severity, r.Title, r.Source, r.Status)
			for _, line := range strings.Split(r.Text, "\n") {
				fmt.Fprintf(&b, "        %s\n", line)
			}
			if r.URL != "" && !strings.Contains(r.Text, r.URL) {
				fmt.Fprintf(&b, "        %s\n", r.URL)
			}
		}
		b.WriteString("\n")
	}
	others, otherRecs := 0, 0
	if !all {
		for _, a := range ranked {
			if len(a.Matches) == 0 && len(a.Recommendations) > 0 {
				others++
				otherRecs += len(a.Recommendations)
			}
		}
	}
	fmt.Fprintf(&b, "%d devices with advisory matches (%d affected, %d possibly affected matches) from %d advisories; %d recommendations\n",
		countMatched(rep), affected, possibly, rep.Advisories, recs)
	if others > 0 {
		what := "1 other device has"
		if others > 1 {
			what = fmt.Sprintf("%d other devices have", others)
		}
		fmt.Fprintf(&b, "%s %d recommendations from what the sensor saw; --all lists them\n", what, otherRecs)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func countMatched(rep *matchReport) int {
	n := 0
	for _, d := range rep.Devices {
		if len(d.Matches) > 0 {
			n++
		}
	}
	return n
}

func nonEmptyStrings(s ...string) []string {
	var out []string
	for _, x := range s {
		if x = strings.TrimSpace(x); x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
