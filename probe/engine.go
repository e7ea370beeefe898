// Package probe runs a scenario's plan against a target with vegeta's
// library, turns the results into per-step measurements and a timeline,
// reads what the target advertises about its limit, and returns them with
// the estimate (package estimate) of the effective limit, burst, window and
// algorithm.
//
// Execute is the only function that sends traffic. Everything it returns is
// plain data; estimation and recording are pure functions of that data.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"limitprobe/evidence"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// ErrUnusable is wrapped by Execute's error, and by verify's, when the
// target could not be probed: unreachable, or most requests failed without
// any throttling.
var ErrUnusable = errors.New("target could not be probed")

// Options adjust a run. The zero value runs quietly with a fresh client.
type Options struct {
	// Raw receives every result in vegeta's encoding (vegeta report, plot
	// and encode read it), bodies and headers left out. Nil writes nothing.
	Raw io.Writer
	// Progress is called from the run's goroutine at most every
	// ProgressEvery while requests flow, and at each step's start and end.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// Client sends the requests; nil builds one for the scenario. Share one
	// between runs so connections survive.
	Client *http.Client
}

// Progress is a snapshot of a run for a progress display.
type Progress struct {
	Step, Steps  int // 1-based current step; Steps is the planned count (auto: its worst case)
	Phase        string
	OfferedRPS   float64
	Concurrency  int
	Elapsed      time.Duration // since the run started
	StepElapsed  time.Duration
	StepDuration time.Duration
	Cooldown     time.Duration // > 0 while waiting between steps
	Sent, OK     int64         // run totals
	Throttled    int64
	Errors       int64
	MaxRequests  int
	MaxDuration  time.Duration
	Finished     *evidence.Step // the step that just ended, if any
}

// engine is one run in progress.
type engine struct {
	sc      *scenarios.Scenario
	opt     Options
	client  *http.Client
	targets vegeta.Targeter
	rec     *recorder
	start   time.Time
	steps   int // planned step count, for progress
	raw     vegeta.Encoder
	last    time.Time // last progress call
	quiet   time.Time // when the latest step's last request may have reached the server (see rest)
	// quota is quota mode's state (quota.go); nil until it is armed.
	quota *quotaRun
	// watch, when set, sees every result of every step; it stops the step
	// by returning true.
	watch func(sp stepSpec, res *vegeta.Result, out evidence.Outcome) bool
	// takeover, when set, sees every step send finished; it takes the run
	// over (and send reports nothing left to send) by returning true.
	takeover func(ctx context.Context, st evidence.Step) (bool, error)

	// What results.bin shows: the redacted URL, and errors redacted by
	// redact (the last one kept, as most results repeat it).
	shownURL          string
	redact            *strings.Replacer
	lastErr, shownErr string

	tooLong *tooLong // a wait the target asked for that ended the run

	closers []func() bool // see close
}

// Execute probes sc's target following its plan and returns what it
// measured, with its Summary estimated from the steps, timeline and
// advertised fields. sc must be valid (see scenarios.Load); its target URL must be set (the
// caller starts the embedded mock). On cancellation of ctx, Execute stops
// sending within a second and returns the partial run with Interrupted set
// and a nil error. An error wrapping ErrUnusable comes with the partial run.
func Execute(ctx context.Context, sc *scenarios.Scenario, opt Options) (*Run, error) {
	if sc.Target.URL == "" {
		return nil, errors.New("probe: the scenario has no target URL; start the mock first")
	}
	plan := scenarios.MakePlan(sc)
	e := newEngine(ctx, sc, opt, len(plan.Steps), resolution(plan))
	defer e.close()

	var err error
	switch sc.Probe.Strategy {
	case scenarios.StrategyQuota:
		err = e.runQuota(ctx, plan.Steps[0])
	case scenarios.StrategyAuto:
		err = e.runAuto(ctx)
	default: // steps, linear, concurrency
		err = e.runSteps(ctx, plan)
	}
	run := e.finish(ctx)
	return run, e.conclude(run, err)
}

