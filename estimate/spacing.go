package estimate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"limitprobe/evidence"

	"limitprobe/units"
)

// spacing: a limiter that keeps no burst (a bucket of one, GCRA without
// tolerance, nginx limit_req without burst) admits a request only a slot
// 1/r after the last. Under Poisson arrivals at R the gap between
// admissions is that slot plus the wait for the next arrival, 1/R on
// average, so goodput G = 1/(1/r + 1/R) and r = G·R/(R−G) whatever the
// timing jitter; evenly paced steps lose slots to their own jitter. Auto
// runs such steps at two rates or more when hardly any request passed from
// idle: the same r from all confirms the model; a limiter with a small
// burst gives a smaller r at the highest rate than at a slower one, and
// its goodput there (nearly all of r from four times it) is the estimate.
func (e *estimator) spacing() bool {
	type group struct {
		offered, ok, sent, dur float64
		steps                  []int
	}
	var gs []*group
	var slotMS []float64 // slots read from the steps' own timing
	var slotOK float64
	var slotSteps []int
	tickMS := 0.0 // slot of a whole-millisecond clock, when a step told one
	for i := range e.steps {
		f := &e.steps[i]
		if f.s.Arrivals != evidence.ArrivalsPoisson {
			continue
		}
		if f.s.GoodputRPS >= 0.95*f.s.OfferedRPS {
			// Nearly all passed: at R a limiter without burst refuses
			// R/(R+r) of Poisson arrivals, so this one keeps a burst.
			return false
		}
		if !f.crossed || f.s.OK < 5 {
			continue
		}
		k := slices.IndexFunc(gs, func(g *group) bool { return math.Abs(g.offered-f.s.OfferedRPS) <= 0.01*g.offered })
		if k < 0 {
			gs = append(gs, &group{offered: f.s.OfferedRPS})
			k = len(gs) - 1
		}
		g := gs[k]
		ok, sent, dur := e.poissonCore(f.s)
		g.ok += ok
		g.sent += sent
		g.dur += dur
		g.steps = append(g.steps, f.s.Index+1)
		e.satOK += float64(f.s.OK)
		if f.s.SlotMS > 0 {
			slotMS = append(slotMS, f.s.SlotMS)
			if f.s.SlotTickMS > 0 {
				tickMS = f.s.SlotMS
			}
			slotOK += float64(f.s.OK)
			slotSteps = append(slotSteps, f.s.Index+1)
		}
	}
	if len(gs) == 0 {
		return false
	}
	slices.SortFunc(gs, func(a, b *group) int { return cmp.Compare(b.offered, a.offered) })
	arrivals := func(g *group) float64 { return ArrivalRate(g.sent, g.dur, g.offered) }
	var rates, halves []float64
	for _, g := range gs {
		r := SpacingRate(g.ok/g.dur, arrivals(g))
		// The mean of n gaps, each with spread 1/R, is off by 1/(R·√n):
		// r by r/(R·√n); the band is two of those.
		rates = append(rates, r)
		halves = append(halves, 2*r*r/(arrivals(g)*math.Sqrt(g.ok)))
	}
	s := &e.sum
	s.Algorithm = AlgorithmTokenBucket
	top := gs[0]
	cold, hasCold := e.coldBurst()
	// shrank: r read at the fastest rate is clearly below r read at a
	// slower one, the slowest such; -1 when it is not.
	shrank := func() int {
		for j := len(gs) - 1; j >= 1; j-- {
			if rates[0] < rates[j]-math.Hypot(halves[0], halves[j])-0.03*rates[j] {
				return j
			}
		}
		return -1
	}
	// refilled: requests a bucket of one refills during the burst from
	// idle at the rate the slowest arrivals read.
	refilled := 0.0
	if hasCold {
		b := e.all[0]
		refilled = math.Round(rates[len(rates)-1] * max(b.DurationS, float64(b.Requests)/b.OfferedRPS))
	}
	// rose: the goodput at the fastest rate rose by a quarter or more of
	// what a bucket of one at the slowest rate's r would add there. A
	// bucket with a burst, saturated, holds its rate: behind 50±20 ms each
	// way a bucket of 3 at 200/s held 206/s and 207/s at 640/s and 1190/s,
	// where a bucket of one at the 297/s the slower read would rise 15%.
	rose := func() bool {
		low := gs[len(gs)-1]
		g := low.ok / low.dur
		want := 1/(1/rates[len(rates)-1]+1/arrivals(top)) - g
		return top.ok/top.dur-g >= want/4
	}
	if shrank() > 0 && hasCold && cold <= 1+refilled && rose() {
		// The slot shrank as arrivals quickened, yet no more passed from
		// idle than one and what refilled, and the goodput rose: no burst,
		// but at the higher rate the arrivals reached the limiter in clumps
		// (two cores shared by a fast generator and its target) and a clump
		// spends one slot. The slowest arrivals were the least clumped.
		last := len(gs) - 1
		rates, halves, gs = rates[last:], halves[last:], gs[last:]
		e.reason("with Poisson arrivals at %s, r = G·R/(R−G) read %s, less than at %s: arrivals came in clumps at the higher rate, so the slower ones count",
			units.Rate(top.offered), units.Rate(SpacingRate(top.ok/top.dur, arrivals(top))), units.Rate(gs[0].offered))
	}
	if j := shrank(); j > 0 {
		// The slot shrank as arrivals quickened: the limiter keeps a small
		// burst, which the faster arrivals use up.
		g := top.ok / top.dur
		s.EffectiveLimitRPS = units.Sig(g, 3)
		s.EffectiveLimitBand = bandOf(g*0.97, rates[0])
		// Small: at most what passed from idle, when auto's burst step ran.
		s.Burst = 2
		if hasCold {
			b, _ := e.bestBurst(g)
			s.Burst = min(max(2, b), max(2, int(cold)))
		}
		e.reason("with Poisson arrivals, r = G·R/(R−G) fell from %s at %s to %s at %s: not a limiter without burst, but one that keeps a small burst",
			units.Rate(rates[j]), units.Rate(gs[j].offered), units.Rate(rates[0]), units.Rate(top.offered))
		e.reason("effective limit %s: goodput with Poisson arrivals at %s (steps %s), within a few per cent of the rate for a burst of 2 or more",
			units.Rate(g), units.Rate(top.offered), intList(top.steps))
		e.base = 0.6
		return true
	}
	rate, half := combine(rates, halves)
	fromGoodput := rate
	s.Burst = 1
	e.reason("hardly any request passed from idle: the limiter keeps no burst and admits one request a slot after the last")
	if tickMS > 0 && slices.IndexFunc(slotMS, func(x float64) bool { return x < tickMS-1.05 || x > tickMS+0.05 }) < 0 {
		// Every edge lies in the millisecond before the whole-millisecond
		// slot: the limiter admits one request per tickMS of its clock.
		r := 1e3 / tickMS
		s.EffectiveLimitRPS = units.Sig(r, 3)
		s.EffectiveLimitBand = bandOf(0.99*r, 1e3/(tickMS-1))
		e.satOK = max(e.satOK, slotOK)
		e.reason("after an accepted request, the next passed from %s on and always from %s (steps %s, by the send times), as often as not in between: the limiter counts time in whole milliseconds (nginx's limit_req does) and admits one request per %s of them, %s",
			units.Seconds((tickMS-1)/1e3), units.Seconds(tickMS/1e3), intList(slotSteps), units.Seconds(tickMS/1e3), units.Rate(r))
		e.reason("random arrivals get up to %s (G·R/(R−G) read %s); evenly paced ones at more than %s get less when their spacing is not a whole number of milliseconds",
			units.Rate(1e3/(tickMS-1)), units.Rate(fromGoodput), units.Rate(r))
		e.base = 0.85
		return true
	}
	useSlot, fromSlot := false, 0.0
	if len(slotMS) > 0 {
		// Two readings bracket r. G·R/(R−G) counts as slot the time the
		// target and the generator spend between a refill and the next
		// arrival's turn, so it reads low (−4% at 2000/s on two shared
		// cores). The edge in send times reads high under delivery
		// jitter: the request that wins a refilled slot tends to be one
		// delivered early, so the next one's gap looks shorter than the
		// limiter saw it (+6% with 0.5 ms of jitter on a 2 ms slot). The
		// estimate is their middle and the band spans both. An edge below
		// G·R/(R−G), or far above it, contradicts the model: left out.
		for _, x := range slotMS {
			fromSlot += 1e3 / x / float64(len(slotMS))
		}
		if fromSlot >= rate-half-0.01*rate && fromSlot <= 1.15*rate {
			lo, hi := min(rate, fromSlot), max(rate, fromSlot)
			rate, half = (lo+hi)/2, max(half, (hi-lo)/2, 0.01*(lo+hi)/2)
			e.satOK = max(e.satOK, slotOK)
			useSlot = true
		}
	}
	s.EffectiveLimitRPS = units.Sig(rate, 3)
	s.EffectiveLimitBand = bandOf(max(0, rate-half), rate+half)
	for i, g := range gs {
		e.reason("with Poisson arrivals at %s, %s succeeded (steps %s): goodput G = 1/(1/r + 1/R), so r = G·R/(R−G) = %s",
			units.Rate(g.offered), units.Rate(g.ok/g.dur), intList(g.steps), units.Rate(rates[i]))
	}
	if useSlot {
		e.reason("after an accepted request the next passed from %s on (steps %s, by the send times): r = %s, which reads high when delivery jitter favours early arrivals; G·R/(R−G) = %s reads low by the time between a refill and the next arrival's turn; the estimate is their middle",
			units.Seconds(1/fromSlot), intList(slotSteps), units.Rate(fromSlot), units.Rate(fromGoodput))
	}
	e.reason("evenly paced clients get less than r: of two requests closer than %s, the second is refused", units.Seconds(1/rate))
	e.spaced = true
	e.base = 0.85
	if len(gs) < 2 {
		e.base = 0.6 // the model was not checked at a second rate
	}
	return true
}

