package probe

import (
	"fmt"
	"time"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// tooLong is a wait the target asked for that the run could not afford.
type tooLong struct {
	asked, left time.Duration
	header      string // "Retry-After" or "reset"
}

func (w tooLong) String() string {
	return fmt.Sprintf("the target asked to wait %s (%s) before more requests, longer than the %s left of limits.max_duration",
		units.Seconds(w.asked.Seconds()), w.header, units.FormatDuration(w.left))
}

// waitTooLong notes, and reports, that the target asks for a wait of asked
// when that is longer than what the run has left, and no advertised window
// explains it: the run must end, and what it saw is no limit to advise
// from. The quota strategy, which reads a window from its reset, is exempt.
func (e *engine) waitTooLong(asked time.Duration) bool {
	if e.tooLong != nil {
		return true
	}
	_, left := e.budget()
	if asked < left || e.sc.Probe.Strategy == scenarios.StrategyQuota {
		return false
	}
	header := "reset"
	a := e.rec.adv
	if a != nil && a.RetryAfterS >= asked.Seconds()*0.99 {
		header = "Retry-After"
	}
	if a != nil && a.Limit > 0 && a.WindowS > 0 && asked.Seconds() <= a.WindowS*1.1 {
		return false // the reset of an advertised quota window
	}
	e.tooLong = &tooLong{asked: asked, left: max(left, 0), header: header}
	return true
}

// checkLastWait notes a wait too long that the last step's throttled
// responses asked for, when the run ended on them.
func (e *engine) checkLastWait(steps []evidence.Step) {
	if n := len(steps); n > 0 && steps[n-1].Throttled > 0 && steps[n-1].RetryAfterS > 0 {
		e.waitTooLong(time.Duration(steps[n-1].RetryAfterS * float64(time.Second)))
	}
}

// inconclusive is why run measured nothing to advise from, or "": a wait it
// could not afford, or no request that succeeded.
func (e *engine) inconclusive(run *Run) string {
	switch ok := run.RequestsSent - run.ThrottledTotal - run.ErrorsTotal; {
	case e.tooLong != nil:
		return e.tooLong.String()
	case run.RequestsSent > 0 && ok == 0 && run.ErrorsTotal == run.RequestsSent:
		return "no request succeeded: every one failed"
	case run.RequestsSent > 0 && ok == 0:
		return fmt.Sprintf("no request succeeded: %d throttled, %d failed", run.ThrottledTotal, run.ErrorsTotal)
	}
	return ""
}

// conclude estimates the run's limit, or for an inconclusive run says why
// there is none, and returns the run's error: err, or ErrUnusable for a run
// that could not be concluded.
func (e *engine) conclude(run *Run, err error) error {
	e.checkLastWait(run.Steps)
	run.Inconclusive = e.inconclusive(run)
	run.input = estimate.Input{Steps: run.Steps, Timeline: run.Timeline, Advertised: run.Advertised,
		Threshold: e.sc.Probe.Threshold, MaxOfferedRPS: float64(e.sc.Probe.Max), Requests: run.Requests, Quota: run.Quota,
		Precision: e.sc.Probe.Precision}
	if run.Inconclusive == "" {
		run.Summary = estimate.Estimate(run.input)
		return err
	}
	run.Summary = estimate.Summary{Algorithm: estimate.AlgorithmUnknown, Reasons: []string{run.Inconclusive}}
	if !run.Interrupted {
		run.StopReason = run.Inconclusive
	}
	switch {
	case err != nil || run.Interrupted:
		return err
	case run.ErrorsTotal == run.RequestsSent:
		return fmt.Errorf("%w: every request failed: %s", ErrUnusable, causesText(run.ErrorCauses))
	}
	return fmt.Errorf("%w: %s", ErrUnusable, run.Inconclusive)
}
