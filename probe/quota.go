package probe

import (
	"context"
	"fmt"
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"limitprobe/evidence"
	"limitprobe/headers"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// quotaHorizon is the longest window the probe measures by ramping
// through it. A window or wait longer than this is a quota: read from the
// headers and checked, or spent once and waited out, never ramped through.
const quotaHorizon = time.Minute

// Quota mode's pacing.
const (
	openRate   = 4.0              // requests per second while reading headers, one at a time
	openMax    = 5                // requests that read the headers, at most
	checkMax   = 20               // further requests that check an advertised quota, at most
	checkRate  = 5.0              // their rate, at most
	silenceCut = 10 * time.Second // how long a spent target may refuse auto's recovery polls before quota mode waits instead
	pollMin    = 500 * time.Millisecond
)

// quotaRun is quota mode's state: what it saw, for the estimate, and what
// it has spent.
type quotaRun struct {
	ev     evidence.Quota
	active bool // quota mode ran: ev belongs in the Run
	// opening is the step that read the headers; openOK its successes.
	opening evidence.Step
	openOK  int64
	silent  bool // auto's recovery was cut: the spent target stayed silent
}

// quotaState returns quota mode's state, made on first use.
func (e *engine) quotaState() *quotaRun {
	if e.quota == nil {
		e.quota = &quotaRun{ev: evidence.Quota{
			StartUnixS: float64(e.start.UnixNano()) / 1e9,
			HorizonS:   quotaHorizon.Seconds(),
			Share:      e.sc.Limits.MaxQuotaShare,
		}}
	}
	return e.quota
}

// quotaFirst is auto's opening (called before its burst step): a few paced
// requests read the advertised policies. A policy whose window or reset is
// longer than the horizon is checked within limits.max_quota_share and the
// run ends there (done). Otherwise auto goes on, and a first refusal that
// asks for a long wait, or a spent target that stays silent, hands the
// run to quota mode.
func (e *engine) quotaFirst(ctx context.Context, next func() int) (done bool, err error) {
	q := e.quotaState()
	last, ok, err := e.readHeaders(ctx, next)
	if !ok || err != nil {
		return true, err
	}
	if pol, long := longPolicy(last); long {
		return true, e.quotaAdvertised(ctx, next, pol, false)
	}
	if w := refusalWait(last); last.Throttled && w >= quotaHorizon.Seconds() {
		q.ev.Trigger = fmt.Sprintf("the quota was spent before the probe began: the first response refused and asked to wait %s", units.Seconds(w))
		return true, e.quotaSpentAfter(ctx, next, q.opening, evidence.Step{}, w, false)
	}
	e.takeover = e.afterRefusal
	return false, nil
}

// runQuota is strategy quota: read the headers; measure an advertised
// quota outright when limits.max_quota_share is 100% (else check it within
// the share); without one, spend until the first refusal and wait for the
// window to reopen.
func (e *engine) runQuota(ctx context.Context, ps scenarios.PlannedStep) error {
	q := e.quotaState()
	last, ok, err := e.readHeaders(ctx, func() int { return len(e.rec.done) })
	if !ok || err != nil {
		return err
	}
	if pol, found := quotaPolicy(last); found {
		return e.quotaAdvertised(ctx, nil, pol, true)
	}
	q.active = true
	q.ev.Trigger = "strategy quota, and no quota advertised: spent until the first refusal"
	next := func() int { return len(e.rec.done) }
	st, wait, ok, err := e.spendWindow(ctx, next, float64(ps.Rate), 0)
	if !ok || err != nil || st.Throttled == 0 {
		return err
	}
	return e.quotaSpentAfter(ctx, next, st, evidence.Step{}, wait, true)
}

// spendWindow sends at rate until the first refusal, at most maxRequests
// (0 for the caps alone), and returns the step with the wait the refusal
// advertised: Retry-After, or the reset of a policy with nothing left.
func (e *engine) spendWindow(ctx context.Context, next func() int, rate float64, maxRequests int) (evidence.Step, float64, bool, error) {
	var wait float64
	watch := func(res *vegeta.Result, out evidence.Outcome) bool {
		if out == evidence.Throttled && wait == 0 {
			// The wait runs from the answer, the spend's refusal is timed
			// from its sending: polled at the sending plus the wait, the
			// window was early by the refusal's round trip and could still
			// be shut (a poll 3.3 ms before a reset under -race, then the
			// next half a second later, read 100 per 10 s as per 10.8 s).
			r := e.reading(res, out)
			if w := refusalWait(r); w > 0 {
				wait = w + r.AtS - r.SentS
			}
		}
		return false
	}
	st, ok, err := e.send(ctx, stepSpec{index: next(), phase: evidence.PhaseQuota, rate: rate,
		duration: e.sc.Limits.MaxDuration, stopOnThrottle: true, maxRequests: maxRequests, watch: watch})
	return st, max(wait, st.RetryAfterS), ok, err
}

// refusalWait is how long a refusal says to wait: its Retry-After, else
// the latest reset of a request policy with nothing left.
func refusalWait(r evidence.Reading) float64 {
	w := r.RetryAfterS
	if w > 0 {
		return w
	}
	for _, p := range r.Policies {
		if p.CountsRequests() && p.Remaining != nil && *p.Remaining < 1 {
			w = max(w, p.ResetS)
		}
	}
	return w
}

// readHeaders sends the opening: up to openMax requests at openRate, one
// at a time, each response's advertised policies kept. It stops after the
// first response when nothing is advertised, after the second when no
// policy is longer than the horizon, at the first refusal, and within the
// share of a long one. It returns the last reading.
func (e *engine) readHeaders(ctx context.Context, next func() int) (evidence.Reading, bool, error) {
	q := e.quotaState()
	n := len(q.ev.Readings)
	watch := func(res *vegeta.Result, out evidence.Outcome) bool {
		r := e.reading(res, out)
		q.ev.Readings = append(q.ev.Readings, r)
		seen := len(q.ev.Readings) - n
		pol, long := longPolicy(r)
		switch {
		case r.Throttled, len(r.Policies) == 0 && r.RetryAfterS == 0:
			return true
		case !long:
			return seen >= 2
		}
		return seen >= min(openMax, shareOf(q.ev.Share, pol.Limit))
	}
	st, ok, err := e.send(ctx, stepSpec{index: next(), phase: evidence.PhaseHeaders, rate: openRate,
		duration: time.Duration(float64(openMax)/openRate*float64(time.Second)) + time.Second, maxRequests: openMax, watch: watch})
	q.opening, q.openOK = st, st.OK
	if !ok || err != nil || len(q.ev.Readings) == n {
		return evidence.Reading{}, false, err
	}
	return q.ev.Readings[len(q.ev.Readings)-1], true, nil
}

// reading is what the response to res advertised.
func (e *engine) reading(res *vegeta.Result, out evidence.Outcome) evidence.Reading {
	r := evidence.Reading{SentS: res.Timestamp.Sub(e.start).Seconds(), AtS: res.End().Sub(e.start).Seconds(),
		Status: int(res.Code), Throttled: out == evidence.Throttled}
	if a, ok := headers.Parse(res.Headers, res.End()); ok {
		r.Policies, r.RetryAfterS = a.Policies, a.RetryAfterS
	}
	return r
}

// quotaPolicy is the advertised request policy with the smallest quota of
// those whose quota and window (or reset) are known.
func quotaPolicy(r evidence.Reading) (headers.Policy, bool) {
	var best headers.Policy
	found := false
	for _, p := range r.Policies {
		if p.CountsRequests() && p.Limit > 0 && (p.WindowS > 0 || p.ResetS > 0) && (!found || p.Limit < best.Limit) {
			best, found = p, true
		}
	}
	return best, found
}

// longPolicy is the advertised request policy, of those whose window (or,
// when it is unstated, reset) is longer than the horizon, with the smallest
// quota.
func longPolicy(r evidence.Reading) (headers.Policy, bool) {
	long := r
	long.Policies = nil
	for _, p := range r.Policies {
		if w := p.WindowS; w >= quotaHorizon.Seconds() || w == 0 && p.ResetS >= quotaHorizon.Seconds() {
			long.Policies = append(long.Policies, p)
		}
	}
	return quotaPolicy(long)
}

// shareOf is the requests a share of a quota allows: at least one.
func shareOf(share, quota float64) int { return max(1, int(math.Floor(share*quota+1e-9))) }

// quotaAdvertised checks an advertised quota: paced requests, within the
// share, whose counts the estimate compares with the policy. With outright
// (strategy quota and a share of 100%) it then spends the quota and waits
// for the reset.
func (e *engine) quotaAdvertised(ctx context.Context, next func() int, pol headers.Policy, outright bool) error {
	q := e.quotaState()
	q.active = true
	if next == nil {
		next = func() int { return len(e.rec.done) }
	}
	window := "window of " + units.Seconds(pol.WindowS)
	if pol.WindowS == 0 {
		window = "reset in " + units.Seconds(pol.ResetS)
	}
	q.ev.Trigger = fmt.Sprintf("the target advertises %s requests per %s, longer than the probe's horizon of %s: read and checked, not ramped through",
		units.Num(pol.Limit), window, units.Seconds(quotaHorizon.Seconds()))
	q.ev.Budget = shareOf(q.ev.Share, pol.Limit)
	left := q.ev.Budget - int(q.opening.Requests)
	if pol.Remaining != nil {
		left = min(left, int(*pol.Remaining)-1) // never spend the last one
	}
	if k := min(checkMax, left); k > 0 {
		watch := func(res *vegeta.Result, out evidence.Outcome) bool {
			q.ev.Readings = append(q.ev.Readings, e.reading(res, out))
			return out == evidence.Throttled
		}
		_, ok, err := e.send(ctx, stepSpec{index: next(), phase: evidence.PhaseCheck, rate: checkRateFor(q.ev.Readings),
			duration: time.Duration(float64(k)/checkRateFor(q.ev.Readings)*float64(time.Second)) + time.Second, maxRequests: k, watch: watch})
		if !ok || err != nil {
			return err
		}
	}
	switch {
	case !outright:
		q.ev.Notes = append(q.ev.Notes, "the quota was checked, not spent: strategy quota with limits.max_quota_share 100% measures it outright")
		return nil
	case q.ev.Share < 1:
		q.ev.Notes = append(q.ev.Notes, fmt.Sprintf("not measured outright: that spends the whole quota, and limits.max_quota_share is %s; write 100%% to allow it", units.PercentWhole(q.ev.Share)))
		return nil
	}
	q.ev.Trigger = "strategy quota with limits.max_quota_share 100%: the advertised quota was checked, then spent and waited out"
	// A spend that crosses a reset meets the next window whole after what
	// was left of this one: the check can end just before a reset (77 of
	// 100 left, 0.2 s to go, and 110 requests all passed).
	st, wait, ok, err := e.spendWindow(ctx, next, float64(e.sc.Probe.Max), 2*int(pol.Limit)+10)
	if !ok || err != nil {
		return err
	}
	if st.Throttled == 0 {
		q.ev.Notes = append(q.ev.Notes, fmt.Sprintf("the spend ended with %d requests admitted and none refused: the quota was not spent", st.OK))
		return nil
	}
	return e.quotaSpentAfter(ctx, next, st, evidence.Step{}, wait, pol.WindowS == 0)
}

// checkRateFor paces the check under every advertised policy shorter than
// the horizon: half the rate of the slowest, at most checkRate. The long
// ones are not spent by a check.
func checkRateFor(readings []evidence.Reading) float64 {
	rate := checkRate
	if len(readings) > 0 {
		for _, p := range readings[len(readings)-1].Policies {
			if p.CountsRequests() && p.Limit > 0 && p.WindowS > 0 && p.WindowS < quotaHorizon.Seconds() {
				rate = min(rate, max(0.2, p.Limit/p.WindowS/2))
			}
		}
	}
	return rate
}
