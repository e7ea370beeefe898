package estimate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"limitprobe/evidence"
	"limitprobe/limiter"
	"limitprobe/units"
)

// condition is how the network and the backend behave around a limiter at
// the edge: what users probe, not a zero-latency loopback.
type condition struct {
	name    string
	netS    float64 // fixed one-way delay
	jitterS float64 // plus uniform jitter up to this
	stallP  float64 // the chance of a stall of up to stallS on the way in
	stallS  float64
	service func(*rand.Rand) float64 // time an admitted request takes at the backend
}

func lognormal(median, sigma float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return median * math.Exp(sigma*r.NormFloat64()) }
}

var conditions = []condition{
	{"loopback", 0.0001, 0.0005, 0, 0, nil},
	{"slow backend", 0.0001, 0.0005, 0, 0, lognormal(0.3, 0.8)},
	{"50±20 ms away", 0.03, 0.04, 0, 0, lognormal(0.02, 0.3)},
}

// fitCase is a limiter, its truth and a schedule that probes it the way
// auto would: a burst from idle, polls until it accepts again, a doubling
// ramp, and saturation.
type fitCase struct {
	name  string
	lim   func() limiter.Limiter
	want  truth
	steps []simStep
	// service overrides the condition's backend (a cap on requests in
	// flight is defined by its own latency).
	service func(*rand.Rand) float64
}

func fitCases() []fitCase {
	cfg := func(c limiter.Config) func() limiter.Limiter { return func() limiter.Limiter { return limiter.New(c) } }
	return []fitCase{
		{"token-bucket 50/s burst 10", cfg(limiter.Config{Kind: limiter.TokenBucket, Rate: 50, Burst: 10}),
			truth{rate: 50, burst: 10, alg: AlgorithmTokenBucket}, autoLike(500, 80, 65, 8), nil},
		{"token-bucket 50/s burst 1", cfg(limiter.Config{Kind: limiter.TokenBucket, Rate: 50, Burst: 1}),
			truth{rate: 50, burst: 1, alg: AlgorithmTokenBucket}, append(autoLike(500, 80, 65, 4),
				simStep{rate: 400, dur: 2.5, poisson: true}, simStep{rate: 100, dur: 3, poisson: true}, simStep{rate: 400, dur: 1, poisson: true}), nil},
		{"token-bucket 500/s burst 500", cfg(limiter.Config{Kind: limiter.TokenBucket, Rate: 500, Burst: 500}),
			truth{rate: 500, burst: 500, alg: AlgorithmTokenBucket}, autoLike(4000, 640, 650, 8), nil},
		{"gcra 100/s burst 20", cfg(limiter.Config{Kind: limiter.GCRA, Rate: 100, Burst: 20}),
			truth{rate: 100, burst: 20, alg: AlgorithmTokenBucket}, autoLike(1000, 160, 130, 8), nil},
		{"fixed-window 100 per 10s", cfg(limiter.Config{Kind: limiter.FixedWindow, Limit: 100, Window: simDur(10)}),
			truth{rate: 10, burst: 100, alg: AlgorithmFixedWindow, windowS: 10}, autoLike(1000, 40, 13, 25), nil},
		{"fixed-window 20 per 2s", cfg(limiter.Config{Kind: limiter.FixedWindow, Limit: 20, Window: simDur(2)}),
			truth{rate: 10, burst: 20, alg: AlgorithmFixedWindow, windowS: 2}, autoLike(200, 40, 13, 8), nil},
		{"sliding-log 50 per 5s", cfg(limiter.Config{Kind: limiter.SlidingLog, Limit: 50, Window: simDur(5)}),
			truth{rate: 10, burst: 50, alg: AlgorithmSlidingWindow, windowS: 5}, autoLike(500, 40, 13, 15), nil},
		{"sliding-counter 50 per 5s", cfg(limiter.Config{Kind: limiter.SlidingCounter, Limit: 50, Window: simDur(5)}),
			truth{rate: 10, burst: 50, alg: AlgorithmSlidingWindow, windowS: 5}, autoLike(500, 40, 13, 15), nil},
		{"lockout 100 per 5s", cfg(limiter.Config{Kind: limiter.Lockout, Limit: 100, Window: simDur(5)}),
			truth{rate: 20, burst: 100, alg: AlgorithmLockout}, append(autoLike(1000, 40, 26, 4), simStep{rate: 10, slope: 1, dur: 20, idle: 11}), nil},
		{"queue 50/s burst 10", cfg(limiter.Config{Kind: limiter.Queue, Rate: 50, Burst: 10}),
			truth{rate: 50, burst: -1, alg: AlgorithmQueue}, autoLike(500, 80, 65, 8), nil},
		{"concurrency 8 @ 50ms", cfg(limiter.Config{Kind: limiter.Concurrency, MaxInFlight: 8}),
			truth{rate: 160, burst: -1, alg: AlgorithmConcurrency, inFlight: 8}, autoLike(1000, 320, 210, 3), fixedLatency(0.05)},
		{"concurrency 32 @ 200ms", cfg(limiter.Config{Kind: limiter.Concurrency, MaxInFlight: 32}),
			truth{rate: 160, burst: -1, alg: AlgorithmConcurrency, inFlight: 32}, autoLike(1000, 320, 210, 3), fixedLatency(0.2)},
		{"TGI 128 in flight", cfg(limiter.Config{Kind: limiter.Concurrency, MaxInFlight: 128}),
			truth{rate: 0, burst: -1, alg: AlgorithmConcurrency, inFlight: 128}, autoLike(1000, 320, 280, 3), lognormal(0.5, 0.6)},
		// HAProxy's gpc0_rate(5s) incremented past its deny rule.
		{"sliding-counter 50 per 5s from first use", cfg(limiter.Config{Kind: limiter.SlidingCounter, Limit: 50, Window: simDur(5), FirstUse: true}),
			truth{rate: 10, burst: 50, alg: AlgorithmSlidingWindow, windowS: 5}, autoLike(500, 40, 13, 15), nil},
		// A quota counted from a client's first call, as Redis's INCR and
		// EXPIRE count one.
		{"fixed-window 30 per 3s from first use", cfg(limiter.Config{Kind: limiter.FixedWindow, Limit: 30, Window: simDur(3), FirstUse: true}),
			truth{rate: 10, burst: 30, alg: AlgorithmFixedWindow, windowS: 3}, autoLike(300, 40, 13, 10), nil},
		// Redis's sorted set of every request's time, refused ones too.
		{"lockout 30 per 3s kept as a log", cfg(limiter.Config{Kind: limiter.Lockout, Limit: 30, Window: simDur(3), Log: true}),
			truth{rate: 10, burst: 30, alg: AlgorithmLockout}, append(autoLike(300, 40, 13, 4), simStep{rate: 5, slope: 0.5, dur: 20, idle: 7}), nil},
		// go-chi/httprate's: admits while its count rounds below the limit.
		{"sliding-counter 30 per 3s rounded", cfg(limiter.Config{Kind: limiter.SlidingCounter, Limit: 30, Window: simDur(3), Round: true}),
			truth{rate: 10, burst: 30, alg: AlgorithmSlidingWindow, windowS: 3, round: true}, autoLike(300, 40, 13, 10), nil},
		// HAProxy's http_req_rate(5s): every request counted, refused ones
		// too, its periods following one another from the first.
		{"lockout 50 per 5s from first use", cfg(limiter.Config{Kind: limiter.Lockout, Limit: 50, Window: simDur(5), FirstUse: true}),
			truth{rate: 10, burst: 50, alg: AlgorithmLockout}, append(autoLike(500, 40, 13, 4), simStep{rate: 5, slope: 0.5, dur: 20, idle: 11}), nil},
	}
}

