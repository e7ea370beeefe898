package estimate

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"limitprobe/evidence"
)

// slotRun simulates a step: Poisson arrivals at R per second for n
// requests, each delayed by jitter on its way to a token bucket of rate r
// and capacity burst, which sees them in arrival order. admit, when set,
// replaces the bucket.
type slotRun struct {
	r, R   float64
	burst  float64
	n      int
	jitter time.Duration // uniform delay in [0, jitter)
	tick   time.Duration // send times rounded up to ticks (a coarse timer)
	admit  func(at, last time.Duration) bool
}

func (c slotRun) samples(seed uint64) []SlotSample {
	rng := rand.New(rand.NewPCG(seed, 1))
	type arr struct {
		sent, at time.Duration
		i        int
	}
	as := make([]arr, c.n)
	t := 0.0
	for i := range as {
		t += rng.ExpFloat64() / c.R
		sent := time.Duration(t * 1e9)
		if c.tick > 0 {
			sent = (sent + c.tick - 1) / c.tick * c.tick
		}
		as[i] = arr{sent: sent, i: i}
		if c.jitter > 0 {
			as[i].at = sent + time.Duration(rng.Int64N(int64(c.jitter)))
		} else {
			as[i].at = sent
		}
	}
	slices.SortStableFunc(as, func(a, b arr) int { return cmp.Compare(a.at, b.at) })
	out := make([]SlotSample, c.n)
	tokens, last, lastOK := c.burst, time.Duration(0), time.Duration(-1<<62)
	for _, a := range as {
		var ok bool
		if c.admit != nil {
			ok = c.admit(a.at, lastOK)
		} else {
			tokens = min(c.burst, tokens+(a.at-last).Seconds()*c.r)
			last = a.at
			if ok = tokens >= 1; ok {
				tokens--
			}
		}
		if ok {
			lastOK = a.at
		}
		out[a.i] = SlotSample{At: a.sent, OK: ok}
	}
	// The recorder gets results in completion order.
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

type tickWant int

const (
	tickNo tickWant = iota
	tickYes
	tickMaybe // told or not; the slot is right either way
)

func TestFitSlot(t *testing.T) {
	// nginx without burst: time in whole milliseconds, a request passes
	// when 20 of them have ticked since the last accepted one.
	nginx := func(at, last time.Duration) bool { return at/time.Millisecond-last/time.Millisecond >= 20 }
	tests := []struct {
		name   string
		run    slotRun
		lo, hi float64 // rate read, per second; 0, 0: no edge
		// mayDecline: jitter of seed × run.jitter may hide the edge; when
		// it is placed, it must be in the band.
		mayDecline bool
		tick       tickWant // a clock in whole milliseconds
	}{
		{"2000/s at 4000/s, 40µs jitter", slotRun{r: 2000, R: 4000, burst: 1, n: 4000, jitter: 40 * time.Microsecond}, 1970, 2030, false, tickNo},
		{"2000/s at 2000/s, 40µs jitter", slotRun{r: 2000, R: 2000, burst: 1, n: 2000, jitter: 40 * time.Microsecond}, 1940, 2060, false, tickNo},
		{"2000/s at 4000/s, 70µs jitter", slotRun{r: 2000, R: 4000, burst: 1, n: 4000, jitter: 70 * time.Microsecond}, 1960, 2040, false, tickNo},
		{"2000/s at 4000/s, jitter of 0.1 to 0.5 ms reorders", slotRun{r: 2000, R: 4000, burst: 1, n: 4000, jitter: 100 * time.Microsecond}, 1900, 2100, true, tickNo},
		{"500/s at 2000/s", slotRun{r: 500, R: 2000, burst: 1, n: 3000, jitter: 100 * time.Microsecond}, 490, 510, false, tickNo},
		{"5/s at 20/s, 2ms jitter", slotRun{r: 5, R: 20, burst: 1, n: 600, jitter: 2 * time.Millisecond}, 4.9, 5.1, false, tickNo},
		{"nginx 50r/s: slots of 19 to 20 ms, read as 20", slotRun{R: 200, n: 3000, admit: nginx}, 50, 50, false, tickYes},
		{"nginx 50r/s at 100/s: fewer gaps in the millisecond", slotRun{R: 100, n: 1500, admit: nginx}, 50, 1000 / 19.0, false, tickMaybe},
		{"a continuous slot of 19.4 ms", slotRun{r: 1000 / 19.4, R: 200, burst: 1, n: 3000, jitter: 100 * time.Microsecond}, 51, 52.1, false, tickNo},
		{"burst 3: no edge", slotRun{r: 100, R: 400, burst: 3, n: 3000}, 0, 0, false, tickNo},
		{"never throttled: no edge", slotRun{r: 1000, R: 50, burst: 1, n: 500}, 0, 0, false, tickNo},
		{"sent on 1 ms ticks: no gap near a 0.5 ms slot", slotRun{r: 2000, R: 4000, burst: 1, n: 4000, tick: time.Millisecond}, 0, 0, false, tickNo},
		{"too few requests", slotRun{r: 100, R: 400, burst: 1, n: 40}, 0, 0, false, tickNo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 5; seed++ {
				run := tt.run
				if tt.mayDecline {
					run.jitter *= time.Duration(seed)
				}
				slot, tick, ok := fitSlot(run.samples(seed))
				if ok && tt.tick != tickMaybe && (tick > 0) != (tt.tick == tickYes) {
					t.Errorf("seed %d: tick %g s, want a whole-millisecond clock: %v", seed, tick, tt.tick == tickYes)
				}
				if tt.hi == 0 {
					if ok {
						t.Errorf("seed %d: slot %.3f ms (%.1f/s), want no edge", seed, slot*1e3, 1/slot)
					}
					continue
				}
				if !ok && tt.mayDecline {
					continue
				}
				if !ok {
					t.Fatalf("seed %d: no edge, want %.4g–%.4g/s", seed, tt.lo, tt.hi)
				}
				if r := 1 / slot; r < tt.lo || r > tt.hi || math.IsNaN(r) {
					t.Errorf("seed %d: %.1f/s, want %.4g–%.4g/s", seed, r, tt.lo, tt.hi)
				}
			}
		})
	}
	if _, _, ok := fitSlot(nil); ok {
		t.Error("no samples: an edge")
	}
}

// A whole-millisecond clock is believed only when refusals came back
// with little spread: jitter blurs a continuous slot into the same rise.
func TestKeepTick(t *testing.T) {
	for _, tt := range []struct {
		spreadMS         float64
		wantSlot, wantTk float64
	}{{0.1, 20, 1}, {0.6, 19.5, 0}} {
		s := evidence.Step{SlotMS: 20, SlotTickMS: 1, ThrottleMS: evidence.Latency{P50: 0.3, P95: 0.3 + tt.spreadMS}}
		keepTick(&s)
		if s.SlotMS != tt.wantSlot || s.SlotTickMS != tt.wantTk {
			t.Errorf("spread %g ms: slot %g ms, tick %g ms; want %g, %g", tt.spreadMS, s.SlotMS, s.SlotTickMS, tt.wantSlot, tt.wantTk)
		}
	}
}
