package estimate

import (
	"cmp"
	"math"
	"slices"
	"time"

	"limitprobe/limiter"
)

// family is one explanation of what the server saw: a kind of limiter and
// the number of parameters it fits (for the penalty that keeps a flexible
// model from winning on noise).
type family struct {
	kind   limiter.Kind
	params int
}

// The families compared. A queue admits exactly as a bucket with one more
// token does; it is told apart afterwards by the waits of what it admitted.
var families = []family{
	{limiter.None, 1},
	{limiter.Concurrency, 1},
	{limiter.TokenBucket, 2},
	{limiter.SlidingLog, 2},
	{limiter.FixedWindow, 3},
	{limiter.SlidingCounter, 3},
	{limiter.Lockout, 3},
}

// familyFit is the best fit of one family and the fits close to it.
type familyFit struct {
	family
	best scan
	// near are the scans whose miss is within tolerance of the best: the
	// parameters the evidence cannot tell apart from it.
	near []scan
	bic  float64
}

// seeds are where the parameter search starts: a rate and a window from
// simple statistics of the run.
type seeds struct {
	rate    float64   // requests per second
	rates   []float64 // other likely rates: steady goodputs of saturated steps
	windows []float64 // likely windows, seconds
}

// fitFamily searches a family's parameters around the seeds for the most
// likely, and keeps those nearly as likely (within 2 of log-likelihood).
func fitFamily(sc *scanner, f family, sd seeds) familyFit {
	var all []scan
	try := func(cfg limiter.Config) scan {
		s := sc.weigh(cfg)
		all = append(all, s)
		return s
	}
	ff := familyFit{family: f}
	sc.bestMiss, sc.bestLL = math.MaxInt, math.Inf(-1)
	switch f.kind {
	case limiter.None:
		// Refusals at random, at the share seen: another tenant's load,
		// not a limit on this client.
		n, k := float64(sc.v.admitted+sc.v.refused), float64(sc.v.refused)
		p := k / n
		ff.best = scan{cfg: limiter.Config{Kind: limiter.None}, miss: sc.v.refused, ll: k*math.Log(p) + (n-k)*math.Log(1-p)}
		ff.near = []scan{ff.best}
		return ff
	case limiter.Concurrency:
		try(limiter.Config{Kind: limiter.Concurrency})
	case limiter.TokenBucket:
		searchRate(try, sd)
	case limiter.SlidingLog:
		searchWindow(try, f.kind, sd.windows, nil, false, len(sc.v.arrive))
	default:
		searchWindow(try, f.kind, sd.windows, sc.v.resumptions(24), true, len(sc.v.arrive))
	}
	ff.best = slices.MaxFunc(all, func(a, b scan) int { return cmp.Compare(a.ll, b.ll) })
	for _, s := range all {
		if s.ll >= ff.best.ll-2 {
			ff.near = append(ff.near, s)
		}
	}
	return ff
}

// searchRate scans bucket rates: 3% apart from a quarter to four times the
// seed, 0.15% apart near the seeds, and 0.02% apart around the best. A
// bucket replayed at a rate a little off drifts a token per admission it
// miscounts, so the best fit is sharp and needs the fine steps.
func searchRate(try func(limiter.Config) scan, sd seeds) {
	cfg := func(r float64) limiter.Config { return limiter.Config{Kind: limiter.TokenBucket, Rate: r} }
	best, bestR := math.Inf(-1), sd.rate
	scanRates := func(rs []float64) {
		for _, r := range rs {
			if s := try(cfg(r)); s.ll > best {
				best, bestR = s.ll, r
			}
		}
	}
	scanRates(geometric(sd.rate/4, 4*sd.rate, 95))
	var near []float64 // seeds, each a few per cent from the others
	for _, r := range append([]float64{sd.rate}, sd.rates...) {
		if !slices.ContainsFunc(near, func(x float64) bool { return math.Abs(x-r) < 0.03*r }) {
			near = append(near, r)
		}
	}
	for _, r := range near {
		scanRates(geometric(r/1.15, r*1.15, 190))
	}
	scanRates(geometric(bestR/1.01, bestR*1.01, 100))
}

