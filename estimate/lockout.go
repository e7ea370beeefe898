package estimate

import (
	"math"

	"limitprobe/evidence"

	"limitprobe/units"
)

// lockout: denied requests count, so a client that keeps sending above the
// limit stays shut out. The evidence is auto's creep, or else a stretch
// where nothing succeeded after the first throttle while a lower rate went
// through unthrottled at a pace no quota that blocks that long could
// allow: sustaining G for D seconds needs L/W ≥ G − L/D; blocking Z
// seconds with an allowance L means W > Z, so L/W < L/Z. When
// G > L/Z + L/D, denied requests must count. The stretch runs on through
// the steps that follow without a pause and without a success.
func (e *estimator) lockout() bool {
	// The allowance: what passed from idle. A step that began in a window
	// already partly spent got less.
	cold, _ := e.coldBurst()
	if done, ok := e.lockoutCreep(cold); done {
		return ok
	}
	type silence struct {
		f *stepFacts // the step where it began
		z float64    // seconds without success while sending
	}
	var locked []silence
	for i := 0; i < len(e.steps); i++ {
		f := &e.steps[i]
		if !f.crossed || f.s.OKBeforeThrottle == 0 || !SilentAfter(f.s) {
			continue
		}
		z := f.s.DurationS - f.s.FirstThrottleS
		for j := i + 1; j < len(e.steps); j++ {
			n := &e.steps[j]
			if n.s.OK > 0 || n.s.Requests == 0 || n.idleS > 0.5 {
				break
			}
			z += n.idleS + n.s.DurationS
			i = j
		}
		locked = append(locked, silence{f, z})
	}
	if len(locked) == 0 {
		return false
	}
	var free *stepFacts
	for i := range e.steps {
		f := &e.steps[i]
		if !f.crossed && f.s.OK > 0 && f.s.Concurrency == 0 && (free == nil || f.s.GoodputRPS > free.s.GoodputRPS) {
			free = f
		}
	}
	if free == nil {
		return false
	}
	g, d := free.s.GoodputRPS, free.s.DurationS
	var proof *silence
	for i, l := range locked {
		b := max(cold, float64(l.f.s.OKBeforeThrottle))
		if g > 1.2*(b/l.z+b/d) {
			proof = &locked[i]
			break
		}
	}
	if proof == nil {
		return false
	}
	s := &e.sum
	s.Algorithm = AlgorithmLockout
	e.reason("in step %d at %s, after %d successes nothing succeeded for %s of sending, although step %d sustained %s unthrottled for %s: denied requests count, and the client stays locked out until it slows down",
		proof.f.s.Index+1, units.Rate(proof.f.s.OfferedRPS), proof.f.s.OKBeforeThrottle, units.Seconds(proof.z), free.s.Index+1, units.Rate(g), units.Seconds(d))
	l := max(cold, float64(proof.f.s.OKBeforeThrottle))
	s.Burst = int(l)
	// The window: the client locked out when the requests it had sent in
	// the last W seconds, denied or not, reached the allowance. So W is at
	// least the span in which they did; it is that span when requests went
	// out just before it too (else the count had reached the allowance
	// earlier), and up to the pause before it when there was one.
	lockAt := proof.f.s.StartS + max(0, proof.f.s.FirstThrottleS)
	span, found := lookback(e.in.Timeline, lockAt, l)
	before := lockAt - span - e.in.Timeline.ResolutionS // clear of the bucket the span began in
	tight := found && sentBetween(e.in.Timeline, before-0.5, before) > 0
	var rate, lo, hi float64
	switch a := e.in.Advertised; {
	case a != nil && a.WindowS > 0:
		s.WindowS = a.WindowS
		rate = l / a.WindowS
		lo, hi = rate*0.97, rate*1.03
		e.reason("effective limit %s per %s (the advertised window) = %s", units.Num(l), units.Seconds(a.WindowS), units.Rate(rate))
	case tight:
		s.WindowS = units.Sig(span, 3)
		rate = l / span
		// A sliding counter weighs the previous window's requests only in
		// part, and rates that double each step make that part large: the
		// window it acts as is known to about a quarter. What ran free
		// bounds the rate from below: G for D seconds needs L/W ≥ G − L/D.
		lo, hi = max(g-l/d, rate*0.75), rate*1.25
		e.reason("the lockout came when %s requests had been sent in the last %s, with requests going out before that too: a window of about %s, so %s per %s = %s",
			units.Num(l), units.Seconds(span), units.Seconds(span), units.Num(l), units.Seconds(span), units.Rate(rate))
	default:
		// The best free rate, below the lowest rate that locked out.
		lowest := math.Inf(1)
		for _, l := range locked {
			lowest = min(lowest, l.f.s.OfferedRPS)
		}
		rate, lo, hi = g, g, max(g, lowest)
		e.reason("effective limit %s: the best goodput of a step that did not lock out; %s locked out", units.Rate(g), units.Rate(lowest))
	}
	e.lockoutLimit(rate, lo, hi)
	e.satOK = float64(free.s.OK)
	return true
}

