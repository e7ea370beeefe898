package verify

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"limitprobe/advise"
	"limitprobe/evidence"
	"limitprobe/units"
)

// Names of the policies, in the order a verification runs them.
const (
	Recommended = "recommended" // the report's pacing, in-flight cap, retry and budget
	Naive       = "naive"       // retry at once
	Seed        = "seed"        // the common snippet: sleep 2^i s, 5 tries
	HFHub       = "hf-hub"      // huggingface_hub's http_backoff
	GRPC        = "grpc"        // gRPC connection backoff
	None        = "none"        // no retries
)

// PolicyNames lists every policy, in the order a verification runs them.
var PolicyNames = []string{Recommended, Naive, Seed, HFHub, GRPC, None}

// Jitter kinds, the values of Policy.Jitter.
const (
	JitterNone         = "none"         // the backoff as computed
	JitterFull         = "full"         // uniform in [0, backoff]
	JitterProportional = "proportional" // backoff × (1 ± JitterFrac), uniform
)

// UnboundedRetries as Policy.MaxRetries means no count limit: only the
// request's deadline ends the retries.
const UnboundedRetries = -1

// Policy is a client's retry policy as data, with the pacing the
// recommended policy adds. The zero value sends once and never retries.
type Policy struct {
	Name string
	// Settings says what the policy does, in words, for reports.
	Settings string

	// Base is the backoff before the first retry; each retry multiplies it
	// by Multiplier, up to MaxDelay (0: no cap).
	Base       time.Duration
	Multiplier float64
	MaxDelay   time.Duration
	// Jitter is JitterNone, JitterFull or JitterProportional (with
	// JitterFrac, e.g. 0.2 for ±20%); "" means none.
	Jitter     string
	JitterFrac float64
	// MaxRetries bounds the retries of one request (0: none;
	// UnboundedRetries: only the deadline bounds them).
	MaxRetries int
	// HonorRetryAfter makes a throttled response's Retry-After, plus
	// RetryAfterPad, replace the computed backoff.
	HonorRetryAfter bool
	RetryAfterPad   time.Duration

	// BudgetRatio, when positive, bounds the retries of all requests to
	// this share of the requests of the last BudgetWindow, and at least
	// BudgetMin (see Budget).
	BudgetRatio  float64
	BudgetMin    int
	BudgetWindow time.Duration

	// RateRPS, when positive, paces every attempt, retries included,
	// through a client-side token bucket of RateRPS requests per second
	// holding Burst tokens, shared by all clients.
	RateRPS float64
	Burst   int
	// MaxInFlight, when positive, caps the attempts in flight, shared by
	// all clients.
	MaxInFlight int
	// MinTimeLeft, when positive, is the least time before its deadline a
	// request must have left to leave the client's queue (pacing, the
	// in-flight cap): one that waited longer is shed there instead of being
	// sent too late to finish, which would spend the target's capacity on
	// an answer nobody waits for.
	MinTimeLeft time.Duration
	// QueueShare, when positive, bounds the time a request's first attempt
	// may wait in the client's queue to this share of its deadline, so that
	// under overload the requests sent still have time to finish, and to
	// retry, even when the target slows down. A FIFO queue that waits the
	// whole deadline sends only requests that are nearly out of time.
	QueueShare float64
}

// Delay returns how long to wait before retry number attempt (0 for the
// first retry) after a throttled response, and false when the policy gives
// up instead. retryAfter is what the response's Retry-After asked for,
// negative when it asked nothing. rnd draws the jitter; the same seed gives
// the same delays. Delay is a pure function.
func (p Policy) Delay(attempt int, retryAfter time.Duration, rnd *rand.Rand) (time.Duration, bool) {
	if attempt < 0 || (p.MaxRetries != UnboundedRetries && attempt >= p.MaxRetries) {
		return 0, false
	}
	if p.HonorRetryAfter && retryAfter >= 0 {
		return retryAfter + p.RetryAfterPad, true
	}
	return p.jittered(p.Backoff(attempt), rnd), true
}

