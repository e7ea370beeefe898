// Package verify proves a recommendation under a real demand. It replays
// the same client demand against a target once per retry policy — the
// recommended settings beside the policies people use today — each time
// against a limiter that has recovered, and measures what each policy costs:
// eventual success, throttled attempts and retries per request, added
// latency, goodput and fairness between clients. Judge then decides whether
// the recommended policy holds up.
//
// NewPlan checks a request against what a report measured (plain data, not
// the report) and the safety caps. The policies, the retry budget, the
// demand's schedule, the metrics and the verdict are functions of plain
// data (time and randomness are passed in), tested from tables. Run is the
// only function that sends traffic; it uses probe's HTTP client and
// throttle classifier, bounded in attempts and time.
package verify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"limitprobe/probe"
	"limitprobe/scenarios"
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
	// Redirects and Network are the scenario's: how many redirects are
	// followed, and the proxy, CAs, verification and HTTP version.
	Redirects int
	Network   scenarios.Network
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
	rs := &session{cfg: cfg, sched: sched, maxAttempts: maxAttempts, results: make([]*policyRun, len(cfg.Policies))}
	var err error
	if cfg.Parallel {
		err = rs.atOnce(ctx)
	} else {
		err = rs.inTurn(ctx)
	}
	for _, pr := range rs.results {
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

// session is one Run in progress.
type session struct {
	cfg         Config
	sched       []Arrival
	maxAttempts int64
	results     []*policyRun // by policy; nil for those not run
	progMu      sync.Mutex
}

// progress passes p on to Config.Progress, one call at a time.
func (rs *session) progress(p Progress) {
	if rs.cfg.Progress != nil {
		rs.progMu.Lock()
		defer rs.progMu.Unlock()
		rs.cfg.Progress(p)
	}
}

// runOne runs policy i against t.
func (rs *session) runOne(ctx context.Context, i int, t Target) {
	cfg := rs.cfg
	r := newRunner(cfg.Policies[i], t, cfg.Demand, rs.maxAttempts, cfg.Seed+uint64(i+1)*0x9e3779b9)
	rs.results[i] = r.run(ctx, rs.sched, func(p Progress) {
		p.Index, p.Count, p.Policy = i, len(cfg.Policies), cfg.Policies[i].Name
		rs.progress(p)
	})
}

// atOnce prepares every policy's target, then runs them all at once.
func (rs *session) atOnce(ctx context.Context) error {
	targets := make([]Target, len(rs.cfg.Policies))
	for i, p := range rs.cfg.Policies {
		t, done, err := rs.cfg.Prepare(ctx, i, p)
		if err != nil {
			return err
		}
		if done != nil {
			defer done()
		}
		targets[i] = t
	}
	var wg sync.WaitGroup
	for i := range rs.cfg.Policies {
		wg.Go(func() { rs.runOne(ctx, i, targets[i]) })
	}
	wg.Wait()
	return nil
}

// inTurn runs the policies one after the other, pausing Config.Cooldown
// between them, until ctx ends or a policy finds the target unusable.
func (rs *session) inTurn(ctx context.Context) error {
	cfg := rs.cfg
	for i, p := range cfg.Policies {
		if ctx.Err() != nil {
			return nil
		}
		if i > 0 && cfg.Cooldown > 0 {
			rs.progress(Progress{Index: i, Count: len(cfg.Policies), Policy: p.Name, Cooldown: cfg.Cooldown})
			if err := sleep(ctx, cfg.Cooldown); err != nil {
				return err
			}
		}
		t, done, err := cfg.Prepare(ctx, i, p)
		if err != nil {
			return err
		}
		rs.runOne(ctx, i, t)
		if done != nil {
			done()
		}
		if rs.results[i].unusable() {
			return nil // every attempt failed: the others would too
		}
	}
	return nil
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
