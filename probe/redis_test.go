package probe_test

import (
	"context"
	"testing"
	"time"

	"limitprobe/estimate"
	"limitprobe/internal/redistest"
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
			autoReadsWindow(t, startRedis(t, cfg), tt.alg, 30, 3)
		})
	}
}
