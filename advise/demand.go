package advise

import (
	"fmt"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/units"
)

// Demand compares the measured limit with the rate the service needs.
type Demand struct {
	DemandRPS      float64 `json:"demand_rps"`      // requests per second needed
	LimitRPS       float64 `json:"limit_rps"`       // effective limit (or lower bound), requests per second
	SustainableRPS float64 `json:"sustainable_rps"` // what the recommendation sends, requests per second
	// HeadroomRatio is (limit − demand) ÷ demand: 0.25 is 25% headroom,
	// −0.2 is 20% short.
	HeadroomRatio float64 `json:"headroom_ratio"`
	// Meets is true when SustainableRPS covers the demand.
	Meets bool `json:"meets"`
	// LowerBound is true when the limit was never reached, so LimitRPS is
	// only a lower bound.
	LowerBound bool `json:"lower_bound"`
	// Sentence says all of it in words.
	Sentence string `json:"sentence"`
}

// Limit returns the rate, requests per second, that a demand is compared
// with, and whether it is only a lower bound: the effective limit of s;
// when nothing was throttled, the higher of it and the best goodput of a
// step (a lower bound); for a lockout, the lower of the limit and the
// onset, above which the client is locked out.
func Limit(s estimate.Summary, steps []evidence.Step) (rps float64, lowerBound bool) {
	switch classOf(s) {
	case classLowerBound:
		return max(s.EffectiveLimitRPS, statsOf(steps).maxGoodput), true
	case classLockout:
		return positiveMin(s.EffectiveLimitRPS, s.OnsetRPS), false
	}
	return s.EffectiveLimitRPS, false
}

// HighestOffered returns the highest offered rate, requests per second, of
// the steps that sent anything; 0 when none did.
func HighestOffered(steps []evidence.Step) float64 { return statsOf(steps).maxOffered }

// MedianLatencyMS returns the latency of successful requests the
// recommendation assumes, milliseconds: the median of the steps' p50; 0
// when no step had a success.
func MedianLatencyMS(steps []evidence.Step) float64 { return statsOf(steps).p50MS }

// DemandFor compares demand (requests per second) with the limit of s and
// steps (see Limit) and with what rec, the recommendation made from them,
// sends. It is a pure function.
func DemandFor(demand float64, s estimate.Summary, steps []evidence.Step, rec Recommendation) Demand {
	d := Demand{DemandRPS: demand, SustainableRPS: rec.SustainableRPS}
	d.LimitRPS, d.LowerBound = Limit(s, steps)
	// Without a measured limit, whether the demand fits is unknown: not met.
	d.Meets = d.LimitRPS > 0 && d.SustainableRPS >= demand
	if d.LimitRPS > 0 {
		d.HeadroomRatio = (d.LimitRPS - demand) / demand
	}
	needs := "needs " + units.RateOrDash(demand)
	sends := fmt.Sprintf("at %s margin you can send %s", units.PercentWhole(rec.Margin), units.RateOrDash(d.SustainableRPS))
	switch rec.Basis {
	case BasisHighestTestedRate:
		sends = "pacing at the highest tested rate sends " + units.RateOrDash(d.SustainableRPS)
	case BasisConservative:
		sends = "the conservative setting sends " + units.RateOrDash(d.SustainableRPS)
	case BasisConcurrencyCap:
		sends = fmt.Sprintf("at %d in flight you can send about %s", rec.MaxConcurrency, units.RateOrDash(d.SustainableRPS))
	}
	switch {
	case d.LimitRPS <= 0:
		d.Sentence = needs + "; no limit could be measured, so whether it fits is unknown"
	case d.LowerBound && d.LimitRPS >= demand:
		d.Sentence = fmt.Sprintf("%s, limit at least %s (never throttled): %s headroom or more", needs, units.RateOrDash(d.LimitRPS), units.PercentWhole(d.HeadroomRatio))
	case d.LowerBound:
		d.Sentence = fmt.Sprintf("%s, but it was tested only up to %s without throttling: the limit may or may not cover it; probe higher", needs, units.RateOrDash(d.LimitRPS))
	case d.LimitRPS < demand:
		d.Sentence = fmt.Sprintf("%s, limit %s: %s short; %s", needs, units.RateOrDash(d.LimitRPS), units.PercentWhole(d.HeadroomRatio), sends)
	case !d.Meets:
		short := (demand - d.SustainableRPS) / demand
		d.Sentence = fmt.Sprintf("%s, limit %s: %s headroom, but %s (%s short)", needs, units.RateOrDash(d.LimitRPS), units.PercentWhole(d.HeadroomRatio), sends, units.PercentWhole(short))
	default:
		d.Sentence = fmt.Sprintf("%s, limit %s: %s headroom; %s", needs, units.RateOrDash(d.LimitRPS), units.PercentWhole(d.HeadroomRatio), sends)
	}
	return d
}

func positiveMin(a, b float64) float64 {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}
