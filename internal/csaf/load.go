package csaf

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Load reads CSAF documents from files and directories. A directory is
// walked; in it, every *.json file that is a CSAF document is read and
// other JSON (ROLIE feeds, provider-metadata.json, service documents) is
// skipped. A ROLIE feed, a provider-metadata.json or a CSAF directory's
// index.txt, named directly or found while walking, is followed to the
// documents it lists when they are mirrored on disk below the feed's
// folder or one of its parents (the URL path's trailing segments are
// matched). Each document is read once, however it is reached.
//
// Problems do not stop the load: a document that fails validation or
// cannot be read is reported (see Parse and ValidationError) and skipped,
// and the rest are returned. When two documents have the same tracking
// ID, the one with the later current_release_date (then the higher
// version) is kept.
func Load(paths ...string) (*Catalog, []error) {
	l := &loader{seen: map[string]bool{}}
	for _, p := range paths {
		l.add(p, true)
	}
	advs, errs := l.parseAll()
	c := NewCatalog(advs...)
	return c, append(l.errs, errs...)
}

type loader struct {
	seen  map[string]bool // absolute paths already queued
	files []string        // CSAF candidates to parse, in discovery order
	errs  []error
}

// add queues one path. explicit is true for paths the caller named: a file
// there that is not CSAF, a feed or an index is an error.
func (l *loader) add(p string, explicit bool) {
	abs, err := filepath.Abs(p)
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("csaf: %s: %w", p, err))
		return
	}
	if l.seen[abs] {
		return
	}
	fi, err := os.Stat(abs)
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("csaf: %w", err))
		return
	}
	if fi.IsDir() {
		l.seen[abs] = true
		err := filepath.WalkDir(abs, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				l.errs = append(l.errs, fmt.Errorf("csaf: walking %s: %w", q, err))
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				switch d.Name() {
				case ".git", ".svn", ".hg":
					return fs.SkipDir // version control, never documents
				}
				return nil
			}
			if strings.HasSuffix(strings.ToLower(d.Name()), ".json") {
				l.addFile(q, false)
			}
			return nil
		})
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("csaf: walking %s: %w", p, err))
		}
		return
	}
	l.addFile(abs, explicit)
}

// addFile sorts one file: a CSAF document is queued; a feed, provider
// metadata or index is followed.
func (l *loader) addFile(abs string, explicit bool) {
	if l.seen[abs] {
		return
	}
	l.seen[abs] = true
	if filepath.Base(abs) == "index.txt" {
		l.followIndex(abs)
		return
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("csaf: %w", err))
		return
	}
	kind := sniff(data)
	switch kind {
	case kindCSAF:
		l.files = append(l.files, abs)
	case kindFeed:
		l.followFeed(abs, data)
	case kindProvider:
		l.followProvider(abs, data)
	default:
		if explicit {
			l.errs = append(l.errs, fmt.Errorf("csaf: %s: neither a CSAF document nor a ROLIE feed", abs))
		}
	}
}

type fileKind int

const (
	kindOther fileKind = iota
	kindCSAF
	kindFeed
	kindProvider
)

// sniff looks at the top-level keys of a JSON object. Invalid JSON with a
// .json name is handed to Parse, which reports where it breaks.
func sniff(data []byte) fileKind {
	// A CSAF document names its version; checking for it first spares
	// decoding the document twice.
	if bytes.Contains(data, []byte(`"csaf_version"`)) && bytes.Contains(data, []byte(`"document"`)) {
		return kindCSAF
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		trimmed := bytes.TrimSpace(data)
		if len(trimmed) > 0 && trimmed[0] == '{' {
			return kindCSAF
		}
		return kindOther
	}
	switch {
	case top["document"] != nil:
		return kindCSAF
	case top["feed"] != nil:
		return kindFeed
	case top["canonical_url"] != nil && (top["distributions"] != nil || top["metadata_version"] != nil):
		return kindProvider
	}
	return kindOther
}

// rolieFeed is the part of a ROLIE feed that lists documents.
type rolieFeed struct {
	Feed struct {
		Entry []struct {
			ID      string `json:"id"`
			Content struct {
				Src string `json:"src"`
			} `json:"content"`
			Link []struct {
				Rel  string `json:"rel"`
				Href string `json:"href"`
			} `json:"link"`
		} `json:"entry"`
	} `json:"feed"`
}

