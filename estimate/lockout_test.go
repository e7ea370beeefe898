package estimate

import (
	"math"
	"testing"

	"limitprobe/evidence"
)

// TestCounterWindow: at a steady r a second, a sliding counter averaged
// over its phase counts r·W, so n requests take W = n/r. A burst from
// idle that spent the allowance 4.8 s before a later refusal counts there
// in a window longer than the 5.3 s the run has lasted (auto read no
// window at all then, and stopped without its creep).
func TestCounterWindow(t *testing.T) {
	const res = 0.1
	steady := evidence.Timeline{ResolutionS: res}
	for range 100 {
		steady.Buckets = append(steady.Buckets, evidence.Bucket{Sent: 3}) // 30/s for 10 s
	}
	if w, ok := CounterWindow(steady, 10, 100); !ok || math.Abs(w-100.0/30) > 0.02*100/30 {
		t.Errorf("steady 30/s: window %.3f s (%v), want 3.33 s", w, ok)
	}
	burst := evidence.Timeline{ResolutionS: res}
	for k := range 53 {
		b := evidence.Bucket{}
		switch {
		case k == 5:
			b.Sent = 103
		case k >= 15:
			b.Sent = 1
		}
		burst.Buckets = append(burst.Buckets, b)
	}
	w, ok := CounterWindow(burst, 5.3, 102)
	if !ok || w <= 5.3 || w > 10 {
		t.Errorf("burst then 10/s: window %.3f s (%v), want one a little longer than the 5.3 s gone by", w, ok)
	}
}
