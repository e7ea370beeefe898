package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

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
}

// Defaults of verify's demand.
const (
	defaultVerifyDuration = 20 * time.Second
	defaultVerifyDeadline = 10 * time.Second
	maxVerifyClients      = 1000
)

func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f verifyFlags
	fs := newFlags("verify", "REPORT.json [--target URL | --mock SPEC | --scenario FILE] [flags]", verifyExamples, stdout)
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
	plan, code := f.plan(rep, stderr)
	if code != exitOK {
		return code
	}
	if !f.quiet {
		fmt.Fprintln(stderr, plan.describe())
	}
	pp := &verifyProgress{w: stderr, tty: isTerminal(stderr), quiet: f.quiet, duration: plan.cfg.Demand.Duration}
	plan.cfg.Progress = pp.update
	plan.cfg.Prepare = plan.prepare(stderr, f.quiet)
	v, runErr := verify.Run(ctx, plan.cfg)
	pp.clear()
	if v == nil {
		fmt.Fprintf(stderr, "limitprobe verify: %v\n", plan.sc.Redact(runErr.Error()))
		return exitTarget
	}
	if len(v.Policies) > 0 || runErr == nil {
		if err := report.WriteVerification(stdout, v, f.format); err != nil {
			fmt.Fprintf(stderr, "limitprobe verify: %v\n", err)
			return exitUsage
		}
	}
	if f.out != "" {
		if err := writeVerificationFiles(f.out, rep, v); err != nil {
			fmt.Fprintf(stderr, "limitprobe verify: %v\n", err)
		} else if !f.quiet {
			fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(f.out, "{verify.json,report.json,report.md,report.html}"))
		}
	}
	switch {
	case v.Interrupted:
		fmt.Fprintln(stderr, "limitprobe verify: interrupted; the verification holds what was measured")
		return exitInterrupted
	case runErr != nil:
		msg := plan.sc.Redact(runErr.Error())
		if errors.Is(runErr, probe.ErrUnusable) && plan.cfgMock == nil && plan.fromReport {
			msg += " (the report's URL may be a mock from the probe that has since stopped: give --mock SPEC, --scenario FILE or --target URL)"
		}
		fmt.Fprintf(stderr, "limitprobe verify: %s\n", msg)
		return exitTarget
	case !v.Verdict.Judged:
		return exitOK
	case !v.Verdict.Pass:
		fmt.Fprintln(stderr, "limitprobe verify: the recommended policy did not hold up")
		return exitExpectation
	}
	return exitOK
}

// verifyPlan is a checked verification, ready to run.
type verifyPlan struct {
	cfg        verify.Config
	sc         *scenarios.Scenario // the target as a scenario: for redaction
	target     verify.Target       // a real target's request; the mock's without a URL
	cfgMock    *mock.Config        // the mock to start per policy; nil for a real target
	cooldown   time.Duration       // pause between policies against a real target
	coolWhy    string
	fromReport bool // the target is the report's own URL
}

