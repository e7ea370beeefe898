package estimate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"limitprobe/evidence"
	"limitprobe/headers"

	"limitprobe/scenarios"
	"limitprobe/units"
)

// Algorithms Estimate can name, the values of Summary.Algorithm.
const (
	// AlgorithmTokenBucket is a token bucket or GCRA: after an idle period
	// a burst at once, then a steady rate.
	AlgorithmTokenBucket = "token-bucket"
	// AlgorithmFixedWindow is a quota per clock-aligned window: successes
	// come in clumps at the window boundaries.
	AlgorithmFixedWindow = "fixed-window"
	// AlgorithmSlidingWindow is a sliding log (each slot returns one window
	// after it was used) or a sliding counter (capacity returns gradually).
	AlgorithmSlidingWindow = "sliding-window"
	// AlgorithmConcurrency is a cap on requests in flight.
	AlgorithmConcurrency = "concurrency"
	// AlgorithmQueue is a leaky bucket that delays excess requests before
	// it rejects any (nginx limit_req without nodelay).
	AlgorithmQueue = "queue"
	// AlgorithmLockout counts denied requests too: above the limit goodput
	// collapses until the client idles.
	AlgorithmLockout = "lockout"
	// AlgorithmNoneObserved means nothing was throttled up to the highest
	// rate tested.
	AlgorithmNoneObserved = "none-observed"
	// AlgorithmUnknown means throttling was seen but the evidence does not
	// say how the limiter works.
	AlgorithmUnknown = "unknown"
)

// EstimateInput is everything estimation looks at. It is plain data: the
// estimate is a pure function of it.
type EstimateInput struct {
	// Steps are the finished steps, in the order they ran.
	Steps []evidence.Step
	// Timeline buckets every request by send time from the run's start.
	Timeline evidence.Timeline
	// Advertised is what the target's headers claimed; nil when nothing.
	Advertised *headers.Advertised
	// Threshold is the throttled share of a step's requests that marks
	// onset, a fraction (0.01 for 1%).
	Threshold float64
	// MaxOfferedRPS is the highest rate the scenario allowed, requests per
	// second; 0 when unknown. It only words a lower bound.
	MaxOfferedRPS float64
}

// Onset returns the lowest offered rate, requests per second, among the
// steps whose throttled share exceeded threshold (a fraction), and whether
// any did. Steps that sent nothing are ignored.
func Onset(steps []evidence.Step, threshold float64) (rps float64, ok bool) {
	for _, s := range steps {
		if s.Requests == 0 || s.ThrottledRatio <= threshold {
			continue
		}
		if !ok || s.OfferedRPS < rps {
			rps, ok = s.OfferedRPS, true
		}
	}
	return rps, ok
}

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
	return estBurstFrom(step, rate), true
}

// estBurstFrom is the burst of a token bucket that admitted OKBeforeThrottle
// requests until FirstThrottleS and refills at rate: at the first
// throttled request fewer than one token was left, so the burst lies in
// [x + rate/R, x + 1) with x = OKBeforeThrottle − rate·FirstThrottleS and R
// the offered rate; the middle of that interval, rounded.
func estBurstFrom(s evidence.Step, rate float64) int {
	x := float64(s.OKBeforeThrottle) - rate*s.FirstThrottleS
	lo := 0.0
	if s.OfferedRPS > 0 {
		lo = min(1, rate/s.OfferedRPS)
	}
	return max(0, int(math.Round(x+(lo+1)/2)))
}

