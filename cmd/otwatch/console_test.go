package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	pemlib "encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a buffer written by the console and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var consoleURL = regexp.MustCompile(`otwatch console at (\S+)`)

// startConsole runs the console command until the test ends and returns
// its URL and output.
func startConsole(t *testing.T, args ...string) (string, *lockedBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- consoleMain(ctx, args, out, errOut) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := consoleURL.FindStringSubmatch(out.String()); m != nil {
			stop := func() error { cancel(); return <-done }
			t.Cleanup(func() { cancel() })
			return m[1], out, stop
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("console ended: %v\n%s%s", err, out, errOut)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("console did not start:\n%s%s", out, errOut)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConsoleCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "otwatch.db")
	url, out, stop := startConsole(t, "--db", db, "--listen", "127.0.0.1:0")
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out.String())
	if m == nil || !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("output:\n%s", out)
	}
	password := m[1]
	// The generated certificate is kept next to the database; trust it.
	pem, err := os.ReadFile(db + ".console-cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(db + ".console-key.pem"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s.console-cert.pem holds no certificate", db)
	}
	block, _ := pemlib.Decode(pem)
	if block == nil {
		t.Fatalf("%s.console-cert.pem is not PEM", db)
	}
	// The fingerprint printed is the SHA-256 of the certificate's DER, the
	// value browsers show.
	der := sha256.Sum256(block.Bytes)
	if fp := regexp.MustCompile(`fingerprint: (\S+)`).FindStringSubmatch(out.String()); fp == nil || fp[1] != hex.EncodeToString(der[:]) {
		t.Errorf("printed fingerprint %v, SHA-256 of the certificate file %x", fp, der)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Post(url+"api/v1/login", "application/json", strings.NewReader(`{"name":"admin","password":"`+password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		Name      string `json:"name"`
		Role      string `json:"role"`
		CSRFToken string `json:"csrf_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 || sha256.Sum256(resp.TLS.PeerCertificates[0].Raw) != der {
		t.Errorf("the console does not serve the certificate in %s.console-cert.pem", db)
	}
	if resp.StatusCode != 200 || me.Name != "admin" || me.Role != "admin" || me.CSRFToken == "" || len(cookies) != 1 || !cookies[0].Secure || !strings.HasPrefix(cookies[0].Name, "__Host-") {
		t.Fatalf("login: %d %+v %v", resp.StatusCode, me, cookies)
	}
	req, _ := http.NewRequest("GET", url+"api/v1/me", nil)
	req.AddCookie(cookies[0])
	resp, err = client.Do(req)
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") ||
		resp.Header.Get("Strict-Transport-Security") == "max-age=0" {
		t.Fatalf("me: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("console = %v after SIGINT-like cancel, want nil", err)
	}
	fp := regexp.MustCompile(`fingerprint: (\S+)`).FindStringSubmatch(out.String())

	// A second run keeps the user (no new password) and the certificate.
	_, out2, stop2 := startConsole(t, "--db", db, "--listen", "127.0.0.1:0")
	if strings.Contains(out2.String(), "password") {
		t.Errorf("second run printed a password:\n%s", out2)
	}
	if fp2 := regexp.MustCompile(`fingerprint: (\S+)`).FindStringSubmatch(out2.String()); fp == nil || fp2 == nil || fp[1] != fp2[1] {
		t.Errorf("certificate changed between runs: %v %v", fp, fp2)
	}
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
}

func TestConsoleCommandPlain(t *testing.T) {
	db := filepath.Join(t.TempDir(), "otwatch.db")
	t.Setenv("OTWATCH_ADMIN_PASSWORD", "environment password")
	url, out, stop := startConsole(t, "--db", db, "--listen", "127.0.0.1:0", "--tls=false")
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.Contains(out.String(), "environment password") {
		t.Fatalf("output:\n%s", out)
	}
	resp, err := http.Post(url+"api/v1/login", "application/json", strings.NewReader(`{"name":"admin","password":"environment password"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("login with the environment's password: %v %v", resp, err)
	}
	resp.Body.Close()
	if c := resp.Cookies(); len(c) != 1 || c[0].Secure || !c[0].HttpOnly {
		t.Errorf("cookie without TLS: %+v", c)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestConsoleCommandErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "not.db")
	if err := os.WriteFile(notDB, []byte("this is not a database, it is a text file of some length"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"weak admin password", []string{"--db", filepath.Join(dir, "a.db"), "--admin-password", "short"}, 2, "admin password"},
		{"cert without key", []string{"--db", filepath.Join(dir, "a.db"), "--cert", "c.pem"}, 2, "--cert and --key"},
		{"argument", []string{"--db", filepath.Join(dir, "a.db"), "extra"}, 2, "unexpected argument"},
		{"not a database", []string{"--db", notDB, "--listen", "127.0.0.1:0"}, 1, "not"},
		{"postgres without certificate", []string{"--db", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1", "--listen", "127.0.0.1:0"}, 1, ""},
		{"bad listen address", []string{"--db", filepath.Join(dir, "b.db"), "--listen", "nowhere", "--tls=false"}, 1, "console"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, append([]string{"console"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Errorf("console %v: code %d, stderr %q; want %d and %q", tt.args, code, errOut, tt.code, tt.msg)
			}
		})
	}
}

// TestConsoleCommandAdvisories serves the console with advisories from a
// directory holding a valid and a broken document, then from
// $OTWATCH_ADVISORIES: the valid one is loaded and the API matches with
// it.
func TestConsoleCommandAdvisories(t *testing.T) {
	dir := t.TempDir()
	advDir := filepath.Join(dir, "csaf")
	writeAdvisory(t, filepath.Join(advDir, "good.json"), "TEST-GOOD", s7Name, "vers:all/<V3.2.16", nil)
	writeAdvisory(t, filepath.Join(advDir, "broken.json"), "TEST-BROKEN", s7Name, "vers:all/<V3.2.16", func(s string) string {
		return strings.Replace(s, `"title": "Test advisory for TEST-BROKEN",`, "", 1)
	})
	for _, tc := range []struct {
		name string
		args []string
		env  string
	}{
		{"flag", []string{"--advisories", advDir}, ""},
		{"environment", nil, advDir + string(os.PathListSeparator) + filepath.Join(dir, "missing")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OTWATCH_ADVISORIES", tc.env)
			t.Setenv("OTWATCH_ADMIN_PASSWORD", "environment password")
			db := filepath.Join(t.TempDir(), "otwatch.db")
			url, out, stop := startConsole(t, append([]string{"--db", db, "--listen", "127.0.0.1:0", "--tls=false"}, tc.args...)...)
			if !strings.Contains(out.String(), "vendor advisories: 1 loaded from "+advDir) {
				t.Errorf("output:\n%s", out)
			}
			resp, err := http.Post(url+"api/v1/login", "application/json", strings.NewReader(`{"name":"admin","password":"environment password"}`))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("login: %v %v", resp, err)
			}
			resp.Body.Close()
			req, _ := http.NewRequest("GET", url+"api/v1/vulnerabilities", nil)
			req.AddCookie(resp.Cookies()[0])
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var page struct {
				Advisories int `json:"advisories_loaded"`
			}
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil || page.Advisories != 1 {
				t.Errorf("the API has %d advisories (%v), want 1", page.Advisories, err)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLoadAdvisories checks what loading reports: the problems of the
// documents left out, on the diagnostics.
func TestLoadAdvisories(t *testing.T) {
	dir := t.TempDir()
	writeAdvisory(t, filepath.Join(dir, "good.json"), "TEST-GOOD", s7Name, "vers:all/<V3.2.16", nil)
	writeAdvisory(t, filepath.Join(dir, "bad.json"), "TEST-BAD", s7Name, "vers:all/<V3.2.16", func(s string) string {
		return strings.Replace(s, `"category": "csaf_security_advisory",`, `"category": 7,`, 1)
	})
	t.Setenv("OTWATCH_ADVISORIES", "")
	var diag bytes.Buffer
	cat, paths := loadAdvisories([]string{dir, filepath.Join(dir, "nowhere")}, &diag)
	if cat.Len() != 1 || len(paths) != 2 {
		t.Fatalf("%d advisories from %v", cat.Len(), paths)
	}
	d := diag.String()
	if !strings.Contains(d, "bad.json") || !strings.Contains(d, "nowhere") || !strings.Contains(d, "2 problems") || !strings.Contains(d, "1 valid advisories are used") {
		t.Errorf("diagnostics:\n%s", d)
	}
	if line := advisoriesLine(cat, paths); !strings.Contains(line, "1 loaded from "+dir) {
		t.Errorf("line %q", line)
	}
	if cat, _ := loadAdvisories(nil, &diag); cat != nil {
		t.Errorf("without paths: %d advisories", cat.Len())
	}
	if line := advisoriesLine(nil, nil); !strings.Contains(line, "--advisories") {
		t.Errorf("line without advisories %q", line)
	}
}
