package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/otwatch/otwatch/internal/console"
	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/console/web"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/store"
	_ "github.com/otwatch/otwatch/internal/store/all" // store backends
	"github.com/otwatch/otwatch/internal/store/sqlite"
)

// consolePages makes the console's web pages, matching devices against
// the advisories.
func consolePages(advisories *csaf.Catalog) console.PagesFunc {
	return web.Pages(web.Options{Advisories: advisories})
}

// consoleConfig is what serveConsole needs besides the store.
type consoleConfig struct {
	listen        string
	tls           bool
	cert, key     string // given certificate, or ""
	certDir       string // where a generated certificate is kept; "" for next to the database
	dsn           string // the database, for locating the certificate
	adminPassword string // first admin's password; "" to generate one
	advisories    *csaf.Catalog
}

func runConsole(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return consoleMain(ctx, args, stdout, stderr)
}

// consoleMain is the console command; it serves until ctx ends.
func consoleMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("console", "[flags]",
		`Serve the otwatch console: the web UI and the REST API (/api/v1, described
by /api/v1/openapi.json) over the store the sensors write to.

On first run, when the database has no user, it creates the user admin with
the password from --admin-password or $OTWATCH_ADMIN_PASSWORD, or a
generated one that is printed once. Log in and change it.

It serves HTTPS by default, with a self-signed ECDSA P-256 certificate it
generates and keeps next to the database (<db>.console-cert.pem and
<db>.console-key.pem) unless --cert and --key name one; it prints the
certificate's SHA-256 fingerprint so the browser's warning can be checked.
It stops gracefully on SIGINT or SIGTERM.

With --advisories (or $OTWATCH_ADVISORIES), it matches the devices against
vendor advisories in CSAF 2.0 (CISA publishes its ICS advisories so): their
Vulnerabilities tab, the fleet's Vulnerabilities page, advisory
recommendations and risk. Documents that cannot be read are reported and
left out.`,
		`  otwatch console --db /var/lib/otwatch/otwatch.db
  otwatch console --db otwatch.db --listen 0.0.0.0:8443 --cert console.pem --key console-key.pem
  otwatch console --db postgres://otwatch@db/otwatch --cert-dir /etc/otwatch
  otwatch console --db otwatch.db --listen 127.0.0.1:8080 --tls=false
  otwatch console --db otwatch.db --advisories /srv/csaf/cisa --advisories site-advisories.json`, stderr)
	db := fs.String("db", "otwatch.db", "the store: a SQLite database `file`, or a postgres:// URL")
	listen := fs.String("listen", "127.0.0.1:8443", "`address` to serve on")
	useTLS := fs.Bool("tls", true, "serve HTTPS")
	cert := fs.String("cert", "", "TLS certificate `file` (PEM), with --key")
	key := fs.String("key", "", "TLS private key `file` (PEM), with --cert")
	certDir := fs.String("cert-dir", "", "`directory` for the generated certificate (default: next to the database; needed with PostgreSQL)")
	adminPW := fs.String("admin-password", "", "password of the first admin, when the database has no user (default $OTWATCH_ADMIN_PASSWORD, else generated)")
	var advisories pathList
	fs.Var(&advisories, "advisories", "CSAF advisory `path`: a file or a directory (walked for *.json); repeat for several (default $OTWATCH_ADVISORIES, a list separated by "+string(os.PathListSeparator)+")")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if (*cert == "") != (*key == "") {
		return fmt.Errorf("%w: --cert and --key go together", errUsage)
	}
	pw := *adminPW
	if pw == "" {
		pw = os.Getenv("OTWATCH_ADMIN_PASSWORD")
	}
	if pw != "" {
		if err := auth.CheckPassword("admin", pw); err != nil {
			return fmt.Errorf("%w: admin password: %v", errUsage, err)
		}
	}
	cat, paths := loadAdvisories(advisories, stderr)
	fmt.Fprintln(stdout, advisoriesLine(cat, paths))
	st, err := store.Open(ctx, *db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	return serveConsole(ctx, st, consoleConfig{listen: *listen, tls: *useTLS, cert: *cert, key: *key, certDir: *certDir,
		dsn: *db, adminPassword: pw, advisories: cat}, stdout, stderr)
}

