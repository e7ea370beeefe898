package verify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"limitprobe/probe"
)

// serve returns a Prepare that points every policy at h.
func serve(t *testing.T, h http.HandlerFunc, throttle ...int) func(context.Context, int, Policy) (Target, func(), error) {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return func(context.Context, int, Policy) (Target, func(), error) {
		return Target{URL: ts.URL + "/", ThrottleStatus: throttle}, nil, nil
	}
}

func TestRunCountsRetriesAndThrottleStatus(t *testing.T) {
	var hits atomic.Int64
	h := func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}
	retry := Policy{Name: "retry", MaxRetries: 5}
	d := Demand{RPS: 10, Duration: 500 * time.Millisecond, Deadline: time.Second}
	v, err := Run(context.Background(), Config{Demand: d, Policies: []Policy{retry}, Prepare: serve(t, h, 503), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := v.Policies[0]
	if p.Requests != 5 || p.Succeeded != 5 || p.Throttled != 3 || p.Attempts != 8 || p.RetriesPerRequest != 0.6 {
		t.Errorf("got %d requests, %d succeeded, %d throttled, %d attempts, %v retries/request; want 5, 5, 3, 8, 0.6",
			p.Requests, p.Succeeded, p.Throttled, p.Attempts, p.RetriesPerRequest)
	}
	if v.Verdict.Judged {
		t.Errorf("judged without a recommended policy: %+v", v.Verdict)
	}

	// Without 503 among the throttle statuses it is an error, never retried.
	hits.Store(0)
	v, err = Run(context.Background(), Config{Demand: d, Policies: []Policy{retry}, Prepare: serve(t, h), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p := v.Policies[0]; p.Errors != 3 || p.Throttled != 0 || p.Attempts != 5 {
		t.Errorf("503 not declared: got %d errors, %d throttled, %d attempts; want 3, 0, 5", p.Errors, p.Throttled, p.Attempts)
	}
}

func TestRunHonoursRetryAfter(t *testing.T) {
	var hits atomic.Int64
	h := func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}
	honour := Policy{Name: "honour", MaxRetries: 3, Base: 10 * time.Millisecond, HonorRetryAfter: true}
	d := Demand{RPS: 1, Duration: 500 * time.Millisecond, Deadline: 3 * time.Second} // one request
	v, err := Run(context.Background(), Config{Demand: d, Policies: []Policy{honour}, Prepare: serve(t, h), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := v.Policies[0]
	if p.Requests != 1 || p.Succeeded != 1 || p.Throttled != 1 {
		t.Fatalf("got %+v", p)
	}
	if p.AddedLatencyMS.P50 < 990 || p.AddedLatencyMS.P50 > 1500 {
		t.Errorf("added latency %v ms, want the 1 s Retry-After", p.AddedLatencyMS.P50)
	}
}

func TestRecommendedShedsWhatItCannotSendInTime(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) {}
	paced := Policy{Name: Recommended, RateRPS: 10, Burst: 1, MaxRetries: 3, MinTimeLeft: 20 * time.Millisecond}
	d := Demand{RPS: 40, Duration: time.Second, Deadline: 300 * time.Millisecond}
	v, err := Run(context.Background(), Config{Demand: d, Policies: []Policy{paced}, Prepare: serve(t, h), Seed: 1, SustainableRPS: 10})
	if err != nil {
		t.Fatal(err)
	}
	p := v.Policies[0]
	// 10/s for 1 s plus a 300 ms queue: about 13 of 40 go, the rest is shed.
	if p.Shed < 20 || p.Succeeded < 8 || p.Succeeded > 16 || p.Succeeded+p.Shed != p.Requests || p.SentSuccessRatio != 1 {
		t.Errorf("got %d requests: %d succeeded, %d shed, %.3f of sent succeeded; want about 13 sent, all succeeding, the rest shed",
			p.Requests, p.Succeeded, p.Shed, p.SentSuccessRatio)
	}
	if p.AddedLatencyMS.Max > 300 {
		t.Errorf("a request waited %v ms in the queue, longer than its 300 ms deadline", p.AddedLatencyMS.Max)
	}

	// With half the deadline for the queue, fewer wait and none waits long.
	paced.QueueShare = 0.5
	v, err = Run(context.Background(), Config{Demand: d, Policies: []Policy{paced}, Prepare: serve(t, h), Seed: 1, SustainableRPS: 10})
	if err != nil {
		t.Fatal(err)
	}
	if q := v.Policies[0]; p.AddedLatencyMS.Max < 200 || q.AddedLatencyMS.Max > 165 || q.SentSuccessRatio != 1 {
		t.Errorf("longest wait %v ms with the whole deadline for the queue, %v ms with half; want over 200 ms (280 ms allowed), and at most about 150 ms; all sent succeeding",
			p.AddedLatencyMS.Max, q.AddedLatencyMS.Max)
	}
	if v.Verdict.Regime != RegimeOver {
		t.Errorf("regime %s, want over (40/s against 10/s)", v.Verdict.Regime)
	}
}

func TestRunStopsAtTheAttemptCap(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }
	d := Demand{RPS: 20, Duration: 500 * time.Millisecond, Deadline: time.Second}
	v, err := Run(context.Background(), Config{Demand: d, Policies: []Policy{NaivePolicy}, Prepare: serve(t, h), MaxAttempts: 25, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := v.Policies[0]
	if p.Attempts > 25 || !p.AttemptCapReached || p.Succeeded != 0 {
		t.Errorf("got %d attempts, cap reached %v; want at most 25 and the cap reached", p.Attempts, p.AttemptCapReached)
	}
}

func TestRunInterrupted(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	d := Demand{RPS: 20, Duration: 5 * time.Second, Deadline: 10 * time.Second}
	start := time.Now()
	v, err := Run(ctx, Config{Demand: d, Policies: []Policy{NonePolicy, SeedPolicy}, Prepare: serve(t, h), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v to stop after an interrupt at 400ms", took)
	}
	if !v.Interrupted || len(v.Policies) != 1 {
		t.Fatalf("interrupted %v with %d policies; want true with the one that started", v.Interrupted, len(v.Policies))
	}
	if p := v.Policies[0]; p.Requests < 4 || p.Requests > 12 {
		t.Errorf("partial policy counted %d requests, want those of the first 400ms (about 8)", p.Requests)
	}
}

func TestRunUnusableTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a port nobody listens on
	prepared := 0
	prep := func(context.Context, int, Policy) (Target, func(), error) {
		prepared++
		return Target{URL: "http://" + addr + "/"}, nil, nil
	}
	d := Demand{RPS: 20, Duration: 300 * time.Millisecond, Deadline: time.Second}
	v, err := Run(context.Background(), Config{Demand: d, Policies: []Policy{NonePolicy, NaivePolicy}, Prepare: prep, Seed: 1})
	if !errors.Is(err, probe.ErrUnusable) {
		t.Fatalf("got %v, want ErrUnusable", err)
	}
	if prepared != 1 || len(v.Policies) != 1 {
		t.Errorf("prepared %d policies and measured %d; want to stop after the first", prepared, len(v.Policies))
	}
}
