package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"limitprobe/internal/nginxtest"
	"limitprobe/mock"
	"limitprobe/probe"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// benchCase is one limiter with a known truth.
type benchCase struct {
	name     string
	mock     string            // mock spec; or
	nginx    *nginxtest.Config // a real nginx
	truth    float64           // effective limit, requests per second (nginx: its configured rate)
	burst    int               // true burst; -1 when not meaningful
	throttle []int
	quick    bool   // part of BENCH_QUICK
	note     string // why the truth is what it is, when it needs saying
}

func cases() []benchCase {
	var cs []benchCase
	for _, r := range []float64{5, 50, 500, 2000} {
		for _, mult := range []struct {
			name string
			b    func(float64) int
		}{{"1", func(float64) int { return 1 }}, {"r", func(r float64) int { return int(r) }}, {"3r", func(r float64) int { return int(3 * r) }}} {
			b := mult.b(r)
			cs = append(cs, benchCase{name: fmt.Sprintf("token-bucket %g/s burst %s", r, mult.name), mock: fmt.Sprintf("algorithm=token-bucket,rate=%g/s,burst=%d", r, b),
				truth: r, burst: b, quick: r == 50 && mult.name == "r"})
		}
	}
	cs = append(cs,
		benchCase{name: "gcra 100/s burst 20", mock: "algorithm=gcra,rate=100/s,burst=20", truth: 100, burst: 20},
		benchCase{name: "fixed-window 100 per 10s", mock: "algorithm=fixed-window,limit=100,window=10s", truth: 10, burst: 100, quick: true},
		benchCase{name: "fixed-window 20 per 2s", mock: "algorithm=fixed-window,limit=20,window=2s", truth: 10, burst: 20},
		benchCase{name: "sliding-log 50 per 5s", mock: "algorithm=sliding-log,limit=50,window=5s", truth: 10, burst: 50},
		benchCase{name: "sliding-counter 50 per 5s", mock: "algorithm=sliding-counter,limit=50,window=5s", truth: 10, burst: 50},
		benchCase{name: "concurrency 8 @ 50ms", mock: "algorithm=concurrency,max_in_flight=8,latency=50ms", truth: 160, burst: -1, quick: true},
		benchCase{name: "concurrency 32 @ 50ms", mock: "algorithm=concurrency,max_in_flight=32,latency=50ms", truth: 640, burst: -1},
		benchCase{name: "concurrency 8 @ 200ms", mock: "algorithm=concurrency,max_in_flight=8,latency=200ms", truth: 40, burst: -1},
		benchCase{name: "concurrency 32 @ 200ms", mock: "algorithm=concurrency,max_in_flight=32,latency=200ms", truth: 160, burst: -1},
		benchCase{name: "queue 50/s burst 10", mock: "algorithm=queue,rate=50/s,burst=10", truth: 50, burst: -1},
		benchCase{name: "lockout 100 per 5s", mock: "algorithm=lockout,limit=100,window=5s", truth: 20, burst: -1},
		benchCase{name: "nginx 50r/s burst=20 nodelay", nginx: &nginxtest.Config{Rate: "50r/s", Burst: 20, NoDelay: true, Status: 429}, truth: 50, burst: 20, throttle: []int{429}, quick: true},
		benchCase{name: "nginx 20r/s burst=5 nodelay", nginx: &nginxtest.Config{Rate: "20r/s", Burst: 5, NoDelay: true}, truth: 20, burst: 5, throttle: []int{503}},
		benchCase{name: "nginx 50r/s no burst", nginx: &nginxtest.Config{Rate: "50r/s"}, truth: 50, burst: 0, throttle: []int{503},
			note: "nginx counts whole milliseconds and refuses a request fewer than 20 of them after the last: random arrivals pass from 19 ms on (up to 52.6/s), dense ones one per 20 ms, evenly paced overload one per the first multiple of its spacing from 20 ms (47.6/s at 3 ms); auto tells the clock from the send times and reports 50/s"},
	)
	return cs
}

