package main

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"limitprobe/probe"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// genRun is one open-loop run of a generator at a fixed rate.
type genRun struct {
	rate     float64 // offered, requests per second
	dur      time.Duration
	sent     int64 // requests the generator sent (results it returned)
	errors   int64
	p50, p99 float64       // latency of the responses, milliseconds
	cpu      time.Duration // CPU time (user + system) of this process during the run
	err      error
}

// missed is the share of the schedule's ticks the generator did not send.
func (g genRun) missed() float64 {
	want := g.rate * g.dur.Seconds()
	return math.Max(0, 1-float64(g.sent)/want)
}

// generator sends rate requests per second for d to url.
type generator struct {
	name string
	run  func(ctx context.Context, url string, rate float64, d time.Duration) genRun
}

var generators = []generator{
	{"vegeta", vegetaConstant},
	{"limitprobe", limitprobeSteps},
}

// vegetaConstant is raw vegeta as a script would use it: an Attacker with
// its defaults, ConstantPacer, every result added to vegeta.Metrics. The
// client mirrors vegeta's default one; it is passed in only so its idle
// connections can be closed after the run.
func vegetaConstant(ctx context.Context, url string, rate float64, d time.Duration) genRun {
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: vegeta.DefaultConnections,
		MaxConnsPerHost:     vegeta.DefaultMaxConnections,
	}
	defer tr.CloseIdleConnections()
	atk := vegeta.NewAttacker(vegeta.Client(&http.Client{Timeout: vegeta.DefaultTimeout, Transport: tr}))
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	targets := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url})
	var m vegeta.Metrics
	for res := range atk.Attack(targets, vegeta.ConstantPacer{Freq: int(rate), Per: time.Second}, d, "headroom") {
		m.Add(res)
	}
	m.Close()
	errs := int64(m.Requests) - int64(math.Round(m.Success*float64(m.Requests)))
	return genRun{rate: rate, dur: d, sent: int64(m.Requests), errors: errs,
		p50: ms(m.Latencies.P50), p99: ms(m.Latencies.P99)}
}