// poissonCore is what step s sent, and how many of those passed, away
// from its ends, and for how long: requests sent within a refusal's
// longest round trip, or a slot, of either end are left out. Delivery
// jitter thins the arrivals at a step's edges, and a thinner stream
// wastes less of each slot, so G·R/(R−G) over the whole step reads high
// (+1% behind 50±20 ms each way in 3.3 s at 400/s, in simulation and
// live); and a pause before the step leaves a slot free. Without the
// run's requests, or with too few left, the whole step.
func (e *estimator) poissonCore(s evidence.Step) (ok, sent, dur float64) {
	whole := func() (float64, float64, float64) { return float64(s.OK), float64(s.Requests), s.DurationS }
	rs := e.in.Requests
	if rs == nil || s.OK == 0 {
		return whole()
	}
	m := min(s.DurationS/4, max(s.ThrottleMS.Max/1e3, s.DurationS/float64(s.OK)))
	lo, hi := seconds(s.StartS+m), seconds(s.StartS+s.DurationS-m)
	for i := range rs.Len() {
		q := rs.At(i)
		if q.Step != s.Index || q.Sent < lo || q.Sent >= hi {
			continue
		}
		sent++
		if q.Outcome == evidence.OK {
			ok++
		}
	}
	if ok < 5 {
		return whole()
	}
	return ok, sent, s.DurationS - 2*m
}