// Backoff is the delay before retry attempt without jitter:
// min(MaxDelay, Base × Multiplier^attempt).
func (p Policy) Backoff(attempt int) time.Duration {
	if p.Base <= 0 {
		return 0
	}
	m := p.Multiplier
	if m <= 0 {
		m = 1
	}
	d := float64(p.Base) * math.Pow(m, float64(attempt))
	if p.MaxDelay > 0 && d > float64(p.MaxDelay) {
		return p.MaxDelay
	}
	if d > float64(math.MaxInt64/2) { // no cap and a long way out: saturate
		return math.MaxInt64 / 2
	}
	return time.Duration(d)
}

func (p Policy) jittered(d time.Duration, rnd *rand.Rand) time.Duration {
	if d <= 0 {
		return 0
	}
	switch p.Jitter {
	case JitterFull:
		return time.Duration(rnd.Int64N(int64(d) + 1))
	case JitterProportional:
		f := 1 + p.JitterFrac*(2*rnd.Float64()-1)
		return time.Duration(float64(d) * f)
	}
	return d
}

// FromRecommendation is the recommended policy: the report's client token
// bucket, in-flight cap, retry policy and retry budget, as the snippets in
// the report implement them (honour Retry-After, else full jitter; the
// budget counts the requests of the last 10 s and allows at least 10
// retries). minTimeLeft is how much time before its deadline a queued
// request must have left to be sent (Policies gives twice TypicalLatency).
func FromRecommendation(rec advise.Recommendation, minTimeLeft time.Duration) Policy {
	r := rec.Retry
	p := Policy{
		Name:            Recommended,
		Base:            time.Duration(r.BaseDelayMS) * time.Millisecond,
		Multiplier:      r.Multiplier,
		MaxDelay:        time.Duration(r.MaxDelayMS) * time.Millisecond,
		Jitter:          JitterFull,
		MaxRetries:      max(r.MaxRetries, 0),
		HonorRetryAfter: r.HonorRetryAfter,
		BudgetRatio:     r.BudgetRatio,
		BudgetMin:       10,
		BudgetWindow:    10 * time.Second,
		RateRPS:         rec.ClientRateRPS,
		Burst:           max(rec.ClientBurst, 1),
		MaxInFlight:     rec.MaxConcurrency,
	}
	if p.RateRPS > 0 || p.MaxInFlight > 0 {
		p.MinTimeLeft = max(minTimeLeft, 0)
		p.QueueShare = 0.5
	}
	if p.Multiplier <= 0 {
		p.Multiplier = 2
	}
	var parts []string
	if p.RateRPS > 0 {
		parts = append(parts, fmt.Sprintf("pace at %s, burst %d (shared by all clients)", units.Rate(p.RateRPS).String(), p.Burst))
	}
	if p.MaxInFlight > 0 {
		parts = append(parts, fmt.Sprintf("at most %d in flight", p.MaxInFlight))
	}
	retry := fmt.Sprintf("full jitter from %s ×%s up to %s, at most %d retries", units.FormatDuration(p.Base), units.Exact(p.Multiplier), units.FormatDuration(p.MaxDelay), p.MaxRetries)
	if p.HonorRetryAfter {
		retry = "honour Retry-After, else " + retry
	}
	parts = append(parts, retry)
	if p.QueueShare > 0 {
		q := fmt.Sprintf("a request waits in the client's queue at most %s of its deadline", units.PercentWhole(p.QueueShare))
		if p.MinTimeLeft > 0 {
			q += fmt.Sprintf(" and leaves it only with %s (twice the measured p99 latency) to spare", units.FormatDuration(p.MinTimeLeft))
		}
		parts = append(parts, q+", else it is shed")
	}
	if p.BudgetRatio > 0 {
		parts = append(parts, fmt.Sprintf("retry budget %s of requests (at least %d per %s)", units.PercentWhole(p.BudgetRatio), p.BudgetMin, units.FormatDuration(p.BudgetWindow)))
	}
	p.Settings = strings.Join(parts, "; ")
	return p
}

