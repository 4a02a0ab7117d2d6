package schema

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Migration is one schema version.
type Migration struct {
	Version int
	Name    string // the file's name
	SQL     string
}

// Load returns the migrations of fsys matching pattern in version order.
// It panics when their numbering does not run 1, 2, 3... without a gap,
// naming backend: backends load them when the program starts, and their
// tests catch it.
func Load(fsys fs.FS, pattern, backend string) []Migration {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		panic(err)
	}
	var out []Migration
	for i, n := range names {
		base := path.Base(n)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil || v != i+1 {
			panic(fmt.Sprintf("%s: migration %s out of sequence", backend, base))
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			panic(err)
		}
		out = append(out, Migration{Version: v, Name: base, SQL: string(b)})
	}
	return out
}
