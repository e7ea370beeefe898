// Package estimate turns what a probe measured into the summary of a
// limit: whether the target limited the probe, its effective limit with a
// band, the onset, the burst, the window, the cap on requests in flight,
// the algorithm that best explains what was seen, how sure that is, and
// the reasons, in sentences a user can check. Estimate is a pure function
// of plain data (evidence), so it is tested from simulations without a
// network or a clock.
package estimate

import (
	"fmt"
	"math"
	"slices"

	"limitprobe/evidence"
	"limitprobe/headers"

	"limitprobe/units"
)

// Input is everything estimation looks at. It is plain data: the
// estimate is a pure function of it.
type Input struct {
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
	// Quota is what the probe's quota mode saw; nil when it did not run.
	// With it the summary states the binding quota (see Policies).
	Quota *evidence.Quota
	// Requests is every request of the run; nil when the run did not keep
	// them. With them the estimate replays limiter models on what the
	// server saw (fitModels).
	Requests *evidence.Requests
	// Precision is the relative error within which the limit counts as
	// right (the probe's precision); 0 for 3%. The confidence is the
	// chance of that and of the algorithm's name.
	Precision float64
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

// Estimate turns measurements into the summary of a run: whether the
// target limited the probe, its effective limit (sustained goodput under
// overload, after any burst) with a band, the onset rate, the burst, the
// window, the cap on requests in flight, the algorithm that best explains
// what was seen and how sure that is, each with a reason a user can check.
// When nothing was throttled the effective limit is the highest goodput
// seen, LowerBoundOnly is set and the band is that single rate: the limit
// is at least that. It is a pure function of in.
func Estimate(in Input) Summary {
	e := prepare(in)
	e.run()
	e.quotaPolicies() // policies.go: every policy, and the headline of quota mode
	return e.sum
}

// prepare starts an estimate of in. Auto's recover steps poll a spent
// limiter on purpose, far below its rate: they are neither an onset nor a
// saturated rate, so only the models and the cold burst see them.
func prepare(in Input) *estimator {
	in = foldOpening(in) // policies.go: auto's opening read the headers just before its burst
	steps := make([]evidence.Step, 0, len(in.Steps))
	for _, s := range in.Steps {
		if s.Phase != evidence.PhaseRecover {
			steps = append(steps, s)
		}
	}
	all := in.Steps
	in.Steps = steps
	e := newEstimator(in)
	e.all = all
	return e
}

// stepFacts is what the estimator knows about one step.
type stepFacts struct {
	s       evidence.Step
	pos     int     // position in the input
	crossed bool    // throttled share above the threshold
	idleS   float64 // pause before the step, seconds; +Inf for the first
	// cold: the limiter had recovered when the step began, as far as can be
	// told: the first step, one after a step that was not throttled, or one
	// after a pause of at least coldIdleS.
	cold bool
	sat  saturation
	// meanLatS is the mean latency of successes, seconds; 0 when unknown.
	meanLatS float64
}

// minSatS is the shortest saturated stretch, seconds, a step needs for
// its rate to count.
const minSatS = 0.5

// coldIdleS is the pause after which a step counts as starting cold even
// when the step before it was throttled.
const coldIdleS = 5.0

// estimator holds one estimate in progress.
type estimator struct {
	in    Input
	steps []stepFacts
	sat   []*stepFacts // crossed steps with a measurable saturated part
	sum   Summary
	all   []evidence.Step // every step, auto's recover steps too
	base  float64         // algorithm-specific confidence before data factors
	// satOK counts the successes the effective limit was measured from.
	satOK float64
	// spaced is set when the limit was read from Poisson goodput of a
	// limiter without burst (see spacing), which timing jitter leaves be.
	spaced bool
}

func newEstimator(in Input) *estimator {
	e := &estimator{in: in}
	for i, s := range in.Steps {
		f := stepFacts{s: s, pos: i, crossed: s.Requests > 0 && s.ThrottledRatio > in.Threshold, idleS: math.Inf(1)}
		if i > 0 {
			p := in.Steps[i-1]
			f.idleS = s.StartS - (p.StartS + p.DurationS)
			f.cold = p.Throttled == 0 || f.idleS >= coldIdleS
		} else {
			f.cold = true
		}
		f.meanLatS = meanOKLatency(s)
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
		if f.crossed && f.sat.ok && (f.sat.kind == satExhausted || f.sat.spanS >= minSatS) && f.s.Phase != evidence.PhaseCreep {
			e.sat = append(e.sat, f)
		}
	}
	// When auto ran saturation steps that were throttled, they were made
	// to measure the rate, long and just above it; the ramp step that
	// found the onset was short and far above it, which misreads windows.
	var planned []*stepFacts
	for _, f := range e.sat {
		if f.s.Phase == evidence.PhaseSaturate && f.sat.kind != satExhausted {
			planned = append(planned, f)
		}
	}
	// Unless goodput rose with the offered rate: a limiter without burst
	// wastes slots at 1.3× its rate, and the faster steps tell more.
	var bestPlanned, bestOther float64
	for _, f := range e.sat {
		if f.s.Phase == evidence.PhaseSaturate {
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

// meanOKLatency is the mean latency of a step's successes in seconds, from
// the mean number of requests in flight (Little's law over all responses)
// less what the throttled ones took; 0 when it cannot be told. Step has no
// mean latency field, so this is the way to it.
func meanOKLatency(s evidence.Step) float64 {
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
	if e.heuristics() && !e.fitted() {
		e.finishConfidence()
	}
	e.advertisedCheck()
}

// heuristics estimates from the steps' statistics, the estimate that seeds
// the model fit. It reports whether the run was limited and a fit can
// follow.
func (e *estimator) heuristics() bool {
	e.sum.Reasons = []string{}
	onset, limited := Onset(e.in.Steps, e.in.Threshold)
	if len(e.in.Steps) == 0 {
		e.sum.Algorithm = AlgorithmUnknown
		e.reason("nothing was measured")
		return false
	}
	if !limited {
		e.noneObserved()
		return false
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
	if e.in.Requests == nil {
		e.replayCheck() // with every request kept, the model fit does it better
	}
	return true
}

// fitted replaces the estimate with the limiter model that best explains
// every request's outcome, when the run kept them (see fitModels). It
// reports whether it did.
func (e *estimator) fitted() bool {
	m, ok := e.models()
	if !ok {
		return false
	}
	prev, prevBase := e.sum, e.base
	e.sum = Summary{Limited: true, OnsetRPS: prev.OnsetRPS, Reasons: slices.Clone(prev.Reasons[:min(1, len(prev.Reasons))])}
	if !e.fromModels(m) {
		// No limiter's replay explains the refusals better than refusing
		// at random: the steps' reading stands, its name unconfirmed. (A
		// sliding counter of 200 per 10 s read so as a token bucket at
		// 0.85.)
		e.sum, e.base = prev, min(prevBase, 0.4)
		if len(m.fits) > 1 {
			e.reason("replayed, no limiter explains the refusals better than refusing at random would (the closest, %s, gets %d wrong): the steps' reading stands, its name unconfirmed",
				describe(m.fits[1].best.cfg), m.fits[1].best.miss)
		}
		return false
	}
	if e.goodputStands(m, prev, prevBase) {
		return false
	}
	e.sum.Confidence = round2(e.base)
	return true
}

// goodputStands puts back prev, the steps' reading, when it knows the
// rate better than the fit m does, and says why. The timing noise blurs
// each request's moment at the limiter; the more of the fit it covers,
// the less the replay tells apart:
//
//   - A bucket of one (or two) under Poisson arrivals: their goodput reads
//     its rate whatever the jitter, while the replay places each request
//     in a slot and leans low as the noise covers more of it (behind
//     50±20 ms about −0.5% at 5/s, blur 0.11; −6.6% at 20/s, 0.46; the
//     goodput ±3%). From a fifth of the slot on the goodput stands, and
//     below that when the fit's rate lies clear of the goodput's band (a
//     bucket of one at 50/s fitted as a counter of 2 per 71 ms, 28/s).
//   - Any fit the noise covers whole: a model that decides nothing like
//     the run did can fit its outcomes best (a bucket of 3 at 200/s
//     fitted as a lockout of 9 per 16.6 ms, 542/s, beside saturations
//     whose goodput held 204/s). When its rate lies clear of the steps'
//     band, the band stands, its name a guess (a cap of 8 at 50 ms read
//     as a bucket at 137/s): confidence 0.4 at most.
func (e *estimator) goodputStands(m models, prev Summary, prevBase float64) bool {
	best := m.fits[0].best.cfg
	fit, rate, band, timing := describe(best), rateOf(best, m.fits[0].hold(m.v)), prev.EffectiveLimitBand, m.v.timing
	covered := blur(best, rate, timing)
	outside := rate < 0.9*band.Low || rate > 1.1*band.High
	spacedOne := e.spaced && capacityOf(best) <= 2
	switch {
	case spacedOne && covered >= 0.2:
		e.sum, e.base = prev, prevBase
		e.reason("replayed, %s fits as well as the timing allows: each request's moment at the limiter is known to %s, a fifth of its slot or more, where the fit leans low, so the goodput of Poisson arrivals, which no jitter changes, gives the rate",
			fit, units.Seconds(timing))
	case spacedOne && outside:
		e.sum, e.base = prev, prevBase
		e.reason("replayed with each request's moment at the limiter known to %s, %s fits best, but its %s lies outside the %s–%s that the goodput of Poisson arrivals, which no jitter changes, gives: the goodput's reading stands",
			units.Seconds(timing), fit, units.Rate(rate), units.Rate(band.Low), units.Rate(band.High))
	case prev.Limited && band.Low > 0 && covered >= 1 && outside:
		e.sum, e.base = prev, min(prevBase, 0.4)
		e.reason("replayed with each request's moment at the limiter known to %s, %s fits best, but the noise covers all of it, and its %s lies outside the %s–%s that the steps' goodput gives: the goodput's reading stands, its name unconfirmed",
			units.Seconds(timing), fit, units.Rate(rate), units.Rate(band.Low), units.Rate(band.High))
	default:
		return false
	}
	return true
}

// models fits every limiter family to the run's requests as the limiter
// saw them, the estimate so far seeding the search. ok is false without
// requests, without a refusal, or without a rate to start from.
func (e *estimator) models() (models, bool) {
	pulses := map[int]bool{}
	for _, st := range e.in.Steps {
		if st.Phase == evidence.PhasePulse {
			pulses[st.Index] = true
		}
	}
	v, ok := newView(e.in.Requests, pulses)
	if !ok {
		return models{}, false
	}
	sd := seeds{rate: e.sum.EffectiveLimitRPS, cold: -1}
	if e.sum.WindowS > 0 {
		sd.windows = append(sd.windows, e.sum.WindowS)
		if e.sum.Algorithm == AlgorithmLockout {
			sd.lockout = e.sum.WindowS
		}
	}
	if sd.rate <= 0 {
		for _, st := range e.in.Steps {
			sd.rate = max(sd.rate, st.GoodputRPS)
		}
	}
	if sd.rate <= 0 {
		return models{}, false
	}
	for _, st := range e.in.Steps {
		if st.SteadyRPS > 0 && st.DurationS-st.FirstThrottleS >= 1 {
			sd.rates = append(sd.rates, st.SteadyRPS)
		}
	}
	if r := v.saturatedRate(); r > 0 {
		sd.rates = append(sd.rates, r)
	}
	// A window: what passed from idle at the rate; and how long a spent
	// limiter took to accept again (auto's polls after its burst), which a
	// window takes up to a whole window to do.
	cold, ok := e.coldBurst()
	if ok {
		sd.cold = e.all[0].Index
	}
	if !ok || cold < 2 {
		cold = max(2, float64(e.sum.Burst))
	}
	for _, r := range append([]float64{sd.rate}, sd.rates...) {
		sd.windows = append(sd.windows, cold/r)
		sd.allowances = append(sd.allowances, cold/r)
	}
	if rec, ok := e.recovery(); ok {
		sd.windows = append(sd.windows, rec.DurationS)
	}
	// A creep that locked from a clean start puts a counter's window near
	// its span even when its hold was too short to show a lockout (auto
	// holds at most four step lengths): without it the search can miss the
	// window (a lockout of 100 per 5 s read 93 per 4.16 s).
	if _, span, _, _, found := e.creepLock(cold); found && sd.lockout == 0 {
		sd.windows = append(sd.windows, span)
		sd.allowances = append(sd.allowances, span)
	}
	return fitModels(&v, sd), true
}

func (e *estimator) onsetReason(onset float64) {
	for _, f := range e.steps {
		if f.crossed && f.s.OfferedRPS == onset {
			e.reason("throttling began at %s offered: %s of requests throttled in step %d", units.Rate(onset), units.Percent(f.s.ThrottledRatio), f.s.Index+1)
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
		e.reason("no step was throttled up to %s offered (the scenario's max): the limit is at least %s", units.Rate(top), units.Rate(best.GoodputRPS))
	case e.in.MaxOfferedRPS > 0:
		e.reason("no step was throttled up to %s offered, below the scenario's max of %s (the run stopped early): the limit is at least %s", units.Rate(top), units.Rate(e.in.MaxOfferedRPS), units.Rate(best.GoodputRPS))
	default:
		e.reason("no step was throttled up to %s offered: the limit is at least %s", units.Rate(top), units.Rate(best.GoodputRPS))
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
	s.Confidence = round2(c)
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
	s.EffectiveLimitBand = bandOf(best*0.5, best*1.5)
	e.reason("%s; the rough goodput is %s", why, units.Rate(best))
	e.base = 0.15
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
		c *= e.withinPrecision(rel)
	}
	if c < 0.3 && s.Algorithm != AlgorithmUnknown && e.satOK < 10 {
		e.reason("only %s successes under saturation: too few to name the algorithm", units.Num(e.satOK))
		s.Algorithm = AlgorithmUnknown
	}
	s.Confidence = round2(min(1, max(0, c)))
}

// withinPrecision is the chance that the true limit lies within the
// input's precision of the estimate, the band's relative half-width rel
// read as two standard errors: 0.95 when the band is the precision.
func (e *estimator) withinPrecision(rel float64) float64 {
	if rel <= 0 {
		return 1
	}
	p := e.in.Precision
	if p <= 0 {
		p = 0.03
	}
	return math.Erf(p / (rel / 2) / math.Sqrt2)
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
	advText := fmt.Sprintf("the target advertises %s per %s (%s", units.Num(a.Limit), units.Seconds(a.WindowS), units.Rate(adv))
	if a.Source != "" {
		advText += ", " + a.Source + " headers"
	}
	advText += ")"
	switch {
	case s.LowerBoundOnly:
		if adv < b.Low-width && b.Low > 0 {
			s.AdvertisedMismatch = fmt.Sprintf("%s, yet %s went through without throttling", advText, units.Rate(b.Low))
		}
	case s.EffectiveLimitRPS <= 0:
	case adv < b.Low-width:
		s.AdvertisedMismatch = fmt.Sprintf("%s, %s below the measured %s (band %s–%s)", advText, ratioText(s.EffectiveLimitRPS, adv), units.Rate(s.EffectiveLimitRPS), units.Rate(b.Low), units.Rate(b.High))
	case adv > b.High+width:
		s.AdvertisedMismatch = fmt.Sprintf("%s, %s above the measured %s (band %s–%s)", advText, ratioText(adv, s.EffectiveLimitRPS), units.Rate(s.EffectiveLimitRPS), units.Rate(b.Low), units.Rate(b.High))
	default:
		e.reason("%s, within the measured band", advText)
	}
	if s.AdvertisedMismatch != "" {
		e.reason("advertised and measured disagree: %s", s.AdvertisedMismatch)
	}
}
