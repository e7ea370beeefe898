package estimate

import (
	"testing"
	"time"

	"limitprobe/limiter"
)

func TestModelOf(t *testing.T) {
	fitted := &Model{Kind: limiter.SlidingCounter, Limit: 50, WindowS: 5, PhaseS: 1.5}
	tests := []struct {
		name string
		s    Summary
		want limiter.Config
		ok   bool
	}{
		{"fitted", Summary{Algorithm: AlgorithmSlidingWindow, Model: fitted}, limiter.Config{Kind: limiter.SlidingCounter, Limit: 50, Window: 5 * time.Second, Phase: 1500 * time.Millisecond}, true},
		{"bucket", Summary{Algorithm: AlgorithmTokenBucket, EffectiveLimitRPS: 50, Burst: 10}, limiter.Config{Kind: limiter.TokenBucket, Rate: 50, Burst: 10}, true},
		{"window from limit and rate", Summary{Algorithm: AlgorithmFixedWindow, EffectiveLimitRPS: 10, Burst: 100}, limiter.Config{Kind: limiter.FixedWindow, Limit: 100, Window: 10 * time.Second}, true},
		{"cap", Summary{Algorithm: AlgorithmConcurrency, EffectiveLimitRPS: 160, MaxInFlight: 8}, limiter.Config{Kind: limiter.Concurrency, MaxInFlight: 8}, true},
		{"none observed", Summary{Algorithm: AlgorithmNoneObserved, EffectiveLimitRPS: 80}, limiter.Config{}, false},
	}
	for _, tt := range tests {
		m, ok := ModelOf(tt.s)
		if ok != tt.ok || ok && m.Config() != tt.want {
			t.Errorf("%s: got %+v, %v; want %+v, %v", tt.name, m.Config(), ok, tt.want, tt.ok)
		}
	}
	if m, _ := ModelOf(Summary{Algorithm: AlgorithmConcurrency, EffectiveLimitRPS: 160, MaxInFlight: 8}); m.ServiceS != 0.05 {
		t.Errorf("cap's service time: got %v, want 0.05 s", m.ServiceS)
	}
}
