package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"limitprobe/evidence"
	"limitprobe/headers"
	"limitprobe/probe"
	"limitprobe/scenarios"
)

// fate is how one request of the demand ended, its attempts included.
type fate uint8

const (
	fatePending  fate = iota // never dispatched (the run was interrupted)
	fateOK                   // a response that was neither throttled nor an error
	fateShed                 // never sent: waited in the client's queue until its deadline
	fateGaveUp               // throttled until the policy gave up (retries, budget, deadline, cap)
	fateError                // a transport error, 5xx or another 4xx
	fateCanceled             // cut off by an interrupt: not a measurement
)

// record is what happened to one request. Times are from the start of the
// policy's run.
type record struct {
	client              int
	fate                fate
	attempts, throttled int
	arrival             time.Duration // dispatched
	lastStart           time.Duration // the last attempt began
	done                time.Duration // the fate was known
	sending             time.Duration // its attempts' time from send to answer, summed
}

// runner runs one policy against one target.
type runner struct {
	p        Policy
	t        Target
	d        Demand
	client   *http.Client
	lim      *rate.Limiter // the recommended pacing; nil for none
	inFlight chan struct{} // the recommended in-flight cap; nil for none
	budget   *Budget       // nil for none
	cls      probe.Classifier
	seed     uint64

	maxAttempts int64
	attempts    atomic.Int64
	capReached  atomic.Bool
	ok, thr     atomic.Int64 // for progress
	errOnce     sync.Once
	firstErr    string
}

func newRunner(p Policy, t Target, d Demand, maxAttempts int64, seed uint64) *runner {
	r := &runner{p: p, t: t, d: d, maxAttempts: maxAttempts, seed: seed, cls: probe.NewClassifier(t.ThrottleStatus, t.ThrottleBody)}
	if p.RateRPS > 0 {
		r.lim = rate.NewLimiter(rate.Limit(p.RateRPS), max(p.Burst, 1))
	}
	if p.MaxInFlight > 0 {
		r.inFlight = make(chan struct{}, p.MaxInFlight)
	}
	if p.BudgetRatio > 0 {
		r.budget = NewBudget(p.BudgetRatio, p.BudgetMin, p.BudgetWindow)
	}
	if r.t.Method == "" {
		r.t.Method = http.MethodGet
	}
	r.client = probe.NewClient(scenarios.Target{Timeout: t.Timeout, Redirects: t.Redirects, Network: t.Network})
	return r
}

// policyRun is a finished policy.
type policyRun struct {
	result   PolicyResult
	firstErr string
}

// unusable reports whether the policy sent something and got nothing but
// errors back.
func (pr *policyRun) unusable() bool {
	res := pr.result
	return res.Attempts > 0 && res.Succeeded == 0 && res.Throttled == 0 && res.Errors > 0
}

// maxOutstanding bounds the requests of one policy alive at once (sleeping
// in a backoff, queued or in flight): twice what the demand keeps alive
// when every request takes its whole deadline.
func (r *runner) maxOutstanding() int {
	n := math.Ceil(r.d.RPS*(r.d.Deadline.Seconds()+1)) * 2
	return int(min(max(n, 64), 20000))
}

// run sends the schedule and returns the measurement once every request
// has ended.
func (r *runner) run(ctx context.Context, sched []Arrival, progress func(Progress)) *policyRun {
	// A backstop: every request ends by its deadline anyway.
	ctx, cancel := context.WithTimeout(ctx, r.d.Duration+r.d.Deadline+5*time.Second)
	defer cancel()
	defer r.client.CloseIdleConnections()
	recs := make([]record, len(sched))
	start := time.Now()
	progress(Progress{})
	stopTicks := make(chan struct{})
	var ticks sync.WaitGroup
	ticks.Go(func() {
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			select {
			case <-stopTicks:
				return
			case <-tk.C:
				progress(Progress{Elapsed: time.Since(start), Requests: r.attempts.Load(), OK: r.ok.Load(), Throttled: r.thr.Load()})
			}
		}
	})

	outstanding := make(chan struct{}, r.maxOutstanding())
	var wg sync.WaitGroup
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
dispatch:
	for i, a := range sched {
		if wait := time.Until(start.Add(a.At)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break dispatch
			}
		} else if ctx.Err() != nil {
			break
		}
		rec := &recs[i]
		rec.client = a.Client
		rec.arrival = time.Since(start)
		select {
		case outstanding <- struct{}{}:
		default: // the local bound: shed, as an overloaded client would
			rec.fate, rec.done = fateShed, rec.arrival
			continue
		}
		wg.Go(func() {
			defer func() { <-outstanding }()
			rnd := rand.New(rand.NewPCG(r.seed, uint64(i)))
			r.request(ctx, rec, start, rnd)
		})
	}
	wg.Wait()
	close(stopTicks)
	ticks.Wait()
	wall := time.Since(start)
	pr := &policyRun{result: summarize(r.p, recs, r.d, wall), firstErr: r.firstErr}
	pr.result.AttemptCapReached = r.capReached.Load()
	progress(Progress{Elapsed: wall, Requests: pr.result.Attempts, OK: pr.result.Succeeded, Throttled: pr.result.Throttled, Result: &pr.result})
	return pr
}