// newEngine starts a run of sc: its client's connections cut when ctx
// ends, its recorder with a timeline of res buckets. steps is the planned
// step count, for progress. The caller closes it.
func newEngine(ctx context.Context, sc *scenarios.Scenario, opt Options, steps int, res time.Duration) *engine {
	if opt.ProgressEvery == 0 {
		opt.ProgressEvery = 200 * time.Millisecond
	}
	e := &engine{sc: sc, opt: opt, client: opt.Client, targets: targeter(sc), steps: steps}
	if e.client == nil {
		client := NewClient(sc.Target)
		e.client = client
		e.closers = append(e.closers, func() bool { client.CloseIdleConnections(); return true })
	}
	e.closers = append(e.closers, cutOnDone(ctx, e.client))
	if opt.Raw != nil {
		e.raw = vegeta.NewEncoder(opt.Raw)
		e.shownURL, e.redact = sc.DisplayURL(), sc.Redactor()
	}
	e.start = time.Now()
	e.rec = newRecorder(e.start, res, NewClassifier(sc.Target.ThrottleStatus, sc.Target.ThrottleBody))
	e.rec.interrupted = ctx.Done()
	noteCut := context.AfterFunc(ctx, func() { e.rec.cutAt.Store(time.Now().UnixNano()) })
	e.closers = append(e.closers, noteCut)
	return e
}

// close stops watching the run's context, last first, and closes the
// connections of a client the engine made.
func (e *engine) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// attackOptions are vegeta's options every attack of the run shares: the
// client, the redirects the scenario follows, the body kept.
func (e *engine) attackOptions() []func(*vegeta.Attacker) {
	redirects := vegeta.NoFollow
	if e.sc.Target.Redirects > 0 {
		redirects = e.sc.Target.Redirects
	}
	return []func(*vegeta.Attacker){vegeta.Client(e.client), vegeta.Redirects(redirects), vegeta.MaxBody(maxBody(e.sc))}
}

// resolution picks the timeline's bucket width: 100 ms, coarser for runs so
// long that the timeline would pass ~6000 buckets.
func resolution(pl scenarios.Plan) time.Duration {
	return max(100*time.Millisecond, (pl.MaxTime / 6000).Round(100*time.Millisecond))
}

func targeter(sc *scenarios.Scenario) vegeta.Targeter {
	h := http.Header{}
	for _, hd := range sc.Target.Headers {
		h.Add(hd.Name, hd.Value.Reveal())
	}
	h.Set("User-Agent", "limitprobe")
	return vegeta.NewStaticTargeter(vegeta.Target{Method: sc.Target.Method, URL: sc.Target.URL, Body: sc.Target.Body, Header: h})
}

func (e *engine) elapsed() time.Duration { return time.Since(e.start) }

// budget is what the caps leave: requests and time.
func (e *engine) budget() (int64, time.Duration) {
	return int64(e.sc.Limits.MaxRequests) - e.rec.sent, e.sc.Limits.MaxDuration - e.elapsed()
}

// stepSpec is one step the engine is about to send.
type stepSpec struct {
	index       int
	phase       string
	rate, slope float64 // requests per second, and its growth per second
	concurrency int
	duration    time.Duration
	// stopOnThrottle ends the step at the first throttled response (quota).
	stopOnThrottle bool
	// stopOnOK ends the step at the first accepted response (recovery).
	stopOnOK bool
	// random spaces the requests with exponential gaps (Poisson arrivals).
	random bool
	// maxRequests caps the step's requests; 0 leaves it to the caps.
	maxRequests int
	// due, when set, schedules the requests instead of rate: request n
	// (from 1) goes out due(n) seconds into the step; +Inf ends the step.
	due func(n uint64) float64
	// watch, when set, sees every result; returning true ends the step.
	watch func(res *vegeta.Result, out evidence.Outcome) bool
}

