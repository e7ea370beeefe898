package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/pflag"

	"limitprobe/scenarios"
)

// Exit codes, as documented in the README.
const (
	exitOK          = 0   // ran; every expectation held
	exitExpectation = 1   // an expectation failed (CI gate)
	exitUsage       = 2   // bad usage or bad scenario; nothing was sent
	exitTarget      = 3   // the target could not be probed
	exitOutput      = 4   // the report, results.bin or stdout could not be written
	exitInterrupted = 130 // interrupted; the partial report was still written
)

// worse orders exit codes by how much they matter to a caller.
func worse(a, b int) int {
	rank := map[int]int{exitOK: 0, exitExpectation: 1, exitOutput: 2, exitTarget: 3, exitUsage: 4, exitInterrupted: 5}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// toolVersion is limitprobe's version, recorded in every report.
const toolVersion = "0.1.0"

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order help shows them.
func commands() []command {
	return []command{
		{"run", "SCENARIO...", "probe the targets of scenario files; report on stdout, progress on stderr", cmdRun},
		{"probe", "URL", "the same without a file: flags build the scenario", cmdProbe},
		{"report", "REPORT.json", "re-render a saved report (--format table|json|markdown|html)", cmdReport},
		{"compare", "A.json B.json", "side by side against a demand: which tier meets it", cmdCompare},
		{"verify", "REPORT.json", "replay a demand with the recommended settings beside common retry policies", cmdVerify},
		{"simulate", "REPORT TRAFFIC", "replay your own traffic against the measured limit, offline", cmdSimulate},
		{"mock", "[flags]", "serve the mock limiter on loopback (known truth, for trying limitprobe)", cmdMock},
		{"plan", "SCENARIO...", "dry run: the steps, max rate, requests and time; sends nothing", cmdPlan},
		{"version", "", "print the version", cmdVersion},
		{"help", "[COMMAND]", "show help for limitprobe or one command", cmdHelp},
	}
}

const usageHead = `limitprobe finds the real rate limit of an HTTP API and recommends client settings.

Usage:
  limitprobe COMMAND [flags] [args]

Commands:
`

const usageTail = `
Examples:
  limitprobe run scenarios/examples/mock-token-bucket.yaml
  limitprobe probe --mock 'algorithm=token-bucket,rate=50/s,burst=10'
  limitprobe plan scenarios/examples/nginx-limit-req.yaml
  limitprobe simulate out/report.json access.log
  limitprobe mock --preset openai --listen 127.0.0.1:8429
  limitprobe help run

Exit codes: 0 ok, 1 an expectation failed, 2 bad usage or scenario (nothing sent),
3 target could not be probed, 4 output could not be written (report files,
results.bin or stdout), 130 interrupted (partial report written).
`

// run is the whole program: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help":
		writeUsage(stdout)
		return exitOK
	case "--version", "-v":
		return cmdVersion(ctx, nil, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "limitprobe: unknown command %q%s\nRun 'limitprobe --help' for the list of commands.\n", name, didYouMean(name))
	return exitUsage
}

func writeUsage(w io.Writer) {
	io.WriteString(w, usageHead)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %-15s %s\n", c.name, c.args, c.summary)
	}
	io.WriteString(w, usageTail)
}

func didYouMean(name string) string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	if s := scenarios.Suggest(name, names); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func cmdVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "limitprobe version: takes no arguments")
		return exitUsage
	}
	fmt.Fprintf(stdout, "limitprobe %s (%s %s/%s)\n", toolVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}

func cmdHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] && c.name != "help" {
			return c.run(ctx, []string{"--help"}, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "limitprobe help: unknown command %q\n", args[0])
	return exitUsage
}

// registerNetwork binds the network flags run, probe and verify share.
func registerNetwork(fs *flagSet, nf *scenarios.NetworkFlags) {
	fs.StringVar(&nf.Proxy, "proxy", "", "send every request through this proxy `URL` (http, https or socks5), or none (default: HTTP_PROXY, HTTPS_PROXY, NO_PROXY)")
	fs.StringVar(&nf.CACert, "cacert", "", "trust the CA certificates of this PEM `FILE` beside the system's")
	fs.BoolVar(&nf.Insecure, "insecure", false, "do not verify TLS certificates (a staging endpoint only; the report says so)")
	fs.BoolVar(&nf.HTTP1, "http1", false, "use HTTP/1.1 only")
	fs.BoolVar(&nf.HTTP2, "http2", false, "use HTTP/2 only (over TLS, or h2c without it)")
}

// flagSet is a subcommand's flags and the help it prints for --help.
type flagSet struct {
	*pflag.FlagSet
	help func()
}

// newFlags returns a flag set for a subcommand whose help shows the
// synopsis, the flags and the examples.
func newFlags(name, synopsis, examples string, stdout io.Writer) *flagSet {
	fs := &flagSet{FlagSet: pflag.NewFlagSet(name, pflag.ContinueOnError)}
	fs.SortFlags = false
	fs.SetOutput(io.Discard)
	// pflag calls Usage on every parse error; parse prints the help only when
	// it was asked for.
	fs.Usage = func() {}
	fs.help = func() {
		fmt.Fprintf(stdout, "Usage: limitprobe %s %s\n", name, synopsis)
		if flags := fs.FlagUsages(); flags != "" {
			fmt.Fprintf(stdout, "\nFlags:\n%s", flags)
		}
		if examples != "" {
			fmt.Fprintf(stdout, "\nExamples:\n%s", examples)
		}
	}
	return fs
}

// parse parses args; it returns done with the exit code when the command
// should stop (help was asked for, or the flags were wrong).
func (fs *flagSet) parse(args []string, stderr io.Writer) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, pflag.ErrHelp):
		fs.help()
		return exitOK, true
	case err != nil:
		fmt.Fprintf(stderr, "limitprobe %s: %v\nRun 'limitprobe %s --help' for usage.\n", fs.Name(), err, fs.Name())
		return exitUsage, true
	}
	return 0, false
}

// parseFlag sets *into to flag name's value v read by parse; an empty v
// leaves it as it is.
func parseFlag[T any](name, v string, parse func(string) (T, error), into *T) error {
	if v == "" {
		return nil
	}
	x, err := parse(v)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	*into = x
	return nil
}
