package report

import (
	"math"
	"time"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/headers"
	"limitprobe/probe"
	"limitprobe/scenarios"
)

// The fixtures are runs simulated from limiters with known parameters, so
// that steps, timeline and summary agree with one another.

var fixtureStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// simStep is one planned step of a simulated open-loop run.
type simStep struct {
	rate float64 // offered, requests per second
	conc int     // workers, for concurrency steps
}

// simulate runs steps of stepS seconds with cooldownS between them through
// admit, which returns how many of n requests sent at time t (seconds) are
// accepted. Latencies are latMS for successes. It fills steps and a
// timeline of resolution res.
func simulate(plan []simStep, stepS, cooldownS, res float64, phase string, latMS func(rate float64) float64,
	admit func(t float64, n int64) int64, errorsAt map[int]int64, retryAfterS float64) ([]evidence.Step, evidence.Timeline) {
	var steps []evidence.Step
	tl := evidence.Timeline{ResolutionS: res}
	per := int(math.Round(stepS / res))
	gap := int(math.Round(cooldownS / res))
	t := 0.0
	for i, sp := range plan {
		st := evidence.Step{Index: i, Phase: phase, OfferedRPS: sp.rate, Concurrency: sp.conc, StartS: t, DurationS: stepS, FirstThrottleS: -1}
		lat := latMS(sp.rate)
		acc := 0.0
		maxIn := 0.0
		var okSince int64
		for k := 0; k < per; k++ {
			acc += sp.rate * res
			n := int64(acc)
			acc -= float64(n)
			ok := admit(t, n)
			thr := n - ok
			b := evidence.Bucket{Sent: n, OK: ok, Throttled: thr}
			if ok > 0 {
				b.LatencyMSP50 = lat + float64(k%3)*0.1
			}
			b.InFlight = math.Round(float64(ok)/res*lat/1000*100) / 100
			if sp.conc > 0 {
				b.InFlight = math.Min(float64(sp.conc), 8)
			}
			maxIn = math.Max(maxIn, b.InFlight)
			tl.Buckets = append(tl.Buckets, b)
			st.Requests += n
			st.OK += ok
			st.Throttled += thr
			if thr > 0 && st.FirstThrottleS < 0 {
				st.FirstThrottleS = float64(k) * res
				st.OKBeforeThrottle = st.OK - ok
			}
			if st.FirstThrottleS >= 0 {
				okSince += ok
			}
			t += res
		}
		if e := errorsAt[i]; e > 0 {
			st.Errors = e
			st.OK -= e
			st.Requests += 0
			st.ErrorKinds = map[string]int64{"timeout": e}
		}
		st.GoodputRPS = float64(st.OK) / stepS
		if st.Requests > 0 {
			st.ThrottledRatio = float64(st.Throttled) / float64(st.Requests)
		}
		if st.FirstThrottleS >= 0 {
			st.SteadyRPS = math.Round(float64(okSince)/(stepS-st.FirstThrottleS)*10) / 10
			st.RetryAfterS = retryAfterS
			st.ThrottleMS = evidence.Latency{P50: 0.4, P95: 0.9, P99: 1.3, Max: 4.1}
		}
		st.LatencyMS = evidence.Latency{P50: lat, P95: lat * 1.8, P99: lat * 2.6, Max: lat * 4}
		st.MaxInFlight = int(math.Ceil(maxIn)) + 1
		st.MeanInFlight = math.Round(st.GoodputRPS*lat/1000*100) / 100
		steps = append(steps, st)
		for k := 0; k < gap && i < len(plan)-1; k++ {
			admit(t, 0)
			tl.Buckets = append(tl.Buckets, evidence.Bucket{})
			t += res
		}
	}
	return steps, tl
}

// tokenBucket returns an admit function for a bucket of rate r and size b,
// full at time 0. The n requests of a slice starting at t are spread evenly
// over the 0.25 s slice.
func tokenBucket(r, b float64) func(t float64, n int64) int64 {
	tokens, last := b, 0.0
	return func(t float64, n int64) int64 {
		var ok int64
		for j := int64(0); j <= n; j++ {
			at := t + (float64(j)+0.5)/float64(n+1)*0.25
			tokens = math.Min(b, tokens+(at-last)*r)
			last = at
			if j < n && tokens >= 1 {
				tokens--
				ok++
			}
		}
		return ok
	}
}

