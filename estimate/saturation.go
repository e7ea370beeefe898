package estimate

import (
	"math"
	"slices"

	"limitprobe/evidence"
)

// SteadyRate returns the goodput of step, requests per second, once the
// limiter saturated: from the first throttled request to the end of the
// step, after any burst allowance, read from the step's slice of tl. A
// quota that hands out successes in clumps is measured over whole periods
// (first clump start to last clump start), never over a partial window.
// band is an interval around rps, narrower with more data. ok is false
// when the step was not throttled, when its saturated part is too short to
// measure, or when successes stopped altogether (an exhausted quota or a
// lockout), or came in a single clump whose period the step cannot show.
func SteadyRate(step evidence.Step, tl evidence.Timeline) (rps float64, band Band, ok bool) {
	sa := analyzeSaturation(step, tl)
	if !sa.ok || sa.kind == satExhausted || sa.kind == satClumpy {
		return 0, Band{}, false
	}
	return sa.rate, Band{Low: max(0, sa.rate-sa.half), High: sa.rate + sa.half}, true
}

// ColdBurst returns how many requests step got accepted beyond the steady
// rate before its first throttled request: OKBeforeThrottle less what the
// steady rate refilled until FirstThrottleS. It is the limiter's burst when
// the step started after an idle period long enough to refill it; the
// caller knows whether it did. ok is false when the step was not throttled
// or its steady rate cannot be measured.
func ColdBurst(step evidence.Step, tl evidence.Timeline) (burst int, ok bool) {
	if step.Throttled == 0 || step.FirstThrottleS < 0 {
		return 0, false
	}
	sa := analyzeSaturation(step, tl)
	rate := sa.rate
	if !sa.ok || sa.kind == satClumpy {
		return 0, false
	}
	if sa.kind == satExhausted {
		rate = 0
	}
	return burstFrom(step, rate), true
}

// burstFrom is the burst of a token bucket that admitted OKBeforeThrottle
// requests until FirstThrottleS and refills at rate: at the first
// throttled request fewer than one token was left, so the burst lies in
// [x + rate/R, x + 1) with x = OKBeforeThrottle − rate·FirstThrottleS and R
// the offered rate; the middle of that interval, rounded.
func burstFrom(s evidence.Step, rate float64) int {
	x := float64(s.OKBeforeThrottle) - rate*s.FirstThrottleS
	lo := 0.0
	if s.OfferedRPS > 0 {
		lo = min(1, rate/s.OfferedRPS)
	}
	return max(0, int(math.Round(x+(lo+1)/2)))
}

// satKind is what the saturated part of a step looked like.
type satKind uint8

const (
	satSmooth    satKind = iota // successes at a steady rate
	satPeriodic                 // clumps of successes at a regular period, measured over whole periods
	satClumpy                   // clumps, but too few in the step to show their period
	satExhausted                // nothing succeeded after the first throttle
)

// saturation is the analysis of the saturated part of one step.
type saturation struct {
	ok   bool
	kind satKind
	rate float64 // requests per second
	half float64 // half-width of the band around rate
	// spanS is the time the rate was measured over, seconds; okN the
	// successes in it.
	spanS, okN   float64
	fromTimeline bool // false when the step's own fields were all there was

	periodS   float64 // period of the clumps, seconds
	perPeriod float64 // successes per period
	// boundaries are the run times, seconds, at which successes resumed
	// after a stretch with none (window boundaries, returning slots).
	boundaries []float64
	// clumps are the successes of each clump that ended inside the step.
	clumps []float64
	// firstIntervalS is the time from the step's first success to its
	// first boundary; 0 without a boundary.
	firstIntervalS float64
	// gapS is the time with no success right after the first throttle,
	// when successes then came at a steady rate (a sliding counter waiting
	// for the next window).
	gapS float64
	// zeroS is the time from the first throttle to the end of an exhausted
	// step; maxBlockedS the longest stretch without success while
	// saturated.
	zeroS, maxBlockedS float64
}