// runStep sends one step and returns its measurement. ok is false when the
// caps or ctx left nothing to send.
func (e *engine) runStep(ctx context.Context, sp stepSpec) (evidence.Step, bool) {
	reqLeft, timeLeft := e.budget()
	if reqLeft <= 0 || timeLeft <= 0 || ctx.Err() != nil {
		return evidence.Step{}, false
	}
	dur := min(sp.duration, timeLeft)
	p := precise{pacer: pacer{Start: sp.rate, Slope: sp.slope, Max: uint64(reqLeft), Due: sp.due}}
	if sp.maxRequests > 0 {
		p.Max = min(p.Max, uint64(sp.maxRequests))
	}
	// A limiter that spaces requests (a bucket of one) refuses the clumps
	// the runtime's timers make: requests leave when due up to fineRate,
	// where that costs little, and in steps with Poisson arrivals, which
	// measure such a limiter at any rate.
	p.fine = sp.concurrency == 0 && sp.rate+max(sp.slope, 0)*sp.duration.Seconds() <= fineRate
	arrivals := ""
	if sp.random && sp.concurrency == 0 && sp.slope == 0 {
		p.Random, arrivals = newRandomGaps(uint64(sp.index)+1), evidence.ArrivalsPoisson
		p.fine = true
	}
	opts := append(e.attackOptions(), vegeta.MaxWorkers(maxInFlight))
	if sp.concurrency > 0 {
		// Closed-loop workers, but never faster than twice what they could
		// do if every request succeeded, nor the step's ceiling, nor the
		// safety cap: a target that rejects instantly would otherwise be
		// hammered.
		p.Start, p.Slope = float64(e.sc.Limits.MaxRate), 0
		if sp.rate > 0 {
			p.Start = min(p.Start, sp.rate)
		}
		if lat := e.lastLatency(); lat > 0 {
			p.Start = min(p.Start, 2*float64(sp.concurrency)/lat.Seconds())
		}
		opts = append(opts, vegeta.Workers(uint64(sp.concurrency)), vegeta.MaxWorkers(uint64(sp.concurrency)))
	}
	atk := vegeta.NewAttacker(opts...)
	// Ending the step's context stops the attack, and the pacer's waits
	// with it, however long the next one.
	stepCtx, endStep := context.WithCancel(ctx)
	defer endStep()
	context.AfterFunc(stepCtx, func() { atk.Stop() })

	begin := time.Now()
	offered := sp.rate
	if sp.slope != 0 {
		offered = sp.rate + sp.slope*dur.Seconds()/2
	}
	w := e.rec.open(evidence.Step{Index: sp.index, Phase: sp.phase, OfferedRPS: offered, Concurrency: sp.concurrency, Arrivals: arrivals}, begin, begin.Add(dur), e.sc.Target.Timeout)
	if sp.slope != 0 {
		w.step.StartRPS, w.step.SlopeRPS = sp.rate, sp.slope
	}
	e.progress(sp, begin, 0, nil, true)
	p.done = stepCtx.Done()
	var quiet lull
	for res := range atk.Attack(e.targets, p, dur, e.sc.Name) {
		out := e.rec.add(res)
		quiet.add(res, out)
		stop := out == evidence.Throttled && sp.stopOnThrottle || out == evidence.OK && sp.stopOnOK
		if out != evidence.Canceled {
			stop = sp.watch != nil && sp.watch(res, out) || stop
			stop = e.watch != nil && e.watch(sp, res, out) || stop
		}
		if stop {
			endStep()
		}
		e.encode(res)
		e.progress(sp, begin, 0, nil, false)
	}
	sent := min(time.Since(begin), dur)
	if ctx.Err() == nil && !sp.stopOnThrottle && !sp.stopOnOK && sp.watch == nil && sp.maxRequests == 0 && sp.due == nil &&
		sent < dur && e.rec.sent < int64(e.sc.Limits.MaxRequests) {
		sent = dur
	}
	st := e.rec.close(w, sent)
	if at := quiet.at(); !at.IsZero() {
		e.quiet = at
	}
	e.progress(sp, begin, 0, &st, true)
	return st, true
}