// limitprobeSteps is limitprobe's attack path: probe.Execute with a steps
// scenario of one step at rate, through the same engine, pacer and recorder
// a probe uses.
func limitprobeSteps(ctx context.Context, url string, rate float64, d time.Duration) genRun {
	sc := &scenarios.Scenario{Name: "headroom", Target: scenarios.Target{URL: url},
		Probe:  scenarios.Probe{Strategy: scenarios.StrategySteps, Start: units.Rate(rate), Max: units.Rate(rate), Step: d},
		Limits: scenarios.Limits{MaxRate: units.Rate(rate), MaxRequests: int(2*rate*d.Seconds()) + 1000, MaxDuration: d + 30*time.Second}}
	scenarios.ApplyDefaults(sc)
	client := probe.NewClient(sc.Target)
	defer client.CloseIdleConnections()
	run, err := probe.Execute(ctx, sc, probe.Options{Client: client})
	if err != nil {
		return genRun{rate: rate, dur: d, err: err}
	}
	g := genRun{rate: rate, dur: d, sent: run.RequestsSent, errors: run.ErrorsTotal}
	if len(run.Steps) > 0 {
		g.p50, g.p99 = run.Steps[0].LatencyMS.P50, run.Steps[0].LatencyMS.P99
	}
	return g
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// msStr renders milliseconds with two significant decimals below 10 ms.
func msStr(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// selfCPU is the user + system CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clearMiss is the share of missed ticks past which a rate is not repeated.
const clearMiss = 0.10

// headroomPlan is how hard table 2 looks.
type headroomPlan struct {
	ladder []float64 // rates tried in order, requests per second
	reps   int       // runs per rate and generator; the median counts
	dur    time.Duration
	bisect int // geometric bisections between the last rate sustained and the first not
	wrk    int // wrk runs
	wrkDur time.Duration
}

func (e *env) headroomPlan() headroomPlan {
	if e.quick {
		return headroomPlan{ladder: []float64{5000, 10000, 15000}, reps: 1, dur: 2 * time.Second, wrk: 1, wrkDur: 3 * time.Second}
	}
	return headroomPlan{ladder: []float64{5000, 10000, 20000, 40000}, reps: 3, dur: 2 * time.Second, bisect: 3, wrk: 3, wrkDur: 5 * time.Second}
}

// point is the median of a generator's runs at one rate.
type point struct {
	rate                   float64
	missed, errs, p50, p99 float64
	cpuPerReq              float64 // CPU microseconds per request sent
	ok                     bool
	err                    error
}

// search says in words how the rates were chosen.
func (pl headroomPlan) search() string {
	var rs []string
	for _, r := range pl.ladder {
		rs = append(rs, kilo(r))
	}
	s := "Rates " + strings.Join(rs, ", ") + " r/s in turn; a generator stops at its first rate not sustained"
	if pl.bisect > 0 {
		s += fmt.Sprintf(", then bisects (geometrically, %d times) between the last rate it sustained and that one", pl.bisect)
	}
	return s + "."
}

// medianPoint summarises a generator's runs at one rate. The rate is
// sustained when the median run missed fewer than 1% of the schedule's ticks
// and fewer than 1% of its requests failed (a generator that sends on time
// into timeouts is not keeping up either).
func medianPoint(runs []genRun) point {
	p := point{rate: runs[0].rate}
	var missed, errs, p50, p99, cpu []float64
	for _, r := range runs {
		if r.err != nil {
			p.err = r.err
			continue
		}
		cpu = append(cpu, float64(r.cpu.Microseconds())/float64(max(r.sent, 1)))
		missed = append(missed, r.missed())
		errs = append(errs, float64(r.errors)/float64(max(r.sent, 1)))
		p50, p99 = append(p50, r.p50), append(p99, r.p99)
	}
	if p.err != nil {
		return p
	}
	p.missed, p.errs, p.p50, p.p99, p.cpuPerReq = median(missed), median(errs), median(p50), median(p99), median(cpu)
	p.ok = p.missed < 0.01 && p.errs < 0.01
	return p
}

// headroomTable is table 2: the highest open-loop rate each generator
// sustains against the mock with no limit, run as its own process.
func headroomTable(ctx context.Context, e *env, o options) int {
	w := e.w
	pl := e.headroomPlan()
	heading(e, 2, "Generator headroom: limitprobe's attack path vs raw vegeta, wrk as the ceiling")
	m, err := e.mock(ctx, "--algorithm", "none")
	if err != nil {
		fmt.Fprintf(w, "\nerror: %v\n", err)
		return 1
	}
	defer m.Stop()
	url := m.URL + "/"

	fmt.Fprintf(w, "Target: `limitprobe mock --algorithm none` in its own process (no limit; every request answered 200 at once). "+
		"Both generators run in this process, one at a time, open loop at a fixed rate for %s, %d run(s) per rate with the median shown "+
		"(a run that misses more than %.0f%% of its ticks is not repeated), the order alternating between runs. A rate is sustained when fewer than 1%% of the schedule's ticks were missed (missed = 1 − sent ÷ (rate × duration)) and fewer than 1%% of requests failed. "+
		"vegeta: `vegeta.NewAttacker` with its defaults, `ConstantPacer`, each result added to `vegeta.Metrics`. "+
		"limitprobe: `probe.Execute` with a one-step `steps` scenario (its pacer, engine, classifier and recorder). "+
		"%s\n\n", pl.dur, pl.reps, clearMiss*100, pl.search())

	points := map[string][]point{}
	runAt := func(rate float64, gens []generator) {
		runs := map[string][]genRun{}
		clearFail := map[string]bool{}
		for i := range pl.reps {
			order := slices.Clone(gens)
			if i%2 == 1 {
				slices.Reverse(order)
			}
			for _, g := range order {
				if ctx.Err() != nil {
					return
				}
				if clearFail[g.name] {
					continue
				}
				runtime.GC()
				time.Sleep(200 * time.Millisecond)
				c0 := selfCPU()
				r := g.run(ctx, url, rate, pl.dur)
				r.cpu = selfCPU() - c0
				runs[g.name] = append(runs[g.name], r)
				// Far over the line: more runs would rarely change the
				// verdict, and an overloaded run is the slowest to drain.
				clearFail[g.name] = r.err != nil || r.missed() > clearMiss
			}
		}
		for _, g := range gens {
			if len(runs[g.name]) > 0 {
				p := medianPoint(runs[g.name])
				points[g.name] = append(points[g.name], p)
				fmt.Fprintf(e.log, "bench: headroom %s %s/s: missed %.2f%%, errors %.2f%%, p50 %.2f ms\n", g.name, kilo(rate), p.missed*100, p.errs*100, p.p50)
			}
		}
	}

	// The ladder: every generator still sustaining runs at each rate.
	live := slices.Clone(generators)
	for _, r := range pl.ladder {
		if len(live) == 0 || ctx.Err() != nil {
			break
		}
		runAt(r, live)
		live = slices.DeleteFunc(live, func(g generator) bool {
			ps := points[g.name]
			return len(ps) == 0 || !ps[len(ps)-1].ok
		})
	}
	// Bisection between each generator's bracket, both generators per round.
	for range pl.bisect {
		for _, g := range generators {
			lo, hi := bracket(points[g.name])
			if lo > 0 && hi > 0 && ctx.Err() == nil {
				runAt(math.Round(math.Sqrt(lo*hi)/100)*100, []generator{g})
			}
		}
	}

	// The machine's ceiling: wrk, closed loop.
	var wrkRPS []float64
	wrkErr := ""
	if have(e, "wrk") {
		for range pl.wrk {
			if ctx.Err() != nil {
				break
			}
			r, err := runWrk(ctx, url, 2, 64, pl.wrkDur)
			if err != nil {
				wrkErr = err.Error()
				break
			}
			wrkRPS = append(wrkRPS, r.rps)
		}
	} else {
		wrkErr = "wrk is not installed (run bench/setup.sh)"
	}

	fmt.Fprintln(w, "| rate | vegeta missed | p50 / p99 | CPU/req | limitprobe missed | p50 / p99 | CPU/req | CPU ratio |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	var rates []float64
	for _, ps := range points {
		for _, p := range ps {
			if !slices.Contains(rates, p.rate) {
				rates = append(rates, p.rate)
			}
		}
	}
	slices.Sort(rates)
	find := func(name string, r float64) (point, bool) {
		for _, p := range points[name] {
			if p.rate == r {
				return p, true
			}
		}
		return point{}, false
	}
	cells := func(p point, ok bool) string {
		switch {
		case !ok:
			return "— | — | —"
		case p.err != nil:
			return "error: " + p.err.Error() + " | | "
		}
		mark := ""
		if !p.ok {
			mark = " ✗"
		}
		return fmt.Sprintf("%.2f%%%s | %s / %s ms | %.0f µs", p.missed*100, mark, msStr(p.p50), msStr(p.p99), p.cpuPerReq)
	}
	var cpuRatios []float64
	for _, r := range rates {
		v, vok := find("vegeta", r)
		l, lok := find("limitprobe", r)
		ratio := "—"
		if vok && lok && v.ok && l.ok && v.cpuPerReq > 0 {
			cpuRatios = append(cpuRatios, l.cpuPerReq/v.cpuPerReq)
			ratio = fmt.Sprintf("%.2f×", l.cpuPerReq/v.cpuPerReq)
		}
		fmt.Fprintf(w, "| %s/s | %s | %s | %s |\n", kilo(r), cells(v, vok), cells(l, lok), ratio)
	}
	fmt.Fprintf(w, "\nCPU/req is this process's user + system CPU time during the run (getrusage) divided by the requests sent: the generator's whole cost per request, GC included. ✗ marks a rate not sustained.\n")

	code := 0
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| | max sustained rate | lowest rate tried above it | vs vegeta | vs wrk ceiling |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	ceil := median(wrkRPS)
	vsCeil := func(r float64) string {
		if ceil == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f×", r/ceil)
	}
	above := func(name string) string {
		if _, hi := bracket(points[name]); hi > 0 {
			return kilo(hi) + "/s"
		}
		return "none failed"
	}
	vMax, vHi := bracket(points["vegeta"])
	lMax, lHi := bracket(points["limitprobe"])
	atLeast := func(hi float64) string {
		if hi == 0 {
			return "≥ "
		}
		return ""
	}
	if vHi > 0 && lHi > 0 {
		e.sustained = math.Min(vMax, lMax)
	}
	fmt.Fprintf(w, "| vegeta (library) | %s%s/s | %s | 1.00× | %s |\n", atLeast(vHi), kilo(vMax), above("vegeta"), vsCeil(vMax))
	ratio := 0.0
	if vMax > 0 {
		ratio = lMax / vMax
	}
	var verdict string
	switch {
	case vHi == 0 && lHi == 0:
		verdict = fmt.Sprintf("%.2f× (both sustained every rate tried: no maximum found)", ratio)
	case ratio >= 0.95:
		verdict = fmt.Sprintf("**%.2f×** (meets the goal ≥ 0.95×)", ratio)
	default:
		verdict = fmt.Sprintf("**%.2f×** (below the goal ≥ 0.95×)", ratio)
	}
	fmt.Fprintf(w, "| limitprobe (attack path) | %s%s/s | %s | %s | %s |\n", atLeast(lHi), kilo(lMax), above("limitprobe"), verdict, vsCeil(lMax))
	if ceil > 0 {
		fmt.Fprintf(w, "| wrk -t2 -c64, closed loop (median of %d × %s) | %s/s | | %.2f× | 1.00× |\n", len(wrkRPS), pl.wrkDur, kilo(ceil), ceil/math.Max(vMax, 1))
	} else {
		fmt.Fprintf(w, "| wrk | %s | | | |\n", wrkErr)
		code = 1
	}
	if len(cpuRatios) > 0 {
		fmt.Fprintf(w, "\nAt the rates both sustained, limitprobe's attack path used **%.2f×** vegeta's CPU per request (median of %d rates); "+
			"with a core to itself, a generator's ceiling is 1 ÷ CPU/req.\n", median(cpuRatios), len(cpuRatios))
	}
	brackets := ""
	if vHi > 0 && lHi > 0 {
		brackets = " The true maximum of each generator lies between its two rates; the ratio is only as fine as those brackets."
	}
	fmt.Fprintf(w, "\nThe mock and the generator share the machine's %d cores, so these are the rates this machine sustains end to end; "+
		"wrk keeps 64 connections busy back to back and records little, so it bounds what any generator could reach here.%s\n", runtime.NumCPU(), brackets)
	return code
}

// bracket is the highest rate sustained and the lowest rate above it that
// was not; 0 for either when there is none.
func bracket(ps []point) (lo, hi float64) {
	for _, p := range ps {
		if p.ok {
			lo = math.Max(lo, p.rate)
		}
	}
	for _, p := range ps {
		if !p.ok && p.rate > lo && (hi == 0 || p.rate < hi) {
			hi = p.rate
		}
	}
	if hi > 0 && hi/lo < 1.02 {
		return lo, 0 // narrow enough
	}
	return lo, hi
}
