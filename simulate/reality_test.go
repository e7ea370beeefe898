package simulate_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"limitprobe/advise"
	"limitprobe/estimate"
	"limitprobe/limiter"
	"limitprobe/mock"
	"limitprobe/probe"
	"limitprobe/scenarios"
	"limitprobe/simulate"
	"limitprobe/traffic"
)

// realityCase is a limiter served by the mock, and the report a probe of
// it would have written.
type realityCase struct {
	name    string
	spec    string // the mock
	summary estimate.Summary
	// base and peak are the traffic's Poisson rates, requests per second.
	base, peak float64
}

func realityCases() []realityCase {
	return []realityCase{
		{name: "token-bucket", spec: "algorithm=token-bucket,rate=40/s,burst=8", base: 25, peak: 100,
			summary: estimate.Summary{Limited: true, Algorithm: estimate.AlgorithmTokenBucket, EffectiveLimitRPS: 40, Burst: 8,
				Model: &estimate.Model{Kind: limiter.TokenBucket, RateRPS: 40, Burst: 8}}},
		{name: "fixed-window", spec: "algorithm=fixed-window,limit=40,window=1s", base: 25, peak: 100,
			summary: estimate.Summary{Limited: true, Algorithm: estimate.AlgorithmFixedWindow, EffectiveLimitRPS: 40, Burst: 40, WindowS: 1,
				Model: &estimate.Model{Kind: limiter.FixedWindow, Limit: 40, WindowS: 1}}},
		{name: "sliding-window", spec: "algorithm=sliding-log,limit=40,window=1s", base: 25, peak: 100,
			summary: estimate.Summary{Limited: true, Algorithm: estimate.AlgorithmSlidingWindow, EffectiveLimitRPS: 40, Burst: 40, WindowS: 1,
				Model: &estimate.Model{Kind: limiter.SlidingLog, Limit: 40, WindowS: 1}}},
		{name: "in-flight-cap", spec: "algorithm=concurrency,max_in_flight=8,latency=100ms", base: 50, peak: 200,
			summary: estimate.Summary{Limited: true, Algorithm: estimate.AlgorithmConcurrency, EffectiveLimitRPS: 80, MaxInFlight: 8,
				Model: &estimate.Model{Kind: limiter.Concurrency, MaxInFlight: 8}}},
	}
}

// burstyTraffic writes a traffic file of Poisson arrivals from start for
// dur: base a second, and peak for the first quarter of every period (an
// hourly peak, compressed).
func burstyTraffic(seed uint64, start time.Time, dur, period time.Duration, base, peak float64) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	for t := time.Duration(0); ; {
		rate := base
		if t%period < period/4 {
			rate = peak
		}
		t += time.Duration(rng.ExpFloat64() / rate * float64(time.Second))
		if t >= dur {
			return b.String()
		}
		fmt.Fprintln(&b, start.Add(t).UTC().Format(time.RFC3339Nano))
	}
}

