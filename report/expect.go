package report

import (
	"fmt"
	"strconv"
	"strings"

	"limitprobe/advise"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// Names of the expectations, as the scenario's expect section spells them.
const (
	ExpectMinEffectiveLimit = "min_effective_limit"
	ExpectMinOnset          = "min_onset"
	ExpectMinBurst          = "min_burst"
	ExpectMaxErrors         = "max_errors"
	ExpectAlgorithm         = "algorithm"
	ExpectMeetsDemand       = "meets_demand"
)

// evaluate checks e against what rep measured and recommends, in the order
// of the scenario format. Unset (zero) expectations are skipped. An
// interrupted run is judged on what it measured, and each verdict says so.
func evaluate(rep *Report, e scenarios.Expect) []Expectation {
	s := rep.Summary
	bound, lower := advise.Limit(s, rep.Steps)
	out := []Expectation{}
	add := func(x Expectation) { out = append(out, x) }

	if want := float64(e.MinEffectiveLimit); want > 0 {
		limit := s.EffectiveLimitRPS
		got := units.RateOrDash(limit)
		if lower {
			limit = bound
			got = "≥ " + units.RateOrDash(limit) + " (never throttled)"
		}
		add(Expectation{Name: ExpectMinEffectiveLimit, Want: "≥ " + units.RateOrDash(want), Got: orNone(got, limit), Pass: limit >= want})
	}
	if want := float64(e.MinOnset); want > 0 {
		x := Expectation{Name: ExpectMinOnset, Want: "≥ " + units.RateOrDash(want)}
		switch {
		case s.OnsetRPS > 0:
			x.Got, x.Pass = units.RateOrDash(s.OnsetRPS), s.OnsetRPS >= want
		case !s.Limited || lower:
			// Never crossed the threshold: the onset is above every rate tested.
			top := advise.HighestOffered(rep.Steps)
			x.Got, x.Pass = "none up to "+units.RateOrDash(top), top >= want
		default:
			x.Got = "not measured"
		}
		add(x)
	}
	if e.MinBurst > 0 {
		add(Expectation{Name: ExpectMinBurst, Want: "≥ " + strconv.Itoa(e.MinBurst), Got: strconv.Itoa(s.Burst), Pass: s.Burst >= e.MinBurst})
	}
	if e.MaxErrors > 0 {
		x := Expectation{Name: ExpectMaxErrors, Want: "≤ " + units.Percent(e.MaxErrors) + " of requests"}
		if rep.RequestsSent > 0 {
			share := float64(rep.ErrorsTotal) / float64(rep.RequestsSent)
			x.Got = fmt.Sprintf("%s (%d of %d)", units.Percent(share), rep.ErrorsTotal, rep.RequestsSent)
			x.Pass = share <= e.MaxErrors
		} else {
			x.Got = "no requests sent"
		}
		add(x)
	}
	if e.Algorithm != "" {
		got := s.Algorithm
		if got == "" {
			got = "unknown"
		}
		add(Expectation{Name: ExpectAlgorithm, Want: e.Algorithm, Got: got, Pass: sameAlgorithm(e.Algorithm, got)})
	}
	if e.MeetsDemand {
		x := Expectation{Name: ExpectMeetsDemand}
		if d := rep.Recommendation.Demand; d != nil {
			x.Want = "sends ≥ " + units.RateOrDash(d.DemandRPS)
			x.Got = fmt.Sprintf("%s (%s)", units.RateOrDash(d.SustainableRPS), rep.Recommendation.Basis)
			x.Pass = d.Meets
			x.Note = d.Sentence
		} else {
			x.Want, x.Got = "a demand", "no demand given"
		}
		add(x)
	}
	if rep.Interrupted {
		for i := range out {
			note := "run interrupted: judged on what was measured before it stopped"
			if out[i].Note != "" {
				note += "; " + out[i].Note
			}
			out[i].Note = note
		}
	}
	return out
}

// orNone prints "none" for a quantity that is 0.
func orNone(s string, x float64) string {
	if x <= 0 {
		return "none"
	}
	return s
}

// sameAlgorithm compares algorithm names, taking GCRA for the token bucket
// it is equivalent to.
func sameAlgorithm(want, got string) bool {
	norm := func(a string) string {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "gcra" {
			return "token-bucket"
		}
		return a
	}
	return norm(want) == norm(got)
}
