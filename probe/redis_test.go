package probe_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"limitprobe/estimate"
	"limitprobe/internal/redistest"
	"limitprobe/probe"
	"limitprobe/scenarios"
)

// startRedis runs Redis behind the INCR-and-PEXPIRE front with cfg for one
// test; it skips when redis-server is not installed, except in CI where a
// missing one is a failure.
func startRedis(t *testing.T, cfg redistest.Config) string {
	t.Helper()
	_, ok := redistest.Binary()
	needServer(t, ok, redistest.Required(), "redis-server", "redis-server", "LIMITPROBE_REQUIRE_REDIS")
	s, err := redistest.Start(context.Background(), t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s.URL
}

// auto against the two limits most often written by hand on Redis, 30
// per 3 s. The counter: INCR, and PEXPIRE on the first count; a fixed
// window counted from the first request after the last expired, by
// Redis's clock. On loopback and in front of a backend with log-normal
// latency (median 300 ms, p99 1.93 s), where fits on the clock alone read
// the mock's windows counted so as a sliding window at 0.98–1.00, or
// 9.59/s with a band short of 10/s. The log: a sorted set of request
// times trimmed to the window, refused requests logged too, so a client
// that keeps sending faster stays shut out, which the report calls a
// lockout; fitted only as a counter of every request, it read 9.71/s at
// 1.00 on loopback and 9.29–11.3/s at 0.89–0.98 behind the slow backend,
// the bands leaving 10/s out.
func TestRedisAuto(t *testing.T) {
	tests := []struct {
		name string
		log  bool
		slow bool
		alg  string
	}{
		{"counter", false, false, estimate.AlgorithmFixedWindow},
		{"counter in front of a slow backend", false, true, estimate.AlgorithmFixedWindow},
		{"log of every request", true, false, estimate.AlgorithmLockout},
		{"log of every request in front of a slow backend", true, true, estimate.AlgorithmLockout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := redistest.Config{Limit: 30, Window: 3 * time.Second, Log: tt.log}
			if tt.slow {
				_, cfg.Upstream = serveMock(t, "algorithm=none,latency=lognormal:300ms,1929ms")
			}
			url := startRedis(t, cfg)
			sc := scenario(t, url, func(sc *scenarios.Scenario) {
				sc.Probe = scenarios.Probe{Strategy: scenarios.StrategyAuto, Start: 5, Max: 100}
			})
			run, err := probe.Execute(context.Background(), sc, probe.Options{})
			if err != nil {
				t.Fatal(err)
			}
			s := run.Summary
			t.Logf("%s %.4g/s (band %.4g–%.4g), burst %d, window %.3g s, confidence %.2f; %d requests", s.Algorithm, s.EffectiveLimitRPS,
				s.EffectiveLimitBand.Low, s.EffectiveLimitBand.High, s.Burst, s.WindowS, s.Confidence, run.RequestsSent)
			if !within(s.EffectiveLimitRPS, 10, 0.03) || s.Algorithm != tt.alg {
				t.Errorf("got %s %.4g/s, want %s 10/s ±3%%\n%s", s.Algorithm, s.EffectiveLimitRPS, tt.alg, strings.Join(s.Reasons, "\n"))
			}
			if b := s.EffectiveLimitBand; s.Confidence >= 0.8 && (b.Low > 10 || b.High < 10) {
				t.Errorf("band %.4g–%.4g/s at %.2f, want it to hold 10/s", b.Low, b.High, s.Confidence)
			}
			if math.Abs(float64(s.Burst-30)) > 3 {
				t.Errorf("burst %d, want 30 ±10%%", s.Burst)
			}
			if !within(s.WindowS, 3, 0.05) {
				t.Errorf("window %.3g s, want 3 s ±5%%", s.WindowS)
			}
			if t.Failed() {
				keepFailedRun(t, run)
			}
		})
	}
}
