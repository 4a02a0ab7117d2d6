package console

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/sqlite"
)

func TestHandler(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "otwatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var gotStore store.Store
	var gotAuth *auth.Auth
	pages := func(s store.Store, a *auth.Auth) http.Handler {
		gotStore, gotAuth = s, a
		return a.RequirePage(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "page") }))
	}
	h := New(st, Options{TLS: true, Pages: pages})
	if gotStore != st || gotAuth == nil || !gotAuth.Secure() {
		t.Fatalf("pages got %v, %v", gotStore, gotAuth)
	}
	tests := []struct {
		path     string
		code     int
		location string
		csp      bool
	}{
		{"/api/v1/openapi.json", 200, "", true},
		{"/api/v1/alerts", 401, "", true},
		{"/alerts", 303, "/login?next=%2Falerts", false},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		hd := rec.Header()
		if rec.Code != tt.code || hd.Get("Location") != tt.location {
			t.Errorf("%s = %d %q, want %d %q", tt.path, rec.Code, hd.Get("Location"), tt.code, tt.location)
		}
		if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("X-Frame-Options") != "DENY" ||
			hd.Get("Strict-Transport-Security") == "" || (hd.Get("Content-Security-Policy") != "") != tt.csp {
			t.Errorf("%s: security headers %v", tt.path, hd)
		}
	}

	plain := New(st, Options{})
	rec := httptest.NewRecorder()
	plain.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "/api/v1/openapi.json") || rec.Header().Get("Strict-Transport-Security") != "" {
		t.Errorf("root without pages: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	rec = httptest.NewRecorder()
	plain.ServeHTTP(rec, httptest.NewRequest("GET", "/elsewhere", nil))
	if rec.Code != 404 {
		t.Errorf("/elsewhere without pages = %d", rec.Code)
	}
	// A panicking page is a 500, not a dead connection.
	boom := New(st, Options{Pages: func(store.Store, *auth.Auth) http.Handler {
		return http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	}})
	rec = httptest.NewRecorder()
	boom.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if rec.Code != 500 {
		t.Errorf("panicking page = %d", rec.Code)
	}
}

func TestSelfSigned(t *testing.T) {
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "db.sqlite.console-cert.pem"), filepath.Join(dir, "db.sqlite.console-key.pem")
	now := time.Now()
	c1, err := SelfSigned(cf, kf, []string{"console.plant.example", "192.0.2.5", "0.0.0.0"}, now)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c1.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("key %T, want ECDSA P-256", leaf.PublicKey)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "console.plant.example", "192.0.2.5"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("certificate does not cover %s: %v", h, err)
		}
	}
	if leaf.VerifyHostname("0.0.0.0") == nil {
		t.Error("certificate covers the unspecified address")
	}
	if !leaf.NotAfter.After(now.Add(800*24*time.Hour)) || leaf.NotAfter.After(now.Add(826*24*time.Hour)) {
		t.Errorf("NotAfter %v", leaf.NotAfter)
	}
	if fi, err := os.Stat(kf); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, %v; want 0600", fi.Mode(), err)
	}
	// Reused while valid and covering the hosts.
	c2, err := SelfSigned(cf, kf, []string{"console.plant.example"}, now.Add(24*time.Hour))
	if err != nil || string(c2.Certificate[0]) != string(c1.Certificate[0]) {
		t.Errorf("certificate not reused: %v", err)
	}
	// Replaced for a new host, and near its end.
	c3, err := SelfSigned(cf, kf, []string{"other.example"}, now)
	if err != nil {
		t.Fatal(err)
	}
	c4, err := SelfSigned(cf, kf, []string{"other.example"}, now.Add(800*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if string(c3.Certificate[0]) == string(c1.Certificate[0]) || string(c4.Certificate[0]) == string(c3.Certificate[0]) {
		t.Error("certificate not replaced for a new host or near expiry")
	}
	if leaf, err := x509.ParseCertificate(c3.Certificate[0]); err != nil || leaf.VerifyHostname("other.example") != nil {
		t.Errorf("the replacement certificate does not cover other.example: %v", err)
	}
	// A damaged file is replaced, not fatal: the files then hold the new
	// pair.
	if err := os.WriteFile(cf, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	c5, err := SelfSigned(cf, kf, nil, now)
	if err != nil {
		t.Fatalf("damaged certificate: %v", err)
	}
	kept, err := tls.LoadX509KeyPair(cf, kf)
	if err != nil || string(kept.Certificate[0]) != string(c5.Certificate[0]) {
		t.Errorf("after replacing a damaged certificate the files hold another pair (%v)", err)
	}
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	started := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	type ready struct{ url, fp string }
	readyc := make(chan ready, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- Serve(ctx, mux, ServerOptions{Addr: "127.0.0.1:0", TLS: true,
			SelfSignedCert: filepath.Join(dir, "c.pem"), SelfSignedKey: filepath.Join(dir, "k.pem"),
			Ready: func(url, fp string) { readyc <- ready{url, fp} }})
	}()
	var rd ready
	select {
	case rd = <-readyc:
	case err := <-errc:
		t.Fatal(err)
	}
	if !strings.HasPrefix(rd.url, "https://127.0.0.1:") {
		t.Fatalf("url %s", rd.url)
	}
	// Trust exactly the generated certificate, as a user pinning its
	// fingerprint would.
	pem, err := os.ReadFile(filepath.Join(dir, "c.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	type result struct {
		body string
		err  error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := client.Get(rd.url + "slow")
		if err != nil {
			resc <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		sum := sha256.Sum256(resp.TLS.PeerCertificates[0].Raw)
		if hex.EncodeToString(sum[:]) != rd.fp {
			err = io.ErrUnexpectedEOF
		}
		resc <- result{string(b), err}
	}()
	<-started
	cancel() // shut down with a request in flight
	time.Sleep(50 * time.Millisecond)
	if _, err := client.Get(rd.url + "slow"); err == nil {
		t.Error("new request accepted during shutdown")
	}
	close(release)
	if r := <-resc; r.err != nil || r.body != "done" {
		t.Errorf("in-flight request: %q, %v", r.body, r.err)
	}
	if err := <-errc; err != nil {
		t.Errorf("Serve = %v, want nil after a graceful shutdown", err)
	}
}

func TestServeErrors(t *testing.T) {
	ctx := context.Background()
	for _, o := range []ServerOptions{
		{Addr: "127.0.0.1:0", TLS: true},
		{Addr: "127.0.0.1:0", TLS: true, CertFile: "x.pem"},
		{Addr: "127.0.0.1:0", TLS: true, CertFile: "/nonexistent/c.pem", KeyFile: "/nonexistent/k.pem"},
		{Addr: "256.0.0.1:0"},
	} {
		if err := Serve(ctx, http.NotFoundHandler(), o); err == nil || !strings.HasPrefix(err.Error(), "console: ") {
			t.Errorf("Serve(%+v) = %v, want a console error", o, err)
		}
	}
}