// lockoutCreep reads auto's creep: a slow linear rise from a clean start
// that locked out and then, still sending above that rate, saw nothing for
// longer than the window in which it had sent its allowance, where a fixed
// or sliding window would have reopened. done is false without a creep
// that locked; ok says whether it showed a lockout.
//
// Its rate changes little within a window, so the lock came when about
// the allowance had been sent in the last window: the window W is where
// HAProxy's counter (the previous window times the share of it still in
// view, plus the current one), averaged over the phase of its windows,
// reaches the allowance at the lock; the limit is the allowance per W.
func (e *estimator) lockoutCreep(l float64) (done, ok bool) {
	c, span, after, okAfter, found := e.creepLock(l)
	if c == nil {
		return false, false
	}
	// The silence after the lock must outlast the window: a window would
	// have let through a clump of about the allowance. (A counter that
	// decays between requests lets one or two through near the lock.)
	if !found || float64(okAfter) > max(2, 0.05*l) || after < span {
		return true, false
	}
	s := &e.sum
	s.Algorithm = AlgorithmLockout
	s.Burst = int(l)
	s.WindowS = units.Sig(span, 3)
	rate := l / span
	rel := max(0.03, 2*c.SlopeRPS*span/(8*rate))
	if c.FirstThrottleS < 1.2*span {
		// Locked within about a window of starting: the count depended on
		// where the counter's windows fell, not on the rate.
		rel = max(rel, 0.15)
		e.reason("the creep was refused within %s of starting, about a window: how its requests fell into the counter's windows matters, so the band is wide", units.Seconds(c.FirstThrottleS))
	}
	lockRate := c.StartRPS + c.SlopeRPS*c.FirstThrottleS
	e.reason("rising slowly from %s (step %d), the client was refused at %s, when it had sent %s requests in the last %s, and then nothing succeeded for %s while it went on sending at that rate: a window would have reopened; denied requests count, and the client stays locked out until it slows down",
		units.Rate(c.StartRPS), c.Index+1, units.Rate(lockRate), units.Num(l), units.Seconds(span), units.Seconds(after))
	e.reason("effective limit %s per %s = %s: the highest rate that never locks out", units.Num(l), units.Seconds(span), units.Rate(rate))
	if a := e.in.Advertised; a != nil && a.WindowS > 0 {
		s.WindowS = a.WindowS
	}
	e.lockoutLimit(rate, rate*(1-rel), rate*(1+rel))
	e.satOK = float64(c.OKBeforeThrottle)
	return true, true
}

// creepLock finds auto's creep that locked (the last one) and reads, for
// an allowance l, the window span in which a sliding counter would have
// counted l at the lock (see CounterWindow), and what followed the lock:
// the seconds of the rest of the creep and the hold at the lock's rate
// after it without a pause, and the successes among them. c is nil
// without a creep that locked; found is false when the counter had seen
// requests before the creep (no clean start) or no span fits.
func (e *estimator) creepLock(l float64) (c *evidence.Step, span, after float64, okAfter int64, found bool) {
	// The creep rises (a slope); the hold at the rate of its lock follows.
	var hold *evidence.Step
	for i := range e.in.Steps {
		if st := &e.in.Steps[i]; st.Phase == evidence.PhaseCreep && st.SlopeRPS != 0 && st.FirstThrottleS > 0 && st.OKBeforeThrottle > 0 {
			c, hold = st, nil
			if n := i + 1; n < len(e.in.Steps) && e.in.Steps[n].Phase == evidence.PhaseCreep && e.in.Steps[n].SlopeRPS == 0 {
				hold = &e.in.Steps[n]
			}
		}
	}
	if c == nil || l <= 0 {
		return nil, 0, 0, 0, false
	}
	at := c.StartS + c.FirstThrottleS
	span, found = CounterWindow(e.in.Timeline, at, l)
	after, okAfter = c.DurationS-c.FirstThrottleS, c.OK-c.OKBeforeThrottle
	if hold != nil && hold.StartS-(c.StartS+c.DurationS) < 0.5 {
		after += hold.StartS - (c.StartS + c.DurationS) + hold.DurationS
		okAfter += hold.OK
	}
	// The counter must have seen nothing before the creep.
	found = found && sentBetween(e.in.Timeline, at-2*span, c.StartS) <= 0.02*l
	return c, span, after, okAfter, found
}