// plan checks the flags against the report and turns them into a plan;
// nothing is sent.
func (f *verifyFlags) plan(rep *report.Report, stderr io.Writer) (*verifyPlan, int) {
	bad := func(format string, a ...any) (*verifyPlan, int) {
		fmt.Fprintf(stderr, "limitprobe verify: "+format+"\n", a...)
		return nil, exitUsage
	}
	p := &verifyPlan{}
	n := 0
	for _, s := range []string{f.target, f.mock, f.scenario} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return bad("give one of --target, --mock and --scenario")
	}
	switch {
	case f.format != report.FormatTable && f.format != report.FormatMarkdown && f.format != report.FormatJSON:
		return bad("unknown format %q; write table, markdown or json", f.format)
	case f.clients < 1 || f.clients > maxVerifyClients:
		return bad("--clients %d: write a number of callers from 1 to %d", f.clients, maxVerifyClients)
	}

	// The target, as a scenario: loaded, or built from the flags.
	var sc *scenarios.Scenario
	switch {
	case f.scenario != "":
		var err error
		if sc, err = scenarios.Load(f.scenario, scenarioOptions()); err != nil {
			fmt.Fprintln(stderr, err)
			return nil, exitUsage
		}
	case f.mock != "":
		sc = &scenarios.Scenario{Name: "mock", Target: scenarios.Target{Mock: &scenarios.Mock{}}}
		for _, kv := range splitSpec(f.mock) {
			k, v, _ := strings.Cut(kv, "=")
			sc.Target.Mock.Params = append(sc.Target.Mock.Params, scenarios.Param{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
		}
	default:
		u := f.target
		if u == "" {
			u, p.fromReport = rep.Scenario.Target.URL, true
			if u == "" {
				return bad("the report names no target URL; give --target URL, --mock SPEC or --scenario FILE")
			}
		}
		if msg := scenarios.CheckURL(u); msg != "" {
			return bad("%s", msg)
		}
		sc = &scenarios.Scenario{Name: rep.Scenario.Name, Target: scenarios.Target{URL: u, Method: rep.Scenario.Target.Method}}
	}
	t := &sc.Target
	if f.method != "" {
		t.Method = strings.ToUpper(f.method)
	}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return bad("-H %q: write 'Name: value'", redactHeader(h))
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		t.Headers = append(t.Headers, scenarios.Header{Name: k, Value: v, Secret: true})
		sc.AddSecret("-H "+k, v)
	}
	if len(f.throttle) > 0 {
		t.ThrottleStatus = nil
		for _, s := range f.throttle {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 400 || n > 599 {
				return bad("--throttle-status %q: write 4xx or 5xx statuses such as 429,503", s)
			}
			t.ThrottleStatus = append(t.ThrottleStatus, n)
		}
	}
	if t.Mock != nil {
		ps := make([]mock.Param, len(t.Mock.Params))
		for i, q := range t.Mock.Params {
			ps[i] = mock.Param{Key: q.Key, Value: q.Value}
		}
		cfg, err := mock.FromParams(ps)
		if err == nil {
			var srv *mock.Server
			if srv, err = mock.New(cfg); err == nil {
				srv.Close()
			}
		}
		if err != nil {
			return bad("mock: %v", err)
		}
		p.cfgMock = &cfg
		// What the mock throttles with is throttling, whatever else the
		// scenario lists, unless --throttle-status says otherwise.
		if st := cmp.Or(cfg.ThrottleStatus, mock.DefaultThrottleStatus); len(f.throttle) == 0 && !slices.Contains(t.ThrottleStatus, st) {
			t.ThrottleStatus = append(t.ThrottleStatus, st)
		}
	} else if f.parallel {
		return bad("--parallel needs a mock (--mock or a scenario with a mock): against a real target the policies share one limiter")
	}
	scenarios.ApplyDefaults(sc)
	p.sc = sc

	// The demand.
	d := verify.Demand{Clients: f.clients}
	var err error
	if d.Duration, err = units.ParseDuration(f.duration); err != nil {
		return bad("--duration: %v", err)
	}
	if d.Deadline, err = units.ParseDuration(f.deadline); err != nil {
		return bad("--deadline: %v", err)
	}
	limit := rep.Summary.EffectiveLimitRPS
	if dm := rep.Recommendation.Demand; dm != nil && dm.LimitRPS > 0 {
		limit = dm.LimitRPS
	}
	switch {
	case f.demand != "":
		r, err := units.ParseRate(f.demand)
		if err != nil {
			return bad("--demand: %v", err)
		}
		d.RPS = float64(r)
	case rep.Recommendation.Demand != nil && rep.Recommendation.Demand.DemandRPS > 0:
		d.RPS = rep.Recommendation.Demand.DemandRPS
	case rep.Scenario.DemandRPS > 0:
		d.RPS = rep.Scenario.DemandRPS
	case limit > 0:
		d.RPS = 0.8 * limit
		if !f.quiet {
			fmt.Fprintf(stderr, "verify: no --demand and none in the report: replaying 80%% of its limit, %s\n", units.FormatRate(d.RPS))
		}
	default:
		return bad("the report has no demand and no limit; give --demand, such as --demand 40/s")
	}

	// The policies.
	pols, err := verify.Policies(rep, f.policies)
	if err != nil {
		return bad("--policy: %v", err)
	}

	// The caps: the scenario's, or the defaults for loopback and remote
	// targets.
	caps := sc.Limits
	arrivals := d.RPS * d.Duration.Seconds()
	if d.RPS > float64(caps.MaxRate) {
		return bad("--demand %s exceeds the safety cap of %s for this target; lower it, or give a --scenario whose limits.max_rate allows it",
			units.FormatRate(d.RPS), units.FormatRate(float64(caps.MaxRate)))
	}
	if need := arrivals * float64(len(pols)); need > float64(caps.MaxRequests) {
		return bad("%d policies × %.0f requests need %.0f requests, over the safety cap of %d for this target; shorten --duration, pick fewer --policy, or give a --scenario whose limits.max_requests allows it",
			len(pols), arrivals, need, caps.MaxRequests)
	}
	if p.cfgMock == nil {
		if f.cooldown != "" {
			if p.cooldown, err = units.ParseDuration(f.cooldown); err != nil {
				return bad("--cooldown: %v", err)
			}
			p.coolWhy = "--cooldown"
		} else {
			p.cooldown, p.coolWhy = verify.Cooldown(rep)
		}
	}
	worst := time.Duration(len(pols))*(d.Duration+d.Deadline) + time.Duration(len(pols)-1)*p.cooldown
	if f.parallel {
		worst = d.Duration + d.Deadline
	}
	if worst > caps.MaxDuration {
		return bad("this verification could take up to %v (each policy's %v and the %v deadline of its last requests, and the pauses between them), over the safety cap of %v for this target; shorten --duration or --deadline, pick fewer --policy, or give a --scenario whose limits.max_duration allows it",
			worst.Round(time.Second), d.Duration, d.Deadline, caps.MaxDuration)
	}
	maxAttempts := int64(math.Max(20*math.Ceil(arrivals), 100))
	maxAttempts = min(maxAttempts, int64(caps.MaxRequests)/int64(len(pols)))

	header := http.Header{}
	for _, h := range t.Headers {
		header.Add(h.Name, h.Value)
	}
	p.target = verify.Target{URL: t.URL, Method: t.Method, Header: header, Body: t.Body,
		ThrottleStatus: t.ThrottleStatus, ThrottleBody: t.ThrottleBody, Timeout: t.Timeout}
	sustainable := rep.Recommendation.SustainableRPS
	if sustainable <= 0 {
		sustainable = rep.Recommendation.ClientRateRPS
	}
	p.cfg = verify.Config{
		Demand: d, Policies: pols, Target: sc.DisplayURL(), LimitRPS: limit, SustainableRPS: sustainable,
		Parallel: f.parallel, MaxAttempts: maxAttempts, Seed: f.seed,
	}
	return p, exitOK
}

