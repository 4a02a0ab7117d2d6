package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/otwatch/otwatch/internal/attack"
	"github.com/otwatch/otwatch/internal/detect"
)

func runCoverage(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("attack-coverage", "[flags]",
		`Print which MITRE ATT&CK for ICS techniques otwatch detects, and by which
alert types: as a table by tactic, or as an ATT&CK Navigator layer (JSON) to
open at https://mitre-attack.github.io/attack-navigator/.`,
		`  otwatch attack-coverage
  otwatch attack-coverage --navigator > otwatch-layer.json`, stderr)
	nav := fs.Bool("navigator", false, "print an ATT&CK Navigator layer (JSON) instead of the table")
	all := fs.Bool("all", false, "in the table, list the techniques otwatch does not detect too")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: attack-coverage takes no arguments", errUsage)
	}
	by := map[string][]string{}
	for _, t := range detect.Types() {
		for _, id := range t.Techniques {
			by[id] = append(by[id], t.ID)
		}
	}
	if *nav {
		scores := map[string]attack.NavigatorTechnique{}
		for id, types := range by {
			scores[id] = attack.NavigatorTechnique{Score: len(types), Comment: "alert types: " + strings.Join(types, ", ")}
		}
		b, err := attack.NavigatorLayer("otwatch detection coverage",
			fmt.Sprintf("ATT&CK for ICS %s techniques that otwatch alert types detect; the score is the number of alert types.", attack.Version), scores)
		if err != nil {
			return err
		}
		_, err = stdout.Write(append(b, '\n'))
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "TACTIC\tTECHNIQUE\tNAME\tALERT TYPES\n")
	covered := 0
	for _, tac := range attack.Tactics() {
		for _, tech := range attack.Techniques() {
			if !slices.Contains(tech.Tactics, tac.ID) {
				continue
			}
			types := by[tech.ID]
			if len(types) == 0 && !*all {
				continue
			}
			list := strings.Join(types, ", ")
			if list == "" {
				list = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", tac.Name, tech.ID, tech.Name, list)
		}
	}
	for _, tech := range attack.Techniques() {
		if len(by[tech.ID]) > 0 {
			covered++
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "\n%d of %d techniques (ATT&CK for ICS %s) detected by %d alert types\n",
		covered, len(attack.Techniques()), attack.Version, len(detect.Types()))
	return err
}