// outcome is one tool's result on one case.
type outcome struct {
	estimate float64
	burst    int
	algo     string
	requests int64
	seconds  float64
	err      error
}

// accuracyTable is table 1: for each limiter with a known truth, the
// estimate, error and cost of limitprobe's auto strategy and of a vegeta
// breakpoint ramp, and their cost ratios.
func accuracyTable(ctx context.Context, e *env, o options) int {
	w, quick, only := e.w, o.quick, o.only
	heading(e, 1, "Accuracy and cost: limitprobe auto vs a vegeta breakpoint ramp")
	fmt.Fprintf(w, "Both tools get the same start (5/s) and max (10× the true limit, at most 4000/s).\n")
	fmt.Fprintf(w, "The ramp goes linearly from start to max in 60 s and stops when the throttled share of the last second crosses 1%%; its estimate is the rate at that moment.\n\n")
	fmt.Fprintln(w, "| limiter | truth | auto | err | burst (truth) | algorithm | requests | seconds | ramp | err | requests | seconds | req ratio | time ratio |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	var sumAutoErr, sumRampErr, sumReqRatio, sumTimeRatio float64
	var reqRatios, timeRatios []float64
	n := 0
	code := 0
	for _, c := range cases() {
		if quick && !c.quick || !selected(c.name, only) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		a := measure(ctx, c, runAuto)
		b := measure(ctx, c, runRamp)
		if a.err != nil || b.err != nil {
			fmt.Fprintf(w, "| %s | %s | error: %v | | | | | | %v | | | | | |\n", c.name, rate(c.truth), a.err, b.err)
			code = 1
			continue
		}
		ae, be := relErr(a.estimate, c.truth), relErr(b.estimate, c.truth)
		burst := "—"
		if c.burst >= 0 {
			burst = fmt.Sprintf("%d (%d)", a.burst, c.burst)
		}
		rr, tr := float64(a.requests)/math.Max(1, float64(b.requests)), a.seconds/math.Max(0.001, b.seconds)
		fmt.Fprintf(w, "| %s | %s | %s | %+.1f%% | %s | %s | %d | %.1f | %s | %+.1f%% | %d | %.1f | %.2f× | %.2f× |\n",
			c.name, rate(c.truth), rate(a.estimate), ae*100, burst, a.algo, a.requests, a.seconds, rate(b.estimate), be*100, b.requests, b.seconds, rr, tr)
		sumAutoErr += math.Abs(ae)
		sumRampErr += math.Abs(be)
		sumReqRatio += rr
		sumTimeRatio += tr
		reqRatios, timeRatios = append(reqRatios, rr), append(timeRatios, tr)
		n++
	}
	if n > 0 {
		fmt.Fprintf(w, "\nMean absolute error: auto %.1f%%, ramp %.1f%%. Mean cost ratio auto/ramp: %.2f× requests, %.2f× time (%d cases).\n",
			sumAutoErr/float64(n)*100, sumRampErr/float64(n)*100, sumReqRatio/float64(n), sumTimeRatio/float64(n), n)
		fmt.Fprintf(w, "Median cost ratio auto/ramp: %.2f× requests, %.2f× time.\n", median(reqRatios), median(timeRatios))
	}
	for _, c := range cases() {
		if c.note != "" && (!quick || c.quick) && selected(c.name, only) {
			fmt.Fprintf(w, "\n- %s: %s.", c.name, c.note)
		}
	}
	fmt.Fprintln(w)
	return max(code, quotaTable(ctx, e, o))
}

// selected reports whether the case is among -only's comma-separated
// name parts (all when empty).
func selected(name, only string) bool {
	if only == "" {
		return true
	}
	for _, part := range strings.Split(only, ",") {
		if part != "" && strings.Contains(name, part) {
			return true
		}
	}
	return false
}

func rate(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f/s", r)
	}
	return fmt.Sprintf("%.1f/s", r)
}