// maxInFlight bounds the requests an open-loop step keeps in flight (each
// a goroutine and a connection): against a target that stalls, a fast
// schedule falls behind rather than exhausting the machine.
const maxInFlight = 20000

// lastLatency is the median latency of successful requests in the most
// recent step that had any; 0 when none has.
func (e *engine) lastLatency() time.Duration {
	for i := len(e.rec.done) - 1; i >= 0; i-- {
		if s := e.rec.done[i]; s.OK > 0 && s.LatencyMS.P50 > 0 {
			return time.Duration(s.LatencyMS.P50 * float64(time.Millisecond))
		}
	}
	return 0
}

// maxBody is how much of a response's body is kept to classify it.
func maxBody(sc *scenarios.Scenario) int64 {
	if sc.Target.ThrottleBody != "" {
		return MaxThrottleBody
	}
	return maxPeek
}

func (e *engine) encode(res *vegeta.Result) {
	if e.raw == nil {
		return
	}
	res.Body, res.Headers = nil, nil
	res.URL = e.shownURL
	if res.Error != "" {
		if res.Error != e.lastErr {
			e.lastErr, e.shownErr = res.Error, e.redact.Replace(res.Error)
		}
		res.Error = e.shownErr
	}
	_ = e.raw.Encode(res) // a failing raw file must not stop the probe
}

func (e *engine) progress(sp stepSpec, begin time.Time, cool time.Duration, done *evidence.Step, force bool) {
	if e.opt.Progress == nil {
		return
	}
	now := time.Now()
	if !force && now.Sub(e.last) < e.opt.ProgressEvery {
		return
	}
	e.last = now
	e.opt.Progress(Progress{
		Step: sp.index + 1, Steps: max(e.steps, sp.index+1), Phase: sp.phase, OfferedRPS: sp.rate, Concurrency: sp.concurrency,
		Elapsed: now.Sub(e.start), StepElapsed: now.Sub(begin), StepDuration: sp.duration, Cooldown: cool,
		Sent: e.rec.sent, OK: e.rec.ok, Throttled: e.rec.throttled, Errors: e.rec.errors,
		MaxRequests: e.sc.Limits.MaxRequests, MaxDuration: e.sc.Limits.MaxDuration, Finished: done,
	})
}

// cooldown rests (see rest) the scenario's cooldown before the next step;
// auto, after a throttled step, MinCooldown, or waits the longest
// Retry-After or reset the step saw, at most MaxCooldown, from now: it
// counts from the answer that asked, which came back after the requests
// left (a step that was never throttled spent nothing that needs to
// refill). It returns false when ctx ended or the time cap would be
// passed.
func (e *engine) cooldown(ctx context.Context, prev evidence.Step, next stepSpec) bool {
	d := e.sc.Probe.Cooldown
	if e.sc.Probe.CooldownAuto {
		if prev.Throttled == 0 && prev.RetryAfterS == 0 {
			return ctx.Err() == nil // nothing was spent that needs to refill
		}
		d = scenarios.MinCooldown
		if prev.RetryAfterS > 0 {
			asked := time.Duration(prev.RetryAfterS * float64(time.Second))
			if e.waitTooLong(asked) {
				return false
			}
			if asked >= d {
				return e.pause(ctx, min(asked, scenarios.MaxCooldown), next)
			}
		}
	}
	return e.rest(ctx, d, next)
}

// rest pauses until the server has seen no request for d, as far as the
// last step shows (see lull). A step ends when its slowest answer is back,
// which behind a slow backend (median 300 ms, σ 0.8) takes 1–3 s that a
// limiter in front of it has spent idle.
func (e *engine) rest(ctx context.Context, d time.Duration, next stepSpec) bool {
	if !e.quiet.IsZero() {
		d -= time.Since(e.quiet)
	}
	return e.pause(ctx, d, next)
}

// lull finds the latest moment a step's requests can have reached the
// server: the last one's send plus the longest a request of the step took
// to get there, taken as its slowest refusal's round trip (a new
// connection's set-up included) or, with none refused, its quickest answer;
// never after the last answer came back.
type lull struct {
	sent, back     time.Time
	refusal, quick time.Duration
}