// workersAround is auto's closed-loop experiment against a cap of n in
// flight: workers at 1.3 and 0.8 times the cap seen from the client, n ×
// (service + round trip) ÷ service, each worker at most one request per
// half its round trip (the engine's pacing of workers).
func workersAround(n int, service, rtt float64) []simStep {
	client := float64(n) * (service + rtt) / service
	var out []simStep
	for _, f := range []float64{1.3, 0.8} {
		out = append(out, simStep{workers: int(math.Round(f * client)), dur: max(2, 15*(service+rtt)), idle: 2 * (service + rtt), gap: (service + rtt) / 2})
	}
	return out
}

// runFit simulates c under cond with seed and estimates from every request.
func runFit(c fitCase, cond condition, seed uint64) (Summary, float64) {
	reqs := &evidence.Requests{}
	svc, schedule := c.under(cond, seed)
	sr := simRun{lim: c.lim(), clock0: 1000.37 + float64(seed)*0.71, steps: schedule, seed: seed, netS: cond.netS, jitterS: cond.jitterS,
		stallP: cond.stallP, stallS: cond.stallS, service: svc, record: reqs}
	steps, tl := simulate(sr)
	s := Estimate(Input{Steps: steps, Timeline: tl, Threshold: 0.01, MaxOfferedRPS: 4000, Requests: reqs})
	// The truth of a cap on requests in flight is cap ÷ mean service time.
	rate := c.want.rate
	if c.want.inFlight > 0 {
		rate = float64(c.want.inFlight) / meanOf(svc, seed)
	}
	return s, rate
}

// under is how c is probed under cond: its service times (its own, for a
// cap on requests in flight, or else the condition's backend) and its
// schedule, with closed-loop workers around a cap's.
func (c fitCase) under(cond condition, seed uint64) (func(*rand.Rand) float64, []simStep) {
	svc := cond.service
	if c.service != nil {
		svc = c.service
	}
	schedule := c.steps
	if c.want.inFlight > 0 {
		schedule = append(slices.Clone(schedule), workersAround(c.want.inFlight, meanOf(svc, seed), 2*(cond.netS+cond.jitterS/2))...)
	}
	return svc, schedule
}

