package estimate

import (
	"math"
	"testing"
	"time"

	"limitprobe/limiter"
)

// A sliding log of one per W is a bucket of one at 1/W: behind a bucket
// of one it is no rival, however close its likelihood, as no step tells
// them apart. A log of two is another limiter and stays one.
func TestBucketOfOneHasNoLogRival(t *testing.T) {
	bucket := Candidate{Algorithm: AlgorithmTokenBucket, Config: limiter.Config{Kind: limiter.TokenBucket, Rate: 5, Burst: 1},
		RateRPS: 5, Band: Band{Low: 4.95, High: 5.05}, Miss: 5}
	log := func(limit int, behind float64) Candidate {
		return Candidate{Algorithm: AlgorithmSlidingWindow, RateRPS: 5, Behind: behind, Miss: 5,
			Config: limiter.Config{Kind: limiter.SlidingLog, Limit: limit, Window: time.Duration(limit) * 200 * time.Millisecond}}
	}
	bigger := bucket
	bigger.Config.Burst = 2
	for _, tt := range []struct {
		name   string
		cands  []Candidate
		rivals int
	}{
		{"a log of one behind a bucket of one", []Candidate{bucket, log(1, 2)}, 0},
		{"a log of two behind a bucket of one", []Candidate{bucket, log(2, 2)}, 1},
		{"a log of one behind a bucket of two", []Candidate{bigger, log(1, 2)}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := Assessment{Candidates: tt.cands}
			if got := len(a.Rivals()); got != tt.rivals {
				t.Errorf("%d rivals, want %d", got, tt.rivals)
			}
			if want := tt.rivals == 0; a.Decided(0.03) != want {
				t.Errorf("Decided = %v, want %v", !want, want)
			}
		})
	}
}

// Behind a bucket of one, a sliding log of one's share of the evidence is
// the bucket's (models.canonical); a sliding counter's stays its own.
func TestBucketOfOneTakesTheLogsShare(t *testing.T) {
	fit := func(cfg limiter.Config, weight float64) familyFit {
		return familyFit{family: family{kind: cfg.Kind}, best: scan{cfg: cfg}, weight: weight}
	}
	m := models{share: map[string]float64{AlgorithmTokenBucket: 0.7, AlgorithmSlidingWindow: 0.3}, fits: []familyFit{
		fit(limiter.Config{Kind: limiter.TokenBucket, Rate: 5, Burst: 1}, 0.7),
		fit(limiter.Config{Kind: limiter.SlidingLog, Limit: 1, Window: 200 * time.Millisecond}, 0.2),
		fit(limiter.Config{Kind: limiter.SlidingCounter, Limit: 1, Window: 370 * time.Millisecond}, 0.1),
	}}
	m.canonical()
	if b, w := m.share[AlgorithmTokenBucket], m.share[AlgorithmSlidingWindow]; math.Abs(b-0.9) > 1e-9 || math.Abs(w-0.1) > 1e-9 {
		t.Errorf("shares: bucket %g, sliding window %g; want 0.9 and 0.1", b, w)
	}
}
