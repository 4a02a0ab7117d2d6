// Command gen builds the vendor table of package oui from the IEEE
// Registration Authority listings (MA-L, MA-M, MA-S and IAB, as CSV). It
// reads $OTWATCH_DATA/oui (OTWATCH_DATA defaults to ../shared/data relative
// to the module root), checks every file against $OTWATCH_DATA/SHA256SUMS and
// writes table.go and table.bin into the current directory.
//
// Short names are derived from the registered organisation name (its leading
// word or words, without corporate suffixes), so the table carries nothing
// but the IEEE listings.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// source is one registry file and the prefix length of its assignments.
type source struct {
	file string
	bits int
}

var sources = []source{
	{"oui.csv", 24},
	{"mam.csv", 28},
	{"oui36.csv", 36},
	{"iab.csv", 36},
}

type entry struct {
	key    uint64 // the assignment's prefix, right-aligned
	vendor int
}

func main() {
	out := flag.String("o", ".", "directory to write table.go and table.bin into")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("oui/gen: ")
	dir, err := dataDir()
	if err != nil {
		log.Fatal(err)
	}
	if err := run(dir, *out); err != nil {
		log.Fatal(err)
	}
}

// dataDir returns $OTWATCH_DATA, or ../shared/data next to the module root.
func dataDir() (string, error) {
	if d := os.Getenv("OTWATCH_DATA"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "..", "shared", "data"), nil
		}
		if filepath.Dir(d) == d {
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
	return m, sc.Err()
}

func run(dir, out string) error {
	want, err := sums(dir)
	if err != nil {
		return err
	}
	var (
		names    []string
		nameIdx  = map[string]int{}
		tables   = map[int][]entry{}
		seen     = map[int]map[uint64]bool{}
		prov     []string
		nRecords int
	)
	for _, s := range sources {
		rel := "oui/" + s.file
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			return fmt.Errorf("reading %s: %w", rel, err)
		}
		sum := sha256.Sum256(b)
		got := hex.EncodeToString(sum[:])
		if want[rel] != got {
			return fmt.Errorf("%s: SHA-256 %s, SHA256SUMS says %q", rel, got, want[rel])
		}
		prov = append(prov, fmt.Sprintf("//\t%-14s sha256 %s", rel, got))
		r := csv.NewReader(bytes.NewReader(b))
		r.FieldsPerRecord = -1
		head, err := r.Read()
		if err != nil || len(head) < 3 || head[1] != "Assignment" || head[2] != "Organization Name" {
			return fmt.Errorf("%s: unexpected header %q: %v", rel, head, err)
		}
		if seen[s.bits] == nil {
			seen[s.bits] = map[uint64]bool{}
		}
		for line := 2; ; line++ {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			if len(rec) < 3 || len(rec[1]) != s.bits/4 {
				return fmt.Errorf("%s: record %d: bad assignment %q", rel, line, rec)
			}
			key, err := strconv.ParseUint(rec[1], 16, 64)
			if err != nil {
				return fmt.Errorf("%s: record %d: %w", rel, line, err)
			}
			nRecords++
			if seen[s.bits][key] {
				continue // a few MA-L blocks are listed twice; the first row wins
			}
			seen[s.bits][key] = true
			name := clean(rec[2])
			if len(name) > 255 {
				name = name[:255]
			}
			i, ok := nameIdx[name]
			if !ok {
				i = len(names)
				nameIdx[name] = i
				names = append(names, name)
			}
			tables[s.bits] = append(tables[s.bits], entry{key, i})
		}
	}
	if len(names) > 1<<16 {
		return fmt.Errorf("%d organisation names do not fit a 16-bit index", len(names))
	}
	// Layout of table.bin:
	//   vendors: 5 bytes each: name offset (24 bits), name length, short length
	//   ma24:    5 bytes each: prefix (24 bits), vendor (16 bits)
	//   ma28:    6 bytes each: prefix (32 bits, 28 used), vendor
	//   ma36:    7 bytes each: prefix (40 bits, 36 used), vendor
	//   names:   the organisation names, concatenated
	var bin bytes.Buffer
	var str strings.Builder
	offs := make([]int, len(names))
	for i, n := range names {
		offs[i] = str.Len()
		str.WriteString(n)
	}
	if str.Len() >= 1<<24 {
		return errors.New("name table larger than 16 MiB")
	}
	for i, n := range names {
		o := offs[i]
		bin.Write([]byte{byte(o >> 16), byte(o >> 8), byte(o), byte(len(n)), byte(len(shortName(n)))})
	}
	layout := map[int]int{}
	for _, bits := range []int{24, 28, 36} {
		t := tables[bits]
		sort.Slice(t, func(i, j int) bool { return t[i].key < t[j].key })
		layout[bits] = bin.Len()
		kb := (bits + 7) / 8
		for _, e := range t {
			for k := kb - 1; k >= 0; k-- {
				bin.WriteByte(byte(e.key >> (8 * k)))
			}
			bin.Write([]byte{byte(e.vendor >> 8), byte(e.vendor)})
		}
	}
	namesOff := bin.Len()
	bin.WriteString(str.String())
	binSum := sha256.Sum256(bin.Bytes())

	var g bytes.Buffer
	fmt.Fprintf(&g, "// Code generated by go run ./internal/gen (internal/oui/internal/gen); DO NOT EDIT.\n\n")
	fmt.Fprintf(&g, "// The vendor table in table.bin was built from the IEEE Registration\n")
	fmt.Fprintf(&g, "// Authority's public listings as shipped by Debian package ieee-data\n")
	fmt.Fprintf(&g, "// 20220827.1 (listings of 2022-08-27), read from $OTWATCH_DATA:\n//\n")
	for _, p := range prov {
		fmt.Fprintln(&g, p)
	}
	fmt.Fprintf(&g, "//\n// %d records, %d prefixes (MA-L %d, MA-M %d, MA-S and IAB %d), %d distinct\n", nRecords, len(tables[24])+len(tables[28])+len(tables[36]), len(tables[24]), len(tables[28]), len(tables[36]), len(names))
	fmt.Fprintf(&g, "// organisation names; table.bin is %d bytes, SHA-256 %x.\n\n", bin.Len(), binSum)
	fmt.Fprintf(&g, "package oui\n\nimport _ \"embed\"\n\n")
	fmt.Fprintf(&g, "//go:embed table.bin\nvar table string\n\n")
	fmt.Fprintf(&g, "// Offsets and sizes of the sections of table.\nconst (\n")
	fmt.Fprintf(&g, "\tnumVendors = %d\n\tvendorsOff = 0\n", len(names))
	fmt.Fprintf(&g, "\tma24Off    = %d\n\tma24Len    = %d\n", layout[24], len(tables[24]))
	fmt.Fprintf(&g, "\tma28Off    = %d\n\tma28Len    = %d\n", layout[28], len(tables[28]))
	fmt.Fprintf(&g, "\tma36Off    = %d\n\tma36Len    = %d\n", layout[36], len(tables[36]))
	fmt.Fprintf(&g, "\tnamesOff   = %d\n\ttableSize  = %d\n)\n", namesOff, bin.Len())
	if err := os.WriteFile(filepath.Join(out, "table.bin"), bin.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing table.bin: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "table.go"), g.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing table.go: %w", err)
	}
	return nil
}

