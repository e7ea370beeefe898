package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"strings"
	"time"

	"github.com/go-chi/httprate"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"limitprobe/internal/haproxytest"
	"limitprobe/internal/nginxtest"
	"limitprobe/internal/toxitest"
	"limitprobe/mock"
	"limitprobe/probe"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// benchCase is one limiter with a known truth.
type benchCase struct {
	name    string
	mock    string            // mock spec; or
	nginx   *nginxtest.Config // a real nginx; or
	haproxy *haproxytest.Config
	// guard is a Go library's middleware, served in this process in front
	// of the backend (or of a handler that answers at once); or
	guard    func(http.Handler) http.Handler
	truth    float64 // effective limit, requests per second (nginx: its configured rate; a mock's comes from its Truth)
	burst    int     // true burst; -1 when not meaningful
	inFlight int     // a cap's requests in flight at the server; 0 for other limiters
	algo     string  // the algorithm a right answer names
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
				truth: r, burst: b, algo: "token-bucket", quick: r == 50 && mult.name == "r"})
		}
	}
	cs = append(cs,
		benchCase{name: "gcra 100/s burst 20", mock: "algorithm=gcra,rate=100/s,burst=20", truth: 100, burst: 20, algo: "token-bucket"},
		benchCase{name: "fixed-window 100 per 10s", mock: "algorithm=fixed-window,limit=100,window=10s", truth: 10, burst: 100, algo: "fixed-window", quick: true},
		benchCase{name: "fixed-window 20 per 2s", mock: "algorithm=fixed-window,limit=20,window=2s", truth: 10, burst: 20, algo: "fixed-window"},
		benchCase{name: "sliding-log 50 per 5s", mock: "algorithm=sliding-log,limit=50,window=5s", truth: 10, burst: 50, algo: "sliding-window"},
		benchCase{name: "sliding-counter 50 per 5s", mock: "algorithm=sliding-counter,limit=50,window=5s", truth: 10, burst: 50, algo: "sliding-window"},
		benchCase{name: "concurrency 8 @ 50ms", mock: "algorithm=concurrency,max_in_flight=8,latency=50ms", truth: 160, burst: -1, inFlight: 8, algo: "concurrency", quick: true},
		benchCase{name: "concurrency 32 @ 50ms", mock: "algorithm=concurrency,max_in_flight=32,latency=50ms", truth: 640, burst: -1, inFlight: 32, algo: "concurrency"},
		benchCase{name: "concurrency 8 @ 200ms", mock: "algorithm=concurrency,max_in_flight=8,latency=200ms", truth: 40, burst: -1, inFlight: 8, algo: "concurrency"},
		benchCase{name: "concurrency 32 @ 200ms", mock: "algorithm=concurrency,max_in_flight=32,latency=200ms", truth: 160, burst: -1, inFlight: 32, algo: "concurrency"},
		benchCase{name: "queue 50/s burst 10", mock: "algorithm=queue,rate=50/s,burst=10", truth: 50, burst: -1, algo: "queue"},
		benchCase{name: "lockout 100 per 5s", mock: "algorithm=lockout,limit=100,window=5s", truth: 20, burst: -1, algo: "lockout"},
		benchCase{name: "nginx 50r/s burst=20 nodelay", nginx: &nginxtest.Config{Rate: "50r/s", Burst: 20, NoDelay: true, Status: 429}, truth: 50, burst: 20, algo: "token-bucket", throttle: []int{429}, quick: true},
		benchCase{name: "nginx 20r/s burst=5 nodelay", nginx: &nginxtest.Config{Rate: "20r/s", Burst: 5, NoDelay: true}, truth: 20, burst: 5, algo: "token-bucket", throttle: []int{503}},
		benchCase{name: "nginx 50r/s no burst", nginx: &nginxtest.Config{Rate: "50r/s"}, truth: 50, burst: 0, algo: "token-bucket", throttle: []int{503},
			note: "nginx counts whole milliseconds and refuses a request fewer than 20 of them after the last: random arrivals pass from 19 ms on (up to 52.6/s), dense ones one per 20 ms, evenly paced overload one per the first multiple of its spacing from 20 ms (47.6/s at 3 ms); auto tells the clock from the send times and reports 50/s"},
		benchCase{name: "haproxy 50 per 5s admitted", haproxy: &haproxytest.Config{Limit: 50, Period: 5 * time.Second}, truth: 10, burst: 50, algo: "sliding-window",
			note: "HAProxy's gpc0_rate(5s), a sliding counter, incremented only past the deny rule"},
		benchCase{name: "haproxy 50 per 5s every request", haproxy: &haproxytest.Config{Limit: 50, Period: 5 * time.Second, CountRefused: true}, truth: 10, burst: 50, algo: "lockout",
			note: "HAProxy's sc_http_req_rate(0) gt 50, a sliding counter of every request, refused ones too: a client that goes on sending stays shut out"},
		benchCase{name: "go-chi/httprate 30 per 3s", guard: func(next http.Handler) http.Handler { return httprate.LimitByIP(30, 3*time.Second)(next) },
			truth: 10, burst: 30, algo: "sliding-window",
			note: "go-chi/httprate's LimitByIP(30, 3s): a sliding counter that admits while its count rounds below 30, its windows from the limiter's making"},
		benchCase{name: "preset hf-endpoint (TGI, 128 in flight)", mock: "preset=hf-endpoint", burst: -1, inFlight: 128, algo: "concurrency"},
		benchCase{name: "preset openai (bucket 50/s burst 100)", mock: "preset=openai", truth: 50, burst: 100, algo: "token-bucket"},
		benchCase{name: "preset nginx (queue 10/s burst 20)", mock: "preset=nginx", truth: 10, burst: -1, algo: "queue", throttle: []int{503}},
	)
	return cs
}

