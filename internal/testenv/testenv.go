// Package testenv lets tests find the real components they need (external
// programs, the shared corpus, network namespaces) and decide what to do when
// one is missing: skip with a clear message on a developer's machine, fail in
// CI, where .ci/run sets OTWATCH_REQUIRE_ALL=1 after installing everything.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Strict reports whether missing components must fail tests instead of
// skipping them (OTWATCH_REQUIRE_ALL=1, set by .ci/run).
func Strict() bool { return os.Getenv("OTWATCH_REQUIRE_ALL") == "1" }

// Missing skips the test, or fails it in strict mode, saying what is
// missing and how to provide it.
func Missing(t testing.TB, what string) {
	t.Helper()
	if Strict() {
		t.Fatalf("required component missing (OTWATCH_REQUIRE_ALL=1): %s", what)
	}
	t.Skipf("skipping: %s", what)
}

// Program returns the path of an external program, or skips/fails the test
// when it is not installed.
func Program(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" not found in PATH (apt-get install "+debianPackage+")")
	}
	return p
}

// Corpus returns the directory of the shared capture corpus from
// $OTWATCH_CORPUS, or skips/fails the test when it is unset or absent. A
// relative path is taken from the module root, so the README's
// OTWATCH_CORPUS=../shared/corpus works for every package's tests.
func Corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("OTWATCH_CORPUS")
	if dir == "" {
		Missing(t, "OTWATCH_CORPUS is not set (point it at ../shared/corpus)")
	}
	if !filepath.IsAbs(dir) {
		if root := ModuleRoot(); root != "" {
			dir = filepath.Join(root, dir)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "index.tsv")); err != nil {
		Missing(t, "OTWATCH_CORPUS="+dir+" has no index.tsv")
	}
	return dir
}

// DataDir returns the folder of the shared reference data (ATT&CK for ICS,
// CSAF advisories, OUI listings): $OTWATCH_DATA, a relative value taken
// from the module root, or else ../shared/data next to the module root.
func DataDir() string {
	dir := os.Getenv("OTWATCH_DATA")
	switch {
	case dir == "":
		dir = filepath.Join(ModuleRoot(), "..", "shared", "data")
	case !filepath.IsAbs(dir):
		dir = filepath.Join(ModuleRoot(), dir)
	}
	return dir
}

// Data returns the path of name (slash-separated) inside the shared
// reference data folder, or skips/fails the test when it is not there;
// what says what the data is ("CSAF advisories").
func Data(t testing.TB, name, what string) string {
	t.Helper()
	p := filepath.Join(DataDir(), filepath.FromSlash(name))
	if _, err := os.Stat(p); err != nil {
		Missing(t, what+" not found: "+p+" (set OTWATCH_DATA)")
	}
	return p
}

// Root requires the test to run as root (network namespaces, raw sockets).
func Root(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "test needs root (network namespaces and AF_PACKET sockets)")
	}
}

// ModuleRoot returns the directory holding go.mod, searching upwards from
// the working directory, or "" if there is none.
func ModuleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Veth is a veth pair made for one test: Capture is in the test's network
// namespace, its peer Inject in the namespace NetNS (a name under
// /run/netns) that the test created. Both ends are up, without addresses
// and with IPv6 disabled, so the kernel sends nothing of its own on them.
type Veth struct {
	Capture, Inject, NetNS string
}

// NewVeth creates a Veth and removes it when the test ends. It needs root
// and iproute2 (skipped without them, failed in strict mode).
func NewVeth(t testing.TB) Veth {
	t.Helper()
	Root(t)
	ip := Program(t, "ip", "iproute2")
	run := func(args ...string) {
		t.Helper()
		out, err := exec.Command(ip, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	id := fmt.Sprintf("%d%03d", os.Getpid()%100000, time.Now().UnixNano()%1000)
	v := Veth{Capture: "otwc" + id, Inject: "otwi" + id, NetNS: "otwatch-test-" + id}
	run("netns", "add", v.NetNS)
	t.Cleanup(func() { _ = exec.Command(ip, "netns", "del", v.NetNS).Run() })
	run("link", "add", v.Capture, "type", "veth", "peer", "name", v.Inject, "netns", v.NetNS)
	// Deleting one end deletes the pair.
	t.Cleanup(func() { _ = exec.Command(ip, "link", "del", v.Capture).Run() })
	if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+v.Capture+"/disable_ipv6", []byte("1"), 0); err != nil {
		t.Logf("disabling IPv6 on %s: %v", v.Capture, err)
	}
	run("netns", "exec", v.NetNS, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/"+v.Inject+"/disable_ipv6")
	run("link", "set", v.Capture, "up")
	run("-n", v.NetNS, "link", "set", v.Inject, "up")
	return v
}
