package probe

import (
	"context"
	"math"
	"time"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// quotaWindow is the window from which auto stops ramping and reads the
// limit as a quota: ramping through minutes of window burns the quota.
const quotaWindow = time.Minute

// runAuto finds the limit with few requests:
//
//  1. burst: from idle, send fast until the first throttled response —
//     the burst, and whether the target advertises a long window;
//  2. ramp: double the rate in short steps until a step is throttled (at
//     max, hold a full step so a large burst cannot hide the limit);
//  3. saturate: straight after, with no pause (the burst is spent), send at
//     1.3× the goodput seen; its steady goodput is the effective limit,
//     refined while the band is wider than probe.precision;
//  4. concurrency: when rejections are instant and track requests in
//     flight rather than rate, bisect the worker count to the cap;
//  5. no burst: when at most three requests passed from idle, saturate
//     with Poisson arrivals at two rates (saturateRandom); when goodput
//     rises with the offered rate otherwise, bisect the sharp onset;
//  6. lockout: when the hot step and a saturation step after it fall
//     silent, creep up from a clean start to the rate that locks out.
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
	burstRate := float64(pr.Max)
	burst, ok, err := e.send(ctx, stepSpec{index: next(), phase: scenarios.PhaseBurst, rate: burstRate,
		duration: scenarios.BurstStep(pr.Step), stopOnThrottle: true})
	if !ok || err != nil {
		return err
	}
	cold := burst
	if e.longWindow(burst) {
		return nil // a quota: what the burst saw, and the reset, is the answer
	}

	// A burst that left the target refusing everything is a window or a
	// quota spent: wait, polling gently, until it accepts again, so the
	// ramp starts in a fresh window rather than measuring an empty one.
	var refill time.Duration // how long the spent limiter took to accept again
	if burst.Throttled > 0 {
		rec, ok, err := e.recover(ctx, next)
		if !ok || err != nil {
			return err
		}
		burst = rec
		refill = time.Duration(rec.DurationS * float64(time.Second))
	}

	// 2. Geometric ramp from start. A limiter whose allowance refills
	// during slow steps shows its burst again; the step that finally
	// throttles measures the steady rate after it.
	prev := burst
	rate := float64(pr.Start)
	var hot evidence.Step
	for {
		if !e.cooldown(ctx, prev, stepSpec{index: idx, phase: scenarios.PhaseRamp, rate: rate}) {
			return nil
		}
		st, ok, err := e.send(ctx, stepSpec{index: next(), phase: scenarios.PhaseRamp, rate: rate, duration: scenarios.RampStep(units.Rate(rate), pr.Step)})
		if !ok || err != nil {
			return err
		}
		prev = st
		if st.ThrottledRatio > pr.Threshold {
			hot = st
			break
		}
		if rate >= float64(pr.Max) {
			// Unthrottled at max for one short step: a big burst could be
			// hiding the limit. Hold max for a full step to drain it.
			st, ok, err := e.send(ctx, stepSpec{index: next(), phase: scenarios.PhaseSaturate, rate: float64(pr.Max), duration: pr.Step})
			if !ok || err != nil {
				return err
			}
			if st.ThrottledRatio <= pr.Threshold {
				return nil // never throttled up to max: a lower bound
			}
			hot = st
			break
		}
		rate = min(float64(pr.Max), rate*2)
	}

	// 4 (early). A concurrency cap shows as instant rejections.
	if instantRejections(hot) {
		return e.sweepConcurrency(ctx, next, hot)
	}

	// 3 (no burst). Hardly any request passed from idle (up to three: one,
	// and what refilled in the milliseconds of a fast burst): the limiter
	// may admit one request a slot after the last, and evenly paced steps
	// would measure their own jitter. Poisson arrivals measure the slot.
	if cold.Throttled > 0 && cold.OK <= 3 {
		return e.saturateRandom(ctx, next, hot)
	}

	// 3. Saturate straight after the hot step.
	limit := hot.SteadyRPS
	if hot.OK-hot.OKBeforeThrottle < 10 || limit <= 0 {
		limit = hot.GoodputRPS
	}
	// A hot step that went silent after its first throttle ran out a
	// window: its goodput says nothing of the rate. Start from the best
	// unthrottled ramp step, and saturate long enough to see windows
	// come round.
	silent := hot.FirstThrottleS >= 0 && hot.OK == hot.OKBeforeThrottle
	if silent {
		limit = max(limit, e.bestUnthrottled())
	}
	satRate := min(float64(pr.Max), max(limit*1.3, limit+2))
	best := limit // the most goodput any saturated step sustained
	for round := 0; round < 3; round++ {
		dur := scenarios.SaturateStep(units.Rate(limit), pr.Step)
		if silent {
			// Long enough for a window of up to two step lengths to come
			// round, and 2.5 windows of a counter that would have reached
			// the allowance when the hot step fell silent.
			dur = 4 * pr.Step
			if span := e.lockSpan(hot, float64(cold.OK)); span > 0 {
				dur = scenarios.ClampDuration(time.Duration(2.5*span*float64(time.Second)), 2*pr.Step, dur)
			}
		}
		if refill > time.Second {
			// A limiter that took seconds to reopen counts over a window of
			// about that: saturate across a few of them.
			dur = max(dur, min(4*pr.Step, refill*5/2))
		}
		if w := e.windowHint(); w > 0 {
			dur = max(dur, time.Duration(math.Ceil(w))*time.Second*2)
		}
		st, ok, err := e.send(ctx, stepSpec{index: next(), phase: scenarios.PhaseSaturate, rate: satRate, duration: dur})
		if !ok || err != nil {
			return err
		}
		if silent && cold.OK > 0 && estimate.SilentAfter(st) {
			// Nothing came through a whole saturation step after the hot
			// step fell silent, where a window would have reopened: denied
			// requests may be counting. Creep up to the rate that locks out.
			return e.creep(ctx, next, hot, float64(cold.OK), satRate)
		}
		if st.ThrottledRatio <= pr.Threshold {
			// The hot step's goodput was no limit (noise, a window edge):
			// keep ramping from here.
			limit = st.GoodputRPS
			satRate = min(float64(pr.Max), satRate*2)
			continue
		}
		limit = st.GoodputRPS
		if st.FirstThrottleS > 0.5 && st.SteadyRPS > 0 {
			limit = st.SteadyRPS // some burst refilled; count only after it
		}
		if best > limit*1.05 {
			// Less goodput at a lower offered rate: a limiter without burst
			// (nginx without burst, a bucket of one) rejects any request
			// closer than a slot to the last, so evenly spaced requests a
			// little faster than the limit lose every other slot. Its onset
			// is sharp instead: evenly paced requests pass below the rate
			// and half fail just above it. Bisect the onset.
			return e.bisectOnset(ctx, next)
		}
		best = max(best, limit)
		if e.precise(st, limit) {
			return nil
		}
		satRate = min(float64(pr.Max), max(limit*1.3, limit+2))
	}
	return nil
}

