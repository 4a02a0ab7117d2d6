package auth

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/testenv"
)

// testParams keep tests fast; the parameters themselves are covered by
// the reference vectors.
var testParams = Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

// TestVerifyReferenceVectors checks hashes made by the argon2 reference
// implementation (testdata/argon2id.txt says how).
func TestVerifyReferenceVectors(t *testing.T) {
	f, err := os.Open("testdata/argon2id.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		pw, hash, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		n++
		ok, _, err := VerifyPassword(hash, pw)
		if err != nil || !ok {
			t.Errorf("VerifyPassword(%s, %q) = %v, %v; want true", hash, pw, ok, err)
		}
		ok, _, err = VerifyPassword(hash, pw+"x")
		if err != nil || ok {
			t.Errorf("VerifyPassword(%s, %q+x) = %v, %v; want false", hash, pw, ok, err)
		}
	}
	if n < 3 {
		t.Fatalf("only %d vectors in testdata/argon2id.txt", n)
	}
}

// TestVerifyReferenceCLI hashes random passwords with the reference
// implementation's command and verifies them.
func TestVerifyReferenceCLI(t *testing.T) {
	bin := testenv.Program(t, "argon2", "argon2")
	for i, p := range []Params{{Time: 1, Memory: 64, Threads: 1, KeyLen: 32}, {Time: 2, Memory: 512, Threads: 3, KeyLen: 24}, DefaultParams} {
		pw, salt := rand.Text()[:10+i], rand.Text()[:16]
		cmd := exec.Command(bin, salt, "-id", "-t", fmt.Sprint(p.Time), "-k", fmt.Sprint(p.Memory), "-p", fmt.Sprint(p.Threads), "-l", fmt.Sprint(p.KeyLen), "-e")
		cmd.Stdin = strings.NewReader(pw)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		hash := strings.TrimSpace(string(out))
		got, params, err := VerifyPassword(hash, pw)
		if err != nil || !got {
			t.Errorf("VerifyPassword(%s, %q) = %v, %v; want true", hash, pw, got, err)
		}
		p.SaltLen = 16
		if params != p {
			t.Errorf("parameters of %s = %+v, want %+v", hash, params, p)
		}
	}
}

func TestHashRoundTrip(t *testing.T) {
	h1, err := testParams.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := testParams.Hash("correct horse battery staple")
	if h1 == h2 {
		t.Error("two hashes of one password are equal: salt is not random")
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %s lacks the PHC argon2id prefix", h1)
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{{"correct horse battery staple", true}, {"correct horse battery stapl", false}, {"", false}} {
		got, p, err := VerifyPassword(h1, tt.pw)
		if err != nil || got != tt.want || p != testParams {
			t.Errorf("VerifyPassword(%q) = %v, %+v, %v; want %v, %+v", tt.pw, got, p, err, tt.want, testParams)
		}
	}
	if _, err := (Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 4, KeyLen: 32}).Hash("x"); !errors.Is(err, ErrBadHash) {
		t.Errorf("Hash with a 4-byte salt: %v, want ErrBadHash", err)
	}
}

func TestParseHashRejects(t *testing.T) {
	good := "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$s0pH2PxtsBd08+8ZO8n1lw"
	if _, _, _, err := ParseHash(good); err != nil {
		t.Fatalf("ParseHash(good) = %v", err)
	}
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"bcrypt", "$2b$12$abcdefghijklmnopqrstuu5lSqvRDDkYlHykb3.P0L/hgzM5pEvC2"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"old version", strings.Replace(good, "v=19", "v=16", 1)},
		{"missing field", "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA"},
		{"huge memory", strings.Replace(good, "m=64", "m=4194304", 1)},
		{"huge time", strings.Replace(good, "t=1", "t=1000", 1)},
		{"zero threads", strings.Replace(good, "p=1", "p=0", 1)},
		{"many threads", strings.Replace(good, "p=1", "p=300", 1)},
		{"junk after params", strings.Replace(good, "p=1", "p=1x", 1)},
		{"reordered params", strings.Replace(good, "m=64,t=1", "t=1,m=64", 1)},
		{"bad salt", strings.Replace(good, "c29tZXNhbHRzb21lc2FsdA", "!!!", 1)},
		{"short salt", strings.Replace(good, "c29tZXNhbHRzb21lc2FsdA", "c29t", 1)},
		{"short key", strings.Replace(good, "s0pH2PxtsBd08+8ZO8n1lw", "s0pH", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := ParseHash(tt.in); !errors.Is(err, ErrBadHash) {
				t.Errorf("ParseHash(%q) = %v, want ErrBadHash", tt.in, err)
			}
			if ok, _, err := VerifyPassword(tt.in, "password"); ok || err == nil {
				t.Errorf("VerifyPassword(%q) = %v, %v; want false and an error", tt.in, ok, err)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		user, pw string
		ok       bool
	}{
		{"alice", "correct horse battery staple", true},
		{"alice", "short", false},
		{"alice", "elevenchars", false},
		{"alice", "twelve chars", true},
		{"alice", "ééééééééééé", false}, // 11 characters, 22 bytes
		{"alice", "éééééééééééé", true},
		{"administrator", "Administrator", false},
		{"alice", strings.Repeat("x", MaxPasswordLen+1), false},
		{"alice", "not utf8 \xff\xfe\xfd\xfc", false},
	}
	for _, tt := range tests {
		err := CheckPassword(tt.user, tt.pw)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrWeakPassword)) {
			t.Errorf("CheckPassword(%q, %.20q) = %v, want ok=%v", tt.user, tt.pw, err, tt.ok)
		}
	}
	if p := GeneratePassword(); CheckPassword("admin", p) != nil || len(p) != 26 {
		t.Errorf("generated password %q fails the rules", p)
	}
}

func BenchmarkHashDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DefaultParams.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
