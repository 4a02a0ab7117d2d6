package attack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// A Tactic is one column of the ATT&CK for ICS matrix: the adversary's goal.
type Tactic struct {
	ID        string // ATT&CK ID, e.g. "TA0108"
	Name      string // e.g. "Initial Access"
	ShortName string // x_mitre_shortname, e.g. "initial-access"; the Navigator's tactic key
	URL       string // the tactic's page on attack.mitre.org
}

// A Technique is one ATT&CK for ICS technique.
type Technique struct {
	ID      string   // ATT&CK ID, e.g. "T0855"
	Name    string   // e.g. "Unauthorized Command Message"
	Tactics []string // IDs of the tactics it serves, in matrix order
	Summary string   // the first sentence or two of MITRE's description
	URL     string   // the technique's page on attack.mitre.org
}

// Techniques returns every technique of the catalogue, sorted by ID. The
// result is the caller's to modify.
func Techniques() []Technique {
	out := make([]Technique, len(techniques))
	for i, t := range techniques {
		out[i] = t
		out[i].Tactics = slices.Clone(t.Tactics)
	}
	return out
}

// Tactics returns the tactics of the ATT&CK for ICS matrix in matrix order.
func Tactics() []Tactic { return slices.Clone(tactics[:]) }

// LookupTechnique returns the technique with the given ID ("T0855").
func LookupTechnique(id string) (Technique, bool) {
	i, ok := findTechnique(id)
	if !ok {
		return Technique{}, false
	}
	t := techniques[i]
	t.Tactics = slices.Clone(t.Tactics)
	return t, true
}

// findTechnique returns the index of technique id in techniques.
func findTechnique(id string) (int, bool) {
	i := sort.Search(len(techniques), func(i int) bool { return techniques[i].ID >= id })
	return i, i < len(techniques) && techniques[i].ID == id
}

// LookupTactic returns the tactic with the given ID ("TA0108").
func LookupTactic(id string) (Tactic, bool) {
	if i := tacticIndex(id); i >= 0 {
		return tactics[i], true
	}
	return Tactic{}, false
}

// tacticIndex returns the matrix position of tactic id, or -1.
func tacticIndex(id string) int {
	for i := range tactics {
		if tactics[i].ID == id {
			return i
		}
	}
	return -1
}

// TacticsOf returns the distinct IDs of the tactics the given techniques
// serve, in matrix order. Unknown technique IDs are ignored.
func TacticsOf(techniqueIDs ...string) []string {
	var seen [len(tactics)]bool
	for _, id := range techniqueIDs {
		i, ok := findTechnique(id)
		if !ok {
			continue
		}
		for _, ta := range techniques[i].Tactics {
			if j := tacticIndex(ta); j >= 0 {
				seen[j] = true
			}
		}
	}
	var out []string
	for i, ok := range seen {
		if ok {
			out = append(out, tactics[i].ID)
		}
	}
	return out
}

// NavigatorTechnique is the annotation of one technique in a Navigator
// layer.
type NavigatorTechnique struct {
	Score   int    // the technique's score; the layer's gradient runs from 0 to the highest score
	Comment string // free text shown with the technique
}

// Navigator layer format 4.5, as read by ATT&CK Navigator 4.9.0 and later
// (mitre-attack/attack-navigator, layers/spec/v4.5/layerformat.md).
const (
	navigatorDomain  = "ics-attack"
	navigatorVersion = "5.1.0"
	layerVersion     = "4.5"
)

type layer struct {
	Name         string           `json:"name"`
	Versions     layerVersions    `json:"versions"`
	Domain       string           `json:"domain"`
	Description  string           `json:"description"`
	Sorting      int              `json:"sorting"`
	Layout       layerLayout      `json:"layout"`
	HideDisabled bool             `json:"hideDisabled"`
	Techniques   []layerTechnique `json:"techniques"`
	Gradient     layerGradient    `json:"gradient"`
	Metadata     []layerMetadata  `json:"metadata"`
}

type layerVersions struct {
	Attack    string `json:"attack"`
	Navigator string `json:"navigator"`
	Layer     string `json:"layer"`
}

type layerLayout struct {
	Layout   string `json:"layout"`
	ShowID   bool   `json:"showID"`
	ShowName bool   `json:"showName"`
}

type layerTechnique struct {
	TechniqueID string `json:"techniqueID"`
	Tactic      string `json:"tactic"`
	Score       int    `json:"score"`
	Comment     string `json:"comment,omitempty"`
	Enabled     bool   `json:"enabled"`
}

type layerGradient struct {
	Colors   []string `json:"colors"`
	MinValue int      `json:"minValue"`
	MaxValue int      `json:"maxValue"`
}

type layerMetadata struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// NavigatorLayer returns an ATT&CK Navigator layer (layer format 4.5, domain
// ics-attack) that annotates the techniques in scores, keyed by technique
// ID. A technique that serves several tactics gets one entry per tactic.
// Techniques are listed by ID, enabled, and colored by their score on the
// layer's white-to-red gradient, which runs from 0 (or the lowest score, if
// negative) to the highest score (at least 1). The name must not be empty,
// and every key of scores must be a technique of the catalogue.
func NavigatorLayer(name, description string, scores map[string]NavigatorTechnique) ([]byte, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("attack: navigator layer: empty name")
	}
	ids := make([]string, 0, len(scores))
	for id := range scores {
		if _, ok := findTechnique(id); !ok {
			return nil, fmt.Errorf("attack: navigator layer: unknown technique %q", id)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	l := layer{
		Name:        name,
		Versions:    layerVersions{Attack: attackMajor(), Navigator: navigatorVersion, Layer: layerVersion},
		Domain:      navigatorDomain,
		Description: description,
		Layout:      layerLayout{Layout: "side", ShowID: true, ShowName: true},
		Techniques:  []layerTechnique{},
		Gradient:    layerGradient{Colors: []string{"#ffffff", "#ff6666"}, MinValue: 0, MaxValue: 1},
		Metadata:    []layerMetadata{{Name: "ATT&CK for ICS", Value: Version}},
	}
	for _, id := range ids {
		s := scores[id]
		l.Gradient.MinValue = min(l.Gradient.MinValue, s.Score)
		l.Gradient.MaxValue = max(l.Gradient.MaxValue, s.Score)
		i, _ := findTechnique(id)
		for _, ta := range techniques[i].Tactics {
			t, _ := LookupTactic(ta)
			l.Techniques = append(l.Techniques, layerTechnique{
				TechniqueID: id,
				Tactic:      t.ShortName,
				Score:       s.Score,
				Comment:     s.Comment,
				Enabled:     true,
			})
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(l); err != nil {
		return nil, fmt.Errorf("attack: navigator layer: %w", err)
	}
	return b.Bytes(), nil
}

// attackMajor returns the major ATT&CK version, the Navigator's "attack"
// version ("v18.1" → "18").
func attackMajor() string {
	v, _, _ := strings.Cut(strings.TrimPrefix(Version, "v"), ".")
	return v
}