// clean folds whitespace in an organisation name and drops trailing commas.
func clean(s string) string { return strings.TrimRight(strings.Join(strings.Fields(s), " "), ", ") }

// suffixes are words that end a short name: legal forms and generic words.
var suffixes = map[string]bool{
	"inc": true, "inc.": true, "corp": true, "corp.": true, "corporation": true, "co": true, "co.": true,
	"ltd": true, "ltd.": true, "limited": true, "llc": true, "gmbh": true, "ag": true, "sa": true,
	"s.a.": true, "spa": true, "s.p.a.": true, "bv": true, "b.v.": true, "nv": true, "oy": true,
	"ab": true, "as": true, "a/s": true, "kg": true, "plc": true, "pty": true, "srl": true,
	"s.r.l.": true, "company": true, "the": true, "&": true, "and": true,
}

// shortName returns the leading part of an organisation name used as its
// short name: the first word, extended by following words while it is
// shorter than four characters, stopping at a legal-form word. The result is
// always a prefix of name.
func shortName(name string) string {
	end := 0
	for i := 0; i < len(name); {
		// Find the next word [i, j).
		for i < len(name) && name[i] == ' ' {
			i++
		}
		j := i
		for j < len(name) && name[j] != ' ' && name[j] != ',' && name[j] != '(' && name[j] != '/' {
			j++
		}
		if j == i {
			break
		}
		if end > 0 && suffixes[strings.ToLower(name[i:j])] {
			break
		}
		end = j
		if end >= 4 || j >= len(name) || name[j] != ' ' {
			break
		}
		i = j
	}
	return strings.TrimRight(name[:end], ".-&")
}