// request runs one request of the demand to its end: pacing, attempts,
// backoff, budget and deadline.
func (r *runner) request(parent context.Context, rec *record, start time.Time, rnd *rand.Rand) {
	deadline := start.Add(rec.arrival + r.d.Deadline)
	ctx, cancel := context.WithDeadline(parent, deadline)
	defer cancel()
	end := func(o fate) {
		if parent.Err() != nil && o != fateOK {
			o = fateCanceled
		}
		rec.fate, rec.done = o, time.Since(start)
		if o == fateOK {
			r.ok.Add(1)
		}
	}
	// failed is the fate of a request that could not go on: shed when it
	// was never sent, else given up.
	failed := func() fate {
		if rec.attempts == 0 {
			return fateShed
		}
		return fateGaveUp
	}
	firstBy, retryBy := r.queueBy(start, rec, deadline)
	if r.budget != nil {
		r.budget.Request(time.Now())
	}
	for attempt := 0; ; attempt++ {
		by := retryBy
		if attempt == 0 {
			by = firstBy
		}
		if !r.enqueue(ctx, by) {
			end(failed())
			return
		}
		if r.attempts.Add(1) > r.maxAttempts {
			r.capReached.Store(true)
			if r.inFlight != nil {
				<-r.inFlight
			}
			end(fateGaveUp)
			return
		}
		rec.attempts++
		rec.lastStart = time.Since(start)
		res := r.send(ctx)
		rec.sending += time.Since(start) - rec.lastStart
		if r.inFlight != nil {
			<-r.inFlight
		}
		switch res.out {
		case evidence.OK:
			end(fateOK)
			return
		case evidence.Failed:
			if ctx.Err() != nil { // cut off by the deadline, not the target's fault
				end(fateGaveUp)
				return
			}
			end(fateError)
			return
		}
		rec.throttled++
		r.thr.Add(1)
		if !r.backoff(ctx, attempt, res, rnd, deadline) {
			end(fateGaveUp)
			return
		}
	}
}

// queueBy is how long the client's queue (pacing, in-flight cap) may hold
// a request: each attempt only while MinTimeLeft remains before the
// deadline, the first only within QueueShare of it.
func (r *runner) queueBy(start time.Time, rec *record, deadline time.Time) (first, retry time.Time) {
	retry = deadline.Add(-r.p.MinTimeLeft)
	first = retry
	if r.p.QueueShare > 0 {
		if by := start.Add(rec.arrival + time.Duration(r.p.QueueShare*float64(r.d.Deadline))); by.Before(first) {
			first = by
		}
	}
	return first, retry
}

// backoff sleeps the policy's delay after a throttled attempt and reports
// whether the request goes on: not when the policy is out of retries, the
// retry budget is spent, the delay would pass the deadline, or ctx ends.
func (r *runner) backoff(ctx context.Context, attempt int, res attemptResult, rnd *rand.Rand, deadline time.Time) bool {
	delay, ok := r.p.Delay(attempt, res.retryAfter, rnd)
	now := time.Now()
	if !ok || (r.budget != nil && !r.budget.AllowRetry(now)) || now.Add(delay).After(deadline) {
		return false
	}
	return delay <= 0 || sleep(ctx, delay) == nil
}

type attemptResult struct {
	out        evidence.Outcome
	retryAfter time.Duration // negative when the response asked nothing
}

// enqueue waits in the client's queue — the pacing bucket, then the
// in-flight cap — until the attempt may go, and reports false when it may
// not go by the time by. The caller releases the in-flight slot.
func (r *runner) enqueue(ctx context.Context, by time.Time) bool {
	if r.lim == nil && r.inFlight == nil {
		return true
	}
	q, cancel := context.WithDeadline(ctx, by)
	defer cancel()
	if r.lim != nil {
		if err := r.lim.Wait(q); err != nil { // fails at once when the wait would pass by
			return false
		}
	}
	if r.inFlight != nil {
		select {
		case r.inFlight <- struct{}{}:
		case <-q.Done():
			return false
		}
	}
	return true
}

// send makes one attempt.
func (r *runner) send(ctx context.Context) attemptResult {
	var body io.Reader
	if len(r.t.Body) > 0 {
		body = bytes.NewReader(r.t.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.t.Method, r.t.URL, body)
	if err != nil {
		r.noteErr(err)
		return attemptResult{out: evidence.Failed}
	}
	if r.t.Header != nil {
		req.Header = r.t.Header.Clone()
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.noteErr(err)
		return attemptResult{out: evidence.Failed}
	}
	defer resp.Body.Close()
	var head []byte
	if r.cls.NeedsBody(resp.StatusCode) {
		head, _ = io.ReadAll(io.LimitReader(resp.Body, probe.MaxThrottleBody))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // so the connection is reused
	out, _ := r.cls.Classify(resp.StatusCode, resp.Header, head)
	switch out {
	case evidence.Throttled:
		res := attemptResult{out: evidence.Throttled, retryAfter: -1}
		if v := resp.Header.Get("Retry-After"); v != "" {
			if d, ok := headers.ParseRetryAfter(v, time.Now()); ok {
				res.retryAfter = d
			}
		}
		return res
	case evidence.OK:
		return attemptResult{out: evidence.OK}
	}
	r.noteErr(fmt.Errorf("status %d", resp.StatusCode))
	return attemptResult{out: evidence.Failed}
}

// noteErr keeps the first error, without the URL (it may carry secrets).
func (r *runner) noteErr(err error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	r.errOnce.Do(func() { r.firstErr = err.Error() })
}
