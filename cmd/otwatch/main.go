// Command otwatch is a security monitoring system for OT networks: it
// decodes industrial traffic from capture files or live interfaces,
// discovers devices and reports what they do.
//
// Usage:
//
//	otwatch <command> [flags] [arguments]
//
// Run `otwatch help` for the list of commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	_ "github.com/otwatch/otwatch/internal/dissect/all" // built-in dissectors
)

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(args []string, stdout, stderr io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{"analyze", "[flags] FILE... | -i IFACE", "decode captures or a live interface and summarise what is on the network", runAnalyze},
		{"simulate", "[flags] -o FILE", "write a capture of a simulated plant, with optional attack scenarios", runSimulate},
		{"console", "[flags]", "serve the web console and REST API over a store", runConsole},
		{"demo", "[flags]", "simulate a plant with an attack in progress and analyse it", runDemo},
		{"advisories", "import|match [flags] ...", "import CSAF advisories and match them to the devices of captures, with risk and recommendations", runAdvisories},
		{"attack-coverage", "[flags]", "list the MITRE ATT&CK for ICS techniques otwatch detects, as a table or a Navigator layer", runCoverage},
		{"replay", "[flags] -i IFACE FILE...", "send the frames of captures out of a network interface", runReplay},
		{"sensor", "[flags] -i IFACE | --watch DIR | FILE...", "run a sensor: capture or read captures, detect, and keep everything in a database", runSensor},
		{"version", "", "print the version", runVersion},
	}
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks an error whose message is a usage problem: it is printed
// with a hint to --help and exit status 2.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		if len(args) > 1 {
			return run([]string{args[1], "--help"}, stdout, stderr)
		}
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "otwatch %s: %v\nRun 'otwatch %s --help' for usage.\n", name, err, name)
			return 2
		default:
			fmt.Fprintf(stderr, "otwatch %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "otwatch: unknown command %q\nRun 'otwatch help' for the list of commands.\n", name)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `otwatch watches OT networks: it decodes industrial traffic, discovers
devices and reports what they do.

Usage:

	otwatch <command> [flags] [arguments]

Commands:

`)
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'otwatch <command> --help' for a command's flags and examples.
`)
}

// newFlags returns a FlagSet whose --help prints the command's synopsis,
// description, flags and examples.
func newFlags(name, args, description, examples string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: otwatch %s %s\n\n%s\n\nFlags:\n", name, args, description)
		fs.PrintDefaults()
		if examples != "" {
			fmt.Fprintf(w, "\nExamples:\n%s\n", examples)
		}
	}
	return fs
}

// parse parses flags; --help prints usage to stdout and returns flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	fs.SetOutput(io.Discard) // parse errors are reported once, by run
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "", "Print otwatch's version.", "", stderr)
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "otwatch %s\n", version)
	return nil
}