// fitCaseNamed and conditionNamed are the fit case and the condition of
// that name.
func fitCaseNamed(name string) fitCase {
	return fitCases()[slices.IndexFunc(fitCases(), func(c fitCase) bool { return c.name == name })]
}

func conditionNamed(name string) condition {
	return conditions[slices.IndexFunc(conditions, func(c condition) bool { return c.name == name })]
}

// meanOf is the mean of a service distribution, by sampling.
func meanOf(f func(*rand.Rand) float64, seed uint64) float64 {
	r := rand.New(rand.NewPCG(seed, 99))
	var sum float64
	for range 200000 {
		sum += f(r)
	}
	return sum / 200000
}

// hardUnder lists what timing noise defeats, by condition: behind
// 50±20 ms each way a cap of 8 at 50 ms (a service time shorter than the
// jitter's range) leaves too little of its timing to fit. (A bucket of
// one at 50/s, a 20 ms slot inside 40 ms of jitter, was here until auto's
// Poisson arrivals ran at eight times its rate: their goodput reads it.)
// A wrong algorithm must then claim 0.5 at most, and a rate off by more
// than 3% less than 0.8; the bench reports them.
var hardUnder = map[string][]string{
	"50±20 ms away": {"concurrency 8 @ 50ms"},
}

// TestFitConditions fits every limiter, probed on auto's schedule, under
// each condition with one of three seeds, and holds the estimate to the
// truth: the rate within 3%, the algorithm named, a burst within 10% or 2
// requests, a cap on requests in flight within one. The 500/s bucket
// (thousands of requests) runs on loopback only, to keep the test quick.
// Under -race one run per condition is fitted (see raceDetector): the
// fixed window of 20, the sliding log and the sliding counter, in turn.
func TestFitConditions(t *testing.T) {
	for ci, cond := range conditions {
		for i, c := range fitCases() {
			if ci > 0 && strings.Contains(c.name, "500/s") || raceDetector && i != 5+ci {
				continue
			}
			seed := uint64(1 + (i+ci)%3)
			if slices.Contains(hardUnder[cond.name], c.name) {
				t.Run(fmt.Sprintf("%s/%s/seed%d/unsure", cond.name, c.name, seed), func(t *testing.T) {
					t.Parallel()
					s, rate := runFit(c, cond, seed)
					if s.Algorithm != c.want.alg && s.Confidence > 0.5 || !within(s.EffectiveLimitRPS, rate, 0.03) && s.Confidence >= 0.8 {
						t.Errorf("got %s %.4g/s at confidence %g, want %s %.4g/s, or a confidence of 0.5 at most for another algorithm, under 0.8 for another rate\n%s",
							s.Algorithm, s.EffectiveLimitRPS, s.Confidence, c.want.alg, rate, reasonsText(s))
					}
				})
				continue
			}
			t.Run(fmt.Sprintf("%s/%s/seed%d", cond.name, c.name, seed), func(t *testing.T) {
				t.Parallel()
				checkFit(t, c, cond, seed)
			})
		}
	}
}

// checkFit simulates c under cond with seed and holds the estimate to the
// truth: the rate within 3%, the algorithm named, a burst within 10% or 2
// requests, a cap on requests in flight within one and the client's
// in-flight count that fills it within 10%, read with a confidence of 0.5
// or more (behind jitter a right cap's fit gets hundreds of outcomes wrong,
// as the cap itself would through that noise: TGI's claimed 0.05).
func checkFit(t *testing.T, c fitCase, cond condition, seed uint64) {
	t.Helper()
	s, rate := runFit(c, cond, seed)
	if !within(s.EffectiveLimitRPS, rate, 0.03) || s.Algorithm != c.want.alg {
		t.Errorf("got %s %.4g/s, want %s %.4g/s ±3%%; reasons:\n%s", s.Algorithm, s.EffectiveLimitRPS, c.want.alg, rate, reasonsText(s))
	}
	if c.want.inFlight > 0 && abs(s.MaxInFlight-c.want.inFlight) > 1 {
		t.Errorf("got %d in flight, want %d ±1", s.MaxInFlight, c.want.inFlight)
	}
	if c.want.inFlight > 0 {
		// The client holds each request for the service time plus the
		// round trip.
		f, _ := c.under(cond, seed)
		svc := meanOf(f, seed)
		want := float64(c.want.inFlight) * (svc + 2*(cond.netS+cond.jitterS/2)) / svc
		if got := float64(s.ClientInFlight); math.Abs(got-want) > max(1.5, 0.1*want) {
			t.Errorf("got %d in flight from the client, want %.1f ±10%%", s.ClientInFlight, want)
		}
		if s.Confidence < 0.5 {
			t.Errorf("got confidence %g, want 0.5 or more for a cap read right; reasons:\n%s", s.Confidence, reasonsText(s))
		}
	}
	if c.want.burst > 0 && abs(s.Burst-c.want.burst) > max(2, c.want.burst/10) {
		t.Errorf("got burst %d, want %d", s.Burst, c.want.burst)
	}
	// Half a request is told from the timing only where it blurs a count
	// by far less (see fitFamily).
	if m := s.Model; c.want.round && cond.jitterS < 0.01 && (m == nil || !m.Round || m.Limit != c.want.burst || !within(m.WindowS, c.want.windowS, 0.01)) {
		t.Errorf("got model %+v, want a sliding counter of %d per %g s that rounds", m, c.want.burst, c.want.windowS)
	}
}