func totals(run *probe.Run) {
	for _, s := range run.Steps {
		run.RequestsSent += s.Requests
		run.ThrottledTotal += s.Throttled
		run.ErrorsTotal += s.Errors
	}
	if run.ErrorsTotal > 0 {
		run.ErrorCauses = []evidence.ErrorCause{{Cause: "timeout", Count: run.ErrorsTotal,
			Example: `Get "http://127.0.0.1:8080/api": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`}}
	}
	last := run.Steps[len(run.Steps)-1]
	run.DurationS = last.StartS + last.DurationS
}

// tokenBucketRun is a ramp of six steps against a token bucket of 50/s
// with a burst of 10 that advertises IETF headers and Retry-After.
func tokenBucketRun() probe.Run {
	plan := []simStep{{rate: 10}, {rate: 20}, {rate: 40}, {rate: 60}, {rate: 80}, {rate: 100}}
	steps, tl := simulate(plan, 3, 1, 0.25, evidence.PhaseRamp,
		func(r float64) float64 { return 3.5 + r/100 }, tokenBucket(50, 10), map[int]int64{5: 2}, 1)
	run := probe.Run{
		Scenario: probe.ScenarioRef{Name: "mock-token-bucket", Target: probe.TargetRef{URL: "http://127.0.0.1:8080/", Method: "GET"},
			Strategy: "auto", Threshold: 0.01, DemandRPS: 40},
		StartedAt:  fixtureStart,
		StopReason: "reached probe.max (100/s)",
		Advertised: &headers.Advertised{Limit: 50, WindowS: 1, Remaining: ptr(0.0), ResetS: 1, RetryAfterS: 1, Source: headers.SourceIETF},
		Steps:      steps,
		Timeline:   tl,
		Summary: estimate.Summary{
			Limited: true, EffectiveLimitRPS: 50.2, EffectiveLimitBand: estimate.Band{Low: 48.9, High: 51.5}, OnsetRPS: 60, Burst: 10,
			Algorithm: "token-bucket", Confidence: 0.86,
			Reasons: []string{
				"Goodput stayed at 49.6–50.7/s in the three saturated steps (60, 80 and 100/s offered): a steady rate, not a quota.",
				"After each idle cooldown about 10 more requests passed before the first 429: a burst allowance.",
				"The advertised policy (50 per 1 s) lies inside the measured band.",
			},
		},
	}
	totals(&run)
	return run
}

// concurrencyRun sweeps concurrency against a cap of 8 in flight with
// 200 ms requests, like text-generation-inference's max_concurrent_requests.
func concurrencyRun() probe.Run {
	plan := []simStep{{rate: 5, conc: 1}, {rate: 10, conc: 2}, {rate: 20, conc: 4}, {rate: 40, conc: 8}, {rate: 120, conc: 16}, {rate: 280, conc: 32}}
	admit := func(t float64, n int64) int64 { return min(n, 10) } // 8 slots ÷ 0.2 s = 40/s = 10 per 250 ms
	steps, tl := simulate(plan, 3, 2, 0.25, evidence.PhaseConcurrency,
		func(float64) float64 { return 200 }, admit, nil, 0)
	run := probe.Run{
		Scenario: probe.ScenarioRef{Name: "mock-hf-endpoint", Target: probe.TargetRef{URL: "http://127.0.0.1:8081/generate", Method: "POST"},
			Strategy: "concurrency", Threshold: 0.01, DemandRPS: 4},
		StartedAt:  fixtureStart,
		StopReason: "reached probe.max (32 workers)",
		Steps:      steps,
		Timeline:   tl,
		Summary: estimate.Summary{
			Limited: true, EffectiveLimitRPS: 40, EffectiveLimitBand: estimate.Band{Low: 38.7, High: 40.3}, OnsetRPS: 120, MaxInFlight: 8,
			Algorithm: "concurrency", Confidence: 0.92,
			Reasons: []string{
				"Throttling began when more than 8 requests were in flight, whatever the rate: a cap on concurrency.",
				"Throttled responses came back in under 2 ms, successes in 200 ms: rejected at once, not queued.",
			},
		},
	}
	totals(&run)
	return run
}

// noneObservedRun never saw throttling up to 40/s.
func noneObservedRun() probe.Run {
	plan := []simStep{{rate: 10}, {rate: 20}, {rate: 40}}
	steps, tl := simulate(plan, 2, 1, 0.5, evidence.PhaseRamp,
		func(r float64) float64 { return 12 }, func(_ float64, n int64) int64 { return n }, nil, 0)
	run := probe.Run{
		Scenario: probe.ScenarioRef{Name: "quota-api", Target: probe.TargetRef{URL: "https://api.example.com/v1/items", Method: "GET"},
			Strategy: "steps", Threshold: 0.01},
		StartedAt:  fixtureStart,
		StopReason: "reached probe.max (40/s)",
		Steps:      steps,
		Timeline:   tl,
		Summary: estimate.Summary{
			EffectiveLimitRPS: 40, Algorithm: "none-observed", LowerBoundOnly: true, Confidence: 0,
			Reasons: []string{"No step was throttled, up to 40/s offered: the limit, if any, is higher."},
		},
	}
	totals(&run)
	return run
}

