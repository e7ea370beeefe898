package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"limitprobe/advise"
	"limitprobe/probe"
	"limitprobe/report"
	"limitprobe/scenarios"
	"limitprobe/units"
	"limitprobe/verify"
)

const verifyExamples = `  limitprobe verify out/report.json --mock 'algorithm=token-bucket,rate=50/s,burst=10,retry_after=seconds'
  limitprobe verify out/report.json --scenario scenarios/examples/mock-token-bucket.yaml --demand 75/s --clients 8
  limitprobe verify out/report.json --target http://127.0.0.1:8080/api --demand 40/s --duration 60s --out out/
  limitprobe verify out/report.json --mock preset=nginx --policy recommended,seed,none --format markdown

Each policy faces the same demand against a limiter that has recovered: a fresh
mock per policy, or a pause before each policy against a real target. Exit 1
when the recommended policy does not hold up (a CI gate).
`

// verifyFlags are verify's flags.
type verifyFlags struct {
	target, mock, scenario, demand string
	duration, deadline, cooldown   string
	clients                        int
	policies, headers, throttle    []string
	method, out, format            string
	parallel, quiet                bool
	seed                           uint64
	network                        scenarios.NetworkFlags
}

// Defaults of verify's demand.
const (
	defaultVerifyDuration = 20 * time.Second
	defaultVerifyDeadline = 10 * time.Second
)

// register binds verify's flags to f.
func (f *verifyFlags) register(fs *flagSet) {
	fs.StringVar(&f.target, "target", "", "send the demand to this `URL` (default: the report's target)")
	fs.StringVar(&f.mock, "mock", "", "send the demand to the embedded mock with this `SPEC`, a fresh one per policy")
	fs.StringVar(&f.scenario, "scenario", "", "take the target (URL or mock, headers, throttle statuses, caps) from this scenario `FILE`")
	fs.StringVar(&f.demand, "demand", "", "the client demand, such as 40/s (default: the report's demand, else 80% of its limit)")
	fs.StringVar(&f.duration, "duration", defaultVerifyDuration.String(), "how long each policy's demand lasts")
	fs.StringVar(&f.deadline, "deadline", defaultVerifyDeadline.String(), "how long one request may take, retries included")
	fs.IntVar(&f.clients, "clients", 1, "independent callers that share the demand")
	fs.StringSliceVar(&f.policies, "policy", nil, "policies to compare, repeatable or comma-separated: "+strings.Join(verify.PolicyNames, ", ")+" (default: all)")
	fs.StringVarP(&f.out, "out", "o", "", "write verify.json, and report.json, report.md and report.html with a Verification section, to `DIR`")
	fs.StringVarP(&f.format, "format", "f", report.FormatTable, "what to print on stdout: table, markdown or json")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, "request header 'Name: value' (repeatable); values are never printed")
	fs.StringVarP(&f.method, "method", "X", "", "HTTP method (default: the report's)")
	fs.StringSliceVar(&f.throttle, "throttle-status", nil, "statuses that mean slow down (default: 429, or the mock's)")
	fs.StringVar(&f.cooldown, "cooldown", "", "pause between policies against a real target (default: from the report's window, reset and Retry-After)")
	fs.BoolVar(&f.parallel, "parallel", false, "with a mock: run the policies at once, each against its own mock (faster; latency is noisier)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the demand's schedule and the jitter")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress on stderr")
	registerNetwork(fs, &f.network)
}

func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f verifyFlags
	fs := newFlags("verify", "REPORT.json [--target URL | --mock SPEC | --scenario FILE] [flags]", verifyExamples, stdout)
	f.register(fs)
	if code, done := fs.parse(args, stderr); done {
		return code
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "limitprobe verify: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() != 1 {
		return bad("name one saved report, e.g. limitprobe verify out/report.json --mock 'algorithm=token-bucket,rate=50/s,burst=10'")
	}
	rep, err := readReport(fs.Arg(0))
	if err != nil {
		return bad("%v", err)
	}
	if rep.Recommendation.Basis == advise.BasisNone {
		return bad("%s has no recommendation to verify: %s; probe again", fs.Arg(0), rep.Inconclusive)
	}
	if f.format != report.FormatTable && f.format != report.FormatMarkdown && f.format != report.FormatJSON {
		return bad("unknown format %q; write table, markdown or json", f.format)
	}
	tg, code := f.where(rep, stderr)
	if code != exitOK {
		return code
	}
	req, err := f.request(tg)
	if err != nil {
		return bad("%v", err)
	}
	plan, err := verify.NewPlan(verify.Measured{Summary: rep.Summary, Steps: rep.Steps, Advertised: rep.Advertised,
		Recommendation: rep.Recommendation, DemandRPS: rep.Scenario.DemandRPS}, req)
	if err != nil {
		return bad("%v", err)
	}
	if !f.quiet {
		if plan.Note != "" {
			fmt.Fprintf(stderr, "verify: %s\n", plan.Note)
		}
		fmt.Fprintln(stderr, plan.Describe())
	}
	cfg := plan.Config
	pp := &verifyProgress{w: stderr, tty: isTerminal(stderr), quiet: f.quiet, duration: cfg.Demand.Duration, coolWhy: plan.CooldownWhy}
	cfg.Progress = pp.update
	cfg.Prepare = prepareMocks(plan.Target, tg.Mock)
	v, runErr := verify.Run(ctx, cfg)
	pp.clear()
	if v == nil {
		fmt.Fprintf(stderr, "limitprobe verify: %v\n", tg.Scenario.Redact(runErr.Error()))
		return exitTarget
	}
	return f.finish(rep, tg, v, runErr, stdout, stderr)
}