// Reference policies: what clients do today.
var (
	// NaivePolicy retries at once, as a bare retry loop does; 10 retries
	// bound it.
	NaivePolicy = Policy{Name: Naive, MaxRetries: 10,
		Settings: "retry at once, at most 10 retries; Retry-After ignored"}
	// SeedPolicy is the snippet everyone pastes: for i in range(5): try;
	// sleep(2**i). Five tries are four retries, after 1, 2, 4 and 8 s.
	SeedPolicy = Policy{Name: Seed, Base: time.Second, Multiplier: 2, Jitter: JitterNone, MaxRetries: 4,
		Settings: "sleep 2^i s between 5 tries (1, 2, 4, 8 s), no jitter; Retry-After ignored"}
	// HFHubPolicy is huggingface_hub's http_backoff: 5 retries, sleeping
	// 1 s doubling to at most 8 s, without jitter; on a throttled response
	// with Retry-After it sleeps Retry-After + 1 s instead.
	HFHubPolicy = Policy{Name: HFHub, Base: time.Second, Multiplier: 2, MaxDelay: 8 * time.Second, Jitter: JitterNone,
		MaxRetries: 5, HonorRetryAfter: true, RetryAfterPad: time.Second,
		Settings: "huggingface_hub http_backoff: 1 s doubling to 8 s, 5 retries, no jitter; Retry-After + 1 s when sent"}
	// GRPCPolicy is gRPC's connection backoff: 1 s, ×1.6, ±20%, at most
	// 120 s, with no count limit (the deadline ends it).
	GRPCPolicy = Policy{Name: GRPC, Base: time.Second, Multiplier: 1.6, MaxDelay: 120 * time.Second,
		Jitter: JitterProportional, JitterFrac: 0.2, MaxRetries: UnboundedRetries,
		Settings: "gRPC connection backoff: 1 s ×1.6 ±20% up to 120 s, until the deadline; Retry-After ignored"}
	// NonePolicy sends once.
	NonePolicy = Policy{Name: None, Settings: "no retries"}
)

// TypicalLatency is the latency of a successful request the steps
// measured: the median over the steps of their 99th percentile, 0 when no
// step succeeded.
//
// Under overload a client's FIFO queue sends requests that have waited
// nearly their whole deadline, so the time left must cover the latency
// with room to spare: FromRecommendation is given twice this.
func TypicalLatency(steps []evidence.Step) time.Duration {
	var p99s []float64
	for _, st := range steps {
		if st.OK > 0 && st.LatencyMS.P99 > 0 {
			p99s = append(p99s, st.LatencyMS.P99)
		}
	}
	if len(p99s) == 0 {
		return 0
	}
	slices.Sort(p99s)
	return time.Duration(p99s[len(p99s)/2] * float64(time.Millisecond))
}

// Policies returns the named policies, the recommended one built from rec
// and the steps it was made from, in the order of names; an unknown name is
// an error that says which names exist. No names means all of them.
func Policies(rec advise.Recommendation, steps []evidence.Step, names []string) ([]Policy, error) {
	if len(names) == 0 {
		names = PolicyNames
	}
	var out []Policy
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(strings.ToLower(n))
		if seen[n] {
			continue
		}
		seen[n] = true
		switch n {
		case Recommended:
			out = append(out, FromRecommendation(rec, 2*TypicalLatency(steps)))
		case Naive:
			out = append(out, NaivePolicy)
		case Seed:
			out = append(out, SeedPolicy)
		case HFHub:
			out = append(out, HFHubPolicy)
		case GRPC:
			out = append(out, GRPCPolicy)
		case None:
			out = append(out, NonePolicy)
		default:
			return nil, fmt.Errorf("unknown policy %q; write one of %s", n, strings.Join(PolicyNames, ", "))
		}
	}
	return out, nil
}
