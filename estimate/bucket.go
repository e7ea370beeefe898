package estimate

import (
	"fmt"
	"math"

	"limitprobe/units"
)

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
	rate, half := combine(rates, halves)
	e.reason("%s %s over %s of saturation in %s (offered %s)", what, units.Rate(rate), units.Seconds(spans), stepList(fs), rateList(offered))
	lo, hi := max(0, rate-half), rate+half
	if b, _ := e.bestBurst(rate); b <= 3 {
		if r, l, h, ok := e.noBurst(fs, rates, halves, offered); ok {
			rate, lo, hi = r, l, h
		}
	}
	s.EffectiveLimitRPS = units.Sig(rate, 3)
	s.EffectiveLimitBand = bandOf(lo, hi)
	return true
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
		full := f.pos == 0 || f.idleS >= coldIdleS
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
		if f.sat.ok && f.sat.kind == satSmooth && f.sat.spanS >= minSatS && f.sat.rate > 0 {
			r = f.sat.rate
		}
		b := burstFrom(f.s, r) + int(math.Round(d))
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