// condition is how a limiter is reached: the network between the tools
// and it, and how slowly the backend behind it answers.
type condition struct {
	name, short string
	// latency, when set, is the mock's latency of admitted requests (a
	// backend behind the limiter); nginx passes them to a mock with it.
	latency string
	// delay, when set, puts toxiproxy between the tools and the limiter.
	delay *toxitest.Delay
}

var conditions = []condition{
	{name: "loopback", short: "loopback"},
	{name: "a slow backend: log-normal latency on successes, median 300 ms, σ 0.8 (p99 1.93 s)", short: "slow backend", latency: "lognormal:300ms,1929ms"},
	{name: "a network between: toxiproxy, 50±20 ms each way", short: "50±20 ms", delay: &toxitest.Delay{Latency: 50 * time.Millisecond, Jitter: 20 * time.Millisecond}},
}

// outcome is one tool's result on one case.
type outcome struct {
	estimate float64
	burst    int
	inFlight int // the cap on requests in flight auto reports
	algo     string
	conf     float64 // auto's confidence
	requests int64
	seconds  float64
	err      error
	// run is auto's run, for its evidence; nil for the ramp.
	run *probe.Run
}

// score sums one tool's results over the cases of a condition.
type score struct {
	n, named, within3, within5, burstOK, burstN int
	capOK, capN                                 int
	absErr                                      float64
	reqRatios, timeRatios                       []float64
	over60                                      []string
	// sure counts estimates that claimed a confidence of 0.8 or more, and
	// sureRight those of them that were right; wrongSure counts wrong
	// algorithms claimed above 0.5.
	sure, sureRight, wrongSure int
}

