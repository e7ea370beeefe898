package verify

import (
	"fmt"
	"strings"

	"limitprobe/units"
)

// The verdict's thresholds.
const (
	// MinSuccess is the eventual success the recommended policy must reach:
	// of the whole demand when it fits within what the recommendation sends,
	// of the requests it sent when it does not.
	MinSuccess = 0.99
	// MinGoodputShare is the share of the recommendation's sustainable rate
	// the recommended policy must deliver when the demand exceeds it.
	MinGoodputShare = 0.95
	// ThrottleTolerance is how many throttled attempts per request the
	// recommended policy may have above another policy and still count as
	// having the fewest: one in a hundred requests, so that ties at (nearly)
	// zero and single stray throttles on a boundary are not failures.
	ThrottleTolerance = 0.01
)

// Judge decides whether the recommended policy of v held up. It is a pure
// function of v's demand, sustainable rate and policy results.
//
// The demand the limit allows is min(demand, SustainableRPS), where
// SustainableRPS is what the recommendation sends at most (its margin below
// the limit).
//
//   - When the demand fits (demand ≤ SustainableRPS, or no sustainable rate
//     is known), the recommended policy must succeed eventually for at
//     least 99% of all requests: a request it queued past its deadline
//     counts as failed.
//   - When it does not fit, no policy can meet it. The recommended policy
//     must then deliver at least 95% of SustainableRPS as goodput (of what
//     its cap on requests in flight carries at the attempt time measured,
//     when that is less; see GoodputBar), and at least 99% of the requests
//     it sent must succeed; the excess it queues and sheds client-side is
//     the point of pacing, not a failure.
//
// In both regimes its throttled attempts per request must be no more than
// every other policy's, within ThrottleTolerance. Without a recommended
// policy there is nothing to judge: Judged is false.
func Judge(v *Verification) Verdict {
	var rec *PolicyResult
	var others []PolicyResult
	for i, p := range v.Policies {
		if p.Name == Recommended {
			rec = &v.Policies[i]
		} else {
			others = append(others, p)
		}
	}
	vd := Verdict{Regime: RegimeFits, Checks: []Check{}}
	s := v.SustainableRPS
	if s > 0 && v.DemandRPS > s*(1+1e-9) {
		vd.Regime = RegimeOver
	}
	if rec == nil || rec.Requests == 0 {
		vd.Sentence = "the recommended policy was not run, so there is nothing to judge"
		if rec != nil {
			vd.Sentence = "the recommended policy sent nothing, so there is nothing to judge"
		}
		return vd
	}
	vd.Judged = true
	if vd.Regime == RegimeFits {
		vd.Checks = append(vd.Checks, Check{
			Name: "eventual success",
			Want: "≥ " + units.PercentWhole(MinSuccess) + " of the demand",
			Got:  units.Percent(rec.SuccessRatio),
			Pass: rec.SuccessRatio >= MinSuccess,
		})
	} else {
		bar, of := GoodputBar(v, rec)
		vd.Checks = append(vd.Checks,
			Check{
				Name: "goodput",
				Want: fmt.Sprintf("≥ %s: %s of %s", units.Rate(MinGoodputShare*bar).String(), units.PercentWhole(MinGoodputShare), of),
				Got:  units.Rate(rec.GoodputRPS).String(),
				Pass: rec.GoodputRPS >= MinGoodputShare*bar,
			},
			Check{
				Name: "success of sent",
				Want: "≥ " + units.PercentWhole(MinSuccess) + " of the requests it sent",
				Got:  units.Percent(rec.SentSuccessRatio),
				Pass: rec.SentSuccessRatio >= MinSuccess,
			})
	}
	var best *PolicyResult
	for i, o := range others {
		if best == nil || o.ThrottledPerRequest < best.ThrottledPerRequest {
			best = &others[i]
		}
	}
	if best != nil {
		c := Check{
			Name: "fewest throttled attempts",
			Want: fmt.Sprintf("≤ every other policy's (±%s per request)", units.Exact(ThrottleTolerance)),
			Got:  fmt.Sprintf("%s per request; fewest of the others: %s %s", perReqText(rec.ThrottledPerRequest), best.Name, perReqText(best.ThrottledPerRequest)),
			Pass: rec.ThrottledPerRequest <= best.ThrottledPerRequest+ThrottleTolerance,
		}
		vd.Checks = append(vd.Checks, c)
	}
	vd.Pass = true
	var failed []string
	for _, c := range vd.Checks {
		if !c.Pass {
			vd.Pass = false
			failed = append(failed, fmt.Sprintf("%s %s (want %s)", c.Name, c.Got, c.Want))
		}
	}
	vd.Sentence = sentence(v, vd, rec, best, failed)
	return vd
}