// coldBurst is how many requests passed in auto's burst from idle (its
// first step); ok is false when the run did not start with one.
func (e *estimator) coldBurst() (float64, bool) {
	if len(e.all) == 0 || e.all[0].Phase != evidence.PhaseBurst {
		return 0, false
	}
	return float64(e.all[0].OK), true
}

// recovery is auto's polling after its burst from idle, when it ended
// with a success.
func (e *estimator) recovery() (evidence.Step, bool) {
	if _, ok := e.coldBurst(); !ok || len(e.all) < 2 || e.all[1].Phase != evidence.PhaseRecover || e.all[1].OK == 0 {
		return evidence.Step{}, false
	}
	return e.all[1], true
}

// ArrivalRate is the rate sent requests over dur seconds came at, which
// a busy generator can fall a few per cent short of the offered rate.
func ArrivalRate(sent, dur, offered float64) float64 {
	if sent <= 0 || dur <= 0 {
		return offered
	}
	return sent / dur
}

// SpacingRate is r from the goodput g of Poisson arrivals at offered rate
// R against a limiter with no burst: 1/g = 1/r + 1/R.
func SpacingRate(g, offered float64) float64 {
	return g * offered / (offered - g)
}

// noBurst estimates the rate r of a limiter that keeps no burst: after
// each admission it waits for the next arrival, wasting the time between.
// Goodput never exceeds r, and an evenly paced step that went unthrottled
// offered at most r: the best of those is a lower bound. The wait for the
// next arrival is at most 1/R, so 1/r ≥ 1/g − 1/R bounds r from above for
// a clearly overloaded step; evenly paced requests above r are admitted
// exactly one in k = ⌈R/r⌉, so a step whose goodput is R/k for a whole
// k ≥ 2 puts r below R/(k−1). Within those bounds r is extrapolated from
// 1/g = 1/r + c/R when goodput rose with R; otherwise the lower bound is
// reported, which evenly paced clients get. ok is false when nothing shows
// capacity going to waste (a bucket of 2 or 3 keeps the rate whole).
func (e *estimator) noBurst(fs []*stepFacts, rates, halves, offered []float64) (rate, lo, hi float64, ok bool) {
	var free float64
	for _, f := range e.steps {
		if f.s.Throttled == 0 && f.s.Concurrency == 0 && f.s.OK > 0 {
			free = max(free, f.s.GoodputRPS)
		}
	}
	lo = max(slices.Max(rates), free)
	hi = math.Inf(1)
	var ks []string
	sporadic := 0
	for _, f := range fs {
		g, r := f.sat.rate, f.s.OfferedRPS
		if g <= 0 || r <= 0 || f.s.Concurrency > 0 {
			continue
		}
		if g >= 0.9*r && f.s.FirstThrottleS < f.s.DurationS/2 {
			sporadic++ // throttled now and then while nearly all went through
		}
		if g < 0.9*r && 1/g > 1/r {
			hi = min(hi, 1/(1/g-1/r))
		}
		if k := r / g; math.Round(k) >= 2 && math.Abs(k-math.Round(k)) <= 0.03*k {
			n := math.Round(k)
			hi = min(hi, r/(n-1))
			ks = append(ks, fmt.Sprintf("1/%d of %s", int(n), units.Rate(r)))
		}
	}
	fr, _, fit := e.noBurstFit(rates, halves, offered)
	if len(ks) == 0 && sporadic == 0 && !fit {
		return 0, 0, 0, false
	}
	lowWhy := fmt.Sprintf("at least %s, the best goodput", units.Rate(lo))
	if free >= lo {
		lowWhy = fmt.Sprintf("at least %s, the highest rate that went through unthrottled", units.Rate(lo))
	}
	if math.IsInf(hi, 1) || hi < lo {
		e.reason("the limiter keeps no burst, so goodput under overload understates its rate by the wait for the next arrival: the rate is %s; probe rates between that and the lowest throttled one to narrow it", lowWhy)
		e.base *= 0.6
		return lo, lo, lo * 1.25, true
	}
	rate = lo
	if len(ks) > 0 {
		e.reason("the limiter keeps no burst: goodput was exactly %s, as evenly paced requests above its rate are admitted one in k", strings.Join(ks, " and "))
	}
	if sporadic > 0 {
		e.reason("%d steps were throttled now and then while nearly every request went through: arrivals closer than the limiter's spacing are refused, with no burst to absorb them", sporadic)
	}
	if fit && fr > lo && fr < hi {
		e.reason("goodput rose with the offered rate, as it does when each slot waits for the next arrival: extrapolated to %s", units.Rate(fr))
		rate = fr
	}
	e.reason("without a burst the rate lies in %s–%s (%s; the wait for the next arrival bounds it from above)", units.Rate(lo), units.Rate(hi), lowWhy)
	e.base *= 0.9
	return rate, lo, hi, true
}