// Estimate turns measurements into the summary of a run: whether the
// target limited the probe, its effective limit (sustained goodput under
// overload, after any burst) with a band, the onset rate, the burst, the
// window, the cap on requests in flight, the algorithm that best explains
// what was seen and how sure that is, each with a reason a user can check.
// When nothing was throttled the effective limit is the highest goodput
// seen, LowerBoundOnly is set and the band is that single rate: the limit
// is at least that. It is a pure function of in.
func Estimate(in EstimateInput) Summary {
	// auto's recover steps poll a spent limiter on purpose, far below its
	// rate: they are neither an onset nor a saturated rate.
	steps := make([]evidence.Step, 0, len(in.Steps))
	for _, s := range in.Steps {
		if s.Phase != scenarios.PhaseRecover {
			steps = append(steps, s)
		}
	}
	all := in.Steps
	in.Steps = steps
	e := newEstimator(in)
	e.all = all
	e.run()
	return e.sum
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

func estSliceOf(s evidence.Step, tl evidence.Timeline) stepSlice {
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
	sl := estSliceOf(s, tl)
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
	var runs []estRun
	cur := -1
	for k := kSat; k < len(sl.b); k++ {
		if sl.b[k].OK == 0 {
			if cur < 0 {
				cur = k
			}
			continue
		}
		if cur >= 0 {
			runs = append(runs, estRun{cur, k})
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
		sa.boundaries = append(sa.boundaries, estBoundaryAt(sl, k))
	}
	if len(bks) > 0 {
		sa.firstIntervalS = sa.boundaries[0] - estFirstSuccess(s, sl)
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
	clumpy := trailing || len(bks) >= 2 && estGapAfter(runs, bks[0], gapMin)
	switch {
	case len(bks) >= 2 && estRegular(sa.boundaries, res):
		sa.kind = satPeriodic
		estPeriodic(&sa, s, sl, bks)
		return sa
	case clumpy && len(bks) <= 1:
		sa.kind = satClumpy
		sa.rate, sa.spanS, sa.okN = g0, satS, after
		sa.half = g0
		return sa
	}
	// Smooth: after the stretch that follows the first throttle, if any.
	from := kSat
	if len(bks) > 0 && bks[0] == estFirstRunEnd(runs, kSat) {
		sa.gapS = sa.boundaries[0] - satAt
		from = bks[0] + 1
	}
	estSmooth(&sa, sl, from, len(sl.b))
	return sa
}

// estRun is a stretch of buckets [from, to) with no success.
type estRun struct{ from, to int }

// estFirstRunEnd is the end of the stretch without success that starts at
// kSat; -1 when the bucket at kSat had successes.
func estFirstRunEnd(runs []estRun, kSat int) int {
	if len(runs) > 0 && runs[0].from == kSat {
		return runs[0].to
	}
	return -1
}

func estGapAfter(runs []estRun, k, gapMin int) bool {
	for _, r := range runs {
		if r.from > k && r.to-r.from >= gapMin {
			return true
		}
	}
	return false
}

// estBoundaryAt estimates when, inside bucket k, successes resumed: sends are
// spread evenly over a bucket and the successes are its last ones when the
// next bucket also has successes.
func estBoundaryAt(sl stepSlice, k int) float64 {
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

// estFirstSuccess is the run time of the step's first success.
func estFirstSuccess(s evidence.Step, sl stepSlice) float64 {
	for k, b := range sl.b {
		if b.OK > 0 {
			if k == 0 || b.OK == b.Sent {
				return sl.lo(k)
			}
			return estBoundaryAt(sl, k)
		}
	}
	return s.StartS
}

// estRegular reports whether boundaries are evenly spaced.
func estRegular(bs []float64, res float64) bool {
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

// estPeriodic measures successes over whole periods: from the first
// boundary to the last.
func estPeriodic(sa *saturation, s evidence.Step, sl stepSlice, bks []int) {
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
		sa.half = max(sa.half, 2*estStddev(rates)/math.Sqrt(float64(len(rates))))
	}
	sa.half = max(sa.half, 0.002*sa.rate)
}

// estSmooth fits a line to the cumulative successes of buckets
// [from, to): its slope is the rate. The band comes from the spread of
// goodput over sub-windows, and is never narrower than one request over
// the span.
func estSmooth(sa *saturation, sl stepSlice, from, to int) {
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
	slope := estSlope(xs, ys, sl.lo(from))
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
		sa.half = max(sa.half, 2*estStddev(rates)/math.Sqrt(float64(len(rates))))
	} else {
		sa.half = max(sa.half, 0.05*sa.rate)
	}
	sa.half = max(sa.half, 0.002*sa.rate)
}

// estSlope is the least-squares slope of ys over xs, the line held through
// (x0, 0) when there are too few points to fit both.
func estSlope(xs, ys []float64, x0 float64) float64 {
	n := float64(len(xs))
	if n < 3 {
		if n == 0 || xs[len(xs)-1] <= x0 {
			return 0
		}
		return ys[len(ys)-1] / (xs[len(xs)-1] - x0)
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 {
		return 0
	}
	return sxy / sxx
}

func estStddev(v []float64) float64 {
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

// stepFacts is what the estimator knows about one step.
type stepFacts struct {
	s       evidence.Step
	pos     int     // position in the input
	crossed bool    // throttled share above the threshold
	idleS   float64 // pause before the step, seconds; +Inf for the first
	// cold: the limiter had recovered when the step began, as far as can be
	// told: the first step, one after a step that was not throttled, or one
	// after a pause of at least estColdIdleS.
	cold bool
	sat  saturation
	// meanLatS is the mean latency of successes, seconds; 0 when unknown.
	meanLatS float64
}

// estMinSatS is the shortest saturated stretch, seconds, a step needs for
// its rate to count.
const estMinSatS = 0.5

// estColdIdleS is the pause after which a step counts as starting cold even
// when the step before it was throttled.
const estColdIdleS = 5.0

// estimator holds one estimate in progress.
type estimator struct {
	in    EstimateInput
	steps []stepFacts
	sat   []*stepFacts // crossed steps with a measurable saturated part
	sum   Summary
	all   []evidence.Step // every step, auto's recover steps too
	base  float64         // algorithm-specific confidence before data factors
	// satOK counts the successes the effective limit was measured from.
	satOK float64
}

func newEstimator(in EstimateInput) *estimator {
	e := &estimator{in: in}
	for i, s := range in.Steps {
		f := stepFacts{s: s, pos: i, crossed: s.Requests > 0 && s.ThrottledRatio > in.Threshold, idleS: math.Inf(1)}
		if i > 0 {
			p := in.Steps[i-1]
			f.idleS = s.StartS - (p.StartS + p.DurationS)
			f.cold = p.Throttled == 0 || f.idleS >= estColdIdleS
		} else {
			f.cold = true
		}
		f.meanLatS = estMeanOKLatency(s)
		if s.Throttled > 0 {
			f.sat = analyzeSaturation(s, in.Timeline)
		}
		e.steps = append(e.steps, f)
	}
	for i := range e.steps {
		// A step stopped at its first throttle (auto's burst step) says
		// nothing about the rate after it.
		f := &e.steps[i]
		// Auto's creep tests for a lockout only (lockoutCreep).
		if f.crossed && f.sat.ok && (f.sat.kind == satExhausted || f.sat.spanS >= estMinSatS) && f.s.Phase != scenarios.PhaseCreep {
			e.sat = append(e.sat, f)
		}
	}
	// When auto ran saturation steps that were throttled, they were made
	// to measure the rate, long and just above it; the ramp step that
	// found the onset was short and far above it, which misreads windows.
	var planned []*stepFacts
	for _, f := range e.sat {
		if f.s.Phase == scenarios.PhaseSaturate && f.sat.kind != satExhausted {
			planned = append(planned, f)
		}
	}
	// Unless goodput rose with the offered rate: a limiter without burst
	// wastes slots at 1.3× its rate, and the faster steps tell more.
	var bestPlanned, bestOther float64
	for _, f := range e.sat {
		if f.s.Phase == scenarios.PhaseSaturate {
			bestPlanned = max(bestPlanned, f.s.GoodputRPS)
		} else if f.sat.kind != satExhausted {
			bestOther = max(bestOther, f.s.SteadyRPS)
		}
	}
	if len(planned) > 0 && bestPlanned >= 0.9*bestOther {
		e.sat = planned
	}
	return e
}

// estMeanOKLatency is the mean latency of a step's successes in seconds, from
// the mean number of requests in flight (Little's law over all responses)
// less what the throttled ones took; 0 when it cannot be told. Step has no
// mean latency field, so this is the way to it.
func estMeanOKLatency(s evidence.Step) float64 {
	if s.OK == 0 || s.DurationS <= 0 {
		return 0
	}
	p50 := s.LatencyMS.P50 / 1000
	if s.MeanInFlight <= 0 {
		return p50
	}
	total := s.MeanInFlight * s.DurationS
	total -= float64(s.Throttled) * s.ThrottleMS.P50 / 1000
	total -= float64(s.Errors) * p50
	m := total / float64(s.OK)
	if p50 > 0 && (m < 0.5*p50 || s.LatencyMS.Max > 0 && m > s.LatencyMS.Max/1000) {
		return p50
	}
	return max(0, m)
}

func (e *estimator) reason(format string, args ...any) {
	e.sum.Reasons = append(e.sum.Reasons, fmt.Sprintf(format, args...))
}

func (e *estimator) run() {
	e.sum.Reasons = []string{}
	onset, limited := Onset(e.in.Steps, e.in.Threshold)
	if len(e.in.Steps) == 0 {
		e.sum.Algorithm = AlgorithmUnknown
		e.reason("nothing was measured")
		return
	}
	if !limited {
		e.noneObserved()
		e.advertisedCheck()
		return
	}
	e.sum.Limited = true
	e.sum.OnsetRPS = onset
	e.onsetReason(onset)
	switch {
	case e.spacing():
	case len(e.sat) == 0:
		e.unknown("the throttled steps ended too soon after their first throttled request to measure a rate")
	case e.lockout():
	case e.quota():
	case e.queue():
	case e.concurrency():
	case e.windows():
	default:
		e.tokenBucket()
	}
	e.replayCheck()
	e.finishConfidence()
	e.advertisedCheck()
}

func (e *estimator) onsetReason(onset float64) {
	for _, f := range e.steps {
		if f.crossed && f.s.OfferedRPS == onset {
			e.reason("throttling began at %s offered: %s of requests throttled in step %d", estRate(onset), units.Percent(f.s.ThrottledRatio), f.s.Index+1)
			return
		}
	}
}

// noneObserved: no step crossed the threshold. The limit is at least the
// highest goodput seen.
func (e *estimator) noneObserved() {
	s := &e.sum
	s.Algorithm = AlgorithmNoneObserved
	s.LowerBoundOnly = true
	var best evidence.Step
	var reqs, thr int64
	for _, st := range e.in.Steps {
		reqs += st.Requests
		thr += st.Throttled
		if st.GoodputRPS > best.GoodputRPS {
			best = st
		}
	}
	s.EffectiveLimitRPS = best.GoodputRPS
	s.EffectiveLimitBand = Band{Low: best.GoodputRPS, High: best.GoodputRPS}
	top := 0.0
	for _, st := range e.in.Steps {
		top = max(top, st.OfferedRPS)
	}
	switch {
	case e.in.MaxOfferedRPS > 0 && top >= e.in.MaxOfferedRPS*0.999:
		e.reason("no step was throttled up to %s offered (the scenario's max): the limit is at least %s", estRate(top), estRate(best.GoodputRPS))
	case e.in.MaxOfferedRPS > 0:
		e.reason("no step was throttled up to %s offered, below the scenario's max of %s (the run stopped early): the limit is at least %s", estRate(top), estRate(e.in.MaxOfferedRPS), estRate(best.GoodputRPS))
	default:
		e.reason("no step was throttled up to %s offered: the limit is at least %s", estRate(top), estRate(best.GoodputRPS))
	}
	if thr > 0 {
		e.reason("%d of %d requests were throttled, under the %s threshold in every step", thr, reqs, units.Percent(e.in.Threshold))
	}
	// Sure that nothing limits below the best goodput once a few hundred
	// requests went through; less when some were throttled.
	c := 0.95 * (1 - math.Exp(-float64(reqs)/150))
	if thr > 0 {
		c *= 0.7
	}
	s.Confidence = estRound2(c)
}

// unknown: throttled, but the saturated part says too little.
func (e *estimator) unknown(why string) {
	s := &e.sum
	s.Algorithm = AlgorithmUnknown
	var best float64
	for _, f := range e.steps {
		if !f.crossed {
			best = max(best, f.s.GoodputRPS)
			continue
		}
		g := f.s.SteadyRPS
		if g <= 0 {
			g = f.s.GoodputRPS
		}
		best = max(best, g)
	}
	s.EffectiveLimitRPS = units.Sig(best, 3)
	s.EffectiveLimitBand = Band{Low: units.Sig(best*0.5, 3), High: units.Sig(best*1.5, 3)}
	e.reason("%s; the rough goodput is %s", why, estRate(best))
	e.base = 0.15
}

// spacing: a limiter that keeps no burst (a bucket of one, GCRA without
// tolerance, nginx limit_req without burst) admits a request only a slot
// 1/r after the last. Under Poisson arrivals at R the gap between
// admissions is that slot plus the wait for the next arrival, 1/R on
// average, so goodput G = 1/(1/r + 1/R) and r = G·R/(R−G) whatever the
// timing jitter; evenly paced steps lose slots to their own jitter. Auto
// runs such steps at two rates when hardly any request passed from idle:
// the same r from both confirms the model; a limiter with a small burst
// gives a smaller r at the higher rate, and its goodput there (nearly all
// of r from four times it) is the estimate.
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
		g.ok += float64(f.s.OK)
		g.sent += float64(f.s.Requests)
		g.dur += f.s.DurationS
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
	// shrank: r read at the fastest rate is clearly below the next one.
	shrank := func() bool { return len(gs) >= 2 && rates[0] < rates[1]-math.Hypot(halves[0], halves[1])-0.03*rates[1] }
	// refilled: requests a bucket of one refills during the burst from
	// idle at the rate the slowest arrivals read.
	refilled := 0.0
	if hasCold {
		b := e.all[0]
		refilled = math.Round(rates[len(rates)-1] * max(b.DurationS, float64(b.Requests)/b.OfferedRPS))
	}
	if shrank() && hasCold && cold <= 1+refilled {
		// The slot shrank as arrivals quickened, yet no more passed from
		// idle than one and what refilled: no burst, but at the higher rate
		// the arrivals reached the limiter in clumps (two cores shared by a
		// fast generator and its target) and a clump spends one slot. The
		// slowest arrivals were the least clumped.
		last := len(gs) - 1
		rates, halves, gs = rates[last:], halves[last:], gs[last:]
		e.reason("with Poisson arrivals at %s, r = G·R/(R−G) read %s, less than at %s: arrivals came in clumps at the higher rate, so the slower ones count",
			estRate(top.offered), estRate(SpacingRate(top.ok/top.dur, arrivals(top))), estRate(gs[0].offered))
	}
	if shrank() {
		// The slot shrank as arrivals quickened: the limiter keeps a small
		// burst, which the faster arrivals use up.
		g := top.ok / top.dur
		s.EffectiveLimitRPS = units.Sig(g, 3)
		s.EffectiveLimitBand = Band{Low: units.Sig(g*0.97, 3), High: units.Sig(rates[0], 3)}
		// Small: at most what passed from idle, when auto's burst step ran.
		s.Burst = 2
		if hasCold {
			b, _ := e.bestBurst(g)
			s.Burst = min(max(2, b), max(2, int(cold)))
		}
		e.reason("with Poisson arrivals, r = G·R/(R−G) fell from %s at %s to %s at %s: not a limiter without burst, but one that keeps a small burst",
			estRate(rates[1]), estRate(gs[1].offered), estRate(rates[0]), estRate(top.offered))
		e.reason("effective limit %s: goodput with Poisson arrivals at %s (steps %s), within a few per cent of the rate for a burst of 2 or more",
			estRate(g), estRate(top.offered), estIntList(top.steps))
		e.base = 0.6
		return true
	}
	rate, half := estCombine(rates, halves)
	fromGoodput := rate
	s.Burst = 1
	e.reason("hardly any request passed from idle: the limiter keeps no burst and admits one request a slot after the last")
	if tickMS > 0 && slices.IndexFunc(slotMS, func(x float64) bool { return x < tickMS-1.05 || x > tickMS+0.05 }) < 0 {
		// Every edge lies in the millisecond before the whole-millisecond
		// slot: the limiter admits one request per tickMS of its clock.
		r := 1e3 / tickMS
		s.EffectiveLimitRPS = units.Sig(r, 3)
		s.EffectiveLimitBand = Band{Low: units.Sig(0.99*r, 3), High: units.Sig(1e3/(tickMS-1), 3)}
		e.satOK = max(e.satOK, slotOK)
		e.reason("after an accepted request, the next passed from %s on and always from %s (steps %s, by the send times), as often as not in between: the limiter counts time in whole milliseconds (nginx's limit_req does) and admits one request per %s of them, %s",
			units.Seconds((tickMS-1)/1e3), units.Seconds(tickMS/1e3), estIntList(slotSteps), units.Seconds(tickMS/1e3), estRate(r))
		e.reason("random arrivals get up to %s (G·R/(R−G) read %s); evenly paced ones at more than %s get less when their spacing is not a whole number of milliseconds",
			estRate(1e3/(tickMS-1)), estRate(fromGoodput), estRate(r))
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
	s.EffectiveLimitBand = Band{Low: units.Sig(max(0, rate-half), 3), High: units.Sig(rate+half, 3)}
	for i, g := range gs {
		e.reason("with Poisson arrivals at %s, %s succeeded (steps %s): goodput G = 1/(1/r + 1/R), so r = G·R/(R−G) = %s",
			estRate(g.offered), estRate(g.ok/g.dur), estIntList(g.steps), estRate(rates[i]))
	}
	if useSlot {
		e.reason("after an accepted request the next passed from %s on (steps %s, by the send times): r = %s, which reads high when delivery jitter favours early arrivals; G·R/(R−G) = %s reads low by the time between a refill and the next arrival's turn; the estimate is their middle",
			units.Seconds(1/fromSlot), estIntList(slotSteps), estRate(fromSlot), estRate(fromGoodput))
	}
	e.reason("evenly paced clients get less than r: of two requests closer than %s, the second is refused", units.Seconds(1/rate))
	e.base = 0.85
	if len(gs) < 2 {
		e.base = 0.6 // the model was not checked at a second rate
	}
	return true
}

// coldBurst is how many requests passed in auto's burst from idle (its
// first step); ok is false when the run did not start with one.
func (e *estimator) coldBurst() (float64, bool) {
	if len(e.all) == 0 || e.all[0].Phase != scenarios.PhaseBurst {
		return 0, false
	}
	return float64(e.all[0].OK), true
}

// recovery is auto's polling after its burst from idle, when it ended
// with a success.
func (e *estimator) recovery() (evidence.Step, bool) {
	if _, ok := e.coldBurst(); !ok || len(e.all) < 2 || e.all[1].Phase != scenarios.PhaseRecover || e.all[1].OK == 0 {
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
		proof.f.s.Index+1, estRate(proof.f.s.OfferedRPS), proof.f.s.OKBeforeThrottle, units.Seconds(proof.z), free.s.Index+1, estRate(g), units.Seconds(d))
	l := max(cold, float64(proof.f.s.OKBeforeThrottle))
	s.Burst = int(l)
	// The window: the client locked out when the requests it had sent in
	// the last W seconds, denied or not, reached the allowance. So W is at
	// least the span in which they did; it is that span when requests went
	// out just before it too (else the count had reached the allowance
	// earlier), and up to the pause before it when there was one.
	lockAt := proof.f.s.StartS + max(0, proof.f.s.FirstThrottleS)
	span, found := estLookback(e.in.Timeline, lockAt, l)
	before := lockAt - span - e.in.Timeline.ResolutionS // clear of the bucket the span began in
	tight := found && estSentBetween(e.in.Timeline, before-0.5, before) > 0
	var rate, lo, hi float64
	switch a := e.in.Advertised; {
	case a != nil && a.WindowS > 0:
		s.WindowS = a.WindowS
		rate = l / a.WindowS
		lo, hi = rate*0.97, rate*1.03
		e.reason("effective limit %s per %s (the advertised window) = %s", units.Num(l), units.Seconds(a.WindowS), estRate(rate))
	case tight:
		s.WindowS = units.Sig(span, 3)
		rate = l / span
		// A sliding counter weighs the previous window's requests only in
		// part, and rates that double each step make that part large: the
		// window it acts as is known to about a quarter. What ran free
		// bounds the rate from below: G for D seconds needs L/W ≥ G − L/D.
		lo, hi = max(g-l/d, rate*0.75), rate*1.25
		e.reason("the lockout came when %s requests had been sent in the last %s, with requests going out before that too: a window of about %s, so %s per %s = %s",
			units.Num(l), units.Seconds(span), units.Seconds(span), units.Num(l), units.Seconds(span), estRate(rate))
	default:
		// The best free rate, below the lowest rate that locked out.
		lowest := math.Inf(1)
		for _, l := range locked {
			lowest = min(lowest, l.f.s.OfferedRPS)
		}
		rate, lo, hi = g, g, max(g, lowest)
		e.reason("effective limit %s: the best goodput of a step that did not lock out; %s locked out", estRate(g), estRate(lowest))
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
	// The creep rises (a slope); the hold at the rate of its lock follows.
	var c, hold *evidence.Step
	for i := range e.in.Steps {
		if st := &e.in.Steps[i]; st.Phase == scenarios.PhaseCreep && st.SlopeRPS != 0 && st.FirstThrottleS > 0 && st.OKBeforeThrottle > 0 {
			c, hold = st, nil
			if n := i + 1; n < len(e.in.Steps) && e.in.Steps[n].Phase == scenarios.PhaseCreep && e.in.Steps[n].SlopeRPS == 0 {
				hold = &e.in.Steps[n]
			}
		}
	}
	if c == nil || l <= 0 {
		return false, false
	}
	at := c.StartS + c.FirstThrottleS
	span, found := CounterWindow(e.in.Timeline, at, l)
	// After the lock: the rest of the creep and the hold at the lock's
	// rate that follows it without a pause.
	after, okAfter := c.DurationS-c.FirstThrottleS, c.OK-c.OKBeforeThrottle
	if hold != nil && hold.StartS-(c.StartS+c.DurationS) < 0.5 {
		after += hold.StartS - (c.StartS + c.DurationS) + hold.DurationS
		okAfter += hold.OK
	}
	// The counter must have seen nothing before the creep (a clean start),
	// and the silence after the lock must outlast the window: a window
	// would have let through a clump of about the allowance. (A counter
	// that decays between requests lets one or two through near the lock.)
	clean := found && estSentBetween(e.in.Timeline, at-2*span, c.StartS) <= 0.02*l
	if !clean || float64(okAfter) > max(2, 0.05*l) || after < span {
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
		estRate(c.StartRPS), c.Index+1, estRate(lockRate), units.Num(l), units.Seconds(span), units.Seconds(after))
	e.reason("effective limit %s per %s = %s: the highest rate that never locks out", units.Num(l), units.Seconds(span), estRate(rate))
	if a := e.in.Advertised; a != nil && a.WindowS > 0 {
		s.WindowS = a.WindowS
	}
	e.lockoutLimit(rate, rate*(1-rel), rate*(1+rel))
	e.satOK = float64(c.OKBeforeThrottle)
	return true, true
}

// lockoutLimit sets the limit and band of a lockout and the confidence its
// band allows: sure of the shape, the limit as good as its band.
func (e *estimator) lockoutLimit(rate, lo, hi float64) {
	s := &e.sum
	s.EffectiveLimitRPS = units.Sig(rate, 3)
	s.EffectiveLimitBand = Band{Low: units.Sig(min(lo, rate), 3), High: units.Sig(max(hi, rate), 3)}
	e.reason("above the limit goodput falls to nothing until the client slows down for about a window")
	gap := s.EffectiveLimitBand.High/max(s.EffectiveLimitBand.Low, 1e-9) - 1
	e.base = 0.85 - min(0.45, 1.5*max(0, gap-0.05))
}

// CounterWindow is the window W, seconds, for which a sliding counter
// would count n requests at run time t from the timeline's requests (sent,
// whatever their outcome), averaged over the phase of its windows: a
// request τ seconds old weighs 1 − (τ/W)²/2 within one window and
// (2 − τ/W)²/2 within two. ok is false when no W up to t reaches n.
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
	lo, hi := res, t
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

// estFirstOK is the run time of the first timeline bucket within step s
// (not shared with the step before) that has a success; the step's end
// when none has.
func estFirstOK(tl evidence.Timeline, s evidence.Step) float64 {
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

// estSentBetween counts the timeline's requests sent from t0 to t1.
func estSentBetween(tl evidence.Timeline, t0, t1 float64) float64 {
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

// estLookback is the span before t, seconds, in which the timeline's
// requests (sent, whatever their outcome) first add up to n; ok is false
// when they never do.
func estLookback(tl evidence.Timeline, t, n float64) (float64, bool) {
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
	l := estMedian(clumps)
	if len(clumps) == 0 {
		l = estMedian(starts)
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
		s.EffectiveLimitBand = Band{Low: units.Sig(rate*(1-rel), 3), High: units.Sig(rate*(1+rel), 3)}
		e.reason("about %d requests succeeded per window, then nothing until the window ended (up to %s without success)", s.Burst, units.Seconds(maxBlocked))
		e.reason("window %s (%s): effective limit %d per %s = %s", units.Seconds(w), from, s.Burst, units.Seconds(w), estRate(rate))
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
	e.reason("window unknown: the effective limit is at most %d per %s = %s; run steps longer than the window (or strategy quota) to measure it", s.Burst, units.Seconds(span), estRate(up))
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
	if w := estCommonPeriod(bs, longest, e.in.Timeline.ResolutionS); w > 0 {
		return w, fmt.Sprintf("the spacing of %d boundaries seen in different steps", len(bs))
	}
	return 0, ""
}

// estCommonPeriod is the longest period of which every difference between
// boundaries is a whole multiple, at least minS; 0 when there is none.
func estCommonPeriod(bs []float64, minS, res float64) float64 {
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

// queue: successful latency climbs well above what unthrottled requests
// took before any is rejected: excess requests wait.
func (e *estimator) queue() bool {
	base := e.baseLatencyMS()
	if base <= 0 {
		return false
	}
	var n int
	var riseS float64
	for _, f := range e.sat {
		if f.sat.kind == satExhausted {
			return false
		}
		p50 := f.s.LatencyMS.P50
		if p50 < 2*base+1 || f.s.ThrottleMS.P50 > 0.5*p50 {
			return false
		}
		riseS = max(riseS, (p50-base)/1000)
		n++
	}
	if n == 0 {
		return false
	}
	e.base = 0.85
	if !e.smoothRate("queued requests were served at") {
		return false
	}
	s := &e.sum
	s.Algorithm = AlgorithmQueue
	burst, why := e.bestBurst(s.EffectiveLimitRPS)
	s.Burst = burst
	if why != "" {
		e.reason("%s", why)
	}
	e.reason("successful latency rose from %s to %s before requests were rejected: excess requests wait in a queue of about %d (%s at %s)",
		units.Seconds(base/1000), units.Seconds(base/1000+riseS), int(math.Round(riseS*s.EffectiveLimitRPS)), units.Seconds(riseS), estRate(s.EffectiveLimitRPS))
	return true
}

// baseLatencyMS is the median latency of successes when nothing waited:
// the lowest of unthrottled steps and of the timeline's buckets.
func (e *estimator) baseLatencyMS() float64 {
	base := math.Inf(1)
	for _, f := range e.steps {
		if f.s.Throttled == 0 && f.s.OK > 0 && f.s.LatencyMS.P50 > 0 {
			base = min(base, f.s.LatencyMS.P50)
		}
	}
	for _, f := range e.sat {
		sl := estSliceOf(f.s, e.in.Timeline)
		for _, b := range sl.b {
			if b.OK > 0 && b.LatencyMSP50 > 0 {
				base = min(base, b.LatencyMSP50)
			}
		}
	}
	if math.IsInf(base, 1) {
		return 0
	}
	return base
}

// concurrency: throttled responses are instant next to successful ones,
// and the number in flight explains the throttling. Open loop: after a
// pause long enough for everything in flight to finish, the first throttle
// came, before any success could, once as many requests were accepted as
// Little's law puts in flight under saturation (goodput × mean latency).
// Closed loop (workers): the most workers that ran unthrottled, the
// fewest that were throttled and Little's law agree on one whole number.
// The limit in requests per second is cap ÷ mean latency.
func (e *estimator) concurrency() bool {
	var little, latSum, okSum float64
	cold := map[int64]int{}
	var closed []*stepFacts
	var lats []float64
	for _, f := range e.sat {
		// Closed-loop workers send in waves of their latency, which the
		// timeline can read as clumps; their goodput is what counts.
		if f.sat.kind != satSmooth && f.s.Concurrency == 0 || f.meanLatS <= 0 {
			return false
		}
		p50 := f.s.LatencyMS.P50
		if p50 < 1 || f.s.ThrottleMS.P50 > 0.3*p50 {
			return false
		}
		little = max(little, f.sat.rate*f.meanLatS)
		latSum += f.meanLatS * float64(f.s.OK)
		okSum += float64(f.s.OK)
		lats = append(lats, f.meanLatS)
		if f.s.Concurrency > 0 {
			closed = append(closed, f)
			continue
		}
		drained := f.pos == 0
		if f.pos > 0 {
			p := e.in.Steps[f.pos-1]
			drained = p.Throttled == 0 && f.idleS >= p.LatencyMS.Max/1000 || f.idleS >= 2*p.LatencyMS.Max/1000
		}
		if drained && f.s.FirstThrottleS < f.meanLatS && f.s.OKBeforeThrottle > 0 {
			cold[f.s.OKBeforeThrottle]++
		}
	}
	if okSum == 0 || little < 0.5 {
		return false
	}
	var capN int64
	var evidence string
	switch {
	case len(cold) > 0:
		// Requests that overtake each other on the way can make the first
		// throttled one an earlier send: take the count closest to Little's
		// law, the larger on a tie.
		best := math.Inf(1)
		for n := range cold {
			if d := math.Abs(float64(n) - little); d < best || d == best && n > capN {
				best, capN = d, n
			}
		}
		if cf := float64(capN); math.Abs(cf-little) > max(1.5, 0.12*cf) {
			return false
		}
		evidence = fmt.Sprintf("after idle the first %d requests were accepted together, and under saturation %s × %s mean latency = %.1f were in flight",
			capN, estRate(e.maxSatRate()), units.Seconds(latSum/okSum), little)
		e.base = 0.85
	case len(closed) > 0:
		wu, wt := 0, math.MaxInt
		for _, f := range e.steps {
			switch {
			case f.s.Concurrency == 0:
			case f.crossed:
				wt = min(wt, f.s.Concurrency)
			case f.s.Throttled == 0:
				wu = max(wu, f.s.Concurrency)
			}
		}
		// Workers one apart, unthrottled and throttled, pin the cap;
		// Little's law must agree with it loosely (above the cap the send
		// rate cap can leave a slot idle between a rejection and the next
		// try). Without such a pair, Little's law must land on a whole
		// number between them.
		capN = int64(math.Round(little))
		tol := max(0.25, 0.03*float64(capN))
		if wu > 0 && wt == wu+1 {
			capN, tol = int64(wu), max(1.5, 0.1*float64(wu))
		}
		if capN < 1 || math.Abs(little-float64(capN)) > tol || int64(wu) > capN || int64(wt) <= capN {
			return false
		}
		evidence = fmt.Sprintf("%d workers ran unthrottled, %d were throttled, and under saturation %s × %s mean latency = %.2f were in flight",
			wu, wt, estRate(e.maxSatRate()), units.Seconds(latSum/okSum), little)
		e.base = 0.7
	default:
		return false
	}
	lat := latSum / okSum
	s := &e.sum
	s.Algorithm = AlgorithmConcurrency
	s.MaxInFlight = int(capN)
	s.Burst = int(capN)
	cf := float64(capN)
	rate := cf / lat
	rel := 0.01
	if len(lats) >= 2 {
		rel = max(rel, 2*estStddev(lats)/math.Sqrt(float64(len(lats)))/lat)
	}
	s.EffectiveLimitRPS = units.Sig(rate, 3)
	s.EffectiveLimitBand = Band{Low: units.Sig(rate/(1+rel), 3), High: units.Sig(rate/(1-min(rel, 0.5)), 3)}
	var thrMS, okMS float64
	for _, f := range e.sat {
		thrMS = max(thrMS, f.s.ThrottleMS.P50)
		okMS = max(okMS, f.s.LatencyMS.P50)
	}
	e.reason("throttled responses came back in %s against %s for successes: rejected at once, not delayed", units.Seconds(thrMS/1000), units.Seconds(okMS/1000))
	e.reason("%s: a cap of %d requests in flight", evidence, capN)
	e.reason("effective limit %d in flight ÷ %s mean latency = %s; slower requests lower it, so cap concurrency rather than rate", capN, units.Seconds(lat), estRate(rate))
	for _, f := range e.sat {
		e.satOK += float64(f.s.OK)
	}
	return true
}

func (e *estimator) maxSatRate() float64 {
	var r float64
	for _, f := range e.sat {
		r = max(r, f.sat.rate)
	}
	return r
}

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
	rate, half := estCombine(rates, halves)
	p := estMedian(periods)
	l := estMedian(per)
	from := "measured"
	if a := e.in.Advertised; a != nil && a.WindowS > 0 && math.Abs(a.WindowS-p) <= max(2*res, 0.05*p) {
		// The advertised window agrees: the count per window over it is
		// exact where the measured period is known to a send or a bucket.
		p, from = a.WindowS, "advertised, agrees with the measured period"
		rate = l / p
		half = max(0.002*rate, half/3)
	}
	s.EffectiveLimitRPS = units.Sig(rate, 3)
	s.EffectiveLimitBand = Band{Low: units.Sig(rate-half, 3), High: units.Sig(rate+half, 3)}
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
	if ph, ok := estAlignedPhases(periodic, p, res); ok {
		fixed = append(fixed, ph)
	}
	// Auto's burst from idle and the polls after it: a sliding log gives
	// the burst's slots back one period after they were used, a fixed
	// window at its next boundary, sooner. The polls see it up to one
	// poll late, so a return near the period says little unless the polls
	// are fine against it.
	if rec, ok := e.recovery(); ok && rec.OfferedRPS > 0 {
		back := estFirstOK(e.in.Timeline, rec) - e.all[0].StartS
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
		l, units.Seconds(p), from, units.Seconds(spans), estStepList(periodic), l, units.Seconds(p), estRate(rate))
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

// estAlignedPhases reports whether the boundaries of different steps fall at
// one phase of the period p while the steps started at different phases:
// windows aligned to the clock, not to the client.
func estAlignedPhases(periodic []*stepFacts, p, res float64) (string, bool) {
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
	if estCircSpread(bph, p) <= tol && estCircSpread(sph, p) > 3*tol {
		return fmt.Sprintf("boundaries in %d steps fell at the same phase of the %s period although the steps started at different ones", len(periodic), units.Seconds(p)), true
	}
	return "", false
}

// estCircSpread is the widest distance, on a circle of circumference p, of a
// phase from the first one.
func estCircSpread(ph []float64, p float64) float64 {
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
	e.reason("%d accepted at once from idle, %s after: a window of about %s", s.Burst, estRate(s.EffectiveLimitRPS), units.Seconds(s.WindowS))
}

// tokenBucket: after an idle start a burst at once, then a steady rate.
func (e *estimator) tokenBucket() {
	e.base = 0.85
	if !e.smoothRate("steady goodput") {
		e.unknown("no saturated step kept a steady rate")
		return
	}
	s := &e.sum
	s.Algorithm = AlgorithmTokenBucket
	burst, why := e.bestBurst(s.EffectiveLimitRPS)
	s.Burst = max(1, burst) // a bucket holds at least the request it admits
	if why != "" {
		e.reason("%s", why)
	}
	e.slowReturn()
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
	wait := estFirstOK(e.in.Timeline, rec) - rec.StartS
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
		units.Num(burst), units.Seconds(wait), estRate(rate), units.Seconds(1/rate), units.Num(burst), units.Seconds(s.WindowS))
	e.base = 0.8
}

// smoothRate sets the effective limit from the saturated steps' steady
// rates. A limiter with no room for a burst (burst 1, nginx limit_req
// without burst) wastes capacity while each slot waits for the next
// arrival, so its goodput depends on how requests arrive: see noBurst.
func (e *estimator) smoothRate(what string) bool {
	fs := e.satSmooth()
	var rates, halves, offered []float64
	var spans float64
	for _, f := range fs {
		rates = append(rates, f.sat.rate)
		halves = append(halves, f.sat.half)
		offered = append(offered, f.s.OfferedRPS)
		spans += f.sat.spanS
		e.satOK += f.sat.okN
	}
	s := &e.sum
	if len(rates) == 0 {
		return false
	}
	rate, half := estCombine(rates, halves)
	e.reason("%s %s over %s of saturation in %s (offered %s)", what, estRate(rate), units.Seconds(spans), estStepList(fs), estRateList(offered))
	lo, hi := max(0, rate-half), rate+half
	if b, _ := e.bestBurst(rate); b <= 3 {
		if r, l, h, ok := e.noBurst(fs, rates, halves, offered); ok {
			rate, lo, hi = r, l, h
		}
	}
	s.EffectiveLimitRPS = units.Sig(rate, 3)
	s.EffectiveLimitBand = Band{Low: units.Sig(lo, 3), High: units.Sig(hi, 3)}
	return true
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
			ks = append(ks, fmt.Sprintf("1/%d of %s", int(n), estRate(r)))
		}
	}
	fr, _, fit := e.noBurstFit(rates, halves, offered)
	if len(ks) == 0 && sporadic == 0 && !fit {
		return 0, 0, 0, false
	}
	lowWhy := fmt.Sprintf("at least %s, the best goodput", estRate(lo))
	if free >= lo {
		lowWhy = fmt.Sprintf("at least %s, the highest rate that went through unthrottled", estRate(lo))
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
		e.reason("goodput rose with the offered rate, as it does when each slot waits for the next arrival: extrapolated to %s", estRate(fr))
		rate = fr
	}
	e.reason("without a burst the rate lies in %s–%s (%s; the wait for the next arrival bounds it from above)", estRate(lo), estRate(hi), lowWhy)
	e.base *= 0.9
	return rate, lo, hi, true
}

func (e *estimator) satSmooth() []*stepFacts {
	var out []*stepFacts
	for _, f := range e.sat {
		if f.sat.kind != satExhausted && f.sat.kind != satClumpy {
			out = append(out, f)
		}
	}
	return out
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

// bestBurst is the burst a token bucket (or queue) of rate showed: what a
// step that started with a full bucket accepted beyond the rate before its
// first throttle. A step started full when it was the first, followed an
// unthrottled step or a long pause, or accepted clearly less than the pause
// could have refilled (the bucket was capped). Clearly overloaded steps
// (offered ≥ 1.5× rate) are preferred: near the rate, a limiter with no
// burst throttles at random moments and the arithmetic reads a burst that
// is not there. Among the rest the largest wins, since a bucket that had
// not refilled only shows less. A step after an unthrottled one that
// offered more than rate is credited what the unthrottled steps before it
// drained and their pauses did not refill. It returns the burst and a reason.
func (e *estimator) bestBurst(rate float64) (int, string) {
	type cand struct {
		f      *stepFacts
		b      int
		credit float64
		over   bool
	}
	var cands []cand
	for i := range e.steps {
		f := &e.steps[i]
		if f.s.Throttled == 0 || f.s.FirstThrottleS < 0 || f.sat.kind == satExhausted {
			continue
		}
		d := 0.0
		full := f.pos == 0 || f.idleS >= estColdIdleS
		if f.pos > 0 && e.in.Steps[f.pos-1].Throttled == 0 {
			// Full at the start of the unthrottled steps before it; what
			// they drained above the rate and their pauses did not refill.
			full = true
			k := f.pos - 1
			for k > 0 && e.in.Steps[k-1].Throttled == 0 {
				k--
			}
			for j := k; j < f.pos; j++ {
				p, next := e.in.Steps[j], e.in.Steps[j+1]
				d = max(0, d+(p.GoodputRPS-rate)*p.DurationS)
				d = max(0, d-rate*max(0, next.StartS-p.StartS-p.DurationS))
			}
		}
		// A step measured long after its first throttle knows its own
		// steady rate best.
		r := rate
		if f.sat.ok && f.sat.kind == satSmooth && f.sat.spanS >= estMinSatS && f.sat.rate > 0 {
			r = f.sat.rate
		}
		b := estBurstFrom(f.s, r) + int(math.Round(d))
		if !full && float64(b) < 0.9*rate*f.idleS {
			full = true
		}
		if full {
			cands = append(cands, cand{f, b, d, f.s.OfferedRPS >= 1.5*rate})
		}
	}
	if len(cands) == 0 {
		return 0, ""
	}
	pick := -1
	for _, over := range []bool{true, false} {
		for i, c := range cands {
			if c.over == over && (pick < 0 || c.b > cands[pick].b) {
				pick = i
			}
		}
		if pick >= 0 {
			break
		}
	}
	c := cands[pick]
	from := c.f
	idle := "at the start of the run"
	switch f := from; {
	case f.pos == 0:
	case e.in.Steps[f.pos-1].Throttled == 0:
		idle = "after an unthrottled step"
	default:
		idle = "after " + units.Seconds(f.idleS) + " idle"
	}
	why := fmt.Sprintf("step %d %s: %d accepted in %s before the first throttle, %s of them at the steady rate",
		from.s.Index+1, idle, from.s.OKBeforeThrottle, units.Seconds(from.s.FirstThrottleS), units.Num(rate*from.s.FirstThrottleS))
	if c.credit >= 0.5 {
		why += fmt.Sprintf(", plus %s the steps before drained above the rate", units.Num(c.credit))
	}
	return c.b, why + fmt.Sprintf(": burst ≈ %d", c.b)
}

// estCombine pools estimates weighted by their bands; the pooled band widens
// when the estimates disagree beyond their own bands.
func estCombine(v, half []float64) (float64, float64) {
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

// finishConfidence scales the algorithm's confidence by how much data the
// limit rests on and how narrow its band is.
func (e *estimator) finishConfidence() {
	s := &e.sum
	c := e.base
	c *= 1 - math.Exp(-e.satOK/20)
	if len(e.sat) == 1 {
		c *= 0.8
	}
	if s.EffectiveLimitRPS > 0 && s.EffectiveLimitBand.High > 0 {
		rel := (s.EffectiveLimitBand.High - s.EffectiveLimitBand.Low) / 2 / s.EffectiveLimitRPS
		c *= min(1, max(0.4, 1.1-2*rel))
	}
	if c < 0.3 && s.Algorithm != AlgorithmUnknown && e.satOK < 10 {
		e.reason("only %s successes under saturation: too few to name the algorithm", units.Num(e.satOK))
		s.Algorithm = AlgorithmUnknown
	}
	s.Confidence = estRound2(min(1, max(0, c)))
}

// advertisedCheck compares the advertised quota, as a rate, with the band.
func (e *estimator) advertisedCheck() {
	a := e.in.Advertised
	s := &e.sum
	if a == nil || a.Limit <= 0 {
		return
	}
	if a.WindowS <= 0 {
		if s.Burst > 0 && math.Abs(a.Limit-float64(s.Burst)) <= max(2, 0.1*a.Limit) {
			e.reason("the advertised limit %s matches the measured burst, not a rate", units.Num(a.Limit))
		}
		return
	}
	adv := a.Limit / a.WindowS
	b := s.EffectiveLimitBand
	width := max(b.High-b.Low, 0.01*s.EffectiveLimitRPS)
	advText := fmt.Sprintf("the target advertises %s per %s (%s", units.Num(a.Limit), units.Seconds(a.WindowS), estRate(adv))
	if a.Source != "" {
		advText += ", " + a.Source + " headers"
	}
	advText += ")"
	switch {
	case s.LowerBoundOnly:
		if adv < b.Low-width && b.Low > 0 {
			s.AdvertisedMismatch = fmt.Sprintf("%s, yet %s went through without throttling", advText, estRate(b.Low))
		}
	case s.EffectiveLimitRPS <= 0:
	case adv < b.Low-width:
		s.AdvertisedMismatch = fmt.Sprintf("%s, %s below the measured %s (band %s–%s)", advText, estRatio(s.EffectiveLimitRPS, adv), estRate(s.EffectiveLimitRPS), estRate(b.Low), estRate(b.High))
	case adv > b.High+width:
		s.AdvertisedMismatch = fmt.Sprintf("%s, %s above the measured %s (band %s–%s)", advText, estRatio(adv, s.EffectiveLimitRPS), estRate(s.EffectiveLimitRPS), estRate(b.Low), estRate(b.High))
	default:
		e.reason("%s, within the measured band", advText)
	}
	if s.AdvertisedMismatch != "" {
		e.reason("advertised and measured disagree: %s", s.AdvertisedMismatch)
	}
}

// estRatio words how far apart two rates are: "3.2×" or "12%".
func estRatio(big, small float64) string {
	if small <= 0 {
		return "far"
	}
	r := big / small
	if r >= 1.5 {
		return strconv.FormatFloat(units.Sig(r, 3), 'f', -1, 64) + "×"
	}
	return fmt.Sprintf("%.0f%%", (r-1)*100)
}

func estMedian(v []float64) float64 {
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

func estRound2(v float64) float64 { return math.Round(v*100) / 100 }

func estRate(rps float64) string { return units.Rate(rps).String() }

func estStepList(fs []*stepFacts) string {
	if len(fs) == 1 {
		return fmt.Sprintf("step %d", fs[0].s.Index+1)
	}
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = strconv.Itoa(f.s.Index + 1)
	}
	return "steps " + strings.Join(parts, ", ")
}

func estIntList(v []int) string {
	var b strings.Builder
	for i, x := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(x))
	}
	return b.String()
}

func estRateList(rs []float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = estRate(r)
	}
	return strings.Join(parts, ", ")
}
