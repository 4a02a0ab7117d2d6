// Command gen builds the catalogue of package attack from the MITRE ATT&CK
// for ICS STIX bundle. It reads $OTWATCH_DATA/attack-ics (OTWATCH_DATA
// defaults to ../shared/data relative to the module root; a relative value is
// taken from the module root), checks ics-attack.json and SOURCE.txt against
// $OTWATCH_DATA/SHA256SUMS and writes catalogue.go into the output directory.
//
// The catalogue holds the tactics of the ATT&CK for ICS matrix in matrix
// order and every technique that is neither revoked nor deprecated, sorted by
// ID, each with a one- or two-sentence summary of its description.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

const (
	bundleFile = "attack-ics/ics-attack.json"
	sourceFile = "attack-ics/SOURCE.txt"
	outFile    = "catalogue.go"

	killChain = "mitre-ics-attack" // kill_chain_name of the ICS matrix
)

// idSources are the source_names of the external reference that holds an
// object's ATT&CK ID: MITRE's bundles use mitre-attack in every domain.
var idSources = []string{"mitre-attack", "mitre-ics-attack"}

func main() {
	out := flag.String("o", ".", "directory to write "+outFile+" into")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("attack/gen: ")
	dir, err := dataDir()
	if err != nil {
		log.Fatal(err)
	}
	src, err := generate(dir)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, outFile), src, 0o644); err != nil {
		log.Fatal(fmt.Errorf("writing %s: %w", outFile, err))
	}
}

// dataDir returns $OTWATCH_DATA (a relative value taken from the module
// root), or ../shared/data next to the module root.
func dataDir() (string, error) {
	d := os.Getenv("OTWATCH_DATA")
	if d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	for m := wd; ; m = filepath.Dir(m) {
		if _, err := os.Stat(filepath.Join(m, "go.mod")); err == nil {
			if d != "" {
				return filepath.Join(m, d), nil
			}
			return filepath.Join(m, "..", "shared", "data"), nil
		}
		if filepath.Dir(m) == m {
			return "", errors.New("no go.mod above " + wd + "; set OTWATCH_DATA")
		}
	}
}

// sums reads SHA256SUMS: path relative to the data folder → hex digest.
func sums(dir string) (map[string]string, error) {
	f, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		return nil, fmt.Errorf("reading checksums: %w", err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 2 {
			m[strings.TrimPrefix(fs[1], "*")] = fs[0]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading checksums: %w", err)
	}
	return m, nil
}

// readChecked reads dir/rel and checks it against SHA256SUMS, returning the
// contents and their hex SHA-256.
func readChecked(dir, rel string, want map[string]string) ([]byte, string, error) {
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", rel, err)
	}
	s := sha256.Sum256(b)
	got := hex.EncodeToString(s[:])
	if want[rel] != got {
		return nil, "", fmt.Errorf("%s: SHA-256 %s, SHA256SUMS says %q", rel, got, want[rel])
	}
	return b, got, nil
}

// source is what SOURCE.txt says about the bundle.
type source struct {
	version string // attack_version, e.g. v18.1
	commit  string // repo_commit of mitre/cti
	sha256  string // bundle_sha256
}

func parseSource(b []byte) (source, error) {
	var s source
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "attack_version":
			s.version = v
		case "repo_commit":
			s.commit = v
		case "bundle_sha256":
			s.sha256 = v
		}
	}
	if !regexp.MustCompile(`^v[0-9]+\.[0-9]+$`).MatchString(s.version) {
		return s, fmt.Errorf("%s: attack_version %q is not vMAJOR.MINOR", sourceFile, s.version)
	}
	if s.commit == "" || s.sha256 == "" {
		return s, fmt.Errorf("%s: repo_commit or bundle_sha256 missing", sourceFile)
	}
	return s, nil
}

// The parts of a STIX 2.0 object the catalogue needs.
type extRef struct {
	SourceName string `json:"source_name"`
	ExternalID string `json:"external_id"`
	URL        string `json:"url"`
}

type phase struct {
	KillChainName string `json:"kill_chain_name"`
	PhaseName     string `json:"phase_name"`
}

type object struct {
	Type        string   `json:"type"`
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Revoked     bool     `json:"revoked"`
	Deprecated  bool     `json:"x_mitre_deprecated"`
	ShortName   string   `json:"x_mitre_shortname"`
	ExtRefs     []extRef `json:"external_references"`
	Phases      []phase  `json:"kill_chain_phases"`
	TacticRefs  []string `json:"tactic_refs"`
}

type bundle struct {
	Type    string   `json:"type"`
	Objects []object `json:"objects"`
}

// attackRef returns the object's ATT&CK ID and URL.
func (o *object) attackRef() (id, url string, err error) {
	for _, r := range o.ExtRefs {
		if contains(idSources, r.SourceName) && r.ExternalID != "" {
			return r.ExternalID, r.URL, nil
		}
	}
	return "", "", fmt.Errorf("%s %q has no %s external reference", o.Type, o.Name, idSources[0])
}