func (l *lull) add(res *vegeta.Result, out evidence.Outcome) {
	if out == evidence.Canceled {
		return
	}
	if res.Timestamp.After(l.sent) {
		l.sent = res.Timestamp
	}
	if at := res.Timestamp.Add(res.Latency); at.After(l.back) {
		l.back = at
	}
	if out == evidence.Throttled {
		l.refusal = max(l.refusal, res.Latency)
	}
	if l.quick == 0 || res.Latency < l.quick {
		l.quick = res.Latency
	}
}

// at is that moment; zero when nothing was sent.
func (l lull) at() time.Time {
	reach := l.refusal
	if reach == 0 {
		reach = l.quick
	}
	if by := l.sent.Add(reach); by.Before(l.back) {
		return by
	}
	return l.back
}

// pause waits d before the next step, showing it; false when ctx ended or
// the time budget cannot hold the pause.
func (e *engine) pause(ctx context.Context, d time.Duration, next stepSpec) bool {
	if _, left := e.budget(); d >= left {
		return false
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	e.progress(next, time.Now(), d, nil, true)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// runSteps sends the plan's steps in order, stopping once throttling has
// stayed above the threshold for StopAfter steps, or on an error storm. A
// linear plan is sent as consecutive steps without pauses, each pacer
// starting where the last one ended, so the offered rate is one line.
func (e *engine) runSteps(ctx context.Context, plan scenarios.Plan) error {
	linear := e.sc.Probe.Strategy == scenarios.StrategyLinear
	over := 0
	var prev evidence.Step
	for i, ps := range plan.Steps {
		sp := stepSpec{index: i, phase: ps.Phase, rate: float64(ps.Rate), concurrency: ps.Concurrency, duration: ps.Duration}
		if linear {
			sp.rate, sp.slope = float64(ps.StartRate), float64(ps.Rate-ps.StartRate)/ps.Duration.Seconds()
		} else if i > 0 && !e.cooldown(ctx, prev, sp) {
			return nil
		}
		st, ok, err := e.send(ctx, sp)
		if !ok || err != nil {
			return err
		}
		if st.ThrottledRatio > e.sc.Probe.Threshold {
			over++
		} else {
			over = 0
		}
		if over >= e.sc.Probe.StopAfter {
			return nil
		}
		prev = st
	}
	return nil
}

// send runs one step and checks it for an error storm. ok is false when
// the caps or ctx left nothing to send, or when quota mode took the run
// over after the step (see takeover).
func (e *engine) send(ctx context.Context, sp stepSpec) (evidence.Step, bool, error) {
	st, ok := e.runStep(ctx, sp)
	if !ok {
		return st, false, nil
	}
	if err := e.errorStorm(st); err != nil {
		return st, true, err
	}
	if e.takeover != nil {
		if took, err := e.takeover(ctx, st); took || err != nil {
			return st, false, err
		}
	}
	return st, true, nil
}

// errorStorm returns an ErrUnusable error when most of a step's requests
// failed without the target throttling any: the target is down or
// misconfigured, and more load would say nothing about its limit.
func (e *engine) errorStorm(st evidence.Step) error {
	if st.Requests < 10 || st.Errors*2 <= st.Requests || st.Throttled > 0 {
		return nil
	}
	return fmt.Errorf("%w: %d of %d requests in step %d failed without throttling: %s",
		ErrUnusable, st.Errors, st.Requests, st.Index+1, causesText(e.rec.errorCauses(e.sc.Redact)))
}

// causesText renders causes as `412 refused ("dial tcp ...: connection
// refused"), 3 timeout (...)`, most first, with what to do about the
// causes that have a remedy.
func causesText(cs []evidence.ErrorCause) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%d %s (%q)", c.Count, c.Cause, c.Example)
		if r := Remedy(c.Cause); r != "" {
			parts[i] += "; " + r
		}
	}
	return strings.Join(parts, ", ")
}

