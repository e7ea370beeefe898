package estimate

import (
	"fmt"
	"math"

	"limitprobe/units"
)

// windows: clumps of successes at a regular period (fixed window or
// sliding log), or a stretch without success right after the first
// throttle and then a steady rate (sliding counter waiting for the next
// window).
func (e *estimator) windows() bool {
	var periodic, gapped []*stepFacts
	for _, f := range e.sat {
		switch {
		case f.sat.kind == satPeriodic:
			periodic = append(periodic, f)
		case f.sat.kind == satSmooth && f.sat.fromTimeline && f.sat.gapS > 0 && f.sat.rate > 0 && f.sat.gapS >= 2.5/f.sat.rate:
			gapped = append(gapped, f)
		}
	}
	if len(periodic) > 0 {
		e.periodicWindows(periodic)
		return true
	}
	if len(gapped) > 0 {
		e.slidingCounter(gapped)
		return true
	}
	return false
}

func (e *estimator) periodicWindows(periodic []*stepFacts) {
	s := &e.sum
	res := e.in.Timeline.ResolutionS
	var rates, halves, periods, per []float64
	var spans float64
	for _, f := range periodic {
		rates = append(rates, f.sat.rate)
		halves = append(halves, f.sat.half)
		periods = append(periods, f.sat.periodS)
		per = append(per, f.sat.perPeriod)
		spans += f.sat.spanS
		// The clump before the first throttle shows the quota too.
		e.satOK += f.sat.okN + float64(f.s.OKBeforeThrottle)
	}
	rate, half := combine(rates, halves)
	p := median(periods)
	l := median(per)
	from := "measured"
	if a := e.in.Advertised; a != nil && a.WindowS > 0 && math.Abs(a.WindowS-p) <= max(2*res, 0.05*p) {
		// The advertised window agrees: the count per window over it is
		// exact where the measured period is known to a send or a bucket.
		p, from = a.WindowS, "advertised, agrees with the measured period"
		rate = l / p
		half = max(0.002*rate, half/3)
	}
	s.EffectiveLimitRPS = units.Sig(rate, 3)
	s.EffectiveLimitBand = bandOf(rate-half, rate+half)
	s.WindowS = units.Sig(p, 3)
	s.Burst = int(math.Round(l))
	// Fixed or sliding: a fixed window's boundaries sit on the clock, so the
	// first one after an idle start comes sooner than a full period, a start
	// just before a boundary gets two windows' worth, and boundaries in
	// different steps share one phase; a sliding log's slots come back one
	// period after the step's first success.
	var fixed, sliding []string
	for _, f := range periodic {
		if f.idleS < p {
			continue // a sliding log may still hold the step before's slots
		}
		fi := f.sat.firstIntervalS
		tol := max(2*res, 0.05*p)
		switch {
		case fi < p-tol:
			fixed = append(fixed, fmt.Sprintf("in step %d the first boundary came %s after the first success, less than the %s period", f.s.Index+1, units.Seconds(fi), units.Seconds(p)))
		case math.Abs(fi-p) <= tol:
			sliding = append(sliding, fmt.Sprintf("in step %d successes resumed %s after the first one, exactly one period", f.s.Index+1, units.Seconds(fi)))
		}
		if float64(f.s.OKBeforeThrottle) > 1.3*l {
			fixed = append(fixed, fmt.Sprintf("step %d got %d successes at once from idle, more than the %.0f per period: it straddled a boundary", f.s.Index+1, f.s.OKBeforeThrottle, l))
		}
	}
	if ph, ok := alignedPhases(periodic, p, res); ok {
		fixed = append(fixed, ph)
	}
	// Auto's burst from idle and the polls after it: a sliding log gives
	// the burst's slots back one period after they were used, a fixed
	// window at its next boundary, sooner. The polls see it up to one
	// poll late, so a return near the period says little unless the polls
	// are fine against it.
	if rec, ok := e.recovery(); ok && rec.OfferedRPS > 0 {
		back := firstOK(e.in.Timeline, rec) - e.all[0].StartS
		poll := 1 / rec.OfferedRPS
		tol := max(2*res, 0.05*p)
		switch {
		case back < p-tol:
			fixed = append(fixed, fmt.Sprintf("the burst from idle was let through again after %s, sooner than the %s period", units.Seconds(back), units.Seconds(p)))
		case back <= p+poll+tol && poll <= 0.1*p:
			sliding = append(sliding, fmt.Sprintf("the burst from idle was let through again %s after it, one period", units.Seconds(back)))
		}
	}
	e.reason("successes came in clumps of about %.0f every %s (%s) over %s of saturation in %s: %.0f per %s = %s",
		l, units.Seconds(p), from, units.Seconds(spans), stepList(periodic), l, units.Seconds(p), units.Rate(rate))
	switch {
	case len(fixed) > 0 && len(sliding) == 0:
		s.Algorithm = AlgorithmFixedWindow
		e.reason("fixed window: %s", fixed[0])
		e.base = 0.9
	case len(sliding) > 0 && len(fixed) == 0:
		s.Algorithm = AlgorithmSlidingWindow
		e.reason("sliding log: %s", sliding[0])
		e.base = 0.85
	default:
		s.Algorithm = AlgorithmFixedWindow
		if len(fixed) > 0 {
			e.reason("fixed or sliding window: the evidence is mixed (%s; %s)", fixed[0], sliding[0])
		} else {
			e.reason("fixed or sliding window: no step started idle far enough from a boundary to tell")
		}
		e.base = 0.5
	}
}