// quotaRun read an hourly quota over a per-second bucket from IETF
// headers and checked it with 25 paced requests, spending none of it.
func quotaRun() probe.Run {
	var readings []evidence.Reading
	var steps []evidence.Step
	tl := evidence.Timeline{ResolutionS: 0.25}
	for i := range 25 {
		tl.Buckets = append(tl.Buckets, evidence.Bucket{Sent: 1, OK: 1, LatencyMSP50: 50, InFlight: 0.2})
		sent := float64(i) * 0.25
		readings = append(readings, evidence.Reading{SentS: sent, AtS: sent + 0.05, Status: 200, Policies: []headers.Policy{
			{Name: "second", Limit: 20, WindowS: 1, Remaining: ptr(19.0), ResetS: 1, Unit: "requests"},
			{Name: "hour", Limit: 2000, WindowS: 3600, Remaining: ptr(1999 - float64(i)), ResetS: 1200 - sent, Unit: "requests"},
		}})
	}
	steps = append(steps,
		evidence.Step{Index: 0, Phase: evidence.PhaseHeaders, OfferedRPS: 4, DurationS: 1.25, Requests: 5, OK: 5, GoodputRPS: 4, FirstThrottleS: -1, LatencyMS: evidence.Latency{P50: 50, P95: 60, P99: 60, Max: 61}},
		evidence.Step{Index: 1, Phase: evidence.PhaseCheck, OfferedRPS: 4, StartS: 1.25, DurationS: 5, Requests: 20, OK: 20, GoodputRPS: 4, FirstThrottleS: -1, LatencyMS: evidence.Latency{P50: 50, P95: 60, P99: 60, Max: 62}})
	q := &evidence.Quota{Trigger: "the target advertises 2000 requests per window of 60 min, longer than the probe's horizon of 60 s: read and checked, not ramped through",
		StartUnixS: float64(fixtureStart.Unix()), HorizonS: 60, Share: 0.1, Budget: 200, Readings: readings,
		Notes: []string{"the quota was checked, not spent: strategy quota with limits.max_quota_share 100% measures it outright"}}
	adv := &headers.Advertised{Limit: 2000, WindowS: 3600, Remaining: ptr(1975.0), ResetS: 1194, Source: headers.SourceIETF, Policies: readings[24].Policies}
	run := probe.Run{
		Scenario:   probe.ScenarioRef{Name: "gateway", Target: probe.TargetRef{URL: "https://api.example.com/v1/items", Method: "GET"}, Strategy: "auto", Threshold: 0.01, DemandRPS: 1},
		StartedAt:  fixtureStart,
		StopReason: "finished the plan at 4/s",
		Advertised: adv,
		Steps:      steps,
		Timeline:   tl,
		Quota:      q,
		Summary:    estimate.Estimate(estimate.Input{Steps: steps, Advertised: adv, Threshold: 0.01, Quota: q}),
	}
	totals(&run)
	return run
}

// fixtureOptions are the options the golden files are made with.
func fixtureOptions() Options {
	return Options{ToolVersion: "0.1.0-test", Expect: scenarios.Expect{
		MinEffectiveLimit: 40, MinBurst: 5, MaxErrors: 0.01, Algorithm: "token-bucket", MeetsDemand: true,
	}}
}

type fixture struct {
	name string
	rep  *Report
}

func fixtures() []fixture {
	return []fixture{
		{"tokenbucket", New(tokenBucketRun(), fixtureOptions())},
		{"concurrency", New(concurrencyRun(), Options{ToolVersion: "0.1.0-test", Expect: scenarios.Expect{
			MinEffectiveLimit: 50, Algorithm: "concurrency", MeetsDemand: true, MaxErrors: 0.05,
		}})},
		{"noneobserved", New(noneObservedRun(), Options{ToolVersion: "0.1.0-test", DemandRPS: 25, PriceAmount: 0.6, PricePer: time.Hour,
			Expect: scenarios.Expect{MinEffectiveLimit: 30, MinOnset: 30}})},
		{"quota", New(quotaRun(), Options{ToolVersion: "0.1.0-test"})},
	}
}
