package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"limitprobe/advise"
	"limitprobe/probe"
	"limitprobe/report"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// runOptions are the flags run and probe share.
type runOptions struct {
	out     string
	formats []string
	quiet   bool
	margin  float64
}

func (o *runOptions) register(fs *flagSet) {
	fs.StringVarP(&o.out, "out", "o", "", "write report.json, report.md, report.html and results.bin (vegeta's encoding) to `DIR`")
	fs.StringSliceVarP(&o.formats, "format", "f", []string{"table"}, "what to print on stdout: table, json, markdown, html (comma-separated)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress on stderr")
	fs.Float64Var(&o.margin, "margin", advise.DefaultMargin, "share of the effective limit the recommended client may use")
}

func (o *runOptions) check(stderr io.Writer, cmd string) bool {
	for _, f := range o.formats {
		if !slices.Contains(report.Formats, f) {
			fmt.Fprintf(stderr, "limitprobe %s: unknown format %q; write one of %s\n", cmd, f, strings.Join(report.Formats, ", "))
			return false
		}
	}
	if !(o.margin > 0 && o.margin <= 1) {
		fmt.Fprintf(stderr, "limitprobe %s: --margin %v is outside (0, 1]; write for example 0.9\n", cmd, o.margin)
		return false
	}
	return true
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o runOptions
	fs := newFlags("run", "SCENARIO.yaml... [flags]", `  limitprobe run scenarios/examples/mock-token-bucket.yaml
  limitprobe run --out out/ --format table,json scenarios/examples/nginx-limit-req.yaml
`, stdout)
	var nf scenarios.NetworkFlags
	registerNetwork(fs, &nf)
	o.register(fs)
	if code, done := fs.parse(args, stderr); done {
		return code
	}
	if !o.check(stderr, "run") {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "limitprobe run: name at least one scenario file, e.g. limitprobe run scenarios/examples/mock-token-bucket.yaml")
		return exitUsage
	}
	loaded, code := loadScenarios(fs.Args(), stderr)
	if code != exitOK {
		return code
	}
	for _, sc := range loaded {
		if probs := nf.Apply(&sc.Target); len(probs) > 0 {
			for _, p := range probs {
				fmt.Fprintf(stderr, "limitprobe run: %v\n", p)
			}
			return exitUsage
		}
	}
	worst := exitOK
	for _, sc := range loaded {
		dir := o.out
		if dir != "" && len(loaded) > 1 {
			dir = filepath.Join(o.out, safeName(sc.Name))
		}
		code := execute(ctx, sc, o, dir, stdout, stderr)
		worst = worse(worst, code)
		if code == exitInterrupted {
			break
		}
	}
	return worst
}

// execute probes one scenario, prints and writes its report, and returns
// the exit code.
func execute(ctx context.Context, sc *scenarios.Scenario, o runOptions, dir string, stdout, stderr io.Writer) int {
	m, err := mockFor(sc)
	if err != nil {
		fmt.Fprintf(stderr, "limitprobe: %s: mock: %v\n", sc.Name, err)
		return exitUsage
	}
	if m != nil {
		defer m.stop()
	}
	popt := probe.Options{}
	var raw *resultsFile
	if dir != "" {
		if raw, err = createResults(dir); err != nil {
			fmt.Fprintf(stderr, "limitprobe: %v\n", err)
			return exitUsage
		}
		popt.Raw = raw.w
	}
	if !o.quiet {
		pp := &progressPrinter{w: stderr, tty: isTerminal(stderr), name: sc.Name}
		popt.Progress = pp.update
	}
	if sc.Target.Network.Insecure {
		fmt.Fprintf(stderr, "limitprobe: %s: warning: TLS certificates are not verified (--insecure); the report says so\n", sc.Name)
	}
	run, runErr := probe.Execute(ctx, sc, popt)
	code := exitOK
	if raw != nil {
		if err := raw.Close(); err != nil {
			fmt.Fprintf(stderr, "limitprobe: %v\n", err)
			code = exitOutput
		}
	}
	if run == nil {
		fmt.Fprintf(stderr, "limitprobe: %s: %v\n", sc.Name, sc.Redact(runErr.Error()))
		return exitTarget
	}
	rep := report.New(*run, report.Options{ToolVersion: toolVersion, Margin: o.margin, Expect: sc.Expect,
		DemandRPS: float64(sc.Demand), PriceAmount: sc.Price.Amount, PricePer: sc.Price.Per})
	if m != nil && !o.quiet {
		t := m.srv.Truth()
		fmt.Fprintf(stderr, "mock truth: %s, effective limit %s, burst %d\n", t.Algorithm, units.FormatRate(t.EffectiveLimitRPS), t.Burst)
	}
	color := isTerminal(stdout) && os.Getenv("NO_COLOR") == ""
	for _, f := range o.formats {
		if err := report.Write(stdout, rep, f, report.RenderOptions{Color: color && f == "table"}); err != nil {
			fmt.Fprintf(stderr, "limitprobe: %v\n", err)
			code = exitOutput
			break
		}
	}
	if dir != "" {
		if err := writeReportFiles(dir, rep); err != nil {
			fmt.Fprintf(stderr, "limitprobe: %v\n", err)
			code = exitOutput
		} else if !o.quiet {
			fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(dir, "report.{json,md,html}")+" and results.bin")
		}
	}
	switch {
	case run.Interrupted:
		fmt.Fprintln(stderr, "limitprobe: interrupted; the report holds what was measured")
		return exitInterrupted
	case runErr != nil: // probe.ErrUnusable, or a failure to send at all
		fmt.Fprintf(stderr, "limitprobe: %s: %v\n", sc.Name, sc.Redact(runErr.Error()))
		return worse(code, exitTarget)
	}
	if failed := rep.Failed(); len(failed) > 0 {
		for _, e := range failed {
			fmt.Fprintf(stderr, "limitprobe: expectation failed: %s: want %s, got %s\n", e.Name, e.Want, e.Got)
		}
		return worse(code, exitExpectation)
	}
	return code
}