func reasonsText(s Summary) string {
	var out string
	for _, r := range s.Reasons {
		out += "  • " + r + "\n"
	}
	return out
}

// TestPoissonBehindJitter: behind 50±20 ms each way a bucket of one at
// 50/s leaves its replay blurred (a 20 ms slot inside 40 ms of jitter),
// while the goodput of Poisson arrivals, which no jitter changes, still
// gives its rate: the estimate must take it, for every seed. Of seeds 1–60,
// seed 16 fitted a sliding counter of 2 per 71 ms (28/s), blurred too
// little to be set aside, as CI's toxiproxy once read a sliding log of 2
// per 59.6 ms: a fit that small must agree with the goodput's band.
func TestPoissonBehindJitter(t *testing.T) {
	c := fitCaseNamed("token-bucket 50/s burst 1")
	cond := conditionNamed("50±20 ms away")
	for _, seed := range []uint64{1, 2, 3, 16} {
		s, rate := runFit(c, cond, seed)
		if s.Algorithm != AlgorithmTokenBucket || !within(s.EffectiveLimitRPS, rate, 0.05) || s.Burst != 1 {
			t.Errorf("seed %d: got %s %.4g/s burst %d, want token-bucket %.4g/s ±5%% burst 1; reasons:\n%s", seed, s.Algorithm, s.EffectiveLimitRPS, s.Burst, rate, reasonsText(s))
		}
	}
}

// TestBucketOfOneBehindJitter: buckets of one at 5/s and 20/s behind
// 50±20 ms each way, probed as auto probed the first live (a burst from
// idle, polls until it accepts, a step at the onset, Poisson saturation at
// four and two times the rate, a step above it). The 5/s bucket's 200 ms
// slot is five times the jitter, so the replay gives its rate: with its
// levels floored at zero (see levels) it read 4.72–5.06/s over seeds
// 1–12, mean 4.91, and 4.71–5.01/s live. The 20/s bucket's 50 ms slot is
// not, and its replay read 18.5–18.9/s at 0.13 (see fitted): its rate is
// the goodput's. Every seed within ±3%.
func TestBucketOfOneBehindJitter(t *testing.T) {
	cond := conditionNamed("50±20 ms away")
	for _, r := range []float64{5, 20} {
		c := fitCase{fmt.Sprintf("token-bucket %g/s burst 1", r), func() limiter.Limiter {
			return limiter.New(limiter.Config{Kind: limiter.TokenBucket, Rate: r, Burst: 1})
		}, truth{rate: r, burst: 1, alg: AlgorithmTokenBucket}, []simStep{
			{rate: 10 * r, dur: 0.25, phase: "burst"}, {rate: 2, dur: 0.5, idle: 0.01, phase: "recover", untilOK: true}, {rate: r, dur: 2.4},
			{rate: 4 * r, dur: 10, poisson: true, phase: "saturate"}, {rate: 2 * r, dur: 10, poisson: true, phase: "saturate"},
			{rate: 4 * r, dur: 10, poisson: true, phase: "saturate"}, {rate: 1.4 * r, dur: 12}}, nil}
		for seed := uint64(1); seed <= 4; seed++ {
			s, rate := runFit(c, cond, seed)
			if s.Algorithm != AlgorithmTokenBucket || !within(s.EffectiveLimitRPS, rate, 0.03) || s.Burst != 1 {
				t.Errorf("%g/s, seed %d: got %s %.4g/s burst %d, want token-bucket %.4g/s ±3%% burst 1; reasons:\n%s", r, seed, s.Algorithm, s.EffectiveLimitRPS, s.Burst, rate, reasonsText(s))
			}
		}
	}
}