// accuracyTable is table 1: for each limiter with a known truth, under
// each condition, the estimate, error, algorithm and burst of limitprobe's
// auto strategy and the estimate of a vegeta breakpoint ramp, with the
// cost of each.
func accuracyTable(ctx context.Context, e *env, o options) int {
	w, quick, only := e.w, o.quick, o.only
	heading(e, 1, "Accuracy and cost: limitprobe auto vs a vegeta breakpoint ramp")
	fmt.Fprintf(w, "Both tools get the same start (5/s) and max (10× the true limit, at most 4000/s).\n")
	fmt.Fprintf(w, "The ramp goes linearly from start to max in 60 s and stops when the throttled share of the last second crosses 1%%; its estimate is the rate at that moment.\n")
	fmt.Fprintf(w, "Each case runs under three conditions:\n")
	for _, c := range conditions {
		fmt.Fprintf(w, "- **%s**: %s\n", c.short, c.name)
	}
	fmt.Fprintln(w, "\nA case is **right** when auto's estimate is within ±3% of the truth and it names the algorithm; a burst is right within ±10% or ±2 requests, a cap on requests in flight (the server's) within ±1.")
	fmt.Fprintln(w, "\n| limiter | condition | truth | auto | err | named | confidence | burst or cap (truth) | requests | seconds | ramp | err | requests | seconds |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	tox, err := e.toxiproxy(ctx)
	if err != nil {
		fmt.Fprintf(w, "\ntoxiproxy: %v\n", err)
		return 1
	}
	if tox != nil {
		defer tox.Stop()
	}
	scores := map[string]*score{}
	code := 0
	for _, c := range cases() {
		for _, cond := range conditions {
			if quick && !c.quick || !selected(c.name+" "+cond.short, only) {
				continue
			}
			if ctx.Err() != nil {
				break
			}
			truth, a := measure(ctx, c, cond, tox, runAuto)
			if o.keep != "" && a.err == nil && !right(c, truth, a) {
				if file, _, err := a.run.Recording().Save(o.keep, c.name+" "+cond.short); err != nil {
					fmt.Fprintf(e.log, "bench: keeping the run: %v\n", err)
				} else {
					fmt.Fprintf(e.log, "bench: %s %s read wrong; its evidence is in %s\n", c.name, cond.short, file)
				}
			}
			a.run = nil
			_, b := measure(ctx, c, cond, tox, runRamp)
			if a.err != nil || b.err != nil {
				fmt.Fprintf(w, "| %s | %s | %s | error: %v | | | | | | | %v | | | |\n", c.name, cond.short, rate(truth), a.err, b.err)
				code = 1
				continue
			}
			sc := scores[cond.short]
			if sc == nil {
				sc = &score{}
				scores[cond.short] = sc
			}
			writeRow(w, c, cond, truth, a, b, sc)
		}
	}
	fmt.Fprintln(w)
	for _, cond := range conditions {
		sc := scores[cond.short]
		if sc == nil || sc.n == 0 {
			continue
		}
		fmt.Fprintf(w, "- **%s** (%d cases): within ±3%% and named right %d; within ±5%% %d; named right %d; bursts right %d of %d; caps in flight right (±1) %d of %d; mean absolute error %.1f%%; median cost auto/ramp %.2f× requests, %.2f× time",
			cond.short, sc.n, sc.within3, sc.within5, sc.named, sc.burstOK, sc.burstN, sc.capOK, sc.capN, sc.absErr/float64(sc.n)*100, median(sc.reqRatios), median(sc.timeRatios))
		if len(sc.over60) > 0 {
			fmt.Fprintf(w, "; over 60 s: %s", strings.Join(sc.over60, ", "))
		}
		fmt.Fprintln(w, ".")
	}
	var all score
	for _, sc := range scores {
		all.sure += sc.sure
		all.sureRight += sc.sureRight
		all.wrongSure += sc.wrongSure
	}
	if all.sure > 0 {
		fmt.Fprintf(w, "- **confidence**: %d estimates claimed 0.8 or more, %d of them right (%.0f%%); %d named a wrong algorithm with more than 0.5.\n",
			all.sure, all.sureRight, 100*float64(all.sureRight)/float64(all.sure), all.wrongSure)
	}
	for _, c := range cases() {
		if c.note != "" && (!quick || c.quick) && selected(c.name, only) {
			fmt.Fprintf(w, "\n- %s: %s.", c.name, c.note)
		}
	}
	fmt.Fprintln(w)
	return max(code, quotaTable(ctx, e, o))
}

// writeRow writes one case under one condition and adds it to the score.
func writeRow(w io.Writer, c benchCase, cond condition, truth float64, a, b outcome, sc *score) {
	ae, be := relErr(a.estimate, truth), relErr(b.estimate, truth)
	named := a.algo == c.algo
	good := right(c, truth, a)
	burst := "—"
	if c.inFlight > 0 {
		burst = fmt.Sprintf("cap %d (%d)", a.inFlight, c.inFlight)
		sc.capN++
		if a.inFlight >= c.inFlight-1 && a.inFlight <= c.inFlight+1 {
			sc.capOK++
		}
	}
	if c.burst >= 0 {
		burst = fmt.Sprintf("%d (%d)", a.burst, c.burst)
		sc.burstN++
		if math.Abs(float64(a.burst-c.burst)) <= math.Max(2, 0.1*float64(c.burst)) {
			sc.burstOK++
		}
	}
	mark := "no: " + a.algo
	if named {
		mark = "yes"
		sc.named++
	}
	sc.n++
	sc.absErr += math.Abs(ae)
	if good {
		sc.within3++
	}
	if a.conf >= 0.8 {
		sc.sure++
		if good {
			sc.sureRight++
		}
	}
	if !named && a.conf > 0.5 {
		sc.wrongSure++
	}
	if math.Abs(ae) <= 0.05 {
		sc.within5++
	}
	if a.seconds > 60 {
		sc.over60 = append(sc.over60, fmt.Sprintf("%s (%.0f s)", c.name, a.seconds))
	}
	sc.reqRatios = append(sc.reqRatios, float64(a.requests)/math.Max(1, float64(b.requests)))
	sc.timeRatios = append(sc.timeRatios, a.seconds/math.Max(0.001, b.seconds))
	fmt.Fprintf(w, "| %s | %s | %s | %s | %+.1f%% | %s | %.2f | %s | %d | %.1f | %s | %+.1f%% | %d | %.1f |\n",
		c.name, cond.short, rate(truth), rate(a.estimate), ae*100, mark, a.conf, burst, a.requests, a.seconds, rate(b.estimate), be*100, b.requests, b.seconds)
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

type tool func(ctx context.Context, url string, c benchCase, truth float64) outcome

// right reports whether auto's reading of c is right: the algorithm
// named, the rate within ±3% of the truth.
func right(c benchCase, truth float64, a outcome) bool {
	return a.algo == c.algo && math.Abs(relErr(a.estimate, truth)) <= 0.03
}

// measure starts a fresh limiter for c under cond (so each tool meets it
// idle), runs t against it and returns the truth and t's outcome.
func measure(ctx context.Context, c benchCase, cond condition, tox *toxitest.Server, t tool) (float64, outcome) {
	url, truth, stop, err := startLimiter(ctx, c, cond)
	if err != nil {
		return truth, outcome{err: err}
	}
	defer stop()
	if cond.delay != nil {
		proxied, err := proxy(tox, url, *cond.delay)
		if err != nil {
			return truth, outcome{err: err}
		}
		url = proxied
	}
	return truth, t(ctx, url, c, truth)
}

// startLimiter serves c's limiter under cond and returns its URL and truth.
func startLimiter(ctx context.Context, c benchCase, cond condition) (url string, truth float64, stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	serve := func(spec string) (*mock.Endpoint, error) {
		cfg, err := mock.ParseSpec(spec)
		if err != nil {
			return nil, err
		}
		ep, err := mock.Start(ctx, cfg, "127.0.0.1:0")
		if err == nil {
			stops = append(stops, func() { ep.Close() })
		}
		return ep, err
	}
	// A real limiter passes admitted requests to a mock with the
	// condition's latency, when it has one.
	startReal := func(name string, start func(dir, upstream string) (string, func(), error)) (string, float64, func(), error) {
		upstream := ""
		if cond.latency != "" {
			backend, err := serve("algorithm=none,latency=" + cond.latency)
			if err != nil {
				return "", c.truth, stop, err
			}
			upstream = strings.TrimPrefix(backend.URL, "http://")
		}
		dir, err := os.MkdirTemp("", "limitprobe-bench-"+name)
		if err != nil {
			return "", c.truth, stop, err
		}
		stops = append(stops, func() { os.RemoveAll(dir) })
		url, stopIt, err := start(dir, upstream)
		if err != nil {
			return "", c.truth, stop, err
		}
		stops = append(stops, stopIt)
		return url, c.truth, stop, nil
	}
	switch {
	case c.nginx != nil:
		return startReal("nginx", func(dir, upstream string) (string, func(), error) {
			cfg := *c.nginx
			cfg.Upstream = upstream
			s, err := nginxtest.Start(ctx, dir, cfg)
			if err != nil {
				return "", nil, err
			}
			return s.URL, s.Stop, nil
		})
	case c.haproxy != nil:
		return startReal("haproxy", func(dir, upstream string) (string, func(), error) {
			cfg := *c.haproxy
			cfg.Upstream = upstream
			s, err := haproxytest.Start(ctx, dir, cfg)
			if err != nil {
				return "", nil, err
			}
			return s.URL, s.Stop, nil
		})
	case c.guard != nil:
		return startReal("library", func(_, upstream string) (string, func(), error) {
			var next http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
			if upstream != "" {
				next = httputil.NewSingleHostReverseProxy(&neturl.URL{Scheme: "http", Host: upstream})
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return "", nil, err
			}
			srv := &http.Server{Handler: c.guard(next), ReadHeaderTimeout: 10 * time.Second}
			go srv.Serve(ln)
			return "http://" + ln.Addr().String() + "/", func() { srv.Close() }, nil
		})
	}
	spec := c.mock
	if cond.latency != "" {
		// The condition's backend replaces a latency the case sets.
		var kept []string
		for _, kv := range strings.Split(spec, ",") {
			if !strings.HasPrefix(kv, "latency=") {
				kept = append(kept, kv)
			}
		}
		spec = strings.Join(append(kept, "latency="+cond.latency), ",")
	}
	ep, err := serve(spec)
	if err != nil {
		return "", c.truth, stop, err
	}
	return ep.URL + "/", ep.Truth().EffectiveLimitRPS, stop, nil
}

// proxy puts a new toxiproxy proxy with delay d in front of url.
func proxy(tox *toxitest.Server, url string, d toxitest.Delay) (string, error) {
	if tox == nil {
		return "", fmt.Errorf("no toxiproxy")
	}
	rest := strings.TrimPrefix(url, "http://")
	host, path, _ := strings.Cut(rest, "/")
	proxySeq++
	addr, err := tox.Proxy(fmt.Sprintf("bench%d", proxySeq), host, d)
	if err != nil {
		return "", err
	}
	return "http://" + addr + "/" + path, nil
}

var proxySeq int

func maxRate(truth float64) float64 { return math.Min(4000, 10*truth) }

func throttle(c benchCase) []int {
	if len(c.throttle) > 0 {
		return c.throttle
	}
	return []int{429}
}

func runAuto(ctx context.Context, url string, c benchCase, truth float64) outcome {
	sc := &scenarios.Scenario{Name: c.name, Target: scenarios.Target{URL: url, ThrottleStatus: throttle(c)},
		Probe: scenarios.Probe{Strategy: scenarios.StrategyAuto, Start: 5, Max: units.Rate(maxRate(truth))}}
	scenarios.ApplyDefaults(sc)
	run, err := probe.Execute(ctx, sc, probe.Options{})
	if err != nil {
		return outcome{err: err}
	}
	s := run.Summary
	est := s.EffectiveLimitRPS
	return outcome{estimate: est, burst: s.Burst, inFlight: s.MaxInFlight, algo: s.Algorithm, conf: s.Confidence, requests: run.RequestsSent, seconds: run.DurationS, run: run}
}

// runRamp is the baseline: vegeta's linear pacer from start to max over
// 60 s, stopped when the last second's throttled share crosses 1%.
func runRamp(ctx context.Context, url string, c benchCase, truth float64) outcome {
	const start, rampFor, threshold = 5.0, 60 * time.Second, 0.01
	top := maxRate(truth)
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

// toxiproxy starts the toxiproxy server the delayed condition needs;
// building it the first time takes about a minute.
func (e *env) toxiproxy(ctx context.Context) (*toxitest.Server, error) {
	fmt.Fprintln(e.log, "bench: starting toxiproxy (built once with go install)...")
	return toxitest.Start(ctx)
}