type tactic struct{ id, name, short, url string }

type technique struct {
	id, name, summary, url string
	tactics                []string
}

var (
	tacticID    = regexp.MustCompile(`^TA[0-9]{4}$`)
	techniqueID = regexp.MustCompile(`^T[0-9]{4}$`)
)

// catalogue extracts the tactics (matrix order) and the active techniques
// (sorted by ID) from the bundle.
func catalogue(b []byte) ([]tactic, []technique, error) {
	var bd bundle
	if err := json.Unmarshal(b, &bd); err != nil {
		return nil, nil, fmt.Errorf("decoding %s: %w", bundleFile, err)
	}
	if bd.Type != "bundle" {
		return nil, nil, fmt.Errorf("%s: type %q, want bundle", bundleFile, bd.Type)
	}
	var matrix *object
	byRef := map[string]*object{}
	for i := range bd.Objects {
		o := &bd.Objects[i]
		switch o.Type {
		case "x-mitre-matrix":
			if matrix != nil {
				return nil, nil, fmt.Errorf("%s: more than one x-mitre-matrix", bundleFile)
			}
			matrix = o
		case "x-mitre-tactic":
			byRef[o.ID] = o
		}
	}
	if matrix == nil {
		return nil, nil, fmt.Errorf("%s: no x-mitre-matrix", bundleFile)
	}
	var tactics []tactic
	order := map[string]int{}      // tactic ID → matrix position
	byShort := map[string]string{} // short name → tactic ID
	for _, ref := range matrix.TacticRefs {
		o := byRef[ref]
		if o == nil {
			return nil, nil, fmt.Errorf("%s: matrix names unknown tactic %s", bundleFile, ref)
		}
		id, url, err := o.attackRef()
		if err != nil {
			return nil, nil, err
		}
		if !tacticID.MatchString(id) || o.ShortName == "" {
			return nil, nil, fmt.Errorf("%s: tactic %s: bad ID %q or short name %q", bundleFile, o.Name, id, o.ShortName)
		}
		if _, dup := order[id]; dup {
			return nil, nil, fmt.Errorf("%s: tactic %s listed twice", bundleFile, id)
		}
		order[id] = len(tactics)
		byShort[o.ShortName] = id
		tactics = append(tactics, tactic{id, clean(o.Name), o.ShortName, url})
	}
	var techs []technique
	seen := map[string]bool{}
	for i := range bd.Objects {
		o := &bd.Objects[i]
		if o.Type != "attack-pattern" || o.Revoked || o.Deprecated {
			continue
		}
		id, url, err := o.attackRef()
		if err != nil {
			return nil, nil, err
		}
		if !techniqueID.MatchString(id) {
			return nil, nil, fmt.Errorf("%s: technique %q: bad ID %q", bundleFile, o.Name, id)
		}
		if seen[id] {
			return nil, nil, fmt.Errorf("%s: technique %s listed twice", bundleFile, id)
		}
		seen[id] = true
		var ts []string
		for _, p := range o.Phases {
			if p.KillChainName != killChain {
				continue
			}
			tid, ok := byShort[p.PhaseName]
			if !ok {
				return nil, nil, fmt.Errorf("%s: technique %s: unknown tactic %q", bundleFile, id, p.PhaseName)
			}
			if !contains(ts, tid) {
				ts = append(ts, tid)
			}
		}
		if len(ts) == 0 {
			return nil, nil, fmt.Errorf("%s: technique %s has no %s tactic", bundleFile, id, killChain)
		}
		sort.Slice(ts, func(i, j int) bool { return order[ts[i]] < order[ts[j]] })
		sum := summary(o.Description)
		if sum == "" {
			return nil, nil, fmt.Errorf("%s: technique %s has no description", bundleFile, id)
		}
		techs = append(techs, technique{id, clean(o.Name), sum, url, ts})
	}
	sort.Slice(techs, func(i, j int) bool { return techs[i].id < techs[j].id })
	return tactics, techs, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// clean folds runs of white space to single spaces.
func clean(s string) string { return strings.Join(strings.Fields(s), " ") }

var (
	citation = regexp.MustCompile(`\s*\(Citation:[^)]*\)`)
	mdLink   = regexp.MustCompile(`\[([^\]]*)\]\([^)\s]*\)`)
)

const (
	maxSummary = 300 // longest summary, in bytes
	minSummary = 100 // a shorter first sentence is followed by the next one
)

// summary shortens a technique description to its first sentence, or its
// first two when the first is shorter than minSummary bytes and both fit in
// maxSummary. Only the first paragraph is read; citations are dropped and
// markdown links reduced to their text. A first sentence longer than
// maxSummary is cut at a word and ends in "...".
func summary(desc string) string {
	para := ""
	for _, p := range strings.Split(desc, "\n") {
		if strings.TrimSpace(p) != "" {
			para = p
			break
		}
	}
	para = citation.ReplaceAllString(para, "")
	para = mdLink.ReplaceAllString(para, "$1")
	sents := sentences(clean(para))
	if len(sents) == 0 {
		return ""
	}
	s := sents[0]
	if len(s) < minSummary && len(sents) > 1 && len(s)+1+len(sents[1]) <= maxSummary {
		s += " " + sents[1]
	}
	if len(s) > maxSummary {
		cut := strings.LastIndexByte(s[:maxSummary-3], ' ')
		if cut <= 0 {
			cut = maxSummary - 3
		}
		s = strings.TrimRight(s[:cut], " ,;:") + "..."
	}
	return s
}

// sentences splits folded text after '.', '!' or '?' followed by a space
// and an upper-case letter, a digit or an opening quote or bracket; a full
// stop that ends a common abbreviation does not end a sentence.
func sentences(s string) []string {
	var out []string
	start := 0
	for i := 0; i+2 < len(s); i++ {
		c := s[i]
		if c != '.' && c != '!' && c != '?' || s[i+1] != ' ' {
			continue
		}
		n := s[i+2]
		if !(n >= 'A' && n <= 'Z' || n >= '0' && n <= '9' || n == '"' || n == '(' || n == '[') {
			continue
		}
		if c == '.' && abbreviation(s[start:i]) {
			continue
		}
		out = append(out, s[start:i+1])
		start = i + 2
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

// abbreviation reports whether text ends in an abbreviation whose full stop
// does not end a sentence.
func abbreviation(text string) bool {
	w := text[strings.LastIndexAny(text, " (")+1:]
	switch strings.ToLower(w) {
	case "e.g", "i.e", "etc", "vs", "cf", "approx", "no", "fig", "mr", "ms", "dr", "st":
		return true
	}
	return false
}

// generate reads the data folder and returns the source of catalogue.go.
func generate(dir string) ([]byte, error) {
	want, err := sums(dir)
	if err != nil {
		return nil, err
	}
	srcText, _, err := readChecked(dir, sourceFile, want)
	if err != nil {
		return nil, err
	}
	src, err := parseSource(srcText)
	if err != nil {
		return nil, err
	}
	b, sum, err := readChecked(dir, bundleFile, want)
	if err != nil {
		return nil, err
	}
	if sum != src.sha256 {
		return nil, fmt.Errorf("%s: SHA-256 %s, %s says %s", bundleFile, sum, sourceFile, src.sha256)
	}
	tactics, techs, err := catalogue(b)
	if err != nil {
		return nil, err
	}
	return render(src, sum, tactics, techs)
}

// render writes catalogue.go and formats it.
func render(src source, sum string, tactics []tactic, techs []technique) ([]byte, error) {
	var g bytes.Buffer
	fmt.Fprintf(&g, "// Code generated by go run ./internal/gen (internal/attack/internal/gen); DO NOT EDIT.\n\n")
	fmt.Fprintf(&g, "// The catalogue below is derived from MITRE ATT&CK for ICS %s, the STIX\n", src.version)
	fmt.Fprintf(&g, "// bundle ics-attack/ics-attack.json of github.com/mitre/cti at commit\n")
	fmt.Fprintf(&g, "// %s, read from $OTWATCH_DATA:\n//\n", src.commit)
	fmt.Fprintf(&g, "//\t%s sha256 %s\n//\n", bundleFile, sum)
	fmt.Fprintf(&g, "// %d tactics, %d techniques (revoked and deprecated ones left out).\n//\n", len(tactics), len(techs))
	fmt.Fprintf(&g, "// © 2025 The MITRE Corporation. This work is reproduced and distributed\n")
	fmt.Fprintf(&g, "// with the permission of The MITRE Corporation. ATT&CK is used under\n")
	fmt.Fprintf(&g, "// MITRE's ATT&CK licence (attack-ics/LICENSE.txt of the reference data).\n\n")
	fmt.Fprintf(&g, "package attack\n\n")
	fmt.Fprintf(&g, "// Version is the ATT&CK for ICS release the catalogue was built from.\n")
	fmt.Fprintf(&g, "const Version = %q\n\n", src.version)
	fmt.Fprintf(&g, "// tactics holds the tactics of the ATT&CK for ICS matrix, in matrix order.\n")
	fmt.Fprintf(&g, "var tactics = [...]Tactic{\n")
	for _, t := range tactics {
		fmt.Fprintf(&g, "{%q, %q, %q, %q},\n", t.id, t.name, t.short, t.url)
	}
	fmt.Fprintf(&g, "}\n\n")
	fmt.Fprintf(&g, "// techniques holds the active techniques, sorted by ID.\n")
	fmt.Fprintf(&g, "var techniques = [...]Technique{\n")
	for _, t := range techs {
		ts := make([]string, len(t.tactics))
		for i, x := range t.tactics {
			ts[i] = fmt.Sprintf("%q", x)
		}
		fmt.Fprintf(&g, "{%q, %q, []string{%s}, %q, %q},\n", t.id, t.name, strings.Join(ts, ", "), t.summary, t.url)
	}
	fmt.Fprintf(&g, "}\n")
	out, err := format.Source(g.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting %s: %w", outFile, err)
	}
	return out, nil
}
