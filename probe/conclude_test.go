package probe_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"limitprobe/probe"
	"limitprobe/scenarios"
)

// spentAfter serves five successes, then refusals whose headers set asks
// for a long wait.
func spentAfter(t *testing.T, set func(h http.Header)) string {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 5 {
			set(w.Header())
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/"
}

func TestAbsurdWaitEndsTheRun(t *testing.T) {
	tests := []struct {
		name, want string
		set        func(h http.Header)
	}{
		{"Retry-After of 23 days", "the target asked to wait 23 d (Retry-After) before more requests, longer than the",
			func(h http.Header) { h.Set("Retry-After", "1987200") }},
		{"reset 30 days ahead", "the target asked to wait 30 d (reset) before more requests",
			func(h http.Header) {
				h.Set("X-RateLimit-Limit", "5")
				h.Set("X-RateLimit-Remaining", "0")
				h.Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(30*24*time.Hour).Unix()))
			}},
	}
	for _, tt := range tests {
		for _, strategy := range []string{scenarios.StrategyAuto, scenarios.StrategySteps} {
			t.Run(tt.name+" "+strategy, func(t *testing.T) {
				sc := scenario(t, spentAfter(t, tt.set), func(sc *scenarios.Scenario) {
					sc.Probe = scenarios.Probe{Strategy: strategy, Start: 20, Max: 40, Step: time.Second}
					sc.Limits.MaxDuration = 2 * time.Minute
				})
				began := time.Now()
				run, err := probe.Execute(context.Background(), sc, probe.Options{})
				if !errors.Is(err, probe.ErrUnusable) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("got err %v, want ErrUnusable saying %q", err, tt.want)
				}
				if !strings.HasPrefix(run.Inconclusive, tt.want) || run.StopReason != run.Inconclusive {
					t.Errorf("got inconclusive %q, stop reason %q; want both to say %q", run.Inconclusive, run.StopReason, tt.want)
				}
				if run.Summary.EffectiveLimitRPS != 0 || run.Summary.Algorithm != "unknown" {
					t.Errorf("got a limit of %v (%s) from %d requests, want none", run.Summary.EffectiveLimitRPS, run.Summary.Algorithm, run.RequestsSent)
				}
				if took := time.Since(began); took > 10*time.Second {
					t.Errorf("the run took %v; it must end when the wait is beyond its time", took)
				}
			})
		}
	}
}

func TestAdvertisedWindowExplainsItsReset(t *testing.T) {
	_, url := serveMock(t, "algorithm=fixed-window,limit=20,window=5m,headers=ietf")
	sc := scenario(t, url, func(sc *scenarios.Scenario) {
		sc.Probe = scenarios.Probe{Strategy: scenarios.StrategyAuto, Start: 5, Max: 40, Step: time.Second}
		sc.Limits.MaxDuration = time.Minute
	})
	run, err := probe.Execute(context.Background(), sc, probe.Options{})
	if err != nil || run.Inconclusive != "" {
		t.Errorf("got err %v, inconclusive %q; a reset within the advertised 5m window is the quota's answer", err, run.Inconclusive)
	}
}

func TestNoSuccessIsInconclusive(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }))
	defer ts.Close()
	run, err := probe.Execute(context.Background(), scenario(t, ts.URL+"/", steps), probe.Options{})
	want := fmt.Sprintf("no request succeeded: %d throttled, 0 failed", run.RequestsSent)
	if !errors.Is(err, probe.ErrUnusable) || run.Inconclusive != want || run.StopReason != want || run.RequestsSent == 0 {
		t.Errorf("got err %v, inconclusive %q, stop reason %q; want ErrUnusable and %q", err, run.Inconclusive, run.StopReason, want)
	}
}
