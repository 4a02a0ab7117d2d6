package evidencedir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/store"
)

func TestName(t *testing.T) {
	tests := []struct {
		id, want string // want "" for a hashed name
	}{
		{"a1-B_2", "a1-B_2.pcapng"},
		{"", "da39a3ee5e6b4b0d3255bfef95601890afd80709.pcapng"}, // SHA-1 of nothing
		{"../etc/passwd", ""},
		{strings.Repeat("a", 65), ""},
	}
	for _, tt := range tests {
		got := Name(tt.id)
		if tt.want != "" && got != tt.want || tt.want == "" && (len(got) != 40+len(".pcapng") || strings.ContainsAny(got, "/\\") || got == Name("x"+tt.id)) {
			t.Errorf("Name(%q) = %q, want %q (a hash when empty)", tt.id, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	shb := []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0}
	big := append([]byte(nil), shb...)
	big[8], big[9], big[10], big[11] = 0x1a, 0x2b, 0x3c, 0x4d
	tests := []struct {
		name string
		in   []byte
		err  error
	}{
		{"little endian", shb, nil},
		{"big endian", big, nil},
		{"short", shb[:27], store.ErrInvalid},
		{"pcap", append([]byte{0xd4, 0xc3, 0xb2, 0xa1}, shb[4:]...), store.ErrInvalid},
	}
	for _, tt := range tests {
		if err := Check(tt.in); !errors.Is(err, tt.err) {
			t.Errorf("%s: Check = %v, want %v", tt.name, err, tt.err)
		}
	}
}

// TestStageCommit checks that staged files appear under their names only
// once committed, and that discarded ones leave nothing behind.
func TestStageCommit(t *testing.T) {
	d := Dir(filepath.Join(t.TempDir(), "evidence"))
	files, err := d.Stage([]store.Evidence{{AlertID: "a", Pcapng: []byte("one")}, {AlertID: "b", Pcapng: []byte("two")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Read("a", Name("a")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("staged file readable before Commit: %v", err)
	}
	if err := d.Commit(files[:1]); err != nil {
		t.Fatal(err)
	}
	Discard(files)
	if b, err := d.Read("a", Name("a")); err != nil || string(b) != "one" {
		t.Errorf("Read(a) = %q, %v; want one", b, err)
	}
	entries, _ := os.ReadDir(string(d))
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want 1", len(entries))
	}
	d.Remove([]string{Name("a")})
	if _, err := d.Read("a", Name("a")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Read after Remove: %v, want ErrNotFound", err)
	}
}