// finish prints and writes the verification v and returns the exit code.
func (f *verifyFlags) finish(rep *report.Report, tg *scenarios.VerifyTarget, v *verify.Verification, runErr error, stdout, stderr io.Writer) int {
	code := exitOK
	if len(v.Policies) > 0 || runErr == nil {
		if err := report.WriteVerification(stdout, v, f.format); err != nil {
			fmt.Fprintf(stderr, "limitprobe verify: %v\n", err)
			code = exitOutput
		}
	}
	if f.out != "" {
		if err := writeVerificationFiles(f.out, rep, v); err != nil {
			fmt.Fprintf(stderr, "limitprobe verify: %v\n", err)
			code = exitOutput
		} else if !f.quiet {
			fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(f.out, "{verify.json,report.json,report.md,report.html}"))
		}
	}
	switch {
	case v.Interrupted:
		fmt.Fprintln(stderr, "limitprobe verify: interrupted; the verification holds what was measured")
		return exitInterrupted
	case runErr != nil:
		msg := tg.Scenario.Redact(runErr.Error())
		if errors.Is(runErr, probe.ErrUnusable) && tg.Mock == nil && tg.FromReport {
			msg += " (the report's URL may be a mock from the probe that has since stopped: give --mock SPEC, --scenario FILE or --target URL)"
		}
		fmt.Fprintf(stderr, "limitprobe verify: %s\n", msg)
		return worse(code, exitTarget)
	case v.Verdict.Judged && !v.Verdict.Pass:
		fmt.Fprintln(stderr, "limitprobe verify: the recommended policy did not hold up")
		return worse(code, exitExpectation)
	}
	return code
}

// where turns the target flags, or else the report's own target (its
// mock, or its URL), into a checked target; nothing is sent.
func (f *verifyFlags) where(rep *report.Report, stderr io.Writer) (*scenarios.VerifyTarget, int) {
	var loaded *scenarios.Scenario
	if f.scenario != "" {
		var err error
		if f.target != "" || f.mock != "" {
			err = errors.New("limitprobe verify: give one of --target, --mock and --scenario")
		} else {
			loaded, err = scenarios.Load(f.scenario, scenarioOptions())
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return nil, exitUsage
		}
	}
	flags := scenarios.VerifyFlags{Target: f.target, Mock: f.mock, Method: f.method, Headers: f.headers, Throttle: f.throttle, Network: f.network}
	t := rep.Scenario.Target
	tg, err := flags.ForVerify(loaded, scenarios.Reported{Name: rep.Scenario.Name, URL: t.URL, Method: t.Method, Mock: rep.MockSpec()})
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "limitprobe verify: %s\n", line)
		}
		return nil, exitUsage
	}
	return tg, exitOK
}

// request turns the demand flags into the verification asked of tg.
func (f *verifyFlags) request(tg *scenarios.VerifyTarget) (verify.Request, error) {
	r := verify.Request{Scenario: tg.Scenario, Mock: tg.Mock != nil, Clients: f.clients, Policies: f.policies,
		Cooldown: verify.CooldownFromReport, Parallel: f.parallel, Seed: f.seed}
	cooldown := f.cooldown
	if r.Mock {
		cooldown = "" // fresh mocks need no pause
	}
	return r, errors.Join(parseFlag("--duration", f.duration, units.ParseDuration, &r.Duration),
		parseFlag("--deadline", f.deadline, units.ParseDuration, &r.Deadline),
		parseFlag("--demand", f.demand, units.ParseRate, &r.Demand),
		parseFlag("--cooldown", cooldown, units.ParseDuration, &r.Cooldown))
}
