package probe

import (
	"context"
	"errors"
	"fmt"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"limitprobe/evidence"
	"limitprobe/scenarios"
)

// Schedule is what Replay sends: a request at each instant of At, in
// time order; with MaxInFlight above 0, no more than that many in flight,
// a request whose instant comes while all are taken waiting, in order, for
// the first to come back (a client's semaphore).
type Schedule struct {
	At          []time.Time
	MaxInFlight int
}

// Replay sends sched to sc's target as Execute sends a step: vegeta's
// attacker, the pacer's precise sleep, one classifier and recorder. It
// returns the run with that one step (phase "replay") and its Summary left
// empty: a given schedule is not an experiment the estimator reads. A
// request whose instant has passed goes at once. On cancellation of ctx it
// stops within a second and returns what was sent, Interrupted set.
func Replay(ctx context.Context, sc *scenarios.Scenario, sched Schedule, opt Options) (*Run, error) {
	at := sched.At
	if sc.Target.URL == "" {
		return nil, errors.New("probe: the scenario has no target URL; start the mock first")
	}
	if len(at) == 0 {
		return nil, errors.New("probe: nothing to replay")
	}
	span := max(time.Until(at[len(at)-1]), 0)
	e := newEngine(ctx, sc, opt, 1, max(100*time.Millisecond, (span/6000).Round(100*time.Millisecond)))
	defer e.close()
	opts := e.attackOptions()
	if n := uint64(sched.MaxInFlight); n > 0 {
		opts = append(opts, vegeta.Workers(n), vegeta.MaxWorkers(n))
	}
	atk := vegeta.NewAttacker(opts...)
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()

	begin := time.Now()
	end := at[len(at)-1]
	if end.Before(begin) {
		end = begin
	}
	sch := pacedAt{at: at, done: ctx.Done()}
	w := e.rec.open(evidence.Step{Phase: evidence.PhaseReplay, OfferedRPS: sch.Rate(0)}, begin, end.Add(time.Millisecond), sc.Target.Timeout)
	for res := range atk.Attack(e.targets, sch, 0, sc.Name) {
		e.rec.add(res)
		e.encode(res)
	}
	e.rec.close(w, max(time.Since(begin), time.Millisecond))
	run := e.finish(ctx)
	if run.RequestsSent > 0 && run.ErrorsTotal == run.RequestsSent {
		return run, fmt.Errorf("%w: every request failed: %s", ErrUnusable, causesText(run.ErrorCauses))
	}
	return run, nil
}

// pacedAt is a vegeta.Pacer that sends hit n at at[n].
type pacedAt struct {
	at   []time.Time
	done <-chan struct{}
}

func (s pacedAt) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= uint64(len(s.at)) {
		return 0, true
	}
	return 0, !sleepUntil(s.at[hits], s.done, true)
}

// Rate is the mean rate of the schedule, requests per second.
func (s pacedAt) Rate(time.Duration) float64 {
	if d := s.at[len(s.at)-1].Sub(s.at[0]).Seconds(); d > 0 {
		return float64(len(s.at)) / d
	}
	return 0
}