// TestBucketBehindJitterClaimsWhatItKnows: behind 50±20 ms a bucket's
// replay gets outcomes wrong however right it is (requests near its edge
// land on the other side), and confidence took those as the fit's fault:
// buckets of 13 at 37/s and of 8 at 25/s read within 1.7% claimed
// 0.18–0.45 (a live run of the first 0.19). What the bucket itself gets
// wrong through the run's noise is not held against it. Auto's schedule
// as a live run took it: burst, polls, ramp, two seconds of saturation.
func TestBucketBehindJitterClaimsWhatItKnows(t *testing.T) {
	cond := conditionNamed("50±20 ms away")
	for _, k := range []struct {
		rate  float64
		burst int
	}{{37, 13}, {25, 8}} {
		r, b := k.rate, k.burst
		c := fitCase{fmt.Sprintf("token-bucket %g/s burst %d", r, b), func() limiter.Limiter {
			return limiter.New(limiter.Config{Kind: limiter.TokenBucket, Rate: r, Burst: b})
		}, truth{rate: r, burst: b, alg: AlgorithmTokenBucket}, []simStep{
			{rate: 10 * r, dur: 0.13, phase: "burst"}, {rate: 2, dur: 0.5, idle: 0.01, phase: "recover", untilOK: true},
			{rate: 5, dur: 2.4, idle: 0.3}, {rate: 10, dur: 1.2, idle: 0.3}, {rate: 20, dur: 1, idle: 0.3}, {rate: 40, dur: 1, idle: 0.3}, {rate: 80, dur: 1, idle: 0.3},
			{rate: 1.33 * r, dur: 2, phase: "saturate", idle: 0.3}}, nil}
		for seed := uint64(1); seed <= 4; seed++ {
			s, rate := runFit(c, cond, seed)
			t.Logf("%s, seed %d: %s %.4g/s burst %d at %.2f", c.name, seed, s.Algorithm, s.EffectiveLimitRPS, s.Burst, s.Confidence)
			if s.Algorithm != AlgorithmTokenBucket || !within(s.EffectiveLimitRPS, rate, 0.03) || abs(s.Burst-b) > 2 || s.Confidence < 0.6 {
				t.Errorf("%s, seed %d: got %s %.4g/s burst %d at %.2f, want token-bucket %.4g/s ±3%% burst %d±2 at 0.6 or more; reasons:\n%s",
					c.name, seed, s.Algorithm, s.EffectiveLimitRPS, s.Burst, s.Confidence, rate, b, reasonsText(s))
			}
		}
	}
}

// TestBlurredThroughKeepsGoodput: behind 50±20 ms the noise covers all of
// a bucket of 3 at 200/s, and on two seeds of six its replay fitted best
// as a lockout of 9–11 per 17–19 ms (542/s; a live run 568/s), beside
// saturations at 823/s and 1090/s whose goodput held 204/s. Such a fit
// gives way to the steps' goodput. The schedule is what auto sent live.
func TestBlurredThroughKeepsGoodput(t *testing.T) {
	cond := conditionNamed("50±20 ms away")
	c := fitCase{"token-bucket 200/s burst 3", func() limiter.Limiter {
		return limiter.New(limiter.Config{Kind: limiter.TokenBucket, Rate: 200, Burst: 3})
	}, truth{rate: 200, burst: 3, alg: AlgorithmTokenBucket}, []simStep{
		{rate: 2000, dur: 0.085, phase: "burst"}, {rate: 2, dur: 0.5, idle: 0.01, phase: "recover", untilOK: true},
		{rate: 5, dur: 2.4, idle: 0.3}, {rate: 10, dur: 1.2, idle: 0.3}, {rate: 20, dur: 1, idle: 0.3}, {rate: 40, dur: 1, idle: 0.3}, {rate: 80, dur: 1, idle: 0.3}, {rate: 160, dur: 1, idle: 0.3},
		{rate: 2000, dur: 0.088, phase: "burst", idle: 1}, {workers: 26, dur: 2, idle: 0.3},
		{rate: 1090, dur: 2, phase: "saturate", idle: 0.3}, {rate: 823, dur: 2, phase: "saturate", idle: 0.3}}, nil}
	for seed := uint64(1); seed <= 6; seed++ {
		s, rate := runFit(c, cond, seed)
		if s.Algorithm != AlgorithmTokenBucket || !within(s.EffectiveLimitRPS, rate, 0.03) {
			t.Errorf("seed %d: got %s %.4g/s at %.2f, want token-bucket %.4g/s ±3%%; reasons:\n%s", seed, s.Algorithm, s.EffectiveLimitRPS, s.Confidence, rate, reasonsText(s))
		}
	}
}

