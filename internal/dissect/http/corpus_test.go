package http

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// corpusCase is one corpus capture that tshark says carries the protocol.
type corpusCase struct {
	name, capture string
	tsharkArgs    []string
}

var corpusDir = dissecttest.CorpusDir

// casesWithLayer returns the corpus cases with a TCP path through layers.
func casesWithLayer(t testing.TB, dir string, layers ...string) []corpusCase {
	var out []corpusCase
	for _, c := range dissecttest.CasesWithTCPLayer(t, dir, layers...) {
		out = append(out, corpusCase{c.Name, c.Capture, c.TsharkArgs})
	}
	return out
}