// stepSlice is one step's part of the timeline.
type stepSlice struct {
	res        float64
	start, end float64 // the step, run seconds
	i0         int     // index of the first bucket
	b          []evidence.Bucket
}

func sliceOf(s evidence.Step, tl evidence.Timeline) stepSlice {
	sl := stepSlice{res: tl.ResolutionS, start: s.StartS, end: s.StartS + s.DurationS}
	if sl.res <= 0 || s.DurationS <= 0 || len(tl.Buckets) == 0 {
		return sl
	}
	i0 := max(0, int(math.Floor(sl.start/sl.res+1e-9)))
	i1 := min(len(tl.Buckets), int(math.Ceil(sl.end/sl.res-1e-9)))
	if i1 <= i0 {
		return sl
	}
	sl.i0, sl.b = i0, tl.Buckets[i0:i1]
	return sl
}

// lo and hi bound bucket k of the slice in run seconds, clipped to the step.
func (sl stepSlice) lo(k int) float64 { return max(sl.start, float64(sl.i0+k)*sl.res) }

func (sl stepSlice) hi(k int) float64 { return min(sl.end, float64(sl.i0+k+1)*sl.res) }

// analyzeSaturation measures the saturated part of s: from its first
// throttled request to its end.
func analyzeSaturation(s evidence.Step, tl evidence.Timeline) saturation {
	var sa saturation
	t1 := s.FirstThrottleS
	if s.Throttled == 0 || t1 < 0 || s.DurationS <= 0 {
		return sa
	}
	satS := s.DurationS - t1
	after := float64(s.OK - s.OKBeforeThrottle)
	if satS <= 0 {
		return sa
	}
	sa.ok = true
	// Nothing (or next to nothing) got through after the first throttle:
	// an exhausted quota or a lockout.
	if satS >= 1 && after <= max(1, 0.02*float64(s.OKBeforeThrottle)) {
		sa.kind, sa.zeroS, sa.maxBlockedS = satExhausted, satS, satS
		sa.rate, sa.spanS, sa.okN = after/satS, satS, after
		sa.half = max(1, after) / satS
		return sa
	}
	sl := sliceOf(s, tl)
	g0 := s.SteadyRPS
	if len(sl.b) == 0 || satS < 3*sl.res {
		// No timeline to look at: the step's own steady rate, with a band
		// for one request of quantisation and some noise.
		sa.rate, sa.spanS, sa.okN = g0, satS, after
		sa.half = max(1/satS, 0.05*g0)
		if satS < 0.5 || after < 3 {
			sa.ok = after > 0
			sa.half = max(sa.half, 0.5*g0)
		}
		return sa
	}
	sa.fromTimeline = true
	res := sl.res
	satAt := s.StartS + t1
	kSat := len(sl.b)
	for k := range sl.b {
		if sl.lo(k) >= satAt-1e-9 {
			kSat = k
			break
		}
	}
	if len(sl.b)-kSat < 3 {
		sa.rate, sa.spanS, sa.okN = g0, satS, after
		sa.half = max(1/satS, 0.1*g0)
		return sa
	}
	// A stretch without success longer than gapMin buckets cannot be the
	// spacing of a steady rate: it separates clumps.
	gapMin := 3
	if g0 > 0 {
		gapMin = max(3, int(math.Ceil(2.5/(g0*res))))
	}
	var runs []emptyRun
	cur := -1
	for k := kSat; k < len(sl.b); k++ {
		if sl.b[k].OK == 0 {
			if cur < 0 {
				cur = k
			}
			continue
		}
		if cur >= 0 {
			runs = append(runs, emptyRun{cur, k})
			cur = -1
		}
	}
	trailing := cur >= 0 && len(sl.b)-cur >= gapMin
	for _, r := range runs {
		sa.maxBlockedS = max(sa.maxBlockedS, sl.lo(r.to)-sl.lo(r.from))
	}
	if cur >= 0 {
		sa.maxBlockedS = max(sa.maxBlockedS, sl.end-sl.lo(cur))
	}
	// Boundaries: the first success after a long stretch without one (the
	// stretch right after the first throttle counts from the throttle).
	var bks []int
	for _, r := range runs {
		if r.to-r.from >= gapMin || r.from == kSat && sl.lo(r.to)-satAt >= float64(gapMin)*res {
			bks = append(bks, r.to)
		}
	}
	for _, k := range bks {
		sa.boundaries = append(sa.boundaries, boundaryAt(sl, k))
	}
	if len(bks) > 0 {
		sa.firstIntervalS = sa.boundaries[0] - firstSuccess(s, sl)
	}
	// Successes of each clump that ended inside the step.
	for i, k := range bks {
		end := len(sl.b)
		for _, r := range runs {
			if r.from > k && r.to-r.from >= gapMin {
				end = r.from
				break
			}
		}
		if end == len(sl.b) && !(trailing && cur > k) {
			break
		}
		if trailing && cur > k && end == len(sl.b) {
			end = cur
		}
		if i+1 < len(bks) && end > bks[i+1] {
			end = bks[i+1]
		}
		var n int64
		for j := k; j < end; j++ {
			n += sl.b[j].OK
		}
		sa.clumps = append(sa.clumps, float64(n))
	}
	clumpy := trailing || len(bks) >= 2 && gapAfter(runs, bks[0], gapMin)
	switch {
	case len(bks) >= 2 && evenlySpaced(sa.boundaries, res):
		sa.kind = satPeriodic
		measurePeriodic(&sa, s, sl, bks)
		return sa
	case clumpy && len(bks) <= 1:
		sa.kind = satClumpy
		sa.rate, sa.spanS, sa.okN = g0, satS, after
		sa.half = g0
		return sa
	}
	// Smooth: after the stretch that follows the first throttle, if any.
	from := kSat
	if len(bks) > 0 && bks[0] == firstRunEnd(runs, kSat) {
		sa.gapS = sa.boundaries[0] - satAt
		from = bks[0] + 1
	}
	measureSmooth(&sa, sl, from, len(sl.b))
	return sa
}

