package probe_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"limitprobe/estimate"
	"limitprobe/internal/haproxytest"
	"limitprobe/internal/toxitest"
)

// startHAProxy runs haproxy with cfg for one test; it skips when haproxy
// is not installed, except in CI where a missing haproxy is a failure.
func startHAProxy(t *testing.T, cfg haproxytest.Config) string {
	t.Helper()
	_, ok := haproxytest.Binary()
	needServer(t, ok, haproxytest.Required(), "haproxy", "haproxy", "LIMITPROBE_REQUIRE_HAPROXY")
	s, err := haproxytest.Start(context.Background(), t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s.URL
}

// auto against HAProxy's stick-table rates, sliding counters of 50 per
// 5 s: counting what it admits, a sliding window of 10/s with 50 from
// idle; counting every request (sc_http_req_rate, the usual recipe), a
// client that keeps sending stays shut out, which the report calls a
// lockout, at the same 10/s and 50. The lockout again behind toxiproxy at
// 50±20 ms each way: HAProxy's periods start anew at a request after a
// whole period with none (auto's holds), and through that jitter fits on
// the clock read 9.5–9.7/s, confidently, their bands short of 10/s.
func TestHAProxyAuto(t *testing.T) {
	tests := []struct {
		name   string
		cfg    haproxytest.Config
		alg    string
		jitter bool
	}{
		{"gpc0_rate(5s) of admitted requests", haproxytest.Config{Limit: 50, Period: 5 * time.Second}, estimate.AlgorithmSlidingWindow, false},
		{"http_req_rate(5s) of every request", haproxytest.Config{Limit: 50, Period: 5 * time.Second, CountRefused: true}, estimate.AlgorithmLockout, false},
		{"http_req_rate(5s) of every request behind jitter", haproxytest.Config{Limit: 50, Period: 5 * time.Second, CountRefused: true}, estimate.AlgorithmLockout, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := startHAProxy(t, tt.cfg)
			if tt.jitter {
				tox, err := toxitest.Start(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(tox.Stop)
				u := strings.TrimPrefix(url, "http://")
				host, path, _ := strings.Cut(u, "/")
				addr, err := tox.Proxy("haproxy", host, toxitest.Delay{Latency: 50 * time.Millisecond, Jitter: 20 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				url = "http://" + addr + "/" + path
			}
			run := runAuto(t, url, 100)
			s := run.Summary
			t.Logf("%s %.4g/s, burst %d, window %.3g s, confidence %.2f; %d requests", s.Algorithm, s.EffectiveLimitRPS, s.Burst, s.WindowS, s.Confidence, run.RequestsSent)
			tol := 0.03
			if tt.jitter {
				// Its band spans up to ±3% there (ten runs read −2.5% to
				// +1%); the band must hold the truth.
				tol = 0.04
				if b := s.EffectiveLimitBand; b.Low > 10 || b.High < 10 {
					t.Errorf("band %.4g–%.4g/s, want it to hold 10/s", b.Low, b.High)
				}
			}
			if !within(s.EffectiveLimitRPS, 10, tol) || s.Algorithm != tt.alg {
				t.Errorf("got %s %.4g/s, want %s 10/s ±%.0f%%\n%s", s.Algorithm, s.EffectiveLimitRPS, tt.alg, 100*tol, strings.Join(s.Reasons, "\n"))
			}
			if math.Abs(float64(s.Burst-50)) > 5 {
				t.Errorf("burst %d, want 50 ±10%%", s.Burst)
			}
			if !within(s.WindowS, 5, 0.05) {
				t.Errorf("window %.3g s, want 5 s ±5%%", s.WindowS)
			}
			if t.Failed() {
				keepFailedRun(t, run)
			}
		})
	}
}