// serveConsole creates the first admin if needed, then serves the console
// over st until ctx ends, printing its URL (and a generated password) to
// stdout.
func serveConsole(ctx context.Context, st store.Store, cfg consoleConfig, stdout, stderr io.Writer) error {
	a := auth.New(st, auth.Options{Secure: cfg.tls})
	created, pw, err := a.Bootstrap(ctx, "admin", cfg.adminPassword)
	if err != nil {
		return err
	}
	switch {
	case created && cfg.adminPassword == "":
		fmt.Fprintf(stdout, "Created the first console user.\n  user:     admin\n  password: %s\nThis password is shown only once: log in and change it.\n", pw)
	case created:
		fmt.Fprintln(stdout, "Created the first console user admin with the given password.")
	}
	opts := console.ServerOptions{Addr: cfg.listen, TLS: cfg.tls, CertFile: cfg.cert, KeyFile: cfg.key,
		Ready: func(url, fingerprint string) {
			fmt.Fprintf(stdout, "otwatch console at %s\n", url)
			if fingerprint != "" {
				fmt.Fprintf(stdout, "certificate SHA-256 fingerprint: %s\n", fingerprint)
			}
		}}
	if cfg.tls && cfg.cert == "" {
		base, err := certBase(cfg.dsn, cfg.certDir)
		if err != nil {
			return err
		}
		opts.SelfSignedCert, opts.SelfSignedKey = base+".console-cert.pem", base+".console-key.pem"
	}
	if !cfg.tls {
		if host, _, err := net.SplitHostPort(cfg.listen); err == nil {
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				fmt.Fprintf(stderr, "warning: serving the console without TLS on %s: passwords and session cookies cross the network in clear\n", cfg.listen)
			}
		}
	}
	h := console.New(st, console.Options{Auth: a, TLS: cfg.tls, Pages: consolePages(cfg.advisories), Version: version, Advisories: cfg.advisories})
	return console.Serve(ctx, h, opts)
}

// certBase returns the path the generated certificate's file names start
// with: the database file's, or <dir>/otwatch with --cert-dir.
func certBase(dsn, dir string) (string, error) {
	if dir != "" {
		return filepath.Join(dir, "otwatch"), nil
	}
	if backend, err := store.BackendOf(dsn); err != nil || backend != "sqlite" {
		return "", fmt.Errorf("%w: with a database that is not a file, give --cert and --key, or --cert-dir for a generated certificate", errUsage)
	}
	return sqlite.Path(dsn)
}

// pathList is a flag given once per path.
type pathList []string

// String returns the paths, separated by commas.
func (p *pathList) String() string { return strings.Join(*p, ",") }

// Set adds a path.
func (p *pathList) Set(s string) error {
	if s == "" {
		return errors.New("empty path")
	}
	*p = append(*p, s)
	return nil
}

// maxAdvisoryProblems bounds the problems loadAdvisories prints one by
// one.
const maxAdvisoryProblems = 20

// loadAdvisories loads the CSAF advisories of paths, or of
// $OTWATCH_ADVISORIES (a list separated by os.PathListSeparator) when
// there are none; nil when neither names any. Documents that cannot be
// read or are invalid are reported to w and left out. It returns the
// paths read too.
func loadAdvisories(paths []string, w io.Writer) (*csaf.Catalog, []string) {
	if len(paths) == 0 {
		for _, p := range filepath.SplitList(os.Getenv("OTWATCH_ADVISORIES")) {
			if p != "" {
				paths = append(paths, p)
			}
		}
	}
	if len(paths) == 0 {
		return nil, nil
	}
	cat, errs := csaf.Load(paths...)
	for i, err := range errs {
		if i == maxAdvisoryProblems {
			fmt.Fprintf(w, "advisories: %d more problems (otwatch advisories import %s lists them)\n", len(errs)-i, strings.Join(paths, " "))
			break
		}
		fmt.Fprintf(w, "advisories: %v\n", err)
	}
	if len(errs) > 0 {
		fmt.Fprintf(w, "advisories: %d problems in %s; the %d valid advisories are used\n", len(errs), strings.Join(paths, ", "), cat.Len())
	}
	return cat, paths
}

// advisoriesLine says how many advisories were loaded from where.
func advisoriesLine(cat *csaf.Catalog, paths []string) string {
	if cat == nil {
		return "vendor advisories: none (--advisories or $OTWATCH_ADVISORIES loads them)"
	}
	return fmt.Sprintf("vendor advisories: %d loaded from %s", cat.Len(), strings.Join(paths, ", "))
}