// lockoutLimit sets the limit and band of a lockout and the confidence its
// band allows: sure of the shape, the limit as good as its band.
func (e *estimator) lockoutLimit(rate, lo, hi float64) {
	s := &e.sum
	s.EffectiveLimitRPS = units.Sig(rate, 3)
	s.EffectiveLimitBand = bandOf(min(lo, rate), max(hi, rate))
	e.reason("above the limit goodput falls to nothing until the client slows down for about a window")
	gap := s.EffectiveLimitBand.High/max(s.EffectiveLimitBand.Low, 1e-9) - 1
	e.base = 0.85 - min(0.45, 1.5*max(0, gap-0.05))
}

// CounterWindow is the window W, seconds, for which a sliding counter
// would count n requests at run time t from the timeline's requests (sent,
// whatever their outcome), averaged over the phase of its windows: a
// request τ seconds old weighs 1 − (τ/W)²/2 within one window and
// (2 − τ/W)²/2 within two. W may be longer than the run so far: a burst
// from idle that spent the allowance still counts 5 s later in a window of
// 6 s. ok is false when no W up to 4t reaches n.
func CounterWindow(tl evidence.Timeline, t, n float64) (float64, bool) {
	res := tl.ResolutionS
	if res <= 0 || n <= 0 || t <= 0 {
		return 0, false
	}
	count := func(w float64) float64 {
		var c float64
		for k := max(0, int((t-2*w)/res)); k < len(tl.Buckets) && float64(k)*res < t; k++ {
			// The bucket's requests, evenly over it, up to t.
			lo, hi := float64(k)*res, min(t, float64(k+1)*res)
			sent := float64(tl.Buckets[k].Sent) * (hi - lo) / res
			u := (t - (lo+hi)/2) / w
			switch {
			case u < 1:
				c += sent * (1 - u*u/2)
			case u < 2:
				c += sent * (2 - u) * (2 - u) / 2
			}
		}
		return c
	}
	lo, hi := res, 4*t
	if count(hi) < n {
		return 0, false
	}
	for range 50 {
		mid := (lo + hi) / 2
		if count(mid) < n {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2, true
}

// firstOK is the run time of the first timeline bucket within step s
// (not shared with the step before) that has a success; the step's end
// when none has.
func firstOK(tl evidence.Timeline, s evidence.Step) float64 {
	res := tl.ResolutionS
	end := s.StartS + s.DurationS
	if res <= 0 {
		return end
	}
	for k := int(math.Ceil(s.StartS/res - 1e-9)); k < len(tl.Buckets) && float64(k)*res < end; k++ {
		if tl.Buckets[k].OK > 0 {
			return float64(k) * res
		}
	}
	return end
}

// sentBetween counts the timeline's requests sent from t0 to t1.
func sentBetween(tl evidence.Timeline, t0, t1 float64) float64 {
	res := tl.ResolutionS
	if res <= 0 || t1 <= t0 {
		return 0
	}
	var n float64
	for k := max(0, int(t0/res)); k < len(tl.Buckets) && float64(k)*res < t1; k++ {
		lo, hi := max(t0, float64(k)*res), min(t1, float64(k+1)*res)
		n += float64(tl.Buckets[k].Sent) * max(0, hi-lo) / res
	}
	return n
}

// SilentAfter reports whether next to nothing succeeded in a step after
// its first throttle.
func SilentAfter(s evidence.Step) bool {
	return s.FirstThrottleS >= 0 && float64(s.OK-s.OKBeforeThrottle) <= max(1, 0.02*float64(s.OKBeforeThrottle))
}

// lookback is the span before t, seconds, in which the timeline's
// requests (sent, whatever their outcome) first add up to n; ok is false
// when they never do.
func lookback(tl evidence.Timeline, t, n float64) (float64, bool) {
	res := tl.ResolutionS
	if res <= 0 || n <= 0 {
		return 0, false
	}
	k := min(len(tl.Buckets)-1, int(t/res))
	if k < 0 {
		return 0, false
	}
	// The bucket holding t counts in part.
	part := t/res - float64(k)
	sum := float64(tl.Buckets[k].Sent) * part
	if sum >= n {
		return n / float64(tl.Buckets[k].Sent) * res, true
	}
	for j := k - 1; j >= 0; j-- {
		c := float64(tl.Buckets[j].Sent)
		if sum+c >= n {
			return float64(k-j-1)*res + part*res + (n-sum)/c*res, true
		}
		sum += c
	}
	return 0, false
}
