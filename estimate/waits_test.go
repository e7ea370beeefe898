package estimate

import (
	"math/rand/v2"
	"testing"

	"limitprobe/evidence"
	"limitprobe/limiter"
)

// TestWaitsTest holds the rank test to waits it is told: times at the
// server that rose with the wait (slope 1) or did not (slope 0), under a
// log-normal backend of median 300 ms and σ 0.8, 400 requests: half that
// did not wait (paced below the rate), half that waited 180–200 ms (a
// queue of 10 at 50/s, saturated).
func TestWaitsTest(t *testing.T) {
	for _, b := range []float64{0, 1} {
		for seed := uint64(1); seed <= 3; seed++ {
			r := rand.New(rand.NewPCG(seed, 7))
			svc := lognormal(0.3, 0.8)
			var xs, ys []float64
			for i := range 400 {
				x := 0.0
				if i%2 == 1 {
					x = 0.18 + 0.02*r.Float64()
				}
				xs, ys = append(xs, x), append(ys, svc(r)+b*x)
			}
			slope, none, one := waitsTest(xs, ys)
			if slope < b-0.4 || slope > b+0.4 {
				t.Errorf("slope %g, seed %d: got %.2f, want %g ± 0.4", b, seed, slope, b)
			}
			excluded, kept := one, none
			if b == 1 {
				excluded, kept = none, one
			}
			if excluded < 4 || kept >= 4 {
				t.Errorf("slope %g, seed %d: got scores %.1f against it and %.1f against the other slope, want under 4 and 4 or more", b, seed, kept, excluded)
			}
		}
	}
}

// TestQueueBehindSlowBackend: behind a slow backend (log-normal, median
// 300 ms, σ 0.8) only the time at the server tells a queue of 10 at 50/s
// from a bucket (of 10 here; one of 11 admits as the queue does), and the
// ramp leaves few requests that did not wait. On auto's schedule with its calm step (paced at half the rate,
// after a saturation) the estimate names each, three seeds (one under
// -race, see raceDetector).
func TestQueueBehindSlowBackend(t *testing.T) {
	for _, tc := range []struct {
		kind limiter.Kind
		alg  string
	}{{limiter.Queue, AlgorithmQueue}, {limiter.TokenBucket, AlgorithmTokenBucket}} {
		for seed := uint64(1); seed <= 3; seed++ {
			if raceDetector && seed > 1 {
				break
			}
			steps := append(autoLike(500, 80, 65, 4), simStep{rate: 25, dur: 4, idle: 0.5}, simStep{rate: 65, dur: 4, phase: "saturate"})
			reqs := &evidence.Requests{}
			sr := simRun{lim: limiter.New(limiter.Config{Kind: tc.kind, Rate: 50, Burst: 10}), clock0: 1000.37 + float64(seed), steps: steps, seed: seed,
				netS: 0.0001, jitterS: 0.0005, service: lognormal(0.3, 0.8), record: reqs}
			st, tl := simulate(sr)
			s := Estimate(Input{Steps: st, Timeline: tl, Threshold: 0.01, MaxOfferedRPS: 4000, Requests: reqs})
			if s.Algorithm != tc.alg || s.Confidence <= 0.5 {
				t.Errorf("%s, seed %d: got %s at %.2f, want %s above 0.5\n%s", tc.kind, seed, s.Algorithm, s.Confidence, tc.alg, reasonsText(s))
			}
			if s.EffectiveLimitRPS < 48.5 || s.EffectiveLimitRPS > 51.5 {
				t.Errorf("%s, seed %d: got %.1f/s, want 50/s ± 3%%", tc.kind, seed, s.EffectiveLimitRPS)
			}
		}
	}
}
