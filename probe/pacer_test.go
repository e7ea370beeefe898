package probe

import (
	"math"
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	tests := []struct {
		name     string
		p        pacer
		elapsed  time.Duration
		hits     uint64
		wantWait time.Duration
		wantStop bool
	}{
		{"first hit one slot in", pacer{Start: 10}, 0, 0, 100 * time.Millisecond, false},
		{"10/s: second hit at 200ms", pacer{Start: 10}, 0, 1, 200 * time.Millisecond, false},
		{"22.5/s: 45th hit at 2s", pacer{Start: 22.5}, time.Second, 44, time.Second, false},
		{"behind schedule: no wait", pacer{Start: 10}, time.Second, 3, 0, false},
		{"cap reached", pacer{Start: 10, Max: 5}, 0, 5, 0, true},
		{"closed loop", pacer{}, 0, 1000, 0, false},
		// From 0/s with slope 10/s²: n requests are due at sqrt(2n/10) s.
		{"linear ramp", pacer{Slope: 10}, 0, 19, 2 * time.Second, false},
		{"linear from 10/s", pacer{Start: 10, Slope: 10}, 0, 14, time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait, stop := tt.p.Pace(tt.elapsed, tt.hits)
			if stop != tt.wantStop {
				t.Fatalf("stop = %v, want %v", stop, tt.wantStop)
			}
			if d := wait - tt.wantWait; d > time.Microsecond || d < -time.Microsecond {
				t.Errorf("wait = %v, want %v", wait, tt.wantWait)
			}
		})
	}
}

func TestPacerHitsMatchIntegral(t *testing.T) {
	p := pacer{Start: 5, Slope: 3}
	// Count hits due in the first 10 s: ∫(5+3t)dt = 50 + 150 = 200.
	var hits uint64
	for {
		wait, _ := p.Pace(0, hits)
		if wait > 10*time.Second {
			break
		}
		hits++
	}
	if hits != 200 {
		t.Errorf("hits due by 10s = %d, want 200", hits)
	}
}

// Random gaps keep the rate and are exponential: their mean and standard
// deviation are both one slot, and the same seed gives the same schedule.
func TestPacerRandomGaps(t *testing.T) {
	const rate, n = 100.0, 20000
	due := func(p pacer) []float64 {
		var ts []float64
		for hits := uint64(0); hits < n; hits++ {
			wait, stop := p.Pace(0, hits)
			if stop {
				t.Fatalf("stopped at hit %d", hits)
			}
			ts = append(ts, wait.Seconds())
		}
		return ts
	}
	a := due(pacer{Start: rate, Random: newRandomGaps(7)})
	b := due(pacer{Start: rate, Random: newRandomGaps(7)})
	var sum, sq float64
	prev := 0.0
	for i, x := range a {
		if x != b[i] {
			t.Fatalf("hit %d due at %v and %v with the same seed", i, x, b[i])
		}
		g := x - prev
		if g < 0 {
			t.Fatalf("hit %d due before hit %d", i, i-1)
		}
		sum += g
		sq += g * g
		prev = x
	}
	mean := sum / n
	sd := math.Sqrt(sq/n - mean*mean)
	if math.Abs(mean*rate-1) > 0.03 || math.Abs(sd*rate-1) > 0.05 {
		t.Errorf("gaps: mean %.4f s, sd %.4f s; want both near %.4f s", mean, sd, 1/rate)
	}
}

// precise sleeps each wait itself and never sends a request before it is
// due, at rates well above what the runtime's timers resolve.
func TestPrecisePacerNeverEarly(t *testing.T) {
	for _, p := range []pacer{{Start: 2000}, {Start: 4000, Random: newRandomGaps(3)}} {
		pp := precise{pacer: p, fine: true}
		began := time.Now()
		for hits := uint64(0); hits < 400; hits++ {
			elapsed := time.Since(began)
			due, _ := p.Pace(0, hits)
			wait, stop := pp.Pace(elapsed, hits)
			if wait != 0 || stop {
				t.Fatalf("hit %d: Pace = %v, %v; want 0, false (it sleeps itself)", hits, wait, stop)
			}
			if at := time.Since(began); at < due {
				t.Fatalf("hit %d at %v, due at %v", hits, at, due)
			}
		}
	}
	if wait, stop := (precise{pacer: pacer{Start: 10, Max: 3}, fine: true}).Pace(0, 3); wait != 0 || !stop {
		t.Errorf("at the cap: Pace = %v, %v; want 0, true", wait, stop)
	}
}

// Not fine, precise leaves short gaps to vegeta and sleeps long ones
// itself, never ending one early.
func TestPrecisePacerCoarse(t *testing.T) {
	p := precise{pacer: pacer{Start: 2000}}
	if wait, stop := p.Pace(0, 0); stop || wait != 500*time.Microsecond {
		t.Errorf("a 500µs gap: Pace = %v, %v; want it left to vegeta", wait, stop)
	}
	slow := precise{pacer: pacer{Start: 50}} // a 20 ms gap
	began := time.Now()
	if wait, stop := slow.Pace(0, 0); wait != 0 || stop {
		t.Errorf("a 20ms gap: Pace = %v, %v; want 0, false (it waits itself)", wait, stop)
	}
	if took := time.Since(began); took < 20*time.Millisecond {
		t.Errorf("a 20ms gap ended after %v", took)
	}
	if wait, stop := (precise{pacer: pacer{Start: 10, Max: 3}}).Pace(0, 3); wait != 0 || !stop {
		t.Errorf("at the cap: Pace = %v, %v; want 0, true", wait, stop)
	}
}

// A long wait ends when done closes, and the attack stops.
func TestPrecisePacerStopsWhenDone(t *testing.T) {
	done := make(chan struct{})
	out := make(chan bool, 1)
	go func() {
		_, stop := precise{pacer: pacer{Start: 0.01}, done: done}.Pace(0, 0) // due in 100 s, not fine
		out <- stop
	}()
	close(done)
	select {
	case stop := <-out:
		if !stop {
			t.Error("Pace after done: stop = false, want true")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Pace still sleeping 10 s after done closed; its wait was 100 s")
	}
}

// How late a 300 µs wait ends: the runtime's sleep against precise's.
func BenchmarkSleepLateness(b *testing.B) {
	const wait = 300 * time.Microsecond
	for _, bc := range []struct {
		name  string
		sleep func()
	}{
		{"time.Sleep", func() { time.Sleep(wait) }},
		{"precise", func() { precise{pacer: pacer{Start: 1 / wait.Seconds()}, fine: true}.Pace(0, 0) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var late time.Duration
			for b.Loop() {
				t0 := time.Now()
				bc.sleep()
				late += time.Since(t0) - wait
			}
			b.ReportMetric(float64(late.Microseconds())/float64(b.N), "µs-late/op")
		})
	}
}
