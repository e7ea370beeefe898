package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"limitprobe/internal/nginxtest"
)

// limiterServer is one server table 3 drives with wrk.
type limiterServer struct {
	name  string
	setup string // how it was configured, for the table
	start func(ctx context.Context, e *env) (url string, stop func(), err error)
}

// throughputPlan is how long table 3 drives each server.
type throughputPlan struct {
	runs int
	dur  time.Duration
}

func (e *env) throughputPlan() throughputPlan {
	if e.quick {
		return throughputPlan{runs: 1, dur: 3 * time.Second}
	}
	return throughputPlan{runs: 3, dur: 5 * time.Second}
}

// throughputTable is table 3: requests per second each limiter answers at
// saturation with limiting on, the same wrk as the client.
func throughputTable(ctx context.Context, e *env, o options) int {
	w := e.w
	pl := e.throughputPlan()
	heading(e, 3, "Mock throughput at saturation, limiting on: limitprobe mock vs nginx limit_req")
	workers := runtime.NumCPU()
	mockServer := func(args ...string) func(context.Context, *env) (string, func(), error) {
		return func(ctx context.Context, e *env) (string, func(), error) {
			m, err := e.mock(ctx, args...)
			if err != nil {
				return "", nil, err
			}
			return m.URL + "/api", m.Stop, nil
		}
	}
	servers := []limiterServer{
		{"nginx limit_req", fmt.Sprintf("`rate=1000r/s burst=10 nodelay`, `limit_req_status 429`, worker_processes %d (one per core, as `auto`), access_log off", workers),
			func(ctx context.Context, e *env) (string, func(), error) {
				dir, err := os.MkdirTemp(e.tmp, "nginx")
				if err != nil {
					return "", nil, err
				}
				s, err := nginxtest.Start(ctx, dir, nginxtest.Config{Rate: "1000r/s", Burst: 10, NoDelay: true, Status: 429, Workers: workers})
				if err != nil {
					return "", nil, err
				}
				return s.URL, s.Stop, nil
			}},
		{"limitprobe mock", "`--algorithm token-bucket --rate 1000/s --burst 10 --body html` (same limit, nginx's error page, no rate-limit headers)",
			mockServer("--algorithm", "token-bucket", "--rate", "1000/s", "--burst", "10", "--body", "html")},
	}
	fmt.Fprintf(w, "Client: `wrk -t2 -c64 -d%ds` on the same machine, %d run(s) per server, interleaved, median shown. "+
		"Each server runs in its own process(es), started fresh for each run, with a limit of 1000/s so that nearly every response is a 429: "+
		"this measures the cost of saying no. The Go mock uses GOMAXPROCS=%d (all cores), like nginx's workers.\n\n",
		int(pl.dur.Seconds()), pl.runs, runtime.GOMAXPROCS(0))
	if !have(e, "wrk") {
		fmt.Fprintln(w, "error: wrk is not installed; run bench/setup.sh")
		return 1
	}
	if _, ok := nginxtest.Binary(); !ok {
		fmt.Fprintln(w, "error: nginx is not installed; run bench/setup.sh")
		return 1
	}

	res := make([][]wrkResult, len(servers))
	errs := make([]error, len(servers))
	for range pl.runs {
		for i, s := range servers {
			if ctx.Err() != nil || errs[i] != nil {
				continue
			}
			url, stop, err := s.start(ctx, e)
			if err != nil {
				errs[i] = err
				continue
			}
			r, err := runWrk(ctx, url, 2, 64, pl.dur)
			stop()
			if err != nil {
				errs[i] = err
				continue
			}
			fmt.Fprintf(e.log, "bench: throughput %s: %.0f req/s, %.1f%% throttled\n", s.name, r.rps, throttledShare(r)*100)
			res[i] = append(res[i], r)
		}
	}

	fmt.Fprintln(w, "| server | configuration | req/s (median) | runs | throttled | socket errors | vs nginx |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	code := 0
	var base float64
	for i, s := range servers {
		if errs[i] != nil {
			fmt.Fprintf(w, "| %s | %s | error: %v | | | | |\n", s.name, s.setup, errs[i])
			code = 1
			continue
		}
		var rps, thr []float64
		var sockErrs int64
		for _, r := range res[i] {
			rps = append(rps, r.rps)
			thr = append(thr, throttledShare(r))
			sockErrs += r.errors
		}
		m := median(rps)
		if i == 0 {
			base = m
		}
		ratio := "—"
		if base > 0 {
			ratio = fmt.Sprintf("%.2f×", m/base)
			if i > 0 {
				ratio = "**" + ratio + "**"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.1f%% | %d | %s |\n", s.name, s.setup, kilo(m), runsList(rps), median(thr)*100, sockErrs, ratio)
	}
	fmt.Fprintf(w, "\nGoal: the mock (second row) ≥ 1.0× nginx. wrk shares the %d cores with the server; its numbers are the same client's for every server.\n", runtime.NumCPU())
	return code
}

func throttledShare(r wrkResult) float64 {
	if r.requests == 0 {
		return 0
	}
	return float64(r.non2xx) / float64(r.requests)
}

// runsList renders every run's rate: "41.2k 40.9k 42.0k".
func runsList(xs []float64) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += kilo(x)
	}
	return s
}