// searchWindow scans windows from a quarter of the shortest seed to four
// times the longest, 4% apart (fewer for a long run), then narrows around the best few in three rounds (1%, 0.25% and
// 0.06% apart): a window a little off drifts against the boundaries over a
// run of many windows, so the best fit is sharp. A clock-aligned window's
// phase is tried at even fractions of the window, just before moments
// admissions resumed after refusals (marks, where boundaries tend to lie),
// and, in the later rounds, around the best phase so far.
func searchWindow(try func(limiter.Config) scan, kind limiter.Kind, seeds []float64, marks []time.Duration, phased bool, n int) {
	type pt struct {
		w  float64
		p  time.Duration
		ll float64
	}
	run := func(w float64, ps []time.Duration) pt {
		best := pt{w: w, ll: math.Inf(-1)}
		if !phased {
			ps = []time.Duration{0}
		}
		for _, p := range ps {
			if s := try(limiter.Config{Kind: kind, Window: dur(w), Phase: p}); s.ll > best.ll {
				best.p, best.ll = p, s.ll
			}
		}
		return best
	}
	// A long run gets fewer candidates: the replays cost n each.
	f := min(1, float64(thinned)/float64(max(1, n)))
	even := func(w float64, k, m int) []time.Duration {
		W := dur(w)
		ps := make([]time.Duration, 0, k+m)
		for i := range k {
			ps = append(ps, time.Duration(i)*W/time.Duration(k))
		}
		for i := range min(m, len(marks)) {
			mk := marks[i*len(marks)/min(m, len(marks))]
			ps = append(ps, ((mk-time.Microsecond)%W+W)%W)
		}
		return ps
	}
	lo, hi := math.Inf(1), 0.0
	for _, w := range seeds {
		if w > 0 {
			lo, hi = min(lo, w/4), max(hi, 4*w)
		}
	}
	if hi <= 0 {
		return
	}
	coarse := min(int(math.Ceil(math.Log(hi/lo)/math.Log(1.04)))+1, int(120*f)+16)
	var pts []pt
	for _, w := range geometric(lo, hi, coarse) {
		pts = append(pts, run(w, even(w, 4, int(8*f)+2)))
	}
	best := func(k int) []pt {
		slices.SortStableFunc(pts, func(a, b pt) int { return cmp.Compare(b.ll, a.ll) })
		return slices.Clone(pts[:min(k, len(pts))])
	}
	for round, step := range []float64{0.01, 0.0025, 0.0006} {
		for _, c := range best(4 - min(round, 1)) {
			for _, w := range geometric(c.w*(1-4*step), c.w*(1+4*step), 9) {
				ps := even(w, int(8*f)+2, int(8*f)+2)
				W := dur(w)
				for k := -4; k <= 4; k++ {
					ps = append(ps, (c.p+time.Duration(k)*W/time.Duration(200<<round))%W)
				}
				pts = append(pts, run(w, ps))
			}
		}
	}
}

// resumptions are up to n arrivals, spread over the run, that were admitted
// right after a refusal: where a window's boundary may lie.
func (v *view) resumptions(n int) []time.Duration {
	var all []time.Duration
	for i := 1; i < len(v.arrive); i++ {
		if v.ok[i] && !v.ok[i-1] {
			all = append(all, v.arrive[i])
		}
	}
	if len(all) <= n {
		return all
	}
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = all[i*len(all)/n]
	}
	return out
}

// windowOf is the window of a scan's configuration, seconds.
func windowOf(cfg limiter.Config) float64 { return cfg.Window.Seconds() }

// rateOf is the long-run rate a fitted configuration admits, requests per
// second; for a cap on requests in flight it needs the mean service time.
func rateOf(cfg limiter.Config, service time.Duration) float64 {
	switch cfg.Kind {
	case limiter.TokenBucket, limiter.GCRA, limiter.Queue:
		return cfg.Rate
	case limiter.Concurrency:
		if service <= 0 {
			return 0
		}
		return float64(cfg.MaxInFlight) / service.Seconds()
	case limiter.None:
		return 0
	}
	if cfg.Window <= 0 {
		return 0
	}
	return float64(cfg.Limit) / cfg.Window.Seconds()
}
