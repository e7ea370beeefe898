package simulate

import (
	"fmt"
	"math"

	"limitprobe/estimate"
	"limitprobe/limiter"
	"limitprobe/units"
)

// rateOf is the rate m admits under saturation, requests per second: a
// bucket's rate, a window's limit over its length, a cap over its service
// time; 0 when m has none.
func rateOf(m estimate.Model) float64 {
	switch m.Kind {
	case limiter.TokenBucket, limiter.GCRA, limiter.Queue:
		return m.RateRPS
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter, limiter.Lockout:
		if m.WindowS > 0 {
			return float64(m.Limit) / m.WindowS
		}
	case limiter.Concurrency:
		if m.ServiceS > 0 {
			return float64(m.MaxInFlight) / m.ServiceS
		}
	}
	return 0
}

// atRate is m moved to an end of the measured band, rps, along the
// parameter the measurement is least sure of; the counts a limiter admits
// at once are counted exactly, the times are not. A bucket's rate scales;
// a window keeps its limit and its length scales; a cap keeps its size and
// its service time scales, and with it the latency of every request
// (latencyScale, 1 for m itself).
func atRate(m estimate.Model, rps float64) (end estimate.Model, latencyScale float64) {
	r := rateOf(m)
	if r <= 0 || rps <= 0 {
		return m, 1
	}
	k := rps / r
	switch m.Kind {
	case limiter.TokenBucket, limiter.GCRA, limiter.Queue:
		m.RateRPS *= k
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter, limiter.Lockout:
		m.WindowS /= k
	case limiter.Concurrency:
		m.ServiceS /= k
		return m, 1 / k
	}
	return m, 1
}

// withCapacity is m with k times the capacity a larger plan sells: a
// bucket's rate, a window's limit, a cap's size (those two rounded up to
// whole requests). Burst, window length and service time stay.
func withCapacity(m estimate.Model, k float64) estimate.Model {
	switch m.Kind {
	case limiter.TokenBucket, limiter.GCRA, limiter.Queue:
		m.RateRPS *= k
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter, limiter.Lockout:
		m.Limit = max(1, int(math.Ceil(float64(m.Limit)*k-1e-9)))
	case limiter.Concurrency:
		m.MaxInFlight = max(1, int(math.Ceil(float64(m.MaxInFlight)*k-1e-9)))
	}
	return m
}

// scaledSummary is s as a probe of model m, a scaled copy of s.Model (or
// of what s describes), would have read it: what advise.Recommend needs to
// advise on m.
func scaledSummary(s estimate.Summary, orig, m estimate.Model) estimate.Summary {
	k := 1.0
	if r := rateOf(orig); r > 0 {
		k = rateOf(m) / r
	}
	s.EffectiveLimitRPS *= k
	s.EffectiveLimitBand.Low *= k
	s.EffectiveLimitBand.High *= k
	s.OnsetRPS *= k
	switch m.Kind {
	case limiter.TokenBucket, limiter.GCRA, limiter.Queue:
		s.Burst = m.Burst
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter, limiter.Lockout:
		s.Burst, s.WindowS = m.Limit, m.WindowS
	case limiter.Concurrency:
		s.MaxInFlight = m.MaxInFlight
	}
	s.Model = &m
	return s
}

// Describe says what m is in a few words: "token bucket 50/s, burst 10",
// "100 per 10 s, fixed window", "12 in flight at 200 ms each".
func Describe(m estimate.Model) string {
	switch m.Kind {
	case limiter.TokenBucket, limiter.GCRA:
		return fmt.Sprintf("%s %s, burst %d", m.Kind, units.RateOrDash(m.RateRPS), max(m.Burst, 1))
	case limiter.Queue:
		return fmt.Sprintf("queue %s, %d may wait", units.RateOrDash(m.RateRPS), m.Burst)
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter, limiter.Lockout:
		return fmt.Sprintf("%d per %s, %s", m.Limit, units.Seconds(m.WindowS), m.Kind)
	case limiter.Concurrency:
		return fmt.Sprintf("%d in flight at %s each", m.MaxInFlight, units.Seconds(m.ServiceS))
	}
	return string(m.Kind)
}