// describe says what the verification will do, before it sends anything.
func (p *verifyPlan) describe() string {
	d := p.cfg.Demand
	var names []string
	for _, pol := range p.cfg.Policies {
		names = append(names, pol.Name)
	}
	s := fmt.Sprintf("verify %s: %s from %s for %v per policy (about %.0f requests each, at most %d attempts), deadline %v; policies %s",
		p.cfg.Target, units.FormatRate(d.RPS), pluralWord(d.Clients, "client"), d.Duration, d.RPS*d.Duration.Seconds(),
		p.cfg.MaxAttempts, d.Deadline, strings.Join(names, ", "))
	switch {
	case p.cfgMock != nil && p.cfg.Parallel:
		s += "; a fresh mock per policy, all at once"
	case p.cfgMock != nil:
		s += "; a fresh mock per policy"
	default:
		s += fmt.Sprintf("; a pause of %v between policies (%s)", p.cooldown, p.coolWhy)
	}
	return s
}

func pluralWord(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// prepare returns the Prepare of the verification: a fresh mock per
// policy, or, against a real target, a pause before every policy but the
// first so that its limiter recovers.
func (p *verifyPlan) prepare(stderr io.Writer, quiet bool) func(context.Context, int, verify.Policy) (verify.Target, func(), error) {
	return func(ctx context.Context, i int, pol verify.Policy) (verify.Target, func(), error) {
		t := p.target
		if p.cfgMock != nil {
			m, err := startMock(*p.cfgMock, "127.0.0.1:0")
			if err != nil {
				return t, nil, err
			}
			t.URL = m.url
			return t, m.stop, nil
		}
		if i > 0 && p.cooldown > 0 {
			if !quiet {
				fmt.Fprintf(stderr, "verify: waiting %v for the target's limiter to recover (%s) before %s\n", p.cooldown, p.coolWhy, pol.Name)
			}
			tm := time.NewTimer(p.cooldown)
			defer tm.Stop()
			select {
			case <-tm.C:
			case <-ctx.Done():
				return t, nil, ctx.Err()
			}
		}
		return t, nil, nil
	}
}

// verifyProgress shows verify's progress on stderr: a line per finished
// policy, and a line redrawn in place on a terminal.
type verifyProgress struct {
	w        io.Writer
	tty      bool
	quiet    bool
	duration time.Duration
	drawn    bool
}

func (vp *verifyProgress) update(pr verify.Progress) {
	if vp.quiet {
		return
	}
	if res := pr.Result; res != nil {
		vp.clear()
		fmt.Fprintf(vp.w, "verify %d/%d %-11s %5d requests  success %5.1f%%  throttled %.3g/request  retries %.3g/request  goodput %s  (%v)\n",
			pr.Index+1, pr.Count, pr.Policy, res.Requests, res.SuccessRatio*100, res.ThrottledPerRequest, res.RetriesPerRequest,
			units.FormatRate(math.Max(res.GoodputRPS, units.MinRate)), time.Duration(res.WallS*float64(time.Second)).Round(100*time.Millisecond))
		return
	}
	if !vp.tty {
		if pr.Elapsed == 0 {
			fmt.Fprintf(vp.w, "verify %d/%d %s: sending\n", pr.Index+1, pr.Count, pr.Policy)
		}
		return
	}
	fmt.Fprintf(vp.w, "\r\033[Kverify %d/%d %s  %v/%v  sent %d  ok %d  throttled %d",
		pr.Index+1, pr.Count, pr.Policy, pr.Elapsed.Round(time.Second), vp.duration, pr.Requests, pr.OK, pr.Throttled)
	vp.drawn = true
}

// clear removes the line redrawn in place, if any.
func (vp *verifyProgress) clear() {
	if vp.drawn {
		fmt.Fprint(vp.w, "\r\033[K")
		vp.drawn = false
	}
}

// writeVerificationFiles writes verify.json and the report with its
// Verification section to dir.
func writeVerificationFiles(dir string, rep *report.Report, v *report.Verification) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "verify.json"))
	if err != nil {
		return err
	}
	werr := report.WriteVerification(f, v, report.FormatJSON)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("writing verify.json: %w", werr)
	}
	withV := *rep
	withV.Verification = v
	return writeReportFiles(dir, &withV)
}
