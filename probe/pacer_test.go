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