// saturateRandom measures a limiter without burst with Poisson arrivals:
// first at four times the hot step's rate, then at a second rate (four
// times the slot rate found, when the first was under three times it; else
// half the first) so that Estimate can check that the slot stays put, as it
// does only without burst; then, when the slower step read the larger
// rate (the faster arrivals came in clumps), at about twice that rate for
// at least two seconds, or else once more at the top rate while the
// estimate is looser than probe.precision. Each step is long enough for
// about 150 admissions.
func (e *engine) saturateRandom(ctx context.Context, next func() int, hot evidence.Step) error {
	pr := e.sc.Probe
	rate := min(float64(pr.Max), 4*hot.OfferedRPS)
	guess := max(hot.GoodputRPS, 1) // goodput expected at rate
	top, topOK := 0.0, int64(0)
	r0, clumped := 0.0, false
	for round := 0; round < 3; round++ {
		d := scenarios.ClampDuration(time.Duration(150/guess*float64(time.Second)), time.Second, 2*pr.Step)
		if clumped {
			d = max(d, min(2*time.Second, 2*pr.Step)) // its √n sets the estimate's noise
		}
		st, sent, err := e.send(ctx, stepSpec{index: next(), phase: scenarios.PhaseSaturate, rate: rate, duration: d, random: true})
		if !sent || err != nil {
			return err
		}
		g := st.GoodputRPS
		if st.OK < 5 || g >= 0.95*rate {
			return nil // not a limiter without burst: Estimate says what it can
		}
		r := estimate.SpacingRate(g, estimate.ArrivalRate(float64(st.Requests), st.DurationS, rate))
		switch {
		case rate > top:
			top, topOK = rate, st.OK
		case rate == top:
			topOK += st.OK
		}
		if round == 1 && r > 1.03*r0 && 2*r < 0.85*rate {
			// The faster arrivals read a smaller slot rate: they reached
			// the limiter in clumps. At about twice the rate they clump
			// least; Estimate counts the slowest step.
			rate, clumped = 2*r, true
			guess = 1 / (1/r + 1/rate)
			continue
		}
		if round == 1 && r/(top*math.Sqrt(float64(topOK))) <= pr.Precision {
			return nil // the relative error of r from n gaps at R is r/(R·√n)
		}
		if round == 0 {
			r0 = r
			// A second rate, clearly apart from the first.
			if r2 := min(float64(pr.Max), 4*r); rate < min(float64(pr.Max), 3*r) && r2 > 1.5*rate {
				rate = r2
			} else {
				rate /= 2
			}
		} else {
			rate = top
		}
		guess = 1 / (1/r + 1/rate)
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
// window would reopen, a lockout stays shut. A window that reopens was
// longer than the saturation step before could show: saturate at satRate
// for four step lengths to measure it.
func (e *engine) creep(ctx context.Context, next func() int, hot evidence.Step, allowance, satRate float64) error {
	pr := e.sc.Probe
	span := e.lockSpan(hot, allowance)
	if span <= 0 {
		return nil
	}
	est := allowance / span
	// Within what plan shows as auto's worst case: steps of at most four
	// step lengths, pauses of at most MaxCooldown.
	secs := func(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
	from, to := min(float64(pr.Max), 0.55*est), min(float64(pr.Max), 2*est)
	dur := min(secs(5*span), 4*pr.Step)
	slope := (to - from) / dur.Seconds()
	sp := stepSpec{index: next(), phase: scenarios.PhaseCreep, rate: from, slope: slope, duration: dur, stopOnThrottle: true}
	if !e.pause(ctx, min(secs(2.2*span), scenarios.MaxCooldown), sp) {
		return nil
	}
	st, ok, err := e.send(ctx, sp)
	if !ok || err != nil || st.Throttled == 0 {
		return err
	}
	hold := min(float64(pr.Max), from+slope*st.FirstThrottleS)
	st, ok, err = e.send(ctx, stepSpec{index: next(), phase: scenarios.PhaseCreep, rate: hold,
		duration: min(secs(1.5*span), 4*pr.Step)})
	if !ok || err != nil || float64(st.OK) <= max(2, 0.05*allowance) {
		return err
	}
	_, _, err = e.send(ctx, stepSpec{index: next(), phase: scenarios.PhaseSaturate, rate: satRate, duration: 4 * pr.Step})
	return err
}

// recover polls the target at two requests a second, after a throttled
// step, until one is accepted again (at most MaxCooldown): the time a spent
// window or bucket takes to let a request through. The step is kept, so
// the estimate sees the gap.
func (e *engine) recover(ctx context.Context, next func() int) (evidence.Step, bool, error) {
	return e.send(ctx, stepSpec{index: next(), phase: scenarios.PhaseRecover, rate: 2,
		duration: scenarios.MaxCooldown, stopOnOK: true})
}

// bestUnthrottled is the best goodput of a rate step that stayed under the
// threshold.
func (e *engine) bestUnthrottled() float64 {
	var best float64
	for _, s := range e.rec.done {
		if s.Concurrency == 0 && s.Phase == scenarios.PhaseRamp && s.ThrottledRatio <= e.sc.Probe.Threshold {
			best = max(best, s.GoodputRPS)
		}
	}
	return best
}

// bisectOnset narrows the onset of a limiter without burst between the
// fastest step that went unthrottled and the slowest that was throttled,
// until they are within probe.precision of each other. Such a limiter
// forgets within one slot, so the short steps need no pause.
func (e *engine) bisectOnset(ctx context.Context, next func() int) error {
	pr := e.sc.Probe
	lo, hi := 0.0, math.Inf(1)
	for _, s := range e.rec.done {
		if s.Concurrency > 0 || s.Phase == scenarios.PhaseBurst {
			continue
		}
		if s.ThrottledRatio <= pr.Threshold {
			lo = max(lo, s.OfferedRPS)
		} else {
			hi = min(hi, s.OfferedRPS)
		}
	}
	if math.IsInf(hi, 1) {
		return nil
	}
	// With no unthrottled step to start from, halve down to one.
	for tries := 0; lo == 0 && tries < 4; tries++ {
		st, ok, err := e.bisectStep(ctx, next, hi/2)
		if !ok || err != nil {
			return err
		}
		if st.ThrottledRatio <= pr.Threshold {
			lo = hi / 2
		} else {
			hi /= 2
		}
	}
	for lo > 0 && (hi-lo)/lo > pr.Precision {
		mid := (lo + hi) / 2
		st, ok, err := e.bisectStep(ctx, next, mid)
		if !ok || err != nil {
			return err
		}
		if st.ThrottledRatio <= pr.Threshold {
			lo = mid
		} else {
			hi = mid
		}
	}
	return nil
}

// bisectStep sends one short step of the onset bisection at rate.
func (e *engine) bisectStep(ctx context.Context, next func() int, rate float64) (evidence.Step, bool, error) {
	return e.send(ctx, stepSpec{index: next(), phase: scenarios.PhaseRamp, rate: rate,
		duration: scenarios.ClampDuration(time.Duration(20/rate*float64(time.Second)), time.Second, e.sc.Probe.Step)})
}

// precise reports whether a saturation step pins the limit within the
// scenario's precision: the counting error of its successes is within it.
func (e *engine) precise(st evidence.Step, limit float64) bool {
	n := float64(st.OK)
	if n < 1 || limit <= 0 {
		return false
	}
	// A limiter admits whole requests: the count is exact to about ±1.5
	// (one at each end of the step, half a slot of timing).
	return 1.5/n <= e.sc.Probe.Precision
}

// instantRejections reports whether throttled responses came back much
// faster than accepted ones while requests piled up in flight: the
// signature of a cap on concurrency (TGI answers 429 at once).
func instantRejections(st evidence.Step) bool {
	if st.Throttled == 0 || st.OK < 5 {
		return false
	}
	return st.ThrottleMS.P50*5 < st.LatencyMS.P50 && st.LatencyMS.P50 >= 5 && st.MaxInFlight >= 2
}

// sweepConcurrency finds a cap on requests in flight by bisection with
// closed-loop steps: the cap is at least the most requests the unthrottled
// steps had in flight, and below the most the throttled step had.
func (e *engine) sweepConcurrency(ctx context.Context, next func() int, hot evidence.Step) error {
	lo := 1
	for _, s := range e.rec.done {
		if s.Throttled == 0 {
			lo = max(lo, s.MaxInFlight)
		}
	}
	hi := max(lo+1, hot.MaxInFlight) // throttled at hi workers
	prev := hot
	throttled := func(st evidence.Step) bool { return float64(st.Throttled) > float64(st.Requests)*e.sc.Probe.Threshold }
	for hi-lo > 1 {
		n := (lo + hi) / 2
		if prev.RetryAfterS > 0 && !e.cooldown(ctx, prev, stepSpec{index: len(e.rec.done), phase: scenarios.PhaseConcurrency, concurrency: n}) {
			return nil
		}
		st, ok, err := e.send(ctx, e.concurrencyStep(next(), n))
		if !ok || err != nil {
			return err
		}
		prev = st
		if throttled(st) {
			hi = n
		} else {
			lo = n
		}
	}
	// Confirm the cap itself and one above it, so the report shows both
	// sides of the edge. The hot step's most in flight was only a guess at
	// where throttling starts: when one above passes too, go on up (a few
	// steps at most).
	for n, sent := lo, 0; n <= lo+1 && sent < 6; n++ {
		st, ok := e.stepAt(n)
		if !ok {
			var err error
			if st, ok, err = e.send(ctx, e.concurrencyStep(next(), n)); !ok || err != nil {
				return err
			}
			sent++
		}
		if n == lo+1 && !throttled(st) {
			lo = n
		}
	}
	return nil
}

// concurrencyStep is one step of the worker bisection: short, since a cap
// on requests in flight shows within a few round trips.
func (e *engine) concurrencyStep(index, workers int) stepSpec {
	return stepSpec{index: index, phase: scenarios.PhaseConcurrency, concurrency: workers,
		duration: scenarios.ClampDuration(e.sc.Probe.Step/3, time.Second, 2*time.Second)}
}

// stepAt is the concurrency step with n workers, if one ran.
func (e *engine) stepAt(n int) (evidence.Step, bool) {
	for _, s := range e.rec.done {
		if s.Concurrency == n {
			return s, true
		}
	}
	return evidence.Step{}, false
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

// windowHint is the advertised window in seconds, when it is short enough
// to cover in a saturation step.
func (e *engine) windowHint() float64 {
	if a := e.rec.adv; a != nil && a.WindowS > 0 && a.WindowS < quotaWindow.Seconds() {
		return a.WindowS
	}
	return 0
}