// emptyRun is a stretch of buckets [from, to) with no success.
type emptyRun struct{ from, to int }

// firstRunEnd is the end of the stretch without success that starts at
// kSat; -1 when the bucket at kSat had successes.
func firstRunEnd(runs []emptyRun, kSat int) int {
	if len(runs) > 0 && runs[0].from == kSat {
		return runs[0].to
	}
	return -1
}

func gapAfter(runs []emptyRun, k, gapMin int) bool {
	for _, r := range runs {
		if r.from > k && r.to-r.from >= gapMin {
			return true
		}
	}
	return false
}

// boundaryAt estimates when, inside bucket k, successes resumed: sends are
// spread evenly over a bucket and the successes are its last ones when the
// next bucket also has successes.
func boundaryAt(sl stepSlice, k int) float64 {
	b := sl.b[k]
	lo, hi := sl.lo(k), sl.hi(k)
	if b.Sent <= 0 || b.OK >= b.Sent {
		return lo
	}
	if k+1 < len(sl.b) && sl.b[k+1].OK > 0 {
		return lo + (hi-lo)*(1-float64(b.OK)/float64(b.Sent))
	}
	return (lo + hi) / 2
}

// firstSuccess is the run time of the step's first success.
func firstSuccess(s evidence.Step, sl stepSlice) float64 {
	for k, b := range sl.b {
		if b.OK > 0 {
			if k == 0 || b.OK == b.Sent {
				return sl.lo(k)
			}
			return boundaryAt(sl, k)
		}
	}
	return s.StartS
}

// evenlySpaced reports whether boundaries are evenly spaced.
func evenlySpaced(bs []float64, res float64) bool {
	if len(bs) < 2 {
		return false
	}
	p := (bs[len(bs)-1] - bs[0]) / float64(len(bs)-1)
	if p <= 2*res {
		return false
	}
	for i := 1; i < len(bs); i++ {
		if math.Abs(bs[i]-bs[i-1]-p) > max(2*res, 0.1*p) {
			return false
		}
	}
	return true
}

