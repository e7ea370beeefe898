package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"limitprobe/estimate"
	"limitprobe/mock"
	"limitprobe/probe"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// quotaCase is a window quota with a known truth and what auto may spend
// to report it (the goals of issue 16).
type quotaCase struct {
	name     string
	mock     string
	share    float64 // limits.max_quota_share; 0 for the loopback default
	limit    float64 // the binding quota
	windowS  float64 // its window; for lowerBound, the most the least window may be
	lowerBnd bool    // only a least window can be reported within the share
	maxReq   int64   // at most, requests
	maxS     float64 // at most, seconds
	policies int     // policies to report
	// phase, when set, shifts the mock's clock so that the run begins this
	// far into one of its clock-aligned windows.
	phase time.Duration
	quick bool
}

func quotaCases() []quotaCase {
	return []quotaCase{
		{name: "hf-hub 1000 per 300 s, headers", mock: "preset=hf-hub", share: 0.1, limit: 1000, windowS: 300, maxReq: 100, maxS: 30, policies: 1, quick: true},
		{name: "github 5000 per hour, 403", mock: "preset=github", share: 0.1, limit: 5000, windowS: 3600, maxReq: 100, maxS: 30, policies: 1},
		{name: "500 per 120 s, no headers, share 10%", mock: "algorithm=fixed-window,limit=500,window=2m", share: 0.1, limit: 500, windowS: 120, lowerBnd: true, maxReq: 550, maxS: 135, policies: 1, phase: 50 * time.Second},
		{name: "500 per 120 s, no headers, share 100%", mock: "algorithm=fixed-window,limit=500,window=2m", share: 1, limit: 500, windowS: 120, maxReq: 1250, maxS: 255, policies: 1, phase: 50 * time.Second},
		{name: "bucket 20/s burst 40 under 2000 per hour", mock: "algorithm=token-bucket,rate=20/s,burst=40,quota=2000/1h,headers=ietf", share: 0.1, limit: 2000, windowS: 3600, maxReq: 200, maxS: 30, policies: 2},
		{name: "10000 per day, headers", mock: "algorithm=fixed-window,limit=10000,window=24h,headers=ietf", share: 0.1, limit: 10000, windowS: 86400, maxReq: 100, maxS: 30, policies: 1},
	}
}

// quotaTable is the second part of table 1: auto against window quotas,
// what it reports and what it spends, against the bounds it must keep.
func quotaTable(ctx context.Context, e *env, o options) int {
	w := e.w
	fmt.Fprintf(w, "\n### Window quotas: what auto reports and spends\n\n")
	fmt.Fprintf(w, "auto (start 5/s, max 1000/s) against each quota with `limits.max_quota_share` as given; a pass keeps the quota and window within 3%% (or, within a 10%% share without headers, reports a window of at least some seconds up to the truth) and spends no more than the bounds. ")
	fmt.Fprintf(w, "The runs without headers begin 50 s into a window (the mock's clock is shifted): a run whose burst falls within 10 s of a boundary sees the window reopen during auto's recovery polls, reads it as a short window and ramps through it (about 10 s ÷ 120 s of runs).\n\n")
	fmt.Fprintln(w, "| quota | share | reported (binding) | kind | source | policies | requests (≤) | seconds (≤) | pass |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	code := 0
	for _, c := range quotaCases() {
		if o.quick && !c.quick || !selected(c.name, o.only) || ctx.Err() != nil {
			continue
		}
		run, err := quotaProbe(ctx, c)
		if err != nil {
			fmt.Fprintf(w, "| %s | %s | error: %v | | | | | | ✗ |\n", c.name, units.PercentWhole(c.share), err)
			code = 1
			continue
		}
		b, _ := bindingOf(run.Summary)
		ok := quotaPass(c, run, b)
		if !ok {
			code = 1
		}
		src := b.Source
		if b.Consistent && b.Checked > 0 && b.Source == estimate.SourceAdvertised {
			src = fmt.Sprintf("advertised, consistent with %d", b.Checked)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %d | %d (%d) | %.1f (%.0f) | %s |\n", c.name, units.PercentWhole(c.share), b.PerWindow(),
			orDash(b.Kind), src, len(run.Summary.Policies), run.RequestsSent, c.maxReq, run.DurationS, c.maxS, map[bool]string{true: "✓", false: "✗"}[ok])
	}
	return code
}

// quotaProbe runs auto against a fresh mock of c.
func quotaProbe(ctx context.Context, c quotaCase) (*probe.Run, error) {
	cfg, err := mock.ParseSpec(c.mock)
	if err != nil {
		return nil, err
	}
	if c.phase > 0 {
		w := time.Duration(c.windowS * float64(time.Second))
		cfg.Now = mock.SteadyClock(c.phase - time.Duration(time.Now().UnixNano()%int64(w)))
	}
	ep, err := mock.Start(ctx, cfg, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ep.Close()
	sc := &scenarios.Scenario{Name: c.name, Target: scenarios.Target{URL: ep.URL + "/"},
		Probe: scenarios.Probe{Strategy: scenarios.StrategyAuto, Start: 5, Max: 1000}, Limits: scenarios.Limits{MaxQuotaShare: c.share}}
	scenarios.ApplyDefaults(sc)
	return probe.Execute(ctx, sc, probe.Options{})
}

func bindingOf(s estimate.Summary) (estimate.Policy, bool) {
	for _, p := range s.Policies {
		if p.Binding {
			return p, true
		}
	}
	return estimate.Policy{}, false
}

// quotaPass checks a run of c against its truth and bounds.
func quotaPass(c quotaCase, run *probe.Run, b estimate.Policy) bool {
	near := func(got, want float64) bool { return math.Abs(got-want) <= 0.03*want }
	window := near(b.WindowS, c.windowS)
	if c.lowerBnd {
		window = b.WindowS == 0 && b.WindowMinS > 0 && b.WindowMinS <= c.windowS*1.01
	}
	return near(b.Limit, c.limit) && window && len(run.Summary.Policies) == c.policies &&
		run.RequestsSent <= c.maxReq && run.DurationS <= c.maxS
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
