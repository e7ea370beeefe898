package estimate

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"limitprobe/limiter"
)

// TestDeblurCap: requests arrive at random at twice what a cap of 32 at
// 200 ms admits, and each moment at the server is seen 12 ms off, give or
// take. The fit alone reads below the cap; the cap that reads as the run
// does is the cap, over several seeds, and its blurred replays get about
// as many outcomes wrong as the fit does: the noise's share of its misses.
func TestDeblurCap(t *testing.T) {
	const capacity = 32
	service := 200 * time.Millisecond
	rate := 2 * capacity / service.Seconds()
	low := 0
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var arrive []time.Duration
		for at := time.Duration(0); at < 4*time.Second; at += dur(rng.ExpFloat64() / rate) {
			arrive = append(arrive, at)
		}
		cfg := limiter.Config{Kind: limiter.Concurrency, MaxInFlight: capacity}
		v := decidedView(arrive, cfg, func(int) time.Duration { return service }, 0, 0.012, rng)
		sc := newScanner(v)
		sc.bestMiss, sc.bestLL = math.MaxInt, math.Inf(-1)
		fit := sc.weigh(limiter.Config{Kind: limiter.Concurrency})
		fitted := fit.capacity
		if fitted < capacity {
			low++
		}
		got, noise := deblurCap(v, fitted, 0)
		if got != capacity {
			t.Errorf("seed %d: fitted %d, moved to %d, want %d", seed, fitted, got, capacity)
		}
		t.Logf("seed %d: fit misses %d of %d refusals, noise %.1f", seed, fit.miss, v.refused, noise)
		if noise < 0.8*float64(fit.miss) || noise > 1.25*float64(fit.miss) {
			t.Errorf("seed %d: a true cap's blurred replays miss %.1f, want about the %d its fit misses", seed, noise, fit.miss)
		}
	}
	if low == 0 {
		t.Errorf("no seed's fit read below the cap: the run is not blurred as a network blurs")
	}
}