// TestPredictionMatchesReality checks the prediction against the mock: the
// traffic file is sent by the engine at its recorded times to a mock with
// the report's parameters, and the refusals must be within ±2% (or ±5
// requests) of the prediction. Then the schedule of the recommended client
// limiter is sent to a fresh mock: the prediction is no refusal, and the
// mock must agree within the same tolerance.
func TestPredictionMatchesReality(t *testing.T) {
	for i, c := range realityCases() {
		// One at a time: the engine's timing is what is under test, and
		// replays side by side on two shared cores (with -race) lose it.
		t.Run(c.name, func(t *testing.T) {
			const dur, period = 8 * time.Second, 4 * time.Second
			// Whole seconds from now, so that windows fall as they will when sent.
			if m := c.summary.Model; m.Kind == limiter.Concurrency {
				// The report's service time is what a probe measures: the
				// mock's latency and the time to answer.
				m.ServiceS = serviceTime(t, c.spec)
				c.summary.EffectiveLimitRPS = float64(m.MaxInFlight) / m.ServiceS
				c.summary.Model = m
			}
			start := time.Now().Truncate(time.Second).Add(2 * time.Second)
			file := burstyTraffic(uint64(i)+1, start, dur, period, c.base, c.peak)
			reqs := readTraffic(t, file)
			rec := advise.Recommend(c.summary, nil, nil, 0)
			r, err := traffic.NewReader(strings.NewReader(file), c.name+".txt")
			if err != nil {
				t.Fatal(err)
			}
			sim, err := simulate.Run(context.Background(), r, c.name+".txt", simulate.Measured{Name: c.name, Summary: c.summary, Recommendation: rec}, simulate.Options{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			end := sim.MeasuredEnd()
			pred, smooth := end.Prediction, end.Smoothed
			if smooth == nil {
				t.Fatal("no client limiter was replayed")
			}
			if pred.Refused < 50 {
				t.Fatalf("predicted %d refusals of %d: the traffic is too gentle to test anything", pred.Refused, pred.Requests)
			}
			if smooth.Refused != 0 {
				t.Errorf("behind the recommended client, predicted %d refusals, want none", smooth.Refused)
			}

			got := replay(t, c.spec, reqs, 0, 0).ThrottledTotal
			t.Logf("%s: %d requests, predicted %d refused, the mock refused %d", c.name, len(reqs), pred.Refused, got)
			if !close(got, pred.Refused) {
				t.Errorf("the mock refused %d, the prediction is %d (want within ±2%% or ±5)", got, pred.Refused)
			}

			// The client's schedule, sent a whole number of seconds later
			// (windows fall the same way) to a fresh mock.
			client := *sim.Client
			sched := simulate.Schedule(reqs, client, simulate.DefaultDeadline, time.Duration(c.summary.Model.ServiceS*float64(time.Second)))
			if int64(len(sched)) != smooth.Sent {
				t.Fatalf("the schedule sends %d, the replay %d", len(sched), smooth.Sent)
			}
			shift := (time.Since(start) + 2*time.Second).Truncate(time.Second) + time.Second
			shifted := make([]traffic.Request, len(sched))
			for i, at := range sched {
				shifted[i] = traffic.Request{At: at, Cost: 1}
			}
			// A cap on requests in flight is a semaphore: the engine's
			// workers hold one each, so a slot frees when a response is
			// back, not when the replay thought it would be.
			left := replay(t, c.spec, shifted, -shift, client.MaxConcurrency).ThrottledTotal
			t.Logf("%s: behind %+v the mock refused %d of %d sent (%d shed)", c.name, client, left, len(sched), smooth.Shed)
			if !close(left, smooth.Refused) {
				t.Errorf("behind the client the mock refused %d, the prediction is %d", left, smooth.Refused)
			}
		})
	}
}

// serviceTime is the median latency, seconds, of requests sent one at a
// time to a mock of spec.
func serviceTime(t *testing.T, spec string) float64 {
	t.Helper()
	var reqs []traffic.Request
	start := time.Now().Add(100 * time.Millisecond)
	for i := range 15 {
		reqs = append(reqs, traffic.Request{At: time.Duration(start.Add(time.Duration(i) * 150 * time.Millisecond).UnixNano()), Cost: 1})
	}
	run := replay(t, spec, reqs, 0, 0)
	return run.Steps[0].LatencyMS.P50 / 1000
}

// close reports whether a count of refusals is within ±2% or ±5 of the
// prediction.
func close(got, want int64) bool {
	return math.Abs(float64(got-want)) <= max(5, 0.02*float64(want))
}

func readTraffic(t *testing.T, file string) []traffic.Request {
	t.Helper()
	r, err := traffic.NewReader(strings.NewReader(file), "traffic")
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := traffic.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

// replay starts a mock of spec and sends it reqs with the engine, each at
// its time less early (early < 0 sends later), at most maxInFlight at once
// (0: no cap).
func replay(t *testing.T, spec string, reqs []traffic.Request, early time.Duration, maxInFlight int) *probe.Run {
	t.Helper()
	cfg, err := mock.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mock.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer func() { srv.Close(); ts.Close() }()
	sc := &scenarios.Scenario{Name: t.Name(), Target: scenarios.Target{URL: ts.URL + "/"}}
	scenarios.ApplyDefaults(sc)
	at := make([]time.Time, len(reqs))
	for i, q := range reqs {
		at[i] = time.Unix(0, int64(q.At-early))
	}
	run, err := probe.Replay(context.Background(), sc, probe.Schedule{At: at, MaxInFlight: maxInFlight}, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if run.ErrorsTotal > 0 || run.RequestsSent != int64(len(reqs)) {
		t.Fatalf("sent %d of %d, %d errors", run.RequestsSent, len(reqs), run.ErrorsTotal)
	}
	return run
}
