package probe

import (
	"cmp"
	"context"
	"time"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// quotaWindow is the window from which auto stops ramping and reads the
// limit as a quota: ramping through minutes of window burns the quota.
const quotaWindow = time.Minute

// maxExperiments bounds the steps auto chooses after its ramp; plan shows
// them as its worst case.
const maxExperiments = scenarios.AutoExperiments

// runAuto finds the limit with few requests:
//
//  1. burst: from idle, send fast until the first throttled response —
//     how much passes at once, and whether the target advertises a long
//     window; then poll gently until it accepts again;
//  2. ramp: double the rate in short steps until a step is throttled (at
//     max, hold a full step so a large burst cannot hide the limit);
//  3. experiments: fit every limiter family to what was seen (estimate.
//     Assess) and send the step that best tells the explanations still in
//     the running apart (see choose), until one explains the run alone with
//     its band within probe.precision, or maxExperiments steps.
func (e *engine) runAuto(ctx context.Context) error {
	pr := e.sc.Probe
	idx := 0
	next := func() int { idx++; return idx - 1 }

	// Hook (quota.go): read the advertised policies first; a window longer
	// than the probe's horizon is checked in quota mode and auto ends here.
	if done, err := e.quotaFirst(ctx, next); done || err != nil {
		return err
	}

	// 1. Burst from idle, at the top rate, stopping at the first throttle.
	cold, ok, err := e.send(ctx, stepSpec{index: next(), phase: evidence.PhaseBurst, rate: float64(pr.Max),
		duration: scenarios.BurstStep(pr.Step), stopOnThrottle: true})
	if !ok || err != nil {
		return err
	}
	if e.longWindow(cold) {
		return nil // a quota: what the burst saw, and the reset, is the answer
	}
	// A burst that left the target refusing everything is a window or a
	// quota spent: wait, polling gently, until it accepts again, so the
	// ramp starts in a fresh window rather than measuring an empty one.
	prev := cold
	if cold.Throttled > 0 {
		rec, ok, err := e.recover(ctx, next)
		if !ok || err != nil {
			return err
		}
		prev = rec
	}
	hot, ok, err := e.ramp(ctx, next, prev)
	if !ok || err != nil {
		return err
	}
	x := &experiments{e: e, next: next, hot: hot, cold: cold, done: map[string]int{}}
	for range maxExperiments {
		a, ok := estimate.Assess(e.input())
		if !ok || (a.Decided(pr.Precision) || x.exhausted(a)) && x.held > 0 && x.covered(a) {
			return nil
		}
		more, err := x.run(ctx, a)
		if !more || err != nil {
			return err
		}
	}
	return nil
}

// ramp doubles the rate from probe.start in short steps until one is
// throttled, and returns it; ok is false when nothing was throttled up to
// probe.max (held for a full step, so that a large burst cannot hide the
// limit), or the caps or ctx ended the run.
func (e *engine) ramp(ctx context.Context, next func() int, prev evidence.Step) (evidence.Step, bool, error) {
	pr := e.sc.Probe
	rate := float64(pr.Start)
	for {
		if !e.cooldown(ctx, prev, stepSpec{index: len(e.rec.done), phase: evidence.PhaseRamp, rate: rate}) {
			return evidence.Step{}, false, nil
		}
		st, ok, err := e.send(ctx, stepSpec{index: next(), phase: evidence.PhaseRamp, rate: rate, duration: scenarios.RampStep(units.Rate(rate), pr.Step)})
		if !ok || err != nil {
			return st, false, err
		}
		prev = st
		if st.ThrottledRatio > pr.Threshold {
			return st, true, nil
		}
		if rate >= float64(pr.Max) {
			st, ok, err := e.send(ctx, stepSpec{index: next(), phase: evidence.PhaseSaturate, rate: float64(pr.Max), duration: pr.Step})
			if !ok || err != nil || st.ThrottledRatio <= pr.Threshold {
				return st, false, err
			}
			return st, true, nil
		}
		rate = min(float64(pr.Max), rate*2)
	}
}

// input is what the run has measured so far, as the estimator reads it.
func (e *engine) input() estimate.Input {
	return estimate.Input{Steps: e.rec.done, Timeline: e.rec.timeline(time.Now()), Advertised: e.rec.adv,
		Threshold: e.sc.Probe.Threshold, MaxOfferedRPS: float64(e.sc.Probe.Max), Requests: &e.rec.reqs,
		Precision: e.sc.Probe.Precision}
}

// saturateRandom measures a limiter without burst with Poisson arrivals.
// A step at R with n admissions reads the slot rate r = G·R/(R−G) to a
// relative error of r/(R·√n): faster arrivals read it closer, per request
// and per second. First at eight times the hot step's rate, long enough
// for that error to be within spread (a fraction of probe.precision); then
// at a second rate well apart, about twice r (or half the first), for
// about 100 admissions, so that Estimate can check that the slot stays
// put, as it does only without burst. Then, when the slower step read the
// larger rate and lies above twice it (the faster arrivals came in
// clumps), at about twice that rate for at least two seconds; else, while
// the readings' combined error is more than spread, as long as that
// takes, at eight times the first reading, or at the first rate when that
// is not a quarter slower.
func (e *engine) saturateRandom(ctx context.Context, next func() int, hot evidence.Step) error {
	pr := e.sc.Probe
	spread := cmp.Or(pr.Precision, scenarios.DefaultPrecision) / 2.5
	type reading struct{ rate, r, n float64 }
	var reads []reading
	// info is 1/error² of the readings so far: R²·n/r² a step.
	info := func() float64 {
		sum := 0.0
		for _, x := range reads {
			sum += x.rate * x.rate * x.n / (x.r * x.r)
		}
		return sum
	}
	// need is the admissions at rate that bring the error to spread.
	need := func(r, rate float64) float64 { return (1/(spread*spread) - info()) * r * r / (rate * rate) }
	r := max(hot.OfferedRPS, 1) // the slot rate as far as known
	fast := min(float64(pr.Max), 8*r)
	rate, admissions := fast, need(r, fast)
	for round := 0; round < 3; round++ {
		guess := 1 / (1/r + 1/rate) // goodput expected at rate
		d := scenarios.ClampDuration(time.Duration(min(admissions/guess, 3600)*float64(time.Second)), time.Second, 2*pr.Step)
		st, sent, err := e.send(ctx, stepSpec{index: next(), phase: evidence.PhaseSaturate, rate: rate, duration: d, random: true})
		if !sent || err != nil {
			return err
		}
		g := st.GoodputRPS
		if st.OK < 5 || g >= 0.95*rate {
			return nil // not a limiter without burst: Estimate says what it can
		}
		r = estimate.SpacingRate(g, estimate.ArrivalRate(float64(st.Requests), st.DurationS, rate))
		reads = append(reads, reading{rate, r, float64(st.OK)})
		switch {
		case round == 0:
			// A second rate, well apart from the first.
			if rate >= 3*r {
				rate = 2 * r
			} else {
				rate /= 2
			}
			admissions = 100
		case round == 2:
			return nil
		case r > 1.03*reads[0].r && 2*r < 0.85*rate:
			// The faster arrivals read a smaller slot rate: they reached
			// the limiter in clumps. At about twice the rate they clump
			// least; Estimate counts the slowest step.
			rate = 2 * r
			admissions = max(150, 2*(1/(1/r+1/rate))) // two seconds at least: its √n sets the estimate's noise
		case info() >= 1/(spread*spread):
			return nil
		default:
			// Eight times the slot rate reads it well per request and per
			// second; the first step may have run slower, its rate a guess
			// from the hot step. Near the first rate, at the first rate:
			// the estimate pools steps at one rate, not at two close ones.
			r, rate = reads[0].r, reads[0].rate
			if eight := min(float64(pr.Max), 8*r); eight > 1.25*rate {
				rate = eight
			}
			admissions = need(r, rate)
		}
	}
	return nil
}

// lockSpan is the window, in seconds, of a sliding counter that would
// have reached the allowance from the requests the run had sent when step
// st first saw a throttle; 0 when it cannot be told.
func (e *engine) lockSpan(st evidence.Step, allowance float64) float64 {
	if st.FirstThrottleS < 0 || allowance <= 0 {
		return 0
	}
	span, ok := estimate.CounterWindow(e.rec.timeline(time.Now()), st.StartS+st.FirstThrottleS, allowance)
	if !ok {
		return 0
	}
	return span
}

// creep measures a limiter that counts denied requests. The hot step
// locked out when its count of requests reached the allowance (what passed
// from idle); the window of a counter that would have, span, is about W,
// known to a fifth or so while rates doubled. So: wait 2.2 spans for the
// count to clear (a counter forgets in two windows), then rise slowly and
// linearly from 0.55× allowance/span (below the limit for more than a
// window), at most to 2× over five spans, until the first refusal. The
// rate changes little within a window, so the lock comes when about the
// allowance was sent in the last window, which Estimate reads from the
// timeline. Then hold the rate of the lock for one and a half spans: a
// window would reopen (requests pass after a refusal), a lockout stays
// shut. reopened reports that the hold passed requests (a window reopened,
// or the lock rate was no limit): the lockout is unconfirmed, and auto goes
// on to tell the rest apart. Otherwise, poll until a request passes: a
// lockout held at rate h with R = L/W lets one through W·(1 − R/h) after
// the refusals stop, which pins the window that the creep trades against
// the count (100 per 5 s and 196 per 11.7 s both lock a creep alike).
// shut reports that the hold locked and stayed shut: a lockout.
func (e *engine) creep(ctx context.Context, next func() int, hot evidence.Step, allowance float64) (reopened, shut bool, err error) {
	pr := e.sc.Probe
	span := e.lockSpan(hot, allowance)
	if span <= 0 {
		return false, false, nil
	}
	est := allowance / span
	// Within what plan shows as auto's worst case: steps of at most four
	// step lengths, pauses of at most MaxCooldown.
	secs := func(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
	from, to := min(float64(pr.Max), 0.55*est), min(float64(pr.Max), 2*est)
	dur := min(secs(5*span), 4*pr.Step)
	slope := (to - from) / dur.Seconds()
	sp := stepSpec{index: next(), phase: evidence.PhaseCreep, rate: from, slope: slope, duration: dur, stopOnThrottle: true}
	if !e.rest(ctx, min(secs(2.2*span), scenarios.MaxCooldown), sp) {
		return false, false, nil
	}
	st, ok, err := e.send(ctx, sp)
	if !ok || err != nil || st.Throttled == 0 {
		return false, false, err
	}
	hold := min(float64(pr.Max), from+slope*st.FirstThrottleS)
	st, ok, err = e.send(ctx, stepSpec{index: next(), phase: evidence.PhaseCreep, rate: hold,
		duration: min(secs(1.5*span), 4*pr.Step)})
	if !ok || err != nil {
		return false, false, err
	}
	// Requests that passed after the hold's first refusal: a window
	// reopened. Those before it passed while the count still fell short.
	passed := st.OK
	if st.FirstThrottleS >= 0 {
		passed -= st.OKBeforeThrottle
	}
	if float64(passed) > max(2, 0.05*allowance) {
		return true, false, nil
	}
	if st.Throttled == 0 {
		return false, false, nil
	}
	_, ok, err = e.recover(ctx, next)
	return false, ok, err
}

// recover polls the target at two requests a second, after a throttled
// step, until one is accepted again (at most MaxCooldown): the time a spent
// window or bucket takes to let a request through. The step is kept, so
// the estimate sees the gap.
func (e *engine) recover(ctx context.Context, next func() int) (evidence.Step, bool, error) {
	return e.send(ctx, stepSpec{index: next(), phase: evidence.PhaseRecover, rate: 2,
		duration: scenarios.MaxCooldown, stopOnOK: true})
}

// bestUnthrottled is the best goodput of a rate step that stayed under the
// threshold.
func (e *engine) bestUnthrottled() float64 {
	var best float64
	for _, s := range e.rec.done {
		if s.Concurrency == 0 && s.Phase == evidence.PhaseRamp && s.ThrottledRatio <= e.sc.Probe.Threshold {
			best = max(best, s.GoodputRPS)
		}
	}
	return best
}

// longWindow reports whether the target advertises a window or wait long
// enough that auto should read the quota instead of ramping.
func (e *engine) longWindow(burst evidence.Step) bool {
	a := e.rec.adv
	if a == nil || burst.Throttled == 0 {
		return false
	}
	w := time.Duration(max(a.WindowS, a.ResetS, a.RetryAfterS) * float64(time.Second))
	return w >= quotaWindow
}