// measurePeriodic measures successes over whole periods: from the first
// boundary to the last.
func measurePeriodic(sa *saturation, s evidence.Step, sl stepSlice, bks []int) {
	bs := sa.boundaries
	n := len(bs)
	span := bs[n-1] - bs[0]
	var per []float64
	var total float64
	for i := 0; i+1 < n; i++ {
		var c int64
		for k := bks[i]; k < bks[i+1]; k++ {
			c += sl.b[k].OK
		}
		total += float64(c)
		per = append(per, float64(c))
	}
	sa.periodS = span / float64(n-1)
	sa.perPeriod = total / float64(n-1)
	sa.rate, sa.spanS, sa.okN = total/span, span, total
	// A boundary is known to within the spacing of sends (or a bucket).
	dt := sl.res
	if s.Requests > 0 {
		dt = min(dt, s.DurationS/float64(s.Requests))
	}
	sa.half = sa.rate * 2 * dt / span
	if len(per) >= 3 {
		rates := make([]float64, len(per))
		for i := range per {
			rates[i] = per[i] / (bs[i+1] - bs[i])
		}
		sa.half = max(sa.half, 2*stddev(rates)/math.Sqrt(float64(len(rates))))
	}
	sa.half = max(sa.half, 0.002*sa.rate)
}

// measureSmooth fits a line to the cumulative successes of buckets
// [from, to): its slope is the rate. The band comes from the spread of
// goodput over sub-windows, and is never narrower than one request over
// the span.
func measureSmooth(sa *saturation, sl stepSlice, from, to int) {
	if to-from < 3 {
		from = max(0, to-3)
	}
	var xs, ys []float64
	var cum float64
	for k := from; k < to; k++ {
		cum += float64(sl.b[k].OK)
		xs = append(xs, sl.hi(k))
		ys = append(ys, cum)
	}
	span := sl.hi(to-1) - sl.lo(from)
	slope := slopeThrough(xs, ys, sl.lo(from))
	sa.rate, sa.spanS, sa.okN = max(0, slope), span, cum
	// Sub-windows long enough to expect ten successes, at least five buckets.
	w := 5
	if sa.rate > 0 {
		w = max(5, int(math.Ceil(10/(sa.rate*sl.res))))
	}
	var rates []float64
	for k := from; k+w <= to; k += w {
		var c int64
		for j := k; j < k+w; j++ {
			c += sl.b[j].OK
		}
		rates = append(rates, float64(c)/(sl.hi(k+w-1)-sl.lo(k)))
	}
	sa.half = 1 / span
	if len(rates) >= 3 {
		sa.half = max(sa.half, 2*stddev(rates)/math.Sqrt(float64(len(rates))))
	} else {
		sa.half = max(sa.half, 0.05*sa.rate)
	}
	sa.half = max(sa.half, 0.002*sa.rate)
}

// slopeThrough is the least-squares slope of ys over xs, the line held through
// (x0, 0) when there are too few points to fit both.
func slopeThrough(xs, ys []float64, x0 float64) float64 {
	n := float64(len(xs))
	if n < 3 {
		if n == 0 || xs[len(xs)-1] <= x0 {
			return 0
		}
		return ys[len(ys)-1] / (xs[len(xs)-1] - x0)
	}
	slope, _ := regress(xs, ys)
	return slope
}

func stddev(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	var m float64
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss / float64(len(v)-1))
}

// combine pools estimates weighted by their bands; the pooled band widens
// when the estimates disagree beyond their own bands.
func combine(v, half []float64) (float64, float64) {
	var sw, sx float64
	for i := range v {
		w := 1 / max(half[i]*half[i], 1e-12)
		sw += w
		sx += w * v[i]
	}
	m := sx / sw
	h := 1 / math.Sqrt(sw)
	if len(v) >= 2 {
		lo, hi := slices.Min(v), slices.Max(v)
		h = max(h, (hi-lo)/2/math.Sqrt(float64(len(v))))
	}
	return m, h
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	c := slices.Clone(v)
	slices.Sort(c)
	n := len(c)
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}