// TestFitBurstSplit: a sliding counter's boundary inside auto's burst from
// idle splits it, and what passed before it still weighs after. On a
// loopback, after ramps at round rates and a saturation at 13.2/s, a
// counter of 50 per 5 s whose boundary fell 0.41 s into a 100/s burst read
// 56 per 5.6 s on the mock: window and phase predict every outcome only on
// a needle that the coarse grid missed (see searchSplit). Each condition,
// boundaries 0.03–0.47 s in, seeds in turn. Behind 50±20 ms the rate and
// the name must be right, and the burst and window too unless the estimate
// claims less than 0.8: over three seeds of each boundary there 3 of 21
// read a long window (82 per 8.26 s at 0.64) where the code before read 14
// of 21 wrong, some as a lockout at 50/s; on the other two conditions it
// failed 12 of 18 (boundaries 0.1, 0.3, 0.45 s in). Under -race one.
func TestFitBurstSplit(t *testing.T) {
	for ci, cond := range conditions {
		blurred := cond.netS >= 0.01
		for i, into := range []float64{0.03, 0.11, 0.19, 0.27, 0.35, 0.41, 0.47} {
			if raceDetector && i+ci != 0 {
				continue
			}
			seed := uint64(1 + (i+ci)%3)
			t.Run(fmt.Sprintf("%s/boundary %g s into the burst/seed%d", cond.name, into, seed), func(t *testing.T) {
				t.Parallel()
				reqs := &evidence.Requests{}
				sr := simRun{lim: limiter.New(limiter.Config{Kind: limiter.SlidingCounter, Limit: 50, Window: simDur(5)}), clock0: 1005 - into,
					steps: []simStep{
						{rate: 100, dur: 0.51, phase: "burst"}, {rate: 2, dur: 0.5, idle: 0.01, phase: "recover", untilOK: true},
						{rate: 5, dur: 2.4}, {rate: 10, dur: 1.2}, {rate: 20, dur: 1}, {rate: 100, dur: 2}, {rate: 13.2, dur: 14, phase: "saturate"}},
					seed: seed, netS: cond.netS, jitterS: cond.jitterS, service: cond.service, record: reqs}
				steps, tl := simulate(sr)
				s := Estimate(Input{Steps: steps, Timeline: tl, Threshold: 0.01, MaxOfferedRPS: 400, Requests: reqs})
				t.Logf("%s %.4g/s, burst %d, window %.4g s, confidence %.2f", s.Algorithm, s.EffectiveLimitRPS, s.Burst, s.WindowS, s.Confidence)
				shape := abs(s.Burst-50) <= 5 && within(s.WindowS, 5, 0.05)
				if blurred && s.Confidence < 0.8 {
					shape = true
				}
				if s.Algorithm != AlgorithmSlidingWindow || !within(s.EffectiveLimitRPS, 10, 0.03) || !shape {
					t.Errorf("got %s %.4g/s, burst %d, window %.4g s at %.2f; want a sliding window of 50 per 5 s (10/s ±3%%, burst ±5, window ±5%%; behind jitter, either or a confidence under 0.8)\n%s",
						s.Algorithm, s.EffectiveLimitRPS, s.Burst, s.WindowS, s.Confidence, reasonsText(s))
				}
			})
		}
	}
}

// TestFitStalls: a loopback where 3% of requests reach the limiter up to
// 50 ms late (a collection, another program on the core: what a loaded
// machine does). nginx's queue of 20 at 10/s then met a cap of 20 in
// flight that admits as it does and, on the late arrivals, a few outcomes
// better than the queue's bucket: the cap was read at 10.9/s with
// confidence up to 0.96 (two seeds of three; the bench met it on loopback
// twice). The waits, which the queue predicts and a cap does not, must
// decide; a real cap must stay a cap. Under -race the queue's first seed.
func TestFitStalls(t *testing.T) {
	stalls := condition{"loopback with stalls", 0.0001, 0.0005, 0.03, 0.05, nil}
	cases := []fitCase{
		{"queue 10/s with 20 waiting", func() limiter.Limiter { return limiter.New(limiter.Config{Kind: limiter.Queue, Rate: 10, Burst: 20}) },
			truth{rate: 10, burst: -1, alg: AlgorithmQueue}, autoLike(100, 40, 14, 18), nil},
		fitCaseNamed("concurrency 32 @ 200ms"),
	}
	for i, c := range cases {
		for seed := uint64(1); seed <= 3; seed++ {
			if raceDetector && (i > 0 || seed > 1) {
				continue
			}
			t.Run(fmt.Sprintf("%s/seed%d", c.name, seed), func(t *testing.T) {
				t.Parallel()
				checkFit(t, c, stalls, seed)
			})
		}
	}
}

// TestFitManyAdmitted: a bucket of 2000/s (burst 2000) behind 50±20 ms,
// probed on auto's schedule up to 2560/s and saturated at 2580/s for 9 s:
// over 20,000 admitted, more than a fit replays, so the refusals were
// thinned, all of them into one standing for thousands, and the fits then
// scored the admissions alone. Live behind toxiproxy a fixed window of
// 11,599 per 6.93 s read 1670/s at confidence 1.00 that way (59,246
// requests, 9,526 refused). Seeds in turn; the race-free pass only (the
// replays of some 30,000 requests are too slow under -race).
func TestFitManyAdmitted(t *testing.T) {
	if raceDetector {
		return // in the race-free pass (Makefile's WHOLE)
	}
	away := conditionNamed("50±20 ms away")
	c := fitCase{"token-bucket 2000/s burst 2000", func() limiter.Limiter {
		return limiter.New(limiter.Config{Kind: limiter.TokenBucket, Rate: 2000, Burst: 2000})
	}, truth{rate: 2000, burst: 2000, alg: AlgorithmTokenBucket}, autoLike(4000, 2560, 2580, 9), nil}
	for seed := uint64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			t.Parallel()
			checkFit(t, c, away, seed)
		})
	}
}

