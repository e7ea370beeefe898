package probe_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"limitprobe/evidence"
	"limitprobe/probe"
	"limitprobe/scenarios"
)

// steps is a short steps strategy at 50/s for the status tests.
func steps(sc *scenarios.Scenario) {
	sc.Probe = scenarios.Probe{Strategy: scenarios.StrategySteps, Start: 50, Max: 50, Step: time.Second}
}

func cause(run *probe.Run, name string) (evidence.ErrorCause, bool) {
	for _, c := range run.ErrorCauses {
		if c.Cause == name {
			return c, true
		}
	}
	return evidence.ErrorCause{}, false
}

func TestRedirectsAreNotSuccess(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login?token=abc12345", http.StatusFound)
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("sign in")) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusMovedPermanently)
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	t.Run("not followed", func(t *testing.T) {
		run, err := probe.Execute(context.Background(), scenario(t, ts.URL+"/api", steps), probe.Options{})
		if !errors.Is(err, probe.ErrUnusable) || run.ErrorsTotal != run.RequestsSent || run.RequestsSent == 0 {
			t.Fatalf("got err %v, %d of %d errors; want every request an error and ErrUnusable", err, run.ErrorsTotal, run.RequestsSent)
		}
		c, ok := cause(run, probe.CauseRedirect)
		if want := "302 Found to /login?token=***"; !ok || c.Example != want {
			t.Errorf("got causes %+v, want redirect with example %q", run.ErrorCauses, want)
		}
		if !strings.Contains(err.Error(), "set target.redirects (--redirects) to follow it") || strings.Contains(err.Error(), "abc12345") {
			t.Errorf("error %q should say how to follow the redirect, without the token", err)
		}
	})
	t.Run("followed", func(t *testing.T) {
		run, err := probe.Execute(context.Background(), scenario(t, ts.URL+"/api", func(sc *scenarios.Scenario) {
			steps(sc)
			sc.Target.Redirects = 2
		}), probe.Options{})
		if err != nil || run.ErrorsTotal != 0 || run.RequestsSent == 0 {
			t.Fatalf("got err %v, %d errors of %d; want the final 200s to count", err, run.ErrorsTotal, run.RequestsSent)
		}
	})
	t.Run("loop", func(t *testing.T) {
		run, err := probe.Execute(context.Background(), scenario(t, ts.URL+"/loop", func(sc *scenarios.Scenario) {
			steps(sc)
			sc.Target.Redirects = 3
		}), probe.Options{})
		if _, ok := cause(run, probe.CauseRedirects); !ok || !errors.Is(err, probe.ErrUnusable) {
			t.Errorf("got err %v, causes %+v; want a redirect loop", err, run.ErrorCauses)
		}
	})
}

func TestForbiddenWithSpentQuotaIsThrottled(t *testing.T) {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 10 {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Limit", "10")
			w.WriteHeader(http.StatusForbidden) // GitHub's way
			return
		}
		w.Write([]byte("ok"))
	}))
	defer ts.Close()
	run, err := probe.Execute(context.Background(), scenario(t, ts.URL+"/", steps), probe.Options{})
	if err != nil || run.ErrorsTotal != 0 || run.ThrottledTotal != run.RequestsSent-10 {
		t.Errorf("got err %v, %d errors, %d throttled of %d; want every 403 after the tenth throttled", err, run.ErrorsTotal, run.ThrottledTotal, run.RequestsSent)
	}
}

func TestScalingUpIsNotALimit(t *testing.T) {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 20 {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":"The endpoint is scaling up, please retry"}`))
			return
		}
		w.Write([]byte("ok"))
	}))
	defer ts.Close()
	sc := scenario(t, ts.URL+"/", func(sc *scenarios.Scenario) {
		steps(sc)
		sc.Target.ThrottleStatus = []int{429, 503} // nginx's 503 means throttled, this one does not
	})
	run, err := probe.Execute(context.Background(), sc, probe.Options{})
	c, ok := cause(run, probe.CauseScalingUp)
	if err != nil || run.ThrottledTotal != 0 || !ok || c.Count != 20 || !strings.Contains(c.Example, "scaling up") {
		t.Errorf("got err %v, %d throttled, causes %+v; want 20 scaling-up errors and no throttling", err, run.ThrottledTotal, run.ErrorCauses)
	}
	if r := probe.Remedy(probe.CauseScalingUp); !strings.Contains(r, "X-Scale-Up-Timeout") {
		t.Errorf("the remedy %q should name X-Scale-Up-Timeout", r)
	}
}

func TestNonHTTPRepliesAreNamed(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n\r\n"))
			c.Close()
		}
	}))
	defer ts.Close()
	run, err := probe.Execute(context.Background(), scenario(t, ts.URL+"/", steps), probe.Options{})
	c, ok := cause(run, probe.CauseNotHTTP)
	if !errors.Is(err, probe.ErrUnusable) || !ok || !strings.Contains(c.Example, "malformed HTTP") || !strings.Contains(err.Error(), "did not answer in HTTP") {
		t.Errorf("got err %v, causes %+v; want not-http with its message", err, run.ErrorCauses)
	}
}
