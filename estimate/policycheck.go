package estimate

import (
	"fmt"
	"math"

	"limitprobe/evidence"
	"limitprobe/headers"
	"limitprobe/units"
)

// resetTolS is how far two reset instants of one window may differ and
// still be the same, seconds: servers round resets to whole seconds.
const resetTolS = 1.5

// checkAdvertised compares what each advertised policy claims with what
// the requests quota mode read saw: a window's count falls by one per
// admitted request and its reset stays put; nothing is refused while some
// remains. startUnix (seconds) places the run on the clock.
func checkAdvertised(readings []evidence.Reading, startUnix float64) []Policy {
	last := readings[len(readings)-1].Policies
	for i := len(readings) - 1; i >= 0 && len(last) == 0; i-- {
		last = readings[i].Policies
	}
	pols := make([]Policy, 0, len(last))
	for i, lp := range last {
		p := fromAdvertised(lp)
		samples := samplesOf(readings, lp, i)
		checkWindow(&p, samples, startUnix)
		pols = append(pols, p)
	}
	return pols
}

// sample is one reading of one policy.
type sample struct {
	r   evidence.Reading
	pol headers.Policy
}

// resetAt is when the window resets, seconds from the run's start; ok is
// false when the response did not say.
func (s sample) resetAt() (float64, bool) { return s.r.AtS + s.pol.ResetS, s.pol.ResetS > 0 }

// samplesOf collects the readings of the policy like p (by name, else at
// index i).
func samplesOf(readings []evidence.Reading, p headers.Policy, i int) []sample {
	var out []sample
	for _, r := range readings {
		for j, x := range r.Policies {
			if x.Unit == p.Unit && (p.Name != "" && x.Name == p.Name || p.Name == "" && j == i) {
				out = append(out, sample{r, x})
				break
			}
		}
	}
	return out
}

// checkWindow fills p's check, kind and (when unstated) window from its
// samples.
func checkWindow(p *Policy, ss []sample, startUnix float64) {
	if len(ss) == 0 {
		return
	}
	var pairs, fellOne, rose, fellMore, moved int
	mismatch := ""
	for i := 1; i < len(ss); i++ {
		a, b := ss[i-1], ss[i]
		if a.pol.Remaining == nil || b.pol.Remaining == nil {
			continue
		}
		d := *b.pol.Remaining - *a.pol.Remaining
		if at, ok := a.resetAt(); ok && (at <= b.r.SentS || d > 0 && at <= b.r.SentS+resetTolS) {
			continue // the window reset between them
		}
		pairs++
		switch {
		case b.r.Throttled:
		case d == -1:
			fellOne++
		case d > -1:
			rose++
		default:
			fellMore++
			mismatch = fmt.Sprintf("the count fell by %s for one request (other clients share it, or a request costs more)", units.Num(-d))
		}
		ra, okA := a.resetAt()
		rb, okB := b.resetAt()
		if okA && okB && math.Abs(ra-rb) > resetTolS {
			moved++
		}
	}
	for _, s := range ss {
		if s.r.Throttled && s.pol.Remaining != nil && *s.pol.Remaining >= 1 && p.countsRequests() && allRemain(s.r) {
			mismatch = fmt.Sprintf("a request was refused with %s remaining", units.Num(*s.pol.Remaining))
		}
	}
	p.Checked = len(ss)
	if pairs == 0 {
		p.Checked = 0
	}
	switch {
	case rose > 0 && rose >= fellOne:
		p.Kind = KindBucket
	case p.Kind == "" && fellOne > 0 && moved == 0:
		p.Kind = windowStart(p, ss[0], startUnix)
	}
	p.Consistent = mismatch == "" && pairs > 0 && (p.Kind == KindBucket || moved == 0)
	if mismatch == "" && moved > 0 && p.Kind != KindBucket {
		mismatch = "its reset moved between requests, as no window's does"
	}
	p.Mismatch = mismatch
	if lr := ss[len(ss)-1]; lr.pol.ResetS > 0 {
		p.ResetS = lr.pol.ResetS
	}
	if p.WindowS == 0 && p.Kind != KindBucket {
		firstUseWindow(p, ss[0], startUnix)
	}
	if p.Limit > 0 && p.WindowS > 0 {
		p.RateRPS = p.Limit / p.WindowS
	} else if p.Limit > 0 && p.WindowMinS > 0 {
		p.RateRPS = p.Limit / p.WindowMinS
	}
}