// GoodputBar is the goodput rec can deliver above the limit, and what it is
// in words: the sustainable rate, or what its cap on requests in flight
// carries at the attempt time measured now when that is less (the target
// answers slower than it did for the probe), over the demand's duration
// less the first attempt's time, in which no answer can come.
func GoodputBar(v *Verification, rec *PolicyResult) (float64, string) {
	bar := v.SustainableRPS
	of := units.Rate(bar).String() + " (what the settings send)"
	if c := rec.CarriedRPS(); c > 0 && c < bar {
		bar = c
		of = fmt.Sprintf("%s (%d in flight at %s ms per attempt)", units.Rate(c).String(), rec.MaxInFlight, units.Millis(rec.AttemptMS))
	}
	if wait := rec.AttemptMS / 1000; v.DurationS > 0 && wait > 0.01*v.DurationS {
		of += fmt.Sprintf(" over %s of the %s s", units.Num(v.DurationS-wait), units.Num(v.DurationS))
		bar *= max(0, 1-wait/v.DurationS)
	}
	return bar, of
}

// sentence says the verdict and what it means.
func sentence(v *Verification, vd Verdict, rec, best *PolicyResult, failed []string) string {
	var b strings.Builder
	demand := units.Rate(v.DemandRPS).String()
	if !vd.Pass {
		fmt.Fprintf(&b, "the recommended settings did not hold up under %s: %s", demand, strings.Join(failed, "; "))
	} else if vd.Regime == RegimeFits {
		fmt.Fprintf(&b, "the recommended settings met the demand of %s: %s of requests succeeded, with %s throttled attempts per request",
			demand, units.Percent(rec.SuccessRatio), perReqText(rec.ThrottledPerRequest))
		if best != nil {
			fmt.Fprintf(&b, " (fewest of the others: %s, %s)", best.Name, perReqText(best.ThrottledPerRequest))
		}
	} else {
		fmt.Fprintf(&b, "the demand of %s exceeds what the recommended settings send (%s), so no policy can meet it; "+
			"the recommended policy delivered %s with %s of the requests it sent succeeding and %s throttled attempts per request",
			demand, units.Rate(v.SustainableRPS).String(), units.Rate(rec.GoodputRPS).String(), units.Percent(rec.SentSuccessRatio), perReqText(rec.ThrottledPerRequest))
		if best != nil {
			fmt.Fprintf(&b, " (fewest of the others: %s, %s)", best.Name, perReqText(best.ThrottledPerRequest))
		}
		if rec.Shed > 0 {
			fmt.Fprintf(&b, ", and shed %s of the demand in the client instead of sending it", units.PercentWhole(float64(rec.Shed)/float64(rec.Requests)))
		}
	}
	if v.Interrupted {
		b.WriteString("; the run was interrupted, so this judges what was measured before")
	}
	return b.String()
}

// notes qualify a verification's numbers in sentences.
func notes(v *Verification, seed uint64, arrivals int) []string {
	out := []string{
		fmt.Sprintf("Every policy faced the same %d arrivals (seed %d), each against a limiter that had recovered; errors are never retried.", arrivals, seed),
		"Goodput counts successful responses received while the demand lasted; \"of sent\" is the success of the requests the client did not shed itself; \"added\" is the time from arrival to the start of the attempt that succeeded.",
	}
	if v.Clients > 1 {
		out = append(out, "Fairness is Jain's index of the clients' success ratios: 1 when every client fared alike.")
	}
	for _, p := range v.Policies {
		if p.Name == Recommended && p.Shed > 0 {
			out = append(out, fmt.Sprintf("The recommended policy queues requests in the client (pacing and the in-flight cap) until their deadline and sheds what cannot be sent in time: %d of %d requests.", p.Shed, p.Requests))
		}
		if p.AttemptCapReached {
			out = append(out, fmt.Sprintf("%s reached the safety cap on attempts and stopped sending: its numbers understate what it would cost.", p.Name))
		}
	}
	return out
}
