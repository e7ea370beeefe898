package probe_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/mock"
	"limitprobe/probe"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// serveMock starts the mock with spec on a loopback port for one test.
func serveMock(t *testing.T, spec string) (*mock.Server, string) {
	t.Helper()
	cfg, err := mock.ParseSpec(spec)
	if err != nil {
		t.Fatalf("mock spec %q: %v", spec, err)
	}
	srv, err := mock.New(cfg)
	if err != nil {
		t.Fatalf("mock.New: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); ts.Close() })
	return srv, ts.URL + "/"
}

// scenario builds a checked scenario aimed at url.
func scenario(t *testing.T, url string, mod func(*scenarios.Scenario)) *scenarios.Scenario {
	t.Helper()
	sc := &scenarios.Scenario{Name: t.Name(), Target: scenarios.Target{URL: url}}
	mod(sc)
	scenarios.ApplyDefaults(sc)
	if ps := scenarios.Check(sc); len(ps) > 0 {
		t.Fatalf("scenario: %v", ps)
	}
	return sc
}

// needServer skips a test whose server program (name, Debian's package
// pkg) is not installed, except where it is required (CI, or env set),
// where that fails it: .ci/run installs it.
func needServer(t *testing.T, found, required bool, name, pkg, env string) {
	t.Helper()
	switch {
	case found:
	case required:
		t.Fatalf("%s is required here (CI or %s) but not installed; .ci/run installs %s", name, env, pkg)
	default:
		t.Skipf("%s not installed (apt-get install %s); CI runs this test", name, pkg)
	}
}

func within(got, want, tol float64) bool { return math.Abs(got-want) <= tol*want }

func TestStepsAgainstTokenBucket(t *testing.T) {
	_, url := serveMock(t, "algorithm=token-bucket,rate=40/s,burst=5")
	sc := scenario(t, url, func(sc *scenarios.Scenario) {
		sc.Probe = scenarios.Probe{Strategy: scenarios.StrategySteps, Start: 20, Max: 80, Factor: 2, Step: 2 * time.Second, Cooldown: 500 * time.Millisecond, StopAfter: 5}
	})
	run, err := probe.Execute(context.Background(), sc, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Steps) != 3 {
		t.Fatalf("got %d steps, want 3 (20, 40, 80/s)", len(run.Steps))
	}
	below, above := run.Steps[0], run.Steps[2]
	if below.Throttled != 0 {
		t.Errorf("at 20/s (half the rate) %d requests were throttled, want 0", below.Throttled)
	}
	// At 80/s against 40/s the bucket passes 40/s plus its burst: about half.
	if above.ThrottledRatio < 0.4 || above.ThrottledRatio > 0.6 {
		t.Errorf("at 80/s throttled share = %.2f, want 0.4..0.6", above.ThrottledRatio)
	}
	if !within(above.SteadyRPS, 40, 0.1) {
		t.Errorf("steady goodput at 80/s = %.1f/s, want 40/s ±10%%", above.SteadyRPS)
	}
	if above.FirstThrottleS < 0 || above.OKBeforeThrottle < 5 {
		t.Errorf("first throttle at %.2fs after %d ok, want a throttle after at least the burst of 5", above.FirstThrottleS, above.OKBeforeThrottle)
	}
	onset, ok := estimate.Onset(run.Steps, sc.Probe.Threshold)
	if !ok || onset != 80 {
		t.Errorf("onset = %v (ok %v), want 80/s: the 40/s step is at the rate itself and must stay under 1%%", onset, ok)
	}
	if run.RequestsSent != run.Steps[0].Requests+run.Steps[1].Requests+run.Steps[2].Requests {
		t.Errorf("requests_sent %d is not the sum of the steps", run.RequestsSent)
	}
	if run.Advertised != nil {
		t.Errorf("mock without headers advertised %+v", run.Advertised)
	}
	if n := len(run.Timeline.Buckets); n < 50 {
		t.Errorf("timeline has %d buckets, want ≥ 50 at 100ms over ~7s", n)
	}
}

// TestCooldownCountsFromTheLastSend: a bucket that refuses at once in
// front of a backend that answers in 800 ms. A cooldown of 1.5 s is idle
// time at the limiter from the last request sent (its refusals came back
// within a millisecond), not 1.5 s more after the last answer is back.
func TestCooldownCountsFromTheLastSend(t *testing.T) {
	_, url := serveMock(t, "algorithm=token-bucket,rate=5/s,burst=1,latency=800ms")
	sc := scenario(t, url, func(sc *scenarios.Scenario) {
		sc.Probe = scenarios.Probe{Strategy: scenarios.StrategySteps, Start: 10, Max: 20, Factor: 2, Step: time.Second, Cooldown: 1500 * time.Millisecond, StopAfter: 5}
	})
	run, err := probe.Execute(context.Background(), sc, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Steps) != 2 {
		t.Fatalf("got %d steps, want 2 (10, 20/s)", len(run.Steps))
	}
	if st := run.Steps[0]; st.Throttled == 0 || st.OK == 0 {
		t.Fatalf("the first step had %d ok and %d throttled, want about half of each", st.OK, st.Throttled)
	}
	var lastSent, lastBack time.Duration
	next := time.Duration(math.MaxInt64)
	for _, r := range run.Recording().Requests {
		if r.Step == 0 {
			lastSent, lastBack = max(lastSent, r.Sent), max(lastBack, r.Sent+r.Latency)
		} else {
			next = min(next, r.Sent)
		}
	}
	if next-lastSent < 1500*time.Millisecond {
		t.Errorf("the second step began %v after the first step's last request, want the cooldown of 1.5 s at least", next-lastSent)
	}
	if next-lastBack >= 1500*time.Millisecond {
		t.Errorf("the second step began %v after the first step's last answer (%v after its last request), want less than the cooldown: it begins with the last request, not the last answer",
			next-lastBack, lastBack-lastSent)
	}
}

func TestConcurrencyFindsCap(t *testing.T) {
	_, url := serveMock(t, "algorithm=concurrency,max_in_flight=6,latency=50ms")
	sc := scenario(t, url, func(sc *scenarios.Scenario) {
		sc.Probe = scenarios.Probe{Strategy: scenarios.StrategyConcurrency, StartConcurrency: 4, MaxConcurrency: 8, Increment: 1, Step: time.Second, Cooldown: 100 * time.Millisecond, StopAfter: 5}
	})
	run, err := probe.Execute(context.Background(), sc, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range run.Steps {
		throttled := s.Throttled > 0
		if want := s.Concurrency > 6; throttled != want {
			t.Errorf("%d workers: throttled %d of %d, want throttling %v (cap 6)", s.Concurrency, s.Throttled, s.Requests, want)
		}
		if s.Concurrency <= 6 && s.MaxInFlight > s.Concurrency {
			t.Errorf("%d workers: max in flight %d exceeds the workers", s.Concurrency, s.MaxInFlight)
		}
	}
}

// TestQuotaReadsFixedWindow: strategy quota reads the x-ratelimit headers
// first, checks them, spends the window until the first refusal, waits for
// the reset the refusal gives and, with the whole share on loopback,
// spends the next window from its start to time it.
func TestQuotaReadsFixedWindow(t *testing.T) {
	t.Run("any phase", func(t *testing.T) {
		t.Parallel()
		quotaFixedWindow(t, 20*time.Second, -1)
	})
	// The check ends 4.5 s in and the spend, 200/s, meets the reset 0.2 s
	// later: 110 requests (the quota and 10) all passed, no refusal, and
	// the run ended with no spend and no word why (a race-pass run of ours
	// at that phase).
	t.Run("spend across a reset", func(t *testing.T) {
		t.Parallel()
		quotaFixedWindow(t, 10*time.Second, 10*time.Second-4700*time.Millisecond)
	})
}

// quotaFixedWindow runs TestQuotaReadsFixedWindow against a mock window
// of 100 per window; with at ≥ 0 it starts when the clock-aligned window
// is that far in.
func quotaFixedWindow(t *testing.T, window, at time.Duration) {
	_, url := serveMock(t, fmt.Sprintf("algorithm=fixed-window,limit=100,window=%s,headers=x-ratelimit", window))
	if at >= 0 {
		now := time.Duration(time.Now().UnixNano())
		time.Sleep((at - now%window + window) % window)
	}
	sc := scenario(t, url, func(sc *scenarios.Scenario) {
		sc.Probe = scenarios.Probe{Strategy: scenarios.StrategyQuota, Max: 200}
		sc.Limits.MaxDuration = time.Minute
	})
	run, err := probe.Execute(context.Background(), sc, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := run.Quota
	if q == nil || len(q.Readings) < 5 || len(q.Spends) != 2 {
		t.Fatalf("quota evidence %+v, want readings and two spends", q)
	}
	// The window is clock-aligned: a spend can start late in one and see up
	// to 2×100 before the first refusal, never more.
	for i, sp := range q.Spends {
		if sp.Admitted < 1 || sp.Admitted > 200 || sp.RetryAfterS <= 0 || sp.RetryAfterS > window.Seconds() || !sp.Reopened() {
			t.Errorf("spend %d: %+v; want 1..200 admitted, a reset within %s, and a reopening", i, sp, window)
		}
	}
	for _, s := range run.Steps {
		if s.Phase == evidence.PhaseQuota && (s.DurationS > 5 || s.Throttled == 0) {
			t.Errorf("quota step %d ran %.1f s with %d throttled; it must stop at the first throttle", s.Index+1, s.DurationS, s.Throttled)
		}
	}
	if run.Advertised == nil || run.Advertised.Limit != 100 || run.Advertised.ResetS <= 0 || run.Advertised.ResetS > window.Seconds() {
		t.Errorf("advertised = %+v, want limit 100 and a reset within %s", run.Advertised, window)
	}
	var b estimate.Policy
	for _, p := range run.Summary.Policies {
		if p.Binding {
			b = p
		}
	}
	if b.Limit != 100 || math.Abs(b.WindowS-window.Seconds()) > 0.05*window.Seconds() {
		t.Errorf("binding policy %+v, want 100 per %s; all: %+v; spends %+v", b, window, run.Summary.Policies, q.Spends)
	}
	// Twice the quota, after a check of 22; a spend across a reset meets
	// what was left of one window and the next whole.
	if run.RequestsSent > 350 {
		t.Errorf("sent %d requests to learn a quota of 100 (twice)", run.RequestsSent)
	}
}

func TestCapsBoundTheRun(t *testing.T) {
	_, url := serveMock(t, "algorithm=none")
	sc := scenario(t, url, func(sc *scenarios.Scenario) {
		sc.Probe = scenarios.Probe{Strategy: scenarios.StrategySteps, Start: 200, Max: 400, Step: 2 * time.Second, Cooldown: 100 * time.Millisecond}
		sc.Limits.MaxRequests = 300
	})
	var buf bytes.Buffer
	run, err := probe.Execute(context.Background(), sc, probe.Options{Raw: &buf})
	if err != nil {
		t.Fatal(err)
	}
	if run.RequestsSent != 300 {
		t.Errorf("sent %d, want exactly max_requests 300", run.RequestsSent)
	}
	// results.bin is vegeta's own encoding.
	dec := vegeta.NewDecoder(&buf)
	n := 0
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("decoding result %d: %v", n, err)
			}
			break
		}
		n++
	}
	if n != 300 {
		t.Errorf("decoded %d results, want 300", n)
	}
}

func TestInterruptStopsWithinASecond(t *testing.T) {
	_, url := serveMock(t, "algorithm=token-bucket,rate=50/s,burst=5,latency=3s")
	sc := scenario(t, url, func(sc *scenarios.Scenario) {
		sc.Probe = scenarios.Probe{Strategy: scenarios.StrategySteps, Start: 20, Max: 20, Step: 30 * time.Second}
	})
	// As signal.NotifyContext does: requests fail with the cause's words.
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(1500*time.Millisecond, func() { cancel(errors.New("interrupt signal received")) })
	began := time.Now()
	run, err := probe.Execute(ctx, sc, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 4*time.Second {
		t.Errorf("run took %v after an interrupt at 1.5s; requests in flight must be cut off", took)
	}
	if !run.Interrupted || len(run.Steps) != 1 {
		t.Errorf("interrupted %v with %d steps, want true with the partial step", run.Interrupted, len(run.Steps))
	}
	// Every request was in flight (3 s each) when the interrupt came: cut
	// off by the probe, none is the target's error or throttle.
	if run.RequestsSent != 0 || run.ErrorsTotal != 0 || run.ThrottledTotal != 0 || run.Requests.Len() != 0 {
		t.Errorf("got %d sent, %d errors %v, %d throttled, %d recorded; want none: the interrupt cut them",
			run.RequestsSent, run.ErrorsTotal, run.Steps[0].ErrorKinds, run.ThrottledTotal, run.Requests.Len())
	}
}

func TestUnreachableTargetIsUnusable(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL + "/"
	ts.Close() // nothing listens there any more
	sc := scenario(t, url, func(sc *scenarios.Scenario) {
		sc.Probe = scenarios.Probe{Strategy: scenarios.StrategySteps, Start: 20, Max: 40, Step: time.Second}
	})
	run, err := probe.Execute(context.Background(), sc, probe.Options{})
	if !errors.Is(err, probe.ErrUnusable) {
		t.Fatalf("err = %v, want ErrUnusable", err)
	}
	if run == nil || len(run.Steps) != 1 || run.Steps[0].ErrorKinds["refused"] == 0 {
		t.Errorf("want one step with refused connections, got %+v", run)
	}
}

func TestLinearRampIsOneLine(t *testing.T) {
	_, url := serveMock(t, "algorithm=token-bucket,rate=40/s,burst=5")
	sc := scenario(t, url, func(sc *scenarios.Scenario) {
		sc.Probe = scenarios.Probe{Strategy: scenarios.StrategyLinear, Start: 10, Max: 90, Increment: 20, Step: time.Second, StopAfter: 10}
	})
	run, err := probe.Execute(context.Background(), sc, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Steps) != 4 {
		t.Fatalf("got %d windows, want 4 (10→30→50→70→90/s)", len(run.Steps))
	}
	for i, s := range run.Steps {
		// Each window's mean offered rate is the middle of its part of the line.
		want := 20.0 + 20*float64(i)
		if !within(float64(s.Requests)/s.DurationS, want, 0.1) {
			t.Errorf("window %d sent %.1f/s, want %.0f/s ±10%%", i, float64(s.Requests)/s.DurationS, want)
		}
		if i > 0 && run.Steps[i].StartS-run.Steps[i-1].StartS > 1.2 {
			t.Errorf("window %d starts %.2fs after the previous; a linear ramp has no pauses", i, run.Steps[i].StartS-run.Steps[i-1].StartS)
		}
	}
	if run.Steps[0].Throttled != 0 || run.Steps[3].ThrottledRatio < 0.2 {
		t.Errorf("throttled: first window %d, last window share %.2f; want none below the rate and ≥ 20%% at 60-90/s",
			run.Steps[0].Throttled, run.Steps[3].ThrottledRatio)
	}
}

// runAuto runs auto from 5/s up to top against url.
func runAuto(t *testing.T, url string, top units.Rate) *probe.Run {
	t.Helper()
	sc := scenario(t, url, func(sc *scenarios.Scenario) {
		sc.Probe = scenarios.Probe{Strategy: scenarios.StrategyAuto, Start: 5, Max: top}
	})
	run, err := probe.Execute(context.Background(), sc, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// autoReadsWindow runs auto from 5 to 100/s against url and checks that it
// read alg at limit per window seconds: the rate within 3%, its band
// holding it at a confidence of 0.8 or more, the burst within 10%, the
// window within 5%. A failed run's evidence is kept.
func autoReadsWindow(t *testing.T, url, alg string, limit int, window float64) {
	t.Helper()
	run := runAuto(t, url, 100)
	s := run.Summary
	rate := float64(limit) / window
	t.Logf("%s %.4g/s (band %.4g–%.4g), burst %d, window %.3g s, confidence %.2f; %d requests", s.Algorithm, s.EffectiveLimitRPS,
		s.EffectiveLimitBand.Low, s.EffectiveLimitBand.High, s.Burst, s.WindowS, s.Confidence, run.RequestsSent)
	if !within(s.EffectiveLimitRPS, rate, 0.03) || s.Algorithm != alg {
		t.Errorf("got %s %.4g/s, want %s %.4g/s ±3%%\n%s", s.Algorithm, s.EffectiveLimitRPS, alg, rate, strings.Join(s.Reasons, "\n"))
	}
	if b := s.EffectiveLimitBand; s.Confidence >= 0.8 && (b.Low > rate || b.High < rate) {
		t.Errorf("band %.4g–%.4g/s at %.2f, want it to hold %.4g/s", b.Low, b.High, s.Confidence, rate)
	}
	if math.Abs(float64(s.Burst-limit)) > 0.1*float64(limit) {
		t.Errorf("burst %d, want %d ±10%%", s.Burst, limit)
	}
	if !within(s.WindowS, window, 0.05) {
		t.Errorf("window %.3g s, want %g s ±5%%", s.WindowS, window)
	}
	if t.Failed() {
		keepFailedRun(t, run)
	}
}

// keepFailedRun logs a failed run's steps and writes its evidence (see
// estimate.Recording) to a file named in the log, so that it can join
// estimate's TestRecordedRuns. In CI, where files are lost, the log
// carries it too, gzipped and base64-encoded.
func keepFailedRun(t *testing.T, run *probe.Run) {
	t.Helper()
	for _, st := range run.Steps {
		t.Logf("step %d %s: offered %.1f/s with %d workers, %d sent, %d ok, %d throttled in %.2f s, first throttle at %.3f s",
			st.Index+1, st.Phase, st.OfferedRPS, st.Concurrency, st.Requests, st.OK, st.Throttled, st.DurationS, st.FirstThrottleS)
	}
	file, b, err := run.Recording().Save("", t.Name())
	if err != nil {
		t.Logf("keeping the run: %v", err)
		return
	}
	t.Logf("the run's evidence is in %s", file)
	if os.Getenv("CI") == "" {
		return
	}
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	enc := base64.StdEncoding.EncodeToString(z.Bytes())
	t.Logf("the run's evidence, gzip and base64 (%d bytes):", len(enc))
	// Long lines: CI's log, as shown, keeps a line whole but drops lines
	// from the middle (a run in 167 lines of 120 characters lost 110).
	for len(enc) > 0 {
		n := min(len(enc), 4000)
		t.Log(enc[:n])
		enc = enc[n:]
	}
}
