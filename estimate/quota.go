package estimate

import (
	"fmt"
	"math"
	"slices"

	"limitprobe/units"
)

// quota: every saturated step ran out (nothing after the first throttle),
// or showed a single clump: a quota whose window is longer than a step.
func (e *estimator) quota() bool {
	for _, f := range e.sat {
		if f.sat.kind != satExhausted && f.sat.kind != satClumpy {
			return false
		}
	}
	s := &e.sum
	// The quota: a whole clump from a boundary to the next stretch without
	// success; else what steps got from their start, whose window may have
	// been partly used before (less) or ended early (up to twice as much).
	var clumps, starts []float64
	for _, f := range e.sat {
		clumps = append(clumps, f.sat.clumps...)
		if f.s.OKBeforeThrottle > 0 {
			starts = append(starts, float64(f.s.OKBeforeThrottle))
		}
	}
	l := median(clumps)
	if len(clumps) == 0 {
		l = median(starts)
	}
	s.Algorithm = AlgorithmFixedWindow
	s.Burst = int(math.Round(l))
	w, from := e.quotaWindow()
	maxBlocked := 0.0
	for _, f := range e.sat {
		maxBlocked = max(maxBlocked, f.sat.maxBlockedS)
	}
	if w > 0 {
		rate := l / w
		s.WindowS = units.Sig(w, 3)
		s.EffectiveLimitRPS = units.Sig(rate, 3)
		rel := 0.03
		if from != "advertised" {
			rel = 0.1
		}
		s.EffectiveLimitBand = bandOf(rate*(1-rel), rate*(1+rel))
		e.reason("about %d requests succeeded per window, then nothing until the window ended (up to %s without success)", s.Burst, units.Seconds(maxBlocked))
		e.reason("window %s (%s): effective limit %d per %s = %s", units.Seconds(w), from, s.Burst, units.Seconds(w), units.Rate(rate))
		e.base = 0.7
		if from != "advertised" {
			e.base = 0.45
		}
		e.satOK = l * 3
		return true
	}
	// The window is longer than any step: the quota is known, its period is
	// not. The limit is at most the quota over the longest step.
	span := 0.0
	for _, f := range e.sat {
		span = max(span, f.s.DurationS)
	}
	up := l / span
	s.EffectiveLimitRPS = units.Sig(up, 3)
	s.EffectiveLimitBand = Band{Low: 0, High: units.Sig(up, 3)}
	e.reason("about %d requests succeeded, then nothing for up to %s: a quota whose window is longer than a step", s.Burst, units.Seconds(maxBlocked))
	e.reason("window unknown: the effective limit is at most %d per %s = %s; run steps longer than the window (or strategy quota) to measure it", s.Burst, units.Seconds(span), units.Rate(up))
	e.base = 0.2
	e.satOK = l
	return true
}

// quotaWindow finds the window of a quota whose window is longer than a
// step: advertised, or the spacing of boundaries seen in different steps.
func (e *estimator) quotaWindow() (float64, string) {
	if a := e.in.Advertised; a != nil && a.WindowS > 0 {
		return a.WindowS, "advertised"
	}
	var bs []float64
	var longest float64
	for _, f := range e.sat {
		bs = append(bs, f.sat.boundaries...)
		longest = max(longest, f.sat.maxBlockedS)
	}
	if w := commonPeriod(bs, longest, e.in.Timeline.ResolutionS); w > 0 {
		return w, fmt.Sprintf("the spacing of %d boundaries seen in different steps", len(bs))
	}
	return 0, ""
}

// commonPeriod is the longest period of which every difference between
// boundaries is a whole multiple, at least minS; 0 when there is none.
func commonPeriod(bs []float64, minS, res float64) float64 {
	if len(bs) < 2 {
		return 0
	}
	bs = slices.Clone(bs)
	slices.Sort(bs)
	tol := max(2*res, 0.05)
	d := math.Inf(1)
	for i := 1; i < len(bs); i++ {
		if x := bs[i] - bs[i-1]; x > tol {
			d = min(d, x)
		}
	}
	if math.IsInf(d, 1) {
		return 0
	}
	for k := 1; k <= 20; k++ {
		w := d / float64(k)
		if w < minS-tol || w <= 2*tol {
			break
		}
		fits := true
		for _, b := range bs[1:] {
			x := b - bs[0]
			if math.Abs(x-math.Round(x/w)*w) > tol {
				fits = false
				break
			}
		}
		if fits {
			return w
		}
	}
	return 0
}