// allRemain reports whether every request policy of a reading had some
// left: a refusal then breaks one of them.
func allRemain(r evidence.Reading) bool {
	for _, p := range r.Policies {
		if p.CountsRequests() && (p.Remaining == nil || *p.Remaining < 1) {
			return false
		}
	}
	return true
}

// windowStart tells a window aligned to the clock from one counted from
// its first request, by the first sample: a fresh window (one used of the
// limit) whose reset is a whole window away began with that request,
// unless the reset also falls on a whole window of the clock.
func windowStart(p *Policy, first sample, startUnix float64) string {
	at, ok := first.resetAt()
	if !ok || first.pol.Remaining == nil || *first.pol.Remaining != p.Limit-1 || p.WindowS <= 0 {
		return ""
	}
	since := at - first.r.SentS
	switch {
	case since < p.WindowS-resetTolS:
		return KindFixed
	case onClock(startUnix+at, p.WindowS):
		return KindFixed // as likely a boundary of the clock
	case since <= p.WindowS+resetTolS:
		return KindFirstUse
	}
	return ""
}

// firstUseWindow sets the window of a policy that does not state one: the
// time from the first request to the reset, when that request began the
// window (one used of the limit), the time is a whole number of minutes, as
// windows are, and the reset does not fall on a whole window of the clock;
// otherwise the window is at least that long.
func firstUseWindow(p *Policy, first sample, startUnix float64) {
	at, ok := first.resetAt()
	if !ok {
		return
	}
	since := at - first.r.SentS
	fresh := first.pol.Remaining != nil && p.Limit > 0 && *first.pol.Remaining == p.Limit-1
	w := 60 * math.Round(since/60)
	if fresh && w >= 60 && since >= w-0.5 && since <= w+resetTolS && !onClock(startUnix+at, w) {
		p.WindowS, p.Kind = w, KindFirstUse
		return
	}
	p.WindowMinS = since
}

// onClock reports whether the Unix time t (seconds) falls on a whole
// multiple of w, within the rounding of resets.
func onClock(t, w float64) bool { return onClockWithin(t, w, resetTolS) }

// onClockWithin reports whether the Unix time t (seconds) falls within tol
// of a whole multiple of w.
func onClockWithin(t, w, tol float64) bool {
	if w < 2*tol {
		return true
	}
	m := math.Mod(t, w)
	return m <= tol || w-m <= tol
}

// onWholeSeconds reports whether the Unix time t falls within tol of a
// boundary of the clock's windows of a whole number of seconds within a
// second of w: a measured window is known to a second, and over the Unix
// epoch only its exact length tells where the clock puts its boundaries.
func onWholeSeconds(t, w, tol float64) bool {
	for d := -1.0; d <= 1; d++ {
		if c := math.Round(w) + d; c >= 1 && onClockWithin(t, c, tol) {
			return true
		}
	}
	return false
}

