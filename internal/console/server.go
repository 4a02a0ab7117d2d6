package console

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ServerOptions configure Serve.
type ServerOptions struct {
	// Addr is the address to listen on ("127.0.0.1:8443"; port 0 picks a
	// free one).
	Addr string
	// TLS serves HTTPS. With CertFile and KeyFile set they are the
	// certificate and key (PEM); otherwise a self-signed certificate is
	// generated into SelfSignedCert and SelfSignedKey (or reused from
	// there while valid).
	TLS                           bool
	CertFile, KeyFile             string
	SelfSignedCert, SelfSignedKey string
	// Hosts are extra names and addresses the generated certificate
	// covers, besides localhost, the loopback addresses, the host name
	// and the listen address.
	Hosts []string
	// ShutdownTimeout bounds the graceful shutdown (default 10 s).
	ShutdownTimeout time.Duration
	// Ready, when set, is called with the console's URL once it listens,
	// and with the SHA-256 fingerprint of its certificate (hex, "" without
	// TLS).
	Ready func(url, fingerprint string)
	// Logger receives server errors; slog.Default when nil.
	Logger *slog.Logger
}

// Serve serves h until ctx ends, then shuts down gracefully: it stops
// accepting connections and waits up to ShutdownTimeout for requests in
// flight. It returns nil after a clean shutdown.
func Serve(ctx context.Context, h http.Handler, o ServerOptions) error {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	var cfg *tls.Config
	fingerprint := ""
	if o.TLS {
		var cert tls.Certificate
		var err error
		switch {
		case o.CertFile != "" || o.KeyFile != "":
			if o.CertFile == "" || o.KeyFile == "" {
				return errors.New("console: a certificate needs both a certificate and a key file")
			}
			if cert, err = tls.LoadX509KeyPair(o.CertFile, o.KeyFile); err != nil {
				return fmt.Errorf("console: loading certificate %s: %w", o.CertFile, err)
			}
		case o.SelfSignedCert != "" && o.SelfSignedKey != "":
			host, _, _ := net.SplitHostPort(o.Addr)
			if cert, err = SelfSigned(o.SelfSignedCert, o.SelfSignedKey, append(slices.Clone(o.Hosts), host), time.Now()); err != nil {
				return err
			}
		default:
			return errors.New("console: TLS needs a certificate, or files to keep a self-signed one in")
		}
		sum := sha256.Sum256(cert.Certificate[0])
		fingerprint = hex.EncodeToString(sum[:])
		cfg = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	scheme := "http"
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
		scheme = "https"
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      10 * time.Minute, // CSV exports and captures
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	if o.Ready != nil {
		o.Ready(scheme+"://"+urlHost(ln.Addr())+"/", fingerprint)
	}
	select {
	case err := <-done:
		return fmt.Errorf("console: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("console: shutting down: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

// urlHost returns the host:port of a listener for a URL: an unspecified
// address becomes localhost.
func urlHost(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// Self-signed certificate lifetime, and how long before its end it is
// replaced.
const (
	certLifetime = 825 * 24 * time.Hour // the longest browsers accept
	certRenew    = 30 * 24 * time.Hour
)

// SelfSigned returns the self-signed certificate kept in certFile and
// keyFile, generating a new one (ECDSA P-256) when they are missing,
// unreadable, expire within 30 days or do not cover every host in hosts.
// The certificate covers localhost, 127.0.0.1, ::1, the machine's host
// name and hosts. The key file is written with mode 0600.
func SelfSigned(certFile, keyFile string, hosts []string, now time.Time) (tls.Certificate, error) {
	names := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" {
		names = append(names, h)
	}
	for _, h := range hosts {
		if h != "" && !slices.Contains(names, h) {
			if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
				names = append(names, h)
			}
		}
	}
	if cert, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil {
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err == nil && now.Add(certRenew).Before(leaf.NotAfter) && covers(leaf, names) {
			return cert, nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("console: generating key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("console: generating serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "otwatch console", Organization: []string{"otwatch"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("console: creating certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("console: encoding key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := writeFile(keyFile, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFile(certFile, certPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// covers reports whether the certificate is valid for every name.
func covers(leaf *x509.Certificate, names []string) bool {
	for _, n := range names {
		if leaf.VerifyHostname(strings.Trim(n, "[]")) != nil {
			return false
		}
	}
	return true
}

// writeFile writes data to path through a temporary file, so a crash
// never leaves half a key.
func writeFile(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	f, err := os.CreateTemp(dir, ".otwatch-cert-*")
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("console: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("console: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("console: writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}
