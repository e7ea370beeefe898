package probe_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"limitprobe/internal/toxitest"
	"limitprobe/probe"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// TestAutoBehindJitter probes limiters through toxiproxy at 50±20 ms each
// way, the network users have. A bucket of one at 50/s has a 20 ms slot
// inside 40 ms of jitter: evenly paced steps measure the jitter, so auto
// must switch to Poisson arrivals, whose goodput the jitter leaves be, and
// read it within 3%; a bucket that keeps a burst must not. A cap of 32 in flight at 200 ms is
// blurred too (its fits miss hundreds of outcomes alike): auto must run
// its workers, and name the cap, the server's number within one. The
// noise covers a bucket of 3 at 200/s whole: saturated at 1.3× a low lead
// it admitted less than its rate (see saturation). (Not
// here: a cap of 8 at 50 ms, which through that noise admits at a steady
// load as a bucket of 4 at 140/s does. With the workers and the pulses
// that a cap in question gets, one run in eight still read the bucket.)
func TestAutoBehindJitter(t *testing.T) {
	tox, err := toxitest.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tox.Stop()
	tests := []struct {
		name, spec string
		max        float64
		algo       string
		lo, hi     float64 // the truth's band, requests per second
		poisson    bool
		inFlight   int // the cap's, when it is one
	}{
		{"bucket of one", "algorithm=token-bucket,rate=50/s,burst=1", 500, "token-bucket", 48.5, 51.5, true, 0},
		{"bucket with burst", "algorithm=token-bucket,rate=50/s,burst=50", 500, "token-bucket", 48, 52, false, 0},
		{"cap of 32", "algorithm=concurrency,max_in_flight=32,latency=200ms", 1600, "concurrency", 152, 168, false, 32},
		{"bucket of three at 200/s", "algorithm=token-bucket,rate=200/s,burst=3", 2000, "token-bucket", 194, 206, false, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, url := serveMock(t, tt.spec)
			addr, err := tox.Proxy("jitter"+string(rune('a'+i)), strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"),
				toxitest.Delay{Latency: 50 * time.Millisecond, Jitter: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			sc := scenario(t, "http://"+addr+"/", func(sc *scenarios.Scenario) {
				sc.Probe = scenarios.Probe{Strategy: scenarios.StrategyAuto, Start: 5, Max: units.Rate(tt.max)}
			})
			run, err := probe.Execute(context.Background(), sc, probe.Options{})
			if err != nil {
				t.Fatal(err)
			}
			s := run.Summary
			if s.Algorithm != tt.algo || s.EffectiveLimitRPS < tt.lo || s.EffectiveLimitRPS > tt.hi {
				t.Errorf("got %s at %.1f/s (confidence %g), want %s within %g–%g/s; reasons: %v", s.Algorithm, s.EffectiveLimitRPS, s.Confidence, tt.algo, tt.lo, tt.hi, s.Reasons)
			}
			poisson := false
			for _, st := range run.Steps {
				poisson = poisson || st.Arrivals == "poisson"
			}
			if tt.inFlight > 0 && (s.MaxInFlight < tt.inFlight-1 || s.MaxInFlight > tt.inFlight+1) {
				t.Errorf("got %d in flight, want %d ±1", s.MaxInFlight, tt.inFlight)
			}
			if poisson != tt.poisson {
				t.Errorf("Poisson arrivals %v, want %v", poisson, tt.poisson)
			}
			if t.Failed() {
				keepFailedRun(t, run)
			}
		})
	}
}
