package estimate

import (
	"fmt"
	"math"

	"limitprobe/units"
)

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
		units.Seconds(base/1000), units.Seconds(base/1000+riseS), int(math.Round(riseS*s.EffectiveLimitRPS)), units.Seconds(riseS), units.Rate(s.EffectiveLimitRPS))
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
		sl := sliceOf(f.s, e.in.Timeline)
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
			capN, units.Rate(e.maxSatRate()), units.Seconds(latSum/okSum), little)
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
			wu, wt, units.Rate(e.maxSatRate()), units.Seconds(latSum/okSum), little)
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
		rel = max(rel, 2*stddev(lats)/math.Sqrt(float64(len(lats)))/lat)
	}
	s.EffectiveLimitRPS = units.Sig(rate, 3)
	s.EffectiveLimitBand = bandOf(rate/(1+rel), rate/(1-min(rel, 0.5)))
	var thrMS, okMS float64
	for _, f := range e.sat {
		thrMS = max(thrMS, f.s.ThrottleMS.P50)
		okMS = max(okMS, f.s.LatencyMS.P50)
	}
	e.reason("throttled responses came back in %s against %s for successes: rejected at once, not delayed", units.Seconds(thrMS/1000), units.Seconds(okMS/1000))
	e.reason("%s: a cap of %d requests in flight", evidence, capN)
	e.reason("effective limit %d in flight ÷ %s mean latency = %s; slower requests lower it, so cap concurrency rather than rate", capN, units.Seconds(lat), units.Rate(rate))
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
