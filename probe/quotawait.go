package probe

import (
	"context"
	"fmt"
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"limitprobe/evidence"
	"limitprobe/units"
)

// afterRefusal is auto's takeover once the opening found no quota
// advertised. A refusal asking for a wait longer than the horizon hands the
// run to quota mode at once. After a refused burst it watches auto's
// recovery polls: when the target stays silent for silenceCut, the polls
// stop and quota mode waits for the window instead; when it admits again,
// auto goes on alone.
func (e *engine) afterRefusal(ctx context.Context, st evidence.Step) (bool, error) {
	q := e.quota
	next := func() int { return len(e.rec.done) }
	switch {
	case st.Throttled == 0 && st.Phase != evidence.PhaseRecover:
		return false, nil
	case st.RetryAfterS >= quotaHorizon.Seconds():
		e.takeover, e.watch = nil, nil
		q.ev.Trigger = fmt.Sprintf("the first refusal asked to wait %s, longer than the probe's horizon of %s: the window was waited out, not ramped through",
			units.Seconds(st.RetryAfterS), units.Seconds(quotaHorizon.Seconds()))
		return true, e.quotaSpentAfter(ctx, next, st, evidence.Step{}, st.RetryAfterS, true)
	case st.Phase == evidence.PhaseBurst:
		burst := st
		e.watch = func(sp stepSpec, res *vegeta.Result, out evidence.Outcome) bool {
			if sp.phase != evidence.PhaseRecover || out == evidence.OK {
				return false
			}
			refused := burst.StartS + burst.FirstThrottleS
			q.silent = res.Timestamp.Sub(e.start).Seconds()-refused >= silenceCut.Seconds()
			return q.silent
		}
		e.takeover = func(ctx context.Context, st evidence.Step) (bool, error) {
			if st.Phase != evidence.PhaseRecover {
				return e.afterRefusal(ctx, st)
			}
			e.takeover, e.watch = nil, nil
			if !q.silent {
				return false, nil
			}
			q.ev.Trigger = fmt.Sprintf("nothing passed for %s after %d requests did, and no header said why: a window longer than the probe's horizon, waited out in quota mode",
				units.Seconds(silenceCut.Seconds()), q.openOK+burst.OKBeforeThrottle)
			return true, e.quotaSpentAfter(ctx, next, burst, st, burst.RetryAfterS, true)
		}
		return false, nil
	}
	e.takeover, e.watch = nil, nil
	return false, nil
}

// quotaSpentAfter takes over after step st spent a window, whose refusal
// asked to wait wait seconds (0 when it did not say): it waits for the
// window to reopen and, with timeIt when limits.max_quota_share is 100%,
// spends the next window from its start and waits for it too, which times
// the window. The polls of step watched (auto's recovery), if any, began
// the wait.
func (e *engine) quotaSpentAfter(ctx context.Context, next func() int, st, watched evidence.Step, wait float64, timeIt bool) error {
	q := e.quotaState()
	q.active = true
	// A step that stops at its first refusal admitted its successes from
	// one window, some sent just after the refusal and served before it.
	sp := evidence.Spend{FirstS: st.StartS, Admitted: st.OK, RefusedS: st.StartS + st.FirstThrottleS, RetryAfterS: wait}
	if o := q.opening; o.Requests > 0 && o.Throttled == 0 && o.Index == st.Index-1 {
		sp.FirstS, sp.Admitted = o.StartS, sp.Admitted+o.OK // the opening's requests were the window's first
	}
	sp.LastRefusedS = sp.RefusedS
	refused := st.Requests - st.OK // sent beyond the quota already
	if watched.Requests > 0 {
		sp.LastRefusedS, sp.Polls = watched.StartS+watched.DurationS, watched.Requests
		refused += watched.Requests
	}
	outright := q.ev.Share >= 1
	budget := math.MaxInt
	if !outright && timeIt {
		budget = shareOf(q.ev.Share, float64(sp.Admitted)) - int(refused)
		q.ev.Notes = append(q.ev.Notes, fmt.Sprintf("the window was not spent a second time to time it: limits.max_quota_share is %s; write 100%% to allow it", units.PercentWhole(q.ev.Share)))
	}
	err := e.waitReopen(ctx, next, &sp, 0, budget, outright)
	q.ev.Spends = append(q.ev.Spends, sp)
	if err != nil || !sp.Reopened() || !outright || !timeIt {
		return err
	}
	// The window reopened at the poll that passed: spend the rest of it at
	// once, then wait for the next reopening.
	st2, wait2, ok, err := e.spendWindow(ctx, next, float64(e.sc.Probe.Max), int(sp.Admitted)*2+10)
	if !ok || err != nil || st2.Throttled == 0 {
		return err
	}
	sp2 := evidence.Spend{FirstS: sp.ReopenS, Admitted: 1 + st2.OK, RefusedS: st2.StartS + st2.FirstThrottleS, RetryAfterS: wait2}
	sp2.LastRefusedS = sp2.RefusedS
	// The window is longer than the first one's silence: poll from near then.
	notBefore := sp.ReopenS + 0.95*(sp.LastRefusedS-sp.FirstS)
	err = e.waitReopen(ctx, next, &sp2, notBefore, math.MaxInt, true)
	q.ev.Spends = append(q.ev.Spends, sp2)
	return err
}