// measuredPolicy is the window quota mode timed by spending it: the quota
// is what a fresh window admitted; the window, the time between two
// reopenings (or from the first request to the reopening, for a window
// counted from its first request, which the first window's reopening also
// is, off the clock's whole windows), or at least the time from the first
// request to the last refusal when only one spend was watched. startUnix
// (seconds) places the run on the clock.
func measuredPolicy(spends []evidence.Spend, startUnix float64) (Policy, bool) {
	if len(spends) == 0 {
		return Policy{}, false
	}
	p := Policy{Name: "window", Unit: headers.UnitRequests, Source: SourceMeasured}
	s1 := spends[0]
	p.Limit = float64(s1.Admitted)
	if len(spends) >= 2 && s1.Reopened() && spends[1].Reopened() {
		s2 := spends[1]
		p.Limit = float64(s2.Admitted)
		b1, b2 := reopenedAt(s1), reopenedAt(s2)
		tol := max(1, windowError(spends)*2)
		fixed, fromFirst := b2-b1, b2-s2.FirstS
		if math.Abs((b1-s1.FirstS)-fromFirst) <= tol && !onWholeSeconds(startUnix+b1, fixed, tol) {
			p.WindowS, p.Kind = units.Sig(fromFirst, 3), KindFirstUse
		} else {
			p.WindowS, p.Kind = units.Sig(fixed, 3), KindFixed
		}
		p.Checked, p.Consistent = int(s1.Admitted+s2.Admitted), true
		if math.Abs(float64(s1.Admitted-s2.Admitted)) > max(2, 0.03*p.Limit) {
			p.Mismatch = fmt.Sprintf("the two windows admitted %d and %d", s1.Admitted, s2.Admitted)
		}
	} else {
		// Still shut then: the window is at least that long, whether it
		// is counted on the clock or from its first request.
		p.WindowMinS = s1.LastRefusedS - s1.FirstS
		if s1.Reopened() {
			p.WindowMinS = refusedUntil(s1) - s1.FirstS
		}
		p.WindowMinS = units.Sig(p.WindowMinS, 3)
	}
	switch {
	case p.Limit <= 0:
		return Policy{}, false
	case p.WindowS > 0:
		p.RateRPS = p.Limit / p.WindowS
	case p.WindowMinS > 0:
		p.RateRPS = p.Limit / p.WindowMinS
	}
	return p, true
}

// refusedUntil is the latest time, seconds, the window is known to have
// been shut: the last refused poll, or nearly the end of the wait the
// refusal advertised (resets are whole seconds).
func refusedUntil(s evidence.Spend) float64 {
	lo := s.LastRefusedS
	if s.RetryAfterS > 0 {
		lo = max(lo, s.RefusedS+s.RetryAfterS-1)
	}
	return min(lo, s.ReopenS)
}

// reopenedAt is when the window reopened, seconds: between refusedUntil
// and the first admitted poll.
func reopenedAt(s evidence.Spend) float64 { return (refusedUntil(s) + s.ReopenS) / 2 }

// windowError is how far, seconds, a window timed from the spends' reopening
// can be off: half the time the reopening is known within, for each of the
// two.
func windowError(spends []evidence.Spend) float64 {
	var e float64
	for _, s := range spends[:min(2, len(spends))] {
		if s.Reopened() {
			e += (s.ReopenS - refusedUntil(s)) / 2
		}
	}
	return e
}

// spendSentences say what each spend saw, times from the run's start.
func spendSentences(spends []evidence.Spend) []string {
	at := func(s float64) string { return units.Seconds(math.Round(s*1000) / 1000) }
	var out []string
	for i, s := range spends {
		line := fmt.Sprintf("window %d: %d requests passed from the first at %s, then a refusal at %s", i+1, s.Admitted, at(s.FirstS), at(s.RefusedS))
		if s.RetryAfterS > 0 {
			line += fmt.Sprintf(" asking to wait %s", units.Seconds(s.RetryAfterS))
		}
		if s.Reopened() {
			line += fmt.Sprintf("; nothing passed until between %s and %s (%d polls)", at(s.LastRefusedS), at(s.ReopenS), s.Polls)
		} else {
			line += fmt.Sprintf("; nothing passed up to %s, when the watch ended (%d polls)", at(s.LastRefusedS), s.Polls)
		}
		out = append(out, line)
	}
	return out
}
