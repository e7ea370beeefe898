package probe_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"limitprobe/estimate"
	"limitprobe/internal/nginxtest"
	"limitprobe/probe"
	"limitprobe/scenarios"
)

// startNginx runs nginx with cfg for one test; it skips when nginx is not
// installed, except in CI where a missing nginx is a failure.
func startNginx(t *testing.T, cfg nginxtest.Config) string {
	t.Helper()
	_, ok := nginxtest.Binary()
	needServer(t, ok, nginxtest.Required(), "nginx", "nginx-light", "LIMITPROBE_REQUIRE_NGINX")
	s, err := nginxtest.Start(context.Background(), t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s.URL
}

func TestNginxThrottlingDetected(t *testing.T) {
	tests := []struct {
		name   string
		status int
		want   []int // throttle_status the scenario declares
	}{
		{"limit_req_status 429", 429, []int{429}},
		{"nginx default 503", 0, []int{429, 503}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := startNginx(t, nginxtest.Config{Rate: "20r/s", Burst: 5, NoDelay: true, Status: tt.status})
			sc := scenario(t, url, func(sc *scenarios.Scenario) {
				sc.Target.ThrottleStatus = tt.want
				sc.Probe = scenarios.Probe{Strategy: scenarios.StrategySteps, Start: 10, Max: 40, Factor: 4, Step: 2 * time.Second, Cooldown: 500 * time.Millisecond}
			})
			run, err := probe.Execute(context.Background(), sc, probe.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(run.Steps) != 2 {
				t.Fatalf("got %d steps, want 2 (10/s and 40/s)", len(run.Steps))
			}
			if s := run.Steps[0]; s.Throttled != 0 || s.Errors != 0 {
				t.Errorf("at 10/s against 20r/s: %d throttled, %d errors; want none", s.Throttled, s.Errors)
			}
			s := run.Steps[1]
			if s.Errors != 0 {
				t.Errorf("at 40/s: %d errors (%v); nginx's rejections must count as throttled, not errors", s.Errors, s.ErrorKinds)
			}
			if s.ThrottledRatio < 0.3 || s.ThrottledRatio > 0.6 {
				t.Errorf("at 40/s against 20r/s: throttled share %.2f, want 0.3..0.6", s.ThrottledRatio)
			}
			if !within(s.SteadyRPS, 20, 0.1) {
				t.Errorf("steady goodput %.1f/s, want 20/s ±10%%", s.SteadyRPS)
			}
		})
	}
}

// auto against a real limit_req: with a burst it reads the rate (±3%) and
// the burst. Without one, nginx counts whole milliseconds and admits one
// request per 20 of them at 50r/s, which random arrivals meet from 19 ms
// after the last: the truth is 50/s to evenly spaced requests and up to
// 1000/19 = 52.6/s to random ones, and the estimate must lie in that band
// (±3%).
func TestNginxAuto(t *testing.T) {
	tests := []struct {
		name      string
		cfg       nginxtest.Config
		rate, top float64 // the truth's band
		burst     int
	}{
		{"rate=50r/s burst=20 nodelay", nginxtest.Config{Rate: "50r/s", Burst: 20, NoDelay: true, Status: 429}, 50, 50, 20},
		{"rate=50r/s without burst", nginxtest.Config{Rate: "50r/s", Status: 429}, 50, 1000.0 / 19, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := startNginx(t, tt.cfg)
			run := runAuto(t, url, 500)
			s := run.Summary
			if r := s.EffectiveLimitRPS; r < tt.rate*0.97 || r > tt.top*1.03 || s.Algorithm != estimate.AlgorithmTokenBucket {
				t.Errorf("got %s %.1f/s, want token-bucket %.1f–%.1f/s ±3%%\n%s", s.Algorithm, r, tt.rate, tt.top, strings.Join(s.Reasons, "\n"))
			}
			// nginx's burst is what it queues beyond the request in hand.
			if b := s.Burst - 1; b < tt.burst-max(2, tt.burst/10) || b > tt.burst+max(2, tt.burst/10) {
				t.Errorf("burst %d (nginx's %d plus the request in hand), want %d ±10%% or ±2", s.Burst, b, tt.burst)
			}
		})
	}
}