// growth is how fast the gaps between polls grow, as a share of the time
// since the window's first request: the window is timed to about half of
// it at each of its two ends.
const (
	growthFirst  = 0.02
	growthSecond = 0.01
)

// waitReopen polls a spent window until it admits a request again, and
// fills sp's LastRefusedS, ReopenS and Polls. With a wait advertised by
// the refusal it sleeps through it and polls every pollMin after. Without,
// it polls from notBefore (seconds from the run's start; 0 for at once)
// with gaps that grow with the time since the window's first request:
// growthFirst of it when precise (growthSecond from a notBefore), else as
// much as lets budget polls last until the time cap. It gives up at the
// caps.
func (e *engine) waitReopen(ctx context.Context, next func() int, sp *evidence.Spend, notBefore float64, budget int, precise bool) error {
	if budget <= 0 {
		return nil
	}
	_, timeLeft := e.budget()
	now := e.elapsed().Seconds()
	end := now + timeLeft.Seconds()
	growth := growthFirst
	if notBefore > 0 {
		growth = growthSecond
	}
	if sp.RetryAfterS > 0 {
		notBefore = max(notBefore, sp.RefusedS+sp.RetryAfterS)
		growth = 0
	}
	if notBefore >= end {
		e.quota.ev.Notes = append(e.quota.ev.Notes, fmt.Sprintf("the window reopens after %s, when limits.max_duration has run out: not waited for", units.Seconds(notBefore)))
		return nil
	}
	if !precise && growth > 0 && budget < math.MaxInt {
		// Spread the polls so that they last until the cap.
		from := max(now, notBefore) - sp.FirstS
		growth = min(0.5, max(growthFirst, math.Log((end-sp.FirstS)/max(from, 1))/float64(budget)))
	}
	start := max(now, notBefore-pollMin.Seconds())
	at := start // poll times, seconds from the run's start
	due := func(n uint64) float64 {
		if n == 1 {
			at = max(now+pollMin.Seconds(), notBefore)
		} else {
			at += max(pollMin.Seconds(), growth*(at-sp.FirstS))
		}
		return at - start
	}
	if start > now && !e.pause(ctx, time.Duration((start-now)*float64(time.Second)), stepSpec{index: len(e.rec.done), phase: evidence.PhaseWait}) {
		return nil
	}
	watch := func(res *vegeta.Result, out evidence.Outcome) bool {
		sent := res.Timestamp.Sub(e.start).Seconds()
		sp.Polls++
		if out == evidence.OK {
			if !sp.Reopened() {
				sp.ReopenS = sent
			}
			return true
		}
		if !sp.Reopened() {
			sp.LastRefusedS = max(sp.LastRefusedS, sent)
		}
		return false
	}
	_, _, err := e.send(ctx, stepSpec{index: next(), phase: evidence.PhaseWait, rate: 1 / pollMin.Seconds(), duration: time.Duration((end - start) * float64(time.Second)),
		maxRequests: min(budget, math.MaxInt32), due: due, watch: watch, stopOnOK: true})
	if err == nil && !sp.Reopened() {
		e.quota.ev.Notes = append(e.quota.ev.Notes, fmt.Sprintf("the window had not reopened when the watch ended, %s after the first refusal", units.Seconds(sp.LastRefusedS-sp.RefusedS)))
	}
	return err
}