// noBurstFit fits 1/g = 1/r + c/R over steps with different offered rates
// R and returns r when goodput clearly rose with R and the limiter showed
// no burst to speak of.
func (e *estimator) noBurstFit(rates, halves, offered []float64) (float64, float64, bool) {
	if len(rates) < 2 {
		return 0, 0, false
	}
	lo, hi := 0, 0
	for i := range offered {
		if offered[i] < offered[lo] {
			lo = i
		}
		if offered[i] > offered[hi] {
			hi = i
		}
	}
	if offered[hi] < 1.3*offered[lo] || rates[hi]-rates[lo] <= halves[hi]+halves[lo] {
		return 0, 0, false
	}
	// Weighted least squares of y = 1/g on x = 1/R, weights from the bands.
	var sw, sx, sy, sxx, sxy float64
	for i := range rates {
		if rates[i] <= 0 || offered[i] <= 0 {
			continue
		}
		x, y := 1/offered[i], 1/rates[i]
		sy2 := halves[i] / (rates[i] * rates[i])
		w := 1 / max(sy2*sy2, 1e-18)
		sw += w
		sx += w * x
		sy += w * y
		sxx += w * x * x
		sxy += w * x * y
	}
	den := sw*sxx - sx*sx
	if den <= 0 {
		return 0, 0, false
	}
	c := (sw*sxy - sx*sy) / den
	a := (sy - c*sx) / sw
	if a <= 0 || c <= 0 {
		return 0, 0, false
	}
	r := 1 / a
	// c is the mean wait for the next arrival in units of 1/R: about one
	// half for evenly paced arrivals with jitter, one for random ones.
	if c < 0.1 || c > 1.6 || r > 3*rates[hi] {
		return 0, 0, false
	}
	half := max(halves[hi]*(r/rates[hi])*(r/rates[hi]), 0.25*(r-rates[hi]))
	return r, half, true
}