// Remedy says what to do about failures of a cause, when the probe knows:
// "" otherwise.
func Remedy(cause string) string {
	switch cause {
	case CauseRedirect:
		return "the target redirects: probe the URL it redirects to, or set target.redirects (--redirects) to follow it"
	case CauseRedirects:
		return "a redirect loop, or more redirects than target.redirects allows"
	case CauseScalingUp:
		return "the endpoint was scaling up from zero, which is not its limit: send -H 'X-Scale-Up-Timeout: 600' so that requests wait for a replica, or wake it before the probe"
	case CauseNotHTTP:
		return "the target did not answer in HTTP: check the URL's scheme and port"
	case CauseTLS:
		return "trust the target's CA with --cacert FILE (target.cacert), or for a staging endpoint only --insecure"
	case CauseProxy:
		return "check --proxy (target.proxy) or HTTP_PROXY, HTTPS_PROXY and NO_PROXY"
	case CauseFDLimit:
		return "raise this machine's open-file limit (ulimit -n) or lower the rate"
	}
	return ""
}

// finish closes what is open and assembles the Run.
func (e *engine) finish(ctx context.Context) *Run {
	end := time.Now()
	for len(e.rec.windows) > 0 {
		e.rec.close(e.rec.windows[0], end.Sub(e.rec.windows[0].begin))
	}
	sc := e.sc
	run := &Run{
		Scenario: ScenarioRef{Name: sc.Name, Target: TargetRef{URL: sc.DisplayURL(), Method: sc.Target.Method, Mock: mockSpec(sc),
			Proxy: sc.Redact(proxyOf(sc.Target)), Insecure: sc.Target.Network.Insecure},
			Strategy: sc.Probe.Strategy, Threshold: sc.Probe.Threshold, DemandRPS: float64(sc.Demand)},
		StartedAt:      e.start.UTC(),
		DurationS:      end.Sub(e.start).Seconds(),
		Interrupted:    ctx.Err() != nil,
		RequestsSent:   e.rec.sent,
		ThrottledTotal: e.rec.throttled,
		ErrorsTotal:    e.rec.errors,
		Advertised:     e.rec.adv,
		Steps:          e.rec.done,
		Timeline:       e.rec.timeline(end),
		Requests:       &e.rec.reqs,
		ErrorCauses:    e.rec.errorCauses(sc.Redact),
	}
	if e.quota != nil && e.quota.active {
		run.Quota = &e.quota.ev
	}
	if run.Steps == nil {
		run.Steps = []evidence.Step{}
	}
	run.StopReason = e.stopReason(run)
	return run
}

// mockSpec is the spec of sc's embedded mock; "" for a real target.
func mockSpec(sc *scenarios.Scenario) string {
	if sc.Target.Mock == nil {
		return ""
	}
	return sc.Redact(sc.Target.Mock.Spec())
}

func (e *engine) stopReason(run *Run) string {
	reqLeft, timeLeft := e.budget()
	switch {
	case run.Interrupted:
		return "interrupted"
	case reqLeft <= 0:
		return fmt.Sprintf("reached limits.max_requests (%d)", e.sc.Limits.MaxRequests)
	case timeLeft <= 0:
		return fmt.Sprintf("reached limits.max_duration (%v)", e.sc.Limits.MaxDuration)
	case run.Quota != nil && len(run.Quota.Spends) > 0:
		return "quota mode: the spent window was waited out"
	case run.Quota != nil:
		return "quota mode: the advertised quota was read and checked, not spent"
	}
	n := len(run.Steps)
	if n > 0 && run.Steps[n-1].ThrottledRatio > e.sc.Probe.Threshold {
		return fmt.Sprintf("throttled above %s%% in the last steps", units.Num(e.sc.Probe.Threshold*100))
	}
	if n > 0 {
		return fmt.Sprintf("finished the plan at %s", units.FormatRate(run.Steps[n-1].OfferedRPS))
	}
	return "nothing sent"
}