// TestFitEarlyRelease fits a cap of 8 at 200 ms on loopback whose server
// frees each slot a millisecond before the response leaves it (Go's
// server flushes after the handler returns), saturated by Poisson
// arrivals. Without trying the departures earlier the cap read 39.6/s, 8
// over the client's 202 ms, with its band short of the truth, and its fit
// got 6–9 outcomes wrong where a sliding log of 8 per 200 ms got 1–4; the
// mock under -race in CI freed its slots so that the log won (the
// recorded run in TestRecordedRuns).
func TestFitEarlyRelease(t *testing.T) {
	if raceDetector {
		return // in the race-free pass (Makefile's WHOLE); TestRecordedRuns races the code
	}
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			t.Parallel()
			reqs := &evidence.Requests{}
			steps, tl := simulate(simRun{lim: simInFlight(8), service: fixedLatency(0.2), afterS: 0.001, poisson: true, netS: 0.0001, jitterS: 0.0001,
				steps: autoLike(400, 40, 55, 6), seed: seed, record: reqs})
			s := Estimate(Input{Steps: steps, Timeline: tl, Threshold: 0.01, MaxOfferedRPS: 400, Requests: reqs})
			rate := 8 / 0.201 // the mean hold: fixedLatency spreads 1%
			if s.Algorithm != AlgorithmConcurrency || s.MaxInFlight != 8 || !within(s.EffectiveLimitRPS, rate, 0.01) {
				t.Errorf("got %s of %d at %.4g/s, want a cap of 8 at %.4g/s ±1%%; reasons:\n%s", s.Algorithm, s.MaxInFlight, s.EffectiveLimitRPS, rate, reasonsText(s))
			}
			// The band is reported to three figures.
			if b, r := s.EffectiveLimitBand, units.Sig(rate, 3); b.Low > r || b.High < r {
				t.Errorf("band %g–%g/s, want it to hold %g/s; reasons:\n%s", b.Low, b.High, r, reasonsText(s))
			}
		})
	}
}

// TestWholeCountIsSure: a sliding counter of 50 per 5 s counted from first
// use, probed as auto would behind 50±20 ms each way. Its burst from idle
// fills a first window, whose level is a whole count with no window before
// in it; scored against an edge at the capacity itself, each refusal at
// the full count was a coin toss, and the fit read 49 per 4.93–4.94 s
// (−0.6 to −0.8%), the band in seed 1 leaving 10/s out.
func TestWholeCountIsSure(t *testing.T) {
	exactBehindJitter(t, "sliding-counter 50 per 5s from first use")
}

// TestPacedLogSpan: a sliding log of 15 per 1 s saturated at 19.9/s, evenly
// paced. Every window from 955 ms to 1,005 ms admits those requests alike;
// the fit took the first the search met, 955 ms (15.7/s, +4.7%), and its
// band, 15.1–15.8/s, left the truth out. Both ends of the span are in the
// band now, and the estimate is its middle.
func TestPacedLogSpan(t *testing.T) {
	c := fitCase{name: "sliding-log 15 per 1s",
		lim: func() limiter.Limiter {
			return limiter.New(limiter.Config{Kind: limiter.SlidingLog, Limit: 15, Window: simDur(1)})
		},
		want:  truth{rate: 15, burst: 15, alg: AlgorithmSlidingWindow, windowS: 1},
		steps: autoLike(150, 20, 19.9, 4)}
	for _, cond := range []string{"loopback", "slow backend"} {
		for seed := uint64(1); seed <= 3; seed++ {
			if raceDetector && seed > 1 {
				break
			}
			s, rate := runFit(c, conditionNamed(cond), seed)
			if s.Algorithm != c.want.alg || s.Burst != c.want.burst || !within(s.EffectiveLimitRPS, rate, 0.03) {
				t.Errorf("%s, seed %d: got %s of %d per %gs, %g/s, want %s of %d, %g/s ±3%%; reasons:\n%s",
					cond, seed, s.Algorithm, s.Burst, s.WindowS, s.EffectiveLimitRPS, c.want.alg, c.want.burst, rate, reasonsText(s))
			}
			if b := s.EffectiveLimitBand; b.Low > rate || b.High < rate {
				t.Errorf("%s, seed %d: band %g–%g/s, want it to hold the truth %g/s", cond, seed, b.Low, b.High, rate)
			}
		}
	}
}

