package simulate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"limitprobe/advise"
	"limitprobe/estimate"
	"limitprobe/limiter"
	"limitprobe/traffic"
)

const ms = time.Millisecond

// t0 is a Unix instant on a whole minute.
const t0 = 1714564800 * time.Second

func reqsAt(offsets ...time.Duration) []traffic.Request {
	var out []traffic.Request
	for _, o := range offsets {
		out = append(out, traffic.Request{At: t0 + o, Cost: 1})
	}
	return out
}

// TestSchedule replays client limiters over a few requests whose fate can
// be worked out by hand.
func TestSchedule(t *testing.T) {
	s := time.Second
	tests := []struct {
		name     string
		c        Client
		deadline time.Duration
		latency  time.Duration
		in       []traffic.Request
		want     []time.Duration // from t0
	}{
		{"a bucket of one spaces requests", Client{RateRPS: 10, Burst: 1}, 10 * s, 0, reqsAt(0, 0, 0), []time.Duration{0, 100 * ms, 200 * ms}},
		{"a burst passes at once", Client{RateRPS: 10, Burst: 2}, 10 * s, 0, reqsAt(0, 0, 0), []time.Duration{0, 0, 100 * ms}},
		{"past the deadline is shed", Client{RateRPS: 10, Burst: 1}, 150 * ms, 0, reqsAt(0, 0, 0, 0), []time.Duration{0, 100 * ms}},
		{"shed requests take no token", Client{RateRPS: 10, Burst: 1}, 150 * ms, 0, reqsAt(0, 0, 0, 250*ms), []time.Duration{0, 100 * ms, 250 * ms}},
		{"a cap waits for a slot", Client{MaxConcurrency: 2}, 10 * s, s, reqsAt(0, 0, 0, 1500*ms), []time.Duration{0, 0, s, 1500 * ms}},
		{"a cap sheds past the deadline", Client{MaxConcurrency: 1}, 500 * ms, s, reqsAt(0, 0, 1200*ms), []time.Duration{0, 1200 * ms}},
		{"a cap and a rate", Client{RateRPS: 100, Burst: 1, MaxConcurrency: 1}, 10 * s, 50 * ms, reqsAt(0, 0, 0), []time.Duration{0, 50 * ms, 100 * ms}},
		{"costs are requests", Client{RateRPS: 10, Burst: 1}, 10 * s, 0, []traffic.Request{{At: t0, Cost: 2}}, []time.Duration{0, 100 * ms}},
		{"no client sends as it comes", Client{}, 10 * s, 0, reqsAt(0, 0), []time.Duration{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []time.Duration
			for _, at := range Schedule(tt.in, tt.c, tt.deadline, tt.latency) {
				got = append(got, at-t0)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestBatcher merges requests three to one: a batch leaves full, or a
// second after its first request.
func TestBatcher(t *testing.T) {
	b := &batcher{size: 3, wait: time.Second}
	type sent struct {
		at time.Duration
		n  int
	}
	var got []sent
	send := func(ready, _ time.Duration, arrivals []time.Duration) { got = append(got, sent{ready, len(arrivals)}) }
	for _, at := range []time.Duration{0, 100 * ms, 200 * ms, 5 * time.Second, 7 * time.Second, 7100 * ms} {
		b.add(at, 0, send)
	}
	b.flush(send)
	want := []sent{{200 * ms, 3}, {6 * time.Second, 1}, {8 * time.Second, 2}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// bucketReport is a report of a token bucket of 50/s with a burst of 10.
func bucketReport() Measured {
	s := estimate.Summary{Limited: true, Algorithm: estimate.AlgorithmTokenBucket, EffectiveLimitRPS: 50, Burst: 10,
		EffectiveLimitBand: estimate.Band{Low: 48, High: 52},
		Model:              &estimate.Model{Kind: limiter.TokenBucket, RateRPS: 50, Burst: 10}}
	return Measured{Name: "bucket", Summary: s, Recommendation: advise.Recommend(s, nil, nil, 0)}
}

// poissonFile is Poisson arrivals at rate for dur from t0, with a random
// cost of 1 to 3 on one line in ten.
func poissonFile(seed uint64, rate float64, dur time.Duration) string {
	rng := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	for at := time.Duration(0); ; {
		at += time.Duration(rng.ExpFloat64() / rate * float64(time.Second))
		if at >= dur {
			return b.String()
		}
		u := t0 + at
		fmt.Fprintf(&b, "%d.%09d", u/time.Second, u%time.Second)
		if rng.IntN(10) == 0 {
			fmt.Fprintf(&b, " %d", 1+rng.IntN(3))
		}
		b.WriteByte('\n')
	}
}

func simulateFile(t *testing.T, file string, m Measured, opt Options) *Simulation {
	t.Helper()
	r, err := traffic.NewReader(strings.NewReader(file), "traffic.txt")
	if err != nil {
		t.Fatal(err)
	}
	if opt.TempDir == "" {
		opt.TempDir = t.TempDir()
	}
	sim, err := Run(context.Background(), r, "traffic.txt", m, opt)
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

// TestPredictionIsTheLimiters checks the plumbing (chunks, lanes side by
// side, costs, band ends) against the plainest replay: package limiter's
// limiter admitting each request in turn.
func TestPredictionIsTheLimiters(t *testing.T) {
	file := poissonFile(1, 60, 3*time.Minute)
	m := bucketReport()
	sim := simulateFile(t, file, m, Options{})
	reqs, err := traffic.ReadAll(mustReader(t, file))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range sim.Ends {
		lim := limiter.New(e.Model.Config())
		var n, refused int64
		for _, q := range reqs {
			for range q.Cost {
				n++
				if !lim.Admit(q.At).OK {
					refused++
				}
			}
		}
		if e.Prediction.Requests != n || e.Prediction.Refused != refused {
			t.Errorf("%s: got %d of %d refused, want %d of %d", e.Name, e.Prediction.Refused, e.Prediction.Requests, refused, n)
		}
	}
	if got := []string{sim.Ends[0].Name, sim.Ends[1].Name, sim.Ends[2].Name}; !slices.Equal(got, []string{EndOptimistic, EndMeasured, EndPessimistic}) {
		t.Errorf("got ends %v", got)
	}
	if o, p := sim.Ends[0].Prediction.Refused, sim.Ends[2].Prediction.Refused; o >= sim.MeasuredEnd().Prediction.Refused || p <= sim.MeasuredEnd().Prediction.Refused {
		t.Errorf("refusals at the ends %d and %d do not bracket the measured %d", o, p, sim.MeasuredEnd().Prediction.Refused)
	}
	// The timeline adds up to the same counts.
	var arrived, refused, sent int64
	for _, b := range sim.Timeline.Buckets {
		arrived += b.Arrived
		refused += b.Refused
		sent += b.Sent
	}
	mid := sim.MeasuredEnd()
	if arrived != sim.Traffic.Requests || refused != mid.Prediction.Refused || sent != mid.Smoothed.Sent {
		t.Errorf("timeline: %d arrived, %d refused, %d sent; want %d, %d, %d", arrived, refused, sent, sim.Traffic.Requests, mid.Prediction.Refused, mid.Smoothed.Sent)
	}
	if len(sim.Timeline.Buckets) > maxBuckets+int(DefaultDeadline.Seconds()/sim.Timeline.ResolutionS)+1 {
		t.Errorf("timeline has %d buckets", len(sim.Timeline.Buckets))
	}
}

func mustReader(t *testing.T, file string) *traffic.Reader {
	t.Helper()
	r, err := traffic.NewReader(strings.NewReader(file), "traffic.txt")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSmoothing replays the recommended client in front: nothing left
// refused, delays that grow with the queue, and the same traffic batched.
func TestSmoothing(t *testing.T) {
	// 60/s against 50/s: the client at 45/s falls behind and sheds.
	sim := simulateFile(t, poissonFile(2, 60, time.Minute), bucketReport(), Options{Batch: 4})
	mid := sim.MeasuredEnd()
	sm := mid.Smoothed
	if sim.Client == nil || sim.Client.RateRPS != 45 || sim.Client.Burst != 9 || sim.Client.From != "recommendation" {
		t.Fatalf("client %+v, want the recommendation's 45/s, burst 9", sim.Client)
	}
	if sm.Refused != 0 || mid.Prediction.Refused == 0 {
		t.Errorf("refused %d as it came and %d behind the client; want some, then none", mid.Prediction.Refused, sm.Refused)
	}
	if sm.Shed == 0 || sm.DelayMS.Max > DefaultDeadline.Seconds()*1000 || sm.DelayMS.P99 < sm.DelayMS.P50 || sm.PeakQueue < 10 {
		t.Errorf("smoothed %+v: want shedding, delays up to the deadline and a queue", sm)
	}
	if sm.Sent+sm.Shed != sim.Traffic.Requests {
		t.Errorf("sent %d + shed %d ≠ %d requests", sm.Sent, sm.Shed, sim.Traffic.Requests)
	}
	b := sim.Batch
	if b == nil || b.Size != 4 || b.Prediction.Requests*4 < sim.Traffic.Requests || b.Prediction.Requests*3 > sim.Traffic.Requests {
		t.Fatalf("batch %+v: want about a quarter of %d requests", b, sim.Traffic.Requests)
	}
	if b.Prediction.Refused != 0 || b.Smoothed.Shed != 0 {
		t.Errorf("batched: %d refused, %d shed; a quarter of the rate fits", b.Prediction.Refused, b.Smoothed.Shed)
	}
}

// TestSmallestLimit sizes the limit for an even 100/s for a minute behind
// a client at 90% of it, with up to 10 s of delay: about 95/s, worked
// out by hand from the queue the last request meets.
func TestSmallestLimit(t *testing.T) {
	var b strings.Builder
	for i := range 6000 {
		u := t0 + time.Duration(i)*10*ms
		fmt.Fprintf(&b, "%d.%09d\n", u/time.Second, u%time.Second)
	}
	sim := simulateFile(t, b.String(), bucketReport(), Options{})
	z := sim.SmallestLimit
	// 6000 requests in 60 s, behind a bucket of 0.9·r and burst 9: the last
	// waits (6000 − 9 − 0.9·r·60)/(0.9·r) ≤ 10 s ⇔ r ≥ 5991/63.
	want := 5991.0 / 63
	if z == nil || !z.Found || z.LimitRPS < want*0.99 || z.LimitRPS > want*1.03 {
		t.Fatalf("smallest limit %+v, want about %.1f/s", z, want)
	}
	if z.Model.Kind != limiter.TokenBucket || z.Model.Burst != 10 || math.Abs(z.Ratio-z.LimitRPS/50) > 1e-9 {
		t.Errorf("sizing %+v: want the measured bucket's burst and the ratio to 50/s", z)
	}
}

// TestGate fails the CI gate when the prediction exceeds it.
func TestGate(t *testing.T) {
	file := poissonFile(3, 60, 20*time.Second)
	for _, max := range []float64{0.001, 0.9} {
		sim := simulateFile(t, file, bucketReport(), Options{MaxThrottled: &max})
		g := sim.Gate
		if g == nil || g.Got != sim.MeasuredEnd().Prediction.RefusedShare || g.Pass != (g.Got <= max) || g.Pass != (max == 0.9) {
			t.Errorf("gate at %v: %+v", max, g)
		}
	}
}

// TestRunErrors checks what cannot be simulated.
func TestRunErrors(t *testing.T) {
	none := Measured{Summary: estimate.Summary{Algorithm: estimate.AlgorithmNoneObserved, LowerBoundOnly: true}}
	r := mustReader(t, "1714564800.5\n")
	if _, err := Run(context.Background(), r, "x", none, Options{TempDir: t.TempDir()}); !errors.Is(err, ErrNoLimiter) {
		t.Errorf("none observed: got %v, want ErrNoLimiter", err)
	}
	r = mustReader(t, "time,latency_ms\n")
	if _, err := Run(context.Background(), r, "x", bucketReport(), Options{TempDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no requests") {
		t.Errorf("no requests: got %v", err)
	}
	r = mustReader(t, "1714564800.5\nnoon\n")
	var le *traffic.LineError
	if _, err := Run(context.Background(), r, "x", bucketReport(), Options{TempDir: t.TempDir()}); !errors.As(err, &le) || le.Line != 2 {
		t.Errorf("bad line: got %v, want a LineError at line 2", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = mustReader(t, poissonFile(4, 10, time.Second))
	if _, err := Run(ctx, r, "x", bucketReport(), Options{TempDir: t.TempDir()}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: got %v", err)
	}
}

// TestModels checks how a model moves to a band end and scales to a plan.
func TestModels(t *testing.T) {
	bucket := estimate.Model{Kind: limiter.TokenBucket, RateRPS: 50, Burst: 10}
	window := estimate.Model{Kind: limiter.FixedWindow, Limit: 100, WindowS: 10}
	capped := estimate.Model{Kind: limiter.Concurrency, MaxInFlight: 8, ServiceS: 0.1}
	tests := []struct {
		name  string
		got   estimate.Model
		want  estimate.Model
		scale float64
	}{
		{"bucket end", first(atRate(bucket, 55)), estimate.Model{Kind: limiter.TokenBucket, RateRPS: 55, Burst: 10}, 0},
		{"window end", first(atRate(window, 12.5)), estimate.Model{Kind: limiter.FixedWindow, Limit: 100, WindowS: 8}, 0},
		{"cap end", first(atRate(capped, 100)), estimate.Model{Kind: limiter.Concurrency, MaxInFlight: 8, ServiceS: 0.08}, 0},
		{"bucket plan", withCapacity(bucket, 1.5), estimate.Model{Kind: limiter.TokenBucket, RateRPS: 75, Burst: 10}, 0},
		{"window plan", withCapacity(window, 1.234), estimate.Model{Kind: limiter.FixedWindow, Limit: 124, WindowS: 10}, 0},
		{"cap plan", withCapacity(capped, 0.01), estimate.Model{Kind: limiter.Concurrency, MaxInFlight: 1, ServiceS: 0.1}, 0},
	}
	for _, tt := range tests {
		if math.Abs(tt.got.RateRPS-tt.want.RateRPS) > 1e-9 || math.Abs(tt.got.WindowS-tt.want.WindowS) > 1e-9 || math.Abs(tt.got.ServiceS-tt.want.ServiceS) > 1e-9 ||
			tt.got.Limit != tt.want.Limit || tt.got.MaxInFlight != tt.want.MaxInFlight || tt.got.Burst != tt.want.Burst {
			t.Errorf("%s: got %+v, want %+v", tt.name, tt.got, tt.want)
		}
	}
	if _, scale := atRate(capped, 100); math.Abs(scale-0.8) > 1e-9 {
		t.Errorf("cap end: latency scale %v, want 0.8", scale)
	}
}

func first(m estimate.Model, _ float64) estimate.Model { return m }

// TestHistogram checks quantiles to within the histogram's 1%.
func TestHistogram(t *testing.T) {
	var h histogram
	for i := range 1000 {
		h.add(time.Duration(i) * ms) // 0 … 999 ms
	}
	for _, q := range []struct{ q, want float64 }{{0.5, 499}, {0.95, 949}, {0.99, 989}} {
		if got := h.quantile(q.q); math.Abs(got-q.want) > q.want*0.011 {
			t.Errorf("q%v: got %v ms, want %v", q.q, got, q.want)
		}
	}
	if l := h.latency(); l.Max != 999 {
		t.Errorf("max %v, want 999", l.Max)
	}
}
