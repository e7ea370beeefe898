package limiter

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestMeterAgreesWithAdmit drives each limiter and a meter of the same kind
// with the same random arrivals (and departures, for a cap on requests in
// flight); the meter is told what the limiter decided. The limiter admits
// exactly when the meter's level is below Capacity: the estimator's replay
// and the mock read one copy of each algorithm.
func TestMeterAgreesWithAdmit(t *testing.T) {
	w := time.Second
	configs := []Config{
		{Kind: TokenBucket, Rate: 7, Burst: 3},
		{Kind: GCRA, Rate: 50, Burst: 1},
		{Kind: Queue, Rate: 7, Burst: 2},
		{Kind: Queue, Rate: 20},
		{Kind: FixedWindow, Limit: 7, Window: w, Phase: 300 * time.Millisecond},
		{Kind: SlidingLog, Limit: 7, Window: w},
		{Kind: SlidingCounter, Limit: 7, Window: w},
		{Kind: Lockout, Limit: 7, Window: w, Phase: 700 * time.Millisecond},
		{Kind: Concurrency, MaxInFlight: 3},
	}
	for _, c := range configs {
		t.Run(string(c.Kind), func(t *testing.T) {
			if err := c.Check(); err != nil {
				t.Fatal(err)
			}
			lim, m := New(c), NewMeter(c)
			rng := rand.New(rand.NewPCG(3, 4))
			var inFlight []time.Duration // departures of admitted requests
			at := time.Duration(1_800_000_000) * time.Second
			admitted := 0
			gap := 60 * time.Millisecond
			if c.Kind == Lockout {
				gap = 150 * time.Millisecond // faster locks the client out for good
			}
			for i := range 5000 {
				at += time.Duration(rng.ExpFloat64() * float64(gap))
				// Departures due by now leave first.
				kept := inFlight[:0]
				for _, d := range inFlight {
					if d <= at {
						lim.Done(d)
						m.Done(d)
					} else {
						kept = append(kept, d)
					}
				}
				inFlight = kept
				level := m.Level(at)
				d := lim.Admit(at)
				if want := level < Capacity(c); d.OK != want {
					t.Fatalf("request %d: Admit says %v, the meter's level %.3f against capacity %.3f says %v", i, d.OK, level, Capacity(c), want)
				}
				m.Record(at, d.OK)
				if d.OK {
					admitted++
					inFlight = append(inFlight, at+time.Duration(rng.ExpFloat64()*float64(200*time.Millisecond)))
				}
			}
			if admitted < 500 || admitted == 5000 {
				t.Errorf("got %d of 5000 admitted, want a limited sample", admitted)
			}
		})
	}
}

// TestCheck refuses parameters no limiter can have.
func TestCheck(t *testing.T) {
	bad := []Config{
		{Kind: TokenBucket},
		{Kind: Queue, Rate: 1, Burst: -1},
		{Kind: FixedWindow, Limit: 0, Window: time.Second},
		{Kind: SlidingLog, Limit: 3},
		{Kind: Concurrency},
		{Kind: "leaky"},
	}
	for _, c := range bad {
		if err := c.Check(); err == nil {
			t.Errorf("Check(%+v) = nil, want an error", c)
		}
	}
	if err := (Config{Kind: None}).Check(); err != nil {
		t.Errorf("Check(none) = %v, want nil", err)
	}
}