func (l *loader) followFeed(abs string, data []byte) {
	var f rolieFeed
	if err := json.Unmarshal(data, &f); err != nil {
		l.errs = append(l.errs, fmt.Errorf("csaf: ROLIE feed %s: %w", abs, err))
		return
	}
	for _, e := range f.Feed.Entry {
		ref := e.Content.Src
		for _, lk := range e.Link {
			if ref == "" && (lk.Rel == "self" || lk.Rel == "") && strings.HasSuffix(strings.ToLower(lk.Href), ".json") {
				ref = lk.Href
			}
		}
		if ref == "" {
			continue
		}
		if local := l.resolve(abs, ref); local != "" {
			l.addFile(local, false)
		} else {
			l.errs = append(l.errs, fmt.Errorf("csaf: ROLIE feed %s: entry %s is not mirrored on disk", abs, ref))
		}
	}
}

// providerMetadata is the part of a provider-metadata.json that points to
// feeds and directories.
type providerMetadata struct {
	Distributions []struct {
		DirectoryURL string `json:"directory_url"`
		Rolie        struct {
			Feeds []struct {
				URL string `json:"url"`
			} `json:"feeds"`
		} `json:"rolie"`
	} `json:"distributions"`
}

func (l *loader) followProvider(abs string, data []byte) {
	var pm providerMetadata
	if err := json.Unmarshal(data, &pm); err != nil {
		l.errs = append(l.errs, fmt.Errorf("csaf: provider metadata %s: %w", abs, err))
		return
	}
	for _, d := range pm.Distributions {
		for _, f := range d.Rolie.Feeds {
			if local := l.resolve(abs, f.URL); local != "" {
				l.addFile(local, false)
			}
		}
		if d.DirectoryURL != "" {
			if local := l.resolve(abs, strings.TrimRight(d.DirectoryURL, "/")+"/index.txt"); local != "" {
				l.addFile(local, false)
			}
		}
	}
}

// followIndex reads a CSAF directory's index.txt: one document path per
// line, relative to the index.
func (l *loader) followIndex(abs string) {
	f, err := os.Open(abs)
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("csaf: %w", err))
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if local := l.resolve(abs, line); local != "" {
			l.addFile(local, false)
		} else {
			l.errs = append(l.errs, fmt.Errorf("csaf: %s: %s is not on disk", abs, line))
		}
	}
	if err := sc.Err(); err != nil {
		l.errs = append(l.errs, fmt.Errorf("csaf: reading %s: %w", abs, err))
	}
}

// resolve finds the local copy of a document a feed or index refers to by
// URL or relative path: the longest trailing part of the URL path that
// exists below the referring file's folder or one of its three parents.
func (l *loader) resolve(from, ref string) string {
	p := ref
	if u, err := url.Parse(ref); err == nil && u.Scheme != "" {
		if u.Scheme == "file" {
			if fileExists(u.Path) {
				return u.Path
			}
		}
		p = u.Path
	}
	segs := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	for _, s := range segs {
		if s == ".." {
			return ""
		}
	}
	dir := filepath.Dir(from)
	for up := 0; up < 4; up++ {
		for k := 0; k < len(segs); k++ {
			cand := filepath.Join(append([]string{dir}, segs[k:]...)...)
			if fileExists(cand) {
				return cand
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return ""
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// parseAll parses the queued documents on all CPUs, keeping the discovery
// order of results and errors.
func (l *loader) parseAll() ([]*Advisory, []error) {
	advs := make([]*Advisory, len(l.files))
	errs := make([]error, len(l.files))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				data, err := os.ReadFile(l.files[i])
				if err != nil {
					errs[i] = fmt.Errorf("csaf: %w", err)
					continue
				}
				advs[i], errs[i] = parseBytes(data, l.files[i])
			}
		}()
	}
	for i := range l.files {
		next <- i
	}
	close(next)
	wg.Wait()
	var outA []*Advisory
	var outE []error
	for i := range l.files {
		switch {
		case errs[i] != nil && errors.Is(errs[i], ErrNotCSAF):
		case errs[i] != nil:
			outE = append(outE, errs[i])
		case advs[i] != nil:
			outA = append(outA, advs[i])
		}
	}
	return outA, outE
}

// newer reports whether a supersedes b: a later current release date, or
// the same date and a higher version.
func newer(a, b *Advisory) bool {
	if !a.Updated.Equal(b.Updated) {
		return a.Updated.After(b.Updated)
	}
	va, _ := parseVersion(a.Version)
	vb, _ := parseVersion(b.Version)
	return compareVersions(va, vb) > 0
}

// dedupe keeps one advisory per tracking ID, the newest, in ID order.
func dedupe(advs []*Advisory) []*Advisory {
	byID := map[string]*Advisory{}
	for _, a := range advs {
		if prev, ok := byID[a.ID]; !ok || newer(a, prev) {
			byID[a.ID] = a
		}
	}
	out := make([]*Advisory, 0, len(byID))
	for _, a := range byID {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *Advisory) int { return strings.Compare(a.ID, b.ID) })
	return out
}