func relErr(got, want float64) float64 { return (got - want) / want }

type tool func(ctx context.Context, url string, c benchCase) outcome

// measure starts a fresh limiter for c (so each tool meets it idle) and runs t.
func measure(ctx context.Context, c benchCase, t tool) outcome {
	if c.nginx != nil {
		dir, err := os.MkdirTemp("", "limitprobe-bench-nginx")
		if err != nil {
			return outcome{err: err}
		}
		defer os.RemoveAll(dir)
		s, err := nginxtest.Start(ctx, dir, *c.nginx)
		if err != nil {
			return outcome{err: err}
		}
		defer s.Stop()
		return t(ctx, s.URL, c)
	}
	cfg, err := mock.ParseSpec(c.mock)
	if err != nil {
		return outcome{err: err}
	}
	ep, err := mock.Start(ctx, cfg, "127.0.0.1:0")
	if err != nil {
		return outcome{err: err}
	}
	defer ep.Close()
	return t(ctx, ep.URL+"/", c)
}

func maxRate(c benchCase) float64 { return math.Min(4000, 10*c.truth) }

func throttle(c benchCase) []int {
	if len(c.throttle) > 0 {
		return c.throttle
	}
	return []int{429}
}

func runAuto(ctx context.Context, url string, c benchCase) outcome {
	sc := &scenarios.Scenario{Name: c.name, Target: scenarios.Target{URL: url, ThrottleStatus: throttle(c)},
		Probe: scenarios.Probe{Strategy: scenarios.StrategyAuto, Start: 5, Max: units.Rate(maxRate(c))}}
	scenarios.ApplyDefaults(sc)
	run, err := probe.Execute(ctx, sc, probe.Options{})
	if err != nil {
		return outcome{err: err}
	}
	s := run.Summary
	est := s.EffectiveLimitRPS
	return outcome{estimate: est, burst: s.Burst, algo: s.Algorithm, requests: run.RequestsSent, seconds: run.DurationS}
}

// runRamp is the baseline: vegeta's linear pacer from start to max over
// 60 s, stopped when the last second's throttled share crosses 1%.
func runRamp(ctx context.Context, url string, c benchCase) outcome {
	const start, rampFor, threshold = 5.0, 60 * time.Second, 0.01
	top := maxRate(c)
	slope := (top - start) / rampFor.Seconds()
	atk := vegeta.NewAttacker(vegeta.Timeout(10*time.Second), vegeta.MaxBody(0), vegeta.KeepAlive(true))
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	pacer := vegeta.LinearPacer{StartAt: vegeta.Rate{Freq: int(start), Per: time.Second}, Slope: slope}
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url})
	isThrottle := map[uint16]bool{}
	for _, s := range throttle(c) {
		isThrottle[uint16(s)] = true
	}
	// Sends and throttles per 100 ms slot, by send time, for the last second.
	var sent, thr [10]int
	slot := -1
	began := time.Now()
	var n int64
	est := 0.0
	for res := range atk.Attack(tr, pacer, rampFor+5*time.Second, "ramp") {
		n++
		off := res.Timestamp.Sub(began)
		s := int(off / (100 * time.Millisecond))
		for slot < s {
			slot++
			sent[slot%10], thr[slot%10] = 0, 0
		}
		if s > slot-10 {
			sent[s%10]++
			if isThrottle[res.Code] {
				thr[s%10]++
			}
		}
		var ts, tt int
		for i := range sent {
			ts += sent[i]
			tt += thr[i]
		}
		if est == 0 && ts >= 10 && float64(tt) > threshold*float64(ts) {
			est = start + slope*off.Seconds()
			atk.Stop()
		}
	}
	if est == 0 {
		est = top
	}
	return outcome{estimate: est, requests: n, seconds: time.Since(began).Seconds()}
}