// alignedPhases reports whether the boundaries of different steps fall at
// one phase of the period p while the steps started at different phases:
// windows aligned to the clock, not to the client.
func alignedPhases(periodic []*stepFacts, p, res float64) (string, bool) {
	if len(periodic) < 2 {
		return "", false
	}
	var bph, sph []float64
	for _, f := range periodic {
		for _, b := range f.sat.boundaries {
			bph = append(bph, math.Mod(b, p))
		}
		sph = append(sph, math.Mod(f.s.StartS, p))
	}
	tol := max(2*res, 0.03*p)
	if circSpread(bph, p) <= tol && circSpread(sph, p) > 3*tol {
		return fmt.Sprintf("boundaries in %d steps fell at the same phase of the %s period although the steps started at different ones", len(periodic), units.Seconds(p)), true
	}
	return "", false
}

// circSpread is the widest distance, on a circle of circumference p, of a
// phase from the first one.
func circSpread(ph []float64, p float64) float64 {
	var w float64
	for _, x := range ph[1:] {
		d := math.Abs(x - ph[0])
		w = max(w, min(d, p-d))
	}
	return w
}

func (e *estimator) slidingCounter(gapped []*stepFacts) {
	e.base = 0.6 + 0.1*float64(min(2, len(gapped)))
	e.smoothRate("successes came at")
	s := &e.sum
	s.Algorithm = AlgorithmSlidingWindow
	// From idle a sliding counter admits its whole quota L at once, and
	// L per window W under overload: W = L ÷ rate. A step that waited for
	// the next window used its quota inside one window.
	l := 0.0
	for _, f := range gapped {
		l = max(l, float64(f.s.OKBeforeThrottle))
	}
	s.Burst = int(math.Round(l))
	if s.EffectiveLimitRPS > 0 {
		s.WindowS = units.Sig(l/s.EffectiveLimitRPS, 3)
	}
	if a := e.in.Advertised; a != nil && a.WindowS > 0 {
		s.WindowS = a.WindowS
	}
	g := gapped[0]
	e.reason("in step %d nothing succeeded for %s after the first throttle, then successes came steadily: capacity returns gradually after a window boundary (sliding counter), not from a refilling bucket",
		g.s.Index+1, units.Seconds(g.sat.gapS))
	e.reason("%d accepted at once from idle, %s after: a window of about %s", s.Burst, units.Rate(s.EffectiveLimitRPS), units.Seconds(s.WindowS))
}

// slowReturn relabels a smooth limit as a sliding window when auto's burst
// from idle was followed by a long wait for the next success: a bucket
// refilling at r admits again within 1/r, while a sliding window returns
// capacity only a window after it was used (a sliding log the whole burst
// at once, a counter from the next window on).
func (e *estimator) slowReturn() {
	rec, ok := e.recovery()
	if !ok {
		return
	}
	s := &e.sum
	// The step runs on a poll or two after its first success.
	wait := firstOK(e.in.Timeline, rec) - rec.StartS
	burst, _ := e.coldBurst()
	rate := s.EffectiveLimitRPS
	if rate <= 0 || burst < 2 || wait < max(1, 3/rate) {
		return
	}
	s.Algorithm = AlgorithmSlidingWindow
	s.Burst = int(burst)
	s.WindowS = units.Sig(burst/rate, 3)
	if a := e.in.Advertised; a != nil && a.WindowS > 0 {
		s.WindowS = a.WindowS
	}
	e.reason("after %s accepted at once from idle (step 1), nothing was accepted for %s (step 2), where a bucket refilling at %s admits again within %s: capacity returns a window after it was used, a sliding window of about %s per %s",
		units.Num(burst), units.Seconds(wait), units.Rate(rate), units.Seconds(1/rate), units.Num(burst), units.Seconds(s.WindowS))
	e.base = 0.8
}
