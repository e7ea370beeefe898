package probe

import (
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
