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
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"limitprobe/headers"
	"limitprobe/probe"
)

// Demand is the load every policy faces: RPS requests per second in all,
// arriving open-loop (an arrival does not wait for earlier requests) for
// Duration, shared evenly by Clients independent callers. Each request
// may take Deadline, retries included.
type Demand struct {
	RPS      float64
	Duration time.Duration
	Deadline time.Duration
	Clients  int // 0 means 1
}

func (d Demand) clients() int { return max(d.Clients, 1) }

// Arrival is one request of the demand: when it arrives, from the start of
// the policy's run, and which client sends it.
type Arrival struct {
	At     time.Duration
	Client int
}

// arrivalJitter is how far, as a share of a client's interval, an arrival
// may stray from its even spacing.
const arrivalJitter = 0.1

// Schedule returns the arrivals of d in time order. Each client sends
// d.RPS / d.Clients requests per second, evenly spaced from a random phase,
// each arrival moved by up to ±10% of the spacing; rnd draws the phases and
// the jitter, so one seed gives one schedule. Schedule is a pure function.
func Schedule(d Demand, rnd *rand.Rand) []Arrival {
	n := d.clients()
	if d.RPS <= 0 || d.Duration <= 0 {
		return nil
	}
	interval := float64(time.Second) * float64(n) / d.RPS
	var out []Arrival
	for c := 0; c < n; c++ {
		phase := rnd.Float64() * interval
		for k := 0; ; k++ {
			base := phase + float64(k)*interval
			if base >= float64(d.Duration) {
				break
			}
			at := base + interval*arrivalJitter*(2*rnd.Float64()-1)
			at = min(max(at, 0), float64(d.Duration)-1)
			out = append(out, Arrival{At: time.Duration(at), Client: c})
		}
	}
	slices.SortStableFunc(out, func(a, b Arrival) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return a.Client - b.Client
	})
	return out
}

// Target is where a policy's requests go and how its answers are read.
type Target struct {
	URL    string
	Method string // "" means GET
	Header http.Header
	Body   []byte
	// ThrottleStatus lists the statuses that mean "slow down"; empty means
	// 429. With ThrottleBody set, such a status counts as throttling only
	// when the body contains it (see probe.Classifier).
	ThrottleStatus []int
	ThrottleBody   string
	// Timeout bounds one attempt; 0 means probe.DefaultTimeout. The
	// request's deadline bounds it too.
	Timeout time.Duration
}

// Progress is what Run reports while it works.
type Progress struct {
	Index, Count int    // the policy's place in the run, from 0, and how many there are
	Policy       string // its name
	// Cooldown, when positive, is the pause about to be taken before the
	// policy starts (Config.Cooldown); nothing else is set but the names.
	Cooldown time.Duration
	// Elapsed is how long the policy has run; Requests, OK and Throttled
	// count what it has done so far.
	Elapsed                 time.Duration
	Requests, OK, Throttled int64
	// Result is set when the policy has finished.
	Result *PolicyResult
}

// Config is one verification.
type Config struct {
	Demand   Demand
	Policies []Policy
	// Target names what was verified against in the result (a URL without
	// credentials, or "mock: SPEC").
	Target string
	// LimitRPS is the report's effective limit and SustainableRPS what the
	// recommendation sends at most (Recommendation.SustainableRPS); the
	// verdict compares the demand with SustainableRPS.
	LimitRPS, SustainableRPS float64
	// Prepare readies the target for policy i and returns it with a
	// function to call when the policy is done (a fresh mock, stopped
	// after). Required.
	Prepare func(ctx context.Context, i int, p Policy) (Target, func(), error)
	// Cooldown is the pause before every policy but the first, so that a
	// real target's limiter recovers; 0 for none. Parallel runs take none.
	Cooldown time.Duration
	// Progress, when set, is called as each policy starts, about every
	// second while it runs, and when it ends. Calls never overlap.
	Progress func(Progress)
	// Parallel runs the policies at once; use it only when Prepare gives
	// each its own limiter (a mock per policy).
	Parallel bool
	// MaxAttempts caps the attempts of one policy; 0 means AttemptCap of
	// the demand's requests.
	MaxAttempts int64
	// Seed makes the schedule and the jitter repeatable.
	Seed uint64
}

