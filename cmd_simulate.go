package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"limitprobe/report"
	"limitprobe/simulate"
	"limitprobe/traffic"
	"limitprobe/units"
)

const simulateExamples = `  limitprobe simulate out/report.json access.log
  limitprobe simulate out/report.json traffic.csv --batch 8 --format table,html --out sim/
  limitprobe simulate out/report.json results.bin --client-rate 40/s --client-burst 5 --deadline 30s
  limitprobe simulate out/report.json timestamps.txt --expect-max-throttled 0.1%

TRAFFIC is told by content: one RFC 3339 time or Unix time a line (an optional
cost after it), CSV with a time column, JSON lines, an nginx or Apache access
log, or vegeta's results (results.bin, JSON, CSV); - reads stdin. Nothing is
sent: the replay runs offline. Exit 1 when --expect-max-throttled is exceeded.
`

// simulateFlags are simulate's flags.
type simulateFlags struct {
	formats                      []string
	out                          string
	clientRate, deadline, maxThr string
	batchWait                    string
	clientBurst, maxConc, batch  int
	quiet                        bool
}

func (f *simulateFlags) register(fs *flagSet) {
	fs.StringSliceVarP(&f.formats, "format", "f", []string{report.FormatTable}, "what to print: table, json, markdown or html (comma-separated)")
	fs.StringVarP(&f.out, "out", "o", "", "also write simulation.json, simulation.md and simulation.html to `DIR`")
	fs.StringVar(&f.clientRate, "client-rate", "", "the client limiter's rate, such as 40/s (default: the recommendation's)")
	fs.IntVar(&f.clientBurst, "client-burst", 0, "the client limiter's burst (default: the recommendation's)")
	fs.IntVar(&f.maxConc, "max-concurrency", 0, "the most requests the client keeps in flight (default: the recommendation's)")
	fs.StringVar(&f.deadline, "deadline", simulate.DefaultDeadline.String(), "how long a request may wait at the client before it is shed")
	fs.IntVar(&f.batch, "batch", 0, "also replay the traffic merged `N` requests to one")
	fs.StringVar(&f.batchWait, "batch-wait", simulate.DefaultBatchWait.String(), "how long a batch waits to fill before it leaves")
	fs.StringVar(&f.maxThr, "expect-max-throttled", "", "CI gate: exit 1 when more than this `SHARE` of the traffic is refused (such as 0.1%)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "say nothing on stderr but errors")
}

// options turns the flags into simulate's options.
func (f *simulateFlags) options() (simulate.Options, error) {
	o := simulate.Options{Client: simulate.Client{Burst: f.clientBurst, MaxConcurrency: f.maxConc}, Batch: f.batch, ToolVersion: toolVersion}
	if f.clientBurst < 0 || f.maxConc < 0 || f.batch < 0 {
		return o, errors.New("--client-burst, --max-concurrency and --batch take a whole number of requests, 1 or more")
	}
	var err error
	if f.clientRate != "" {
		var r units.Rate
		if r, err = units.ParseRate(f.clientRate); err != nil {
			return o, fmt.Errorf("--client-rate: %w", err)
		}
		o.Client.RateRPS = float64(r)
	}
	if o.Deadline, err = units.ParseDuration(f.deadline); err != nil {
		return o, fmt.Errorf("--deadline: %w", err)
	}
	if o.BatchWait, err = units.ParseDuration(f.batchWait); err != nil {
		return o, fmt.Errorf("--batch-wait: %w", err)
	}
	if f.maxThr != "" {
		share, err := units.ParseShare(f.maxThr)
		if err != nil {
			return o, fmt.Errorf("--expect-max-throttled: %w", err)
		}
		o.MaxThrottled = &share
	}
	for _, ft := range f.formats {
		if !slices.Contains(report.Formats, ft) {
			return o, fmt.Errorf("unknown format %q; write one of %s", ft, strings.Join(report.Formats, ", "))
		}
	}
	return o, nil
}

func cmdSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f simulateFlags
	fs := newFlags("simulate", "REPORT.json TRAFFIC [flags]", simulateExamples, stdout)
	f.register(fs)
	if code, done := fs.parse(args, stderr); done {
		return code
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "limitprobe simulate: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() != 2 {
		return bad("name a saved report and a traffic file, e.g. limitprobe simulate out/report.json access.log")
	}
	opt, err := f.options()
	if err != nil {
		return bad("%v", err)
	}
	rep, err := readReport(fs.Arg(0))
	if err != nil {
		return bad("%v", err)
	}
	in, name := io.Reader(os.Stdin), "stdin"
	if p := fs.Arg(1); p != "-" {
		file, err := os.Open(p)
		if err != nil {
			return bad("%v", err)
		}
		defer file.Close()
		in, name = file, p
	}
	r, err := traffic.NewReader(in, name)
	if err != nil {
		return bad("%v", err)
	}
	sim, err := simulate.Run(ctx, r, name, simulate.Measured{Name: rep.Scenario.Name, Target: rep.Scenario.Target.URL, Summary: rep.Summary,
		Steps: rep.Steps, Advertised: rep.Advertised, Recommendation: rep.Recommendation}, opt)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "limitprobe simulate: interrupted")
		return exitInterrupted
	case err != nil:
		return bad("%v", err)
	}
	return f.finish(sim, stdout, stderr)
}

// finish prints and writes sim and returns the exit code.
func (f *simulateFlags) finish(sim *simulate.Simulation, stdout, stderr io.Writer) int {
	code := exitOK
	for _, ft := range f.formats {
		if err := report.WriteSimulation(stdout, sim, ft); err != nil {
			fmt.Fprintf(stderr, "limitprobe simulate: %v\n", err)
			code = exitOutput
		}
	}
	if f.out != "" {
		if err := writeSimulationFiles(f.out, sim); err != nil {
			fmt.Fprintf(stderr, "limitprobe simulate: %v\n", err)
			code = exitOutput
		} else if !f.quiet {
			fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(f.out, "simulation.{json,md,html}"))
		}
	}
	if g := sim.Gate; g != nil && !g.Pass {
		fmt.Fprintf(stderr, "limitprobe simulate: %s of the traffic is refused, more than the %s allowed\n", units.Percent(g.Got), units.Percent(g.MaxThrottled))
		return worse(code, exitExpectation)
	}
	return code
}