// TestBucketOfOneFastArrivals: buckets of one at 50/s behind 50±20 ms
// each way, probed as auto probes them now: Poisson arrivals at eight
// times the hot step's rate, at about twice the limit, and at the first
// rate again. Their goodput reads the rate whatever the jitter, but the
// jitter thins the arrivals at each step's edges, where a thinner stream
// wastes less of each slot, and a pause before a step leaves a slot
// free: over whole steps r = G·R/(R−G) read +2.3% on average over six
// seeds, over their middles (see poissonCore) −0.2%. A bucket of 2 reads
// a larger r at a slower rate than at the faster ones (live, 80, 60 and
// 56/s at 122, 320 and 487/s): it must not read as a bucket of one at
// their mean (57/s). And when the goodput's reading stands over the
// replay's, its reasons are the goodput's.
func TestBucketOfOneFastArrivals(t *testing.T) {
	cond := conditionNamed("50±20 ms away")
	schedule := []simStep{
		{rate: 500, dur: 0.2, phase: "burst"}, {rate: 2, dur: 0.5, idle: 0.01, phase: "recover", untilOK: true},
		{rate: 5, dur: 2.4}, {rate: 10, dur: 1.2}, {rate: 20, dur: 1}, {rate: 40, dur: 1},
		{rate: 320, dur: 3, poisson: true, phase: "saturate", idle: 0.3}, {rate: 100, dur: 3, poisson: true, phase: "saturate", idle: 0.3},
		{rate: 320, dur: 1, poisson: true, phase: "saturate", idle: 0.3}}
	// Three rates, as when auto's third step runs at a third rate: r at
	// the slowest tells the burst, not at the middle one.
	three := append(slices.Clone(schedule[:6]),
		simStep{rate: 320, dur: 3, poisson: true, phase: "saturate", idle: 0.3}, simStep{rate: 480, dur: 3, poisson: true, phase: "saturate", idle: 0.3},
		simStep{rate: 120, dur: 3, poisson: true, phase: "saturate", idle: 0.3})
	for _, k := range []struct {
		burst    int
		schedule []simStep
		rates    string
	}{{1, schedule, "two rates"}, {2, schedule, "two rates"}, {2, three, "three rates"}} {
		burst := k.burst
		c := fitCase{fmt.Sprintf("token-bucket 50/s burst %d at %s", burst, k.rates), func() limiter.Limiter {
			return limiter.New(limiter.Config{Kind: limiter.TokenBucket, Rate: 50, Burst: burst})
		}, truth{rate: 50, burst: burst, alg: AlgorithmTokenBucket}, k.schedule, nil}
		seeds := uint64(6)
		if burst > 1 {
			seeds = 2
		}
		var errs []float64
		for seed := uint64(1); seed <= seeds; seed++ {
			s, rate := runFit(c, cond, seed)
			errs = append(errs, s.EffectiveLimitRPS/rate-1)
			switch {
			case s.Algorithm != AlgorithmTokenBucket || !within(s.EffectiveLimitRPS, rate, 0.03):
				t.Errorf("%s, seed %d: got %s %.4g/s, want token-bucket %.4g/s ±3%%; reasons:\n%s", c.name, seed, s.Algorithm, s.EffectiveLimitRPS, rate, reasonsText(s))
			case burst == 1 && s.Burst != 1:
				t.Errorf("%s, seed %d: burst %d, want 1", c.name, seed, s.Burst)
			case burst == 1 && !strings.Contains(reasonsText(s), "r = G·R/(R−G) = "):
				t.Errorf("%s, seed %d: the goodput's reading without its reasons:\n%s", c.name, seed, reasonsText(s))
			}
		}
		m, _ := meanSD(errs)
		t.Logf("%s: mean error %+.2f%% over %d seeds", c.name, 100*m, seeds)
		if burst == 1 && math.Abs(m) > 0.006 {
			t.Errorf("%s: mean error %+.2f%% over %d seeds, want within ±0.6%%", c.name, 100*m, seeds)
		}
	}
}

// TestFixedWindowOfItsServiceTime: a fixed window of 8 per 50 ms counted
// from first use, in front of a backend that answers in 50 ms, admits on
// auto's paced steps nearly as a cap of 8 in flight does. Read as the cap
// there (see models.canonical), it claims 0.5 at most, with auto's workers
// too: with every answer 50 ms after its request, they admit alike.
func TestFixedWindowOfItsServiceTime(t *testing.T) {
	cfg := limiter.Config{Kind: limiter.FixedWindow, Limit: 8, Window: simDur(0.05), FirstUse: true}
	loopback := conditions[0]
	paced := autoLike(1000, 320, 210, 3)
	for seed := uint64(1); seed <= 5; seed++ {
		for _, workers := range []bool{false, true} {
			steps := paced
			if workers {
				steps = append(slices.Clone(paced), workersAround(8, 0.05, 2*(loopback.netS+loopback.jitterS/2))...)
			}
			c := fitCase{lim: func() limiter.Limiter { return limiter.New(cfg) }, steps: steps, service: fixedLatency(0.05),
				want: truth{rate: 160, burst: 8, alg: AlgorithmFixedWindow, windowS: 0.05}}
			s, _ := runFit(c, loopback, seed)
			if !within(s.EffectiveLimitRPS, 160, 0.03) || s.Algorithm != AlgorithmFixedWindow && s.Confidence > 0.5 {
				t.Errorf("seed %d, workers %v: got %s %.4g/s at %g, want 160/s ±3%%, named a fixed window or claiming 0.5 at most; reasons:\n%s",
					seed, workers, s.Algorithm, s.EffectiveLimitRPS, s.Confidence, reasonsText(s))
			}
		}
	}
}