// Run replays cfg.Demand against the target once per policy, in order
// (or at once with cfg.Parallel), measures each and judges the result.
// It returns what was measured even with an error: when ctx ends, the
// verification is marked interrupted and holds the policies that ran;
// when every attempt of a policy ended in an error (the target could not be
// reached or answered nothing usable) the error wraps probe.ErrUnusable.
//
// Every policy faces the same arrivals. Each is bounded: it sends for
// Demand.Duration, waits at most Demand.Deadline for its last requests, and
// stops sending at MaxAttempts.
func Run(ctx context.Context, cfg Config) (*Verification, error) {
	d := cfg.Demand
	switch {
	case d.RPS <= 0 || math.IsInf(d.RPS, 0) || math.IsNaN(d.RPS):
		return nil, fmt.Errorf("verify: demand %v is not a positive rate", d.RPS)
	case d.Duration <= 0 || d.Deadline <= 0:
		return nil, errors.New("verify: the demand's duration and deadline must be positive")
	case len(cfg.Policies) == 0:
		return nil, errors.New("verify: no policy to run")
	case cfg.Prepare == nil:
		return nil, errors.New("verify: no target (Config.Prepare is nil)")
	}
	sched := Schedule(d, rand.New(rand.NewPCG(cfg.Seed, 0x5c4ed)))
	maxAttempts := cfg.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = AttemptCap(float64(len(sched)))
	}
	v := &Verification{
		Schema: Schema, Target: cfg.Target, StartedAt: time.Now().UTC(),
		DemandRPS: d.RPS, Clients: d.clients(), DurationS: d.Duration.Seconds(), DeadlineS: d.Deadline.Seconds(),
		LimitRPS: cfg.LimitRPS, SustainableRPS: cfg.SustainableRPS, Policies: []PolicyResult{}, Notes: []string{},
	}
	var progMu sync.Mutex
	progress := func(p Progress) {
		if cfg.Progress != nil {
			progMu.Lock()
			defer progMu.Unlock()
			cfg.Progress(p)
		}
	}
	results := make([]*policyRun, len(cfg.Policies))
	runOne := func(i int, t Target) {
		r := newRunner(cfg.Policies[i], t, d, maxAttempts, cfg.Seed+uint64(i+1)*0x9e3779b9)
		results[i] = r.run(ctx, sched, func(p Progress) {
			p.Index, p.Count, p.Policy = i, len(cfg.Policies), cfg.Policies[i].Name
			progress(p)
		})
	}
	var err error
	if cfg.Parallel {
		targets := make([]Target, len(cfg.Policies))
		for i, p := range cfg.Policies {
			t, done, perr := cfg.Prepare(ctx, i, p)
			if perr != nil {
				err = perr
				break
			}
			if done != nil {
				defer done()
			}
			targets[i] = t
		}
		if err == nil {
			var wg sync.WaitGroup
			for i := range cfg.Policies {
				wg.Go(func() { runOne(i, targets[i]) })
			}
			wg.Wait()
		}
	} else {
		for i, p := range cfg.Policies {
			if ctx.Err() != nil {
				break
			}
			if i > 0 && cfg.Cooldown > 0 {
				progress(Progress{Index: i, Count: len(cfg.Policies), Policy: p.Name, Cooldown: cfg.Cooldown})
				if err = sleep(ctx, cfg.Cooldown); err != nil {
					break
				}
			}
			t, done, perr := cfg.Prepare(ctx, i, p)
			if perr != nil {
				err = perr
				break
			}
			runOne(i, t)
			if done != nil {
				done()
			}
			if pr := results[i]; pr.unusable() {
				break // every attempt failed: the others would too
			}
		}
	}
	for _, pr := range results {
		if pr == nil {
			continue
		}
		v.Policies = append(v.Policies, pr.result)
		if pr.unusable() && err == nil {
			err = fmt.Errorf("%w: every one of %s's %d attempts failed (%s)", probe.ErrUnusable, pr.result.Name, pr.result.Attempts, pr.firstErr)
		}
	}
	if ctx.Err() != nil {
		v.Interrupted = true
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			err = nil // reported as Interrupted
		}
	}
	v.Notes = notes(v, cfg.Seed, len(sched))
	v.Verdict = Judge(v)
	return v, err
}

// AttemptCap is the safety cap on the attempts of one policy whose demand
// has arrivals requests: twenty attempts a request, at least 100.
func AttemptCap(arrivals float64) int64 {
	return int64(max(20*math.Ceil(arrivals), 100))
}

// sleep waits d, or until ctx ends and returns its error.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

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
	r.client = probe.NewClient(t.Timeout)
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
	// The client's queue (pacing, in-flight cap) lets a request go only
	// while it has MinTimeLeft to finish, and a first attempt only within
	// QueueShare of the deadline.
	retryBy := deadline.Add(-r.p.MinTimeLeft)
	firstBy := retryBy
	if r.p.QueueShare > 0 {
		if by := start.Add(rec.arrival + time.Duration(r.p.QueueShare*float64(r.d.Deadline))); by.Before(firstBy) {
			firstBy = by
		}
	}
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
		if r.inFlight != nil {
			<-r.inFlight
		}
		switch res.out {
		case probe.OutcomeOK:
			end(fateOK)
			return
		case probe.OutcomeError:
			if ctx.Err() != nil { // cut off by the deadline, not the target's fault
				end(fateGaveUp)
				return
			}
			end(fateError)
			return
		}
		rec.throttled++
		r.thr.Add(1)
		delay, ok := r.p.Delay(attempt, res.retryAfter, rnd)
		now := time.Now()
		if !ok || (r.budget != nil && !r.budget.AllowRetry(now)) || now.Add(delay).After(deadline) {
			end(fateGaveUp)
			return
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				end(fateGaveUp)
				return
			}
		}
	}
}

type attemptResult struct {
	out        probe.Outcome
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
		return attemptResult{out: probe.OutcomeError}
	}
	if r.t.Header != nil {
		req.Header = r.t.Header.Clone()
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.noteErr(err)
		return attemptResult{out: probe.OutcomeError}
	}
	defer resp.Body.Close()
	var head []byte
	if r.cls.NeedsBody(resp.StatusCode) {
		head, _ = io.ReadAll(io.LimitReader(resp.Body, probe.MaxThrottleBody))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // so the connection is reused
	switch r.cls.Classify(resp.StatusCode, head) {
	case probe.OutcomeThrottled:
		res := attemptResult{out: probe.OutcomeThrottled, retryAfter: -1}
		if v := resp.Header.Get("Retry-After"); v != "" {
			if d, ok := headers.ParseRetryAfter(v, time.Now()); ok {
				res.retryAfter = d
			}
		}
		return res
	case probe.OutcomeOK:
		return attemptResult{out: probe.OutcomeOK}
	}
	r.noteErr(fmt.Errorf("status %d", resp.StatusCode))
	return attemptResult{out: probe.OutcomeError}
}

// noteErr keeps the first error, without the URL (it may carry secrets).
func (r *runner) noteErr(err error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	r.errOnce.Do(func() { r.firstErr = err.Error() })
}
