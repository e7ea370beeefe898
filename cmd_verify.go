package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"limitprobe/advise"
	"limitprobe/mock"
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
	cfg.Prepare = prepare(plan.Target, tg.cfgMock)
	v, runErr := verify.Run(ctx, cfg)
	pp.clear()
	if v == nil {
		fmt.Fprintf(stderr, "limitprobe verify: %v\n", tg.sc.Redact(runErr.Error()))
		return exitTarget
	}
	return f.finish(rep, tg, v, runErr, stdout, stderr)
}

// finish prints and writes the verification v and returns the exit code.
func (f *verifyFlags) finish(rep *report.Report, tg *verifyTarget, v *verify.Verification, runErr error, stdout, stderr io.Writer) int {
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
		msg := tg.sc.Redact(runErr.Error())
		if errors.Is(runErr, probe.ErrUnusable) && tg.cfgMock == nil && tg.fromReport {
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

// verifyTarget is where a verification sends its demand.
type verifyTarget struct {
	sc         *scenarios.Scenario // the target as a scenario, defaults applied; for redaction
	cfgMock    *mock.Config        // the mock to start per policy; nil for a real target
	fromReport bool                // the target is the report's own URL
}

// where turns the target flags, or else the report's own target (its
// mock, or its URL), into a checked scenario; nothing is sent.
func (f *verifyFlags) where(rep *report.Report, stderr io.Writer) (*verifyTarget, int) {
	bad := func(format string, a ...any) (*verifyTarget, int) {
		fmt.Fprintf(stderr, "limitprobe verify: "+format+"\n", a...)
		return nil, exitUsage
	}
	p := &verifyTarget{}
	n := 0
	for _, s := range []string{f.target, f.mock, f.scenario} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return bad("give one of --target, --mock and --scenario")
	}

	// The target, as a scenario: loaded, or built from the flags.
	var sc *scenarios.Scenario
	spec := f.mock
	if n == 0 {
		spec = reportMock(rep)
	}
	switch {
	case f.scenario != "":
		var err error
		if sc, err = scenarios.Load(f.scenario, scenarioOptions()); err != nil {
			fmt.Fprintln(stderr, err)
			return nil, exitUsage
		}
	case spec != "":
		m, err := scenarios.MockSpec(spec)
		if err != nil {
			return bad("mock: %v", err)
		}
		sc = &scenarios.Scenario{Name: "mock", Target: scenarios.Target{Mock: m}}
	default:
		u := f.target
		if u == "" {
			u, p.fromReport = rep.Scenario.Target.URL, true
			if u == "" {
				return bad("the report names no target URL; give --target URL, --mock SPEC or --scenario FILE")
			}
			if strings.Contains(u, "***") || strings.Contains(u, "${") {
				return bad("the report's URL %s had its secrets removed; give --scenario FILE (its ${VAR}s come from the environment) or --target URL", u)
			}
		}
		sc = &scenarios.Scenario{Name: rep.Scenario.Name, Target: scenarios.Target{URL: u, Method: rep.Scenario.Target.Method}}
	}
	t := &sc.Target
	if f.method != "" {
		t.Method = strings.ToUpper(f.method)
	}
	for _, h := range f.headers {
		hd, err := scenarios.HeaderFlag(h)
		if err != nil {
			return bad("%v", err)
		}
		t.Headers = append(t.Headers, hd)
		sc.AddSecret(hd.Value.Reveal())
	}
	if len(f.throttle) > 0 {
		t.ThrottleStatus = nil
		for _, s := range f.throttle {
			n, err := scenarios.ThrottleStatusFlag(s)
			if err != nil {
				return bad("%v", err)
			}
			t.ThrottleStatus = append(t.ThrottleStatus, n)
		}
	}
	if t.Mock != nil {
		var err error
		if p.cfgMock, err = verifyMock(t, len(f.throttle) > 0); err != nil {
			return bad("mock: %v", err)
		}
	}
	scenarios.ApplyDefaults(sc)
	probs := f.network.Apply(t)
	if probs = append(probs, scenarios.CheckNamed(sc, verifyFlag)...); len(probs) > 0 {
		for _, pr := range probs {
			fmt.Fprintf(stderr, "limitprobe verify: %v\n", pr)
		}
		return nil, exitUsage
	}
	p.sc = sc
	return p, exitOK
}

// verifyFlag names the flag of verify that sets a scenario key.
func verifyFlag(key string) string {
	switch {
	case key == "target.url":
		return "--target"
	case key == "target.method":
		return "-X"
	case strings.HasPrefix(key, "target.headers."):
		return "-H " + strings.TrimPrefix(key, "target.headers.")
	}
	return scenarios.ProbeFlag(key)
}

// verifyMock checks the mock of t and returns its configuration. What the
// mock throttles with is added to t's throttle statuses, whatever else the
// scenario lists, unless they were given on the command line.
func verifyMock(t *scenarios.Target, throttleGiven bool) (*mock.Config, error) {
	cfg, err := t.Mock.Config()
	if err != nil {
		return nil, err
	}
	if st := cmp.Or(cfg.ThrottleStatus, mock.DefaultThrottleStatus); !throttleGiven && !slices.Contains(t.ThrottleStatus, st) {
		t.ThrottleStatus = append(t.ThrottleStatus, st)
	}
	return &cfg, nil
}

// reportMock is the spec of the embedded mock a report was made against;
// "" for a real target. A report written before scenario.target.mock
// existed names the mock in its URL: "mock algorithm=...".
func reportMock(rep *report.Report) string {
	if spec := rep.Scenario.Target.Mock; spec != "" {
		return spec
	}
	if spec, ok := strings.CutPrefix(rep.Scenario.Target.URL, "mock "); ok {
		return spec
	}
	return ""
}

// request turns the demand flags into the verification asked of tg.
func (f *verifyFlags) request(tg *verifyTarget) (verify.Request, error) {
	r := verify.Request{Scenario: tg.sc, Mock: tg.cfgMock != nil, Clients: f.clients, Policies: f.policies,
		Cooldown: verify.CooldownFromReport, Parallel: f.parallel, Seed: f.seed}
	var err error
	if r.Duration, err = units.ParseDuration(f.duration); err != nil {
		return r, fmt.Errorf("--duration: %w", err)
	}
	if r.Deadline, err = units.ParseDuration(f.deadline); err != nil {
		return r, fmt.Errorf("--deadline: %w", err)
	}
	if f.demand != "" {
		if r.Demand, err = units.ParseRate(f.demand); err != nil {
			return r, fmt.Errorf("--demand: %w", err)
		}
	}
	if f.cooldown != "" && !r.Mock {
		if r.Cooldown, err = units.ParseDuration(f.cooldown); err != nil {
			return r, fmt.Errorf("--cooldown: %w", err)
		}
	}
	return r, nil
}

// prepare returns the Prepare of a verification: a fresh mock per policy
// when cfgMock is set, else the real target t as it is.
func prepare(t verify.Target, cfgMock *mock.Config) func(context.Context, int, verify.Policy) (verify.Target, func(), error) {
	return func(context.Context, int, verify.Policy) (verify.Target, func(), error) {
		if cfgMock == nil {
			return t, nil, nil
		}
		m, err := startMock(*cfgMock, "127.0.0.1:0")
		if err != nil {
			return t, nil, err
		}
		mt := t
		mt.URL = m.url
		return mt, m.stop, nil
	}
}
