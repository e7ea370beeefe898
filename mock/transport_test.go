package mock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// load is the outcome of a paced open-loop run, as the client saw it.
type load struct {
	sent, ok, throttled, errs int
	// okAt holds the send time (offset from the start) of each admitted
	// request.
	okAt []time.Duration
	span time.Duration // from the first send to the last
}

// offer sends n requests at rps requests per second, open loop (each in its
// own goroutine, arrivals never wait for responses), and waits for all
// responses. It is bounded in count (n) and in time (n/rps plus the client
// timeout).
func offer(client *http.Client, url string, rps float64, n int) load {
	var (
		mu  sync.Mutex
		res load
		wg  sync.WaitGroup
	)
	every := time.Duration(float64(time.Second) / rps)
	start := time.Now()
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			time.Sleep(d)
		}
		at := time.Since(start)
		wg.Go(func() {
			resp, err := client.Get(url)
			status := 0
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status = resp.StatusCode
			}
			mu.Lock()
			defer mu.Unlock()
			res.sent++
			res.span = max(res.span, at)
			switch {
			case status == http.StatusOK:
				res.ok++
				res.okAt = append(res.okAt, at)
			case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
				res.throttled++
			default:
				res.errs++
			}
		})
	}
	wg.Wait()
	return res
}

func newClient() (*http.Client, func()) {
	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 10 * time.Second}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}, tr.CloseIdleConnections
}

// arrivals records when requests reach the server, to tell a starved load
// generator (long gaps between arrivals) from a limiter that admits too
// little.
type arrivals struct {
	mu sync.Mutex
	at []time.Time
	h  http.Handler
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" {
		a.mu.Lock()
		a.at = append(a.at, time.Now())
		a.mu.Unlock()
	}
	a.h.ServeHTTP(w, r)
}

// maxGap returns the longest pause between two arrivals.
func (a *arrivals) maxGap() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	at := slices.Clone(a.at)
	slices.SortFunc(at, func(x, y time.Time) int { return x.Compare(y) })
	var g time.Duration
	for i := 1; i < len(at); i++ {
		g = max(g, at[i].Sub(at[i-1]))
	}
	return g
}

// errStarved marks a run the load generator could not pace (the machine was
// busy); it says nothing about the mock and is retried.
var errStarved = errors.New("load generator starved")

// untilBoundary sleeps until just after the next multiple of w on the wall
// clock, where the mock's aligned windows start.
func untilBoundary(w time.Duration) {
	now := time.Now()
	time.Sleep(now.Truncate(w).Add(w).Sub(now) + 2*time.Millisecond)
}

// transportCase is one algorithm driven over loopback.
type transportCase struct {
	spec string
	// align starts the run on a window boundary (aligned windows).
	align time.Duration
	// allowance is subtracted from the admitted count before dividing by
	// the duration: what is admitted at once from idle on top of the steady
	// rate. Zero when the duration is a whole number of the algorithm's
	// periods (windows, service times).
	allowance int
	// perSpan divides by the span of sends instead of the nominal duration
	// (rate algorithms, whose count is burst + rate·span).
	perSpan bool
	// check replaces the rate band (lockout, none).
	check func(c *http.Client, base string, limit float64) error
}

// TestRealTransportAtTwiceTheLimit offers twice the effective limit of each
// algorithm over loopback for two seconds and checks the admitted rate
// against the truth (±5%). The runs are independent and mostly sleep, so they
// all run at once whatever -parallel is; a run whose load generator was
// starved by a busy machine is repeated (at most three times).
func TestRealTransportAtTwiceTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("timed load over loopback")
	}
	const dur = 2 * time.Second
	cases := []transportCase{
		{spec: "algorithm=token-bucket,rate=50/s,burst=10", allowance: 10, perSpan: true},
		{spec: "algorithm=gcra,rate=50/s,burst=10", allowance: 10, perSpan: true},
		{spec: "algorithm=queue,rate=50/s,burst=5", allowance: 6, perSpan: true},
		{spec: "algorithm=fixed-window,limit=25,window=500ms", align: 500 * time.Millisecond},
		{spec: "algorithm=sliding-log,limit=25,window=500ms"},
		{spec: "algorithm=sliding-counter,limit=25,window=500ms", align: 500 * time.Millisecond},
		{spec: "algorithm=concurrency,max_in_flight=20,latency=200ms"},
		{spec: "algorithm=lockout,limit=25,window=500ms", check: checkLockout},
		{spec: "algorithm=none", check: checkNone},
	}
	runOnce := func(tc transportCase) error {
		s, err := New(mustSpecErr(tc.spec))
		if err != nil {
			return err
		}
		arr := &arrivals{h: s}
		ts := httptest.NewServer(arr)
		defer ts.Close()
		client, done := newClient()
		defer done()
		limit := s.Truth().EffectiveLimitRPS
		if tc.check != nil {
			err := tc.check(client, ts.URL, limit)
			if g := arr.maxGap(); err != nil && g > 60*time.Millisecond {
				return fmt.Errorf("%w (a %v pause between arrivals): %v", errStarved, g, err)
			}
			return err
		}
		if tc.align > 0 {
			untilBoundary(tc.align)
		}
		res := offer(client, ts.URL+"/", 2*limit, int(2*limit*dur.Seconds()))
		if g := arr.maxGap(); g > 60*time.Millisecond {
			return fmt.Errorf("%w: a %v pause between arrivals at %.0f/s", errStarved, g, 2*limit)
		}
		if res.errs > 0 {
			return fmt.Errorf("got %d errors, want none", res.errs)
		}
		per := dur
		if tc.perSpan {
			per = res.span
		}
		got := float64(res.ok-tc.allowance) / per.Seconds()
		if math.Abs(got-limit) > 0.05*limit {
			return fmt.Errorf("admitted rate at %.0f/s offered: got %.1f/s (%d of %d admitted), want %.1f/s ± 5%%", 2*limit, got, res.ok, res.sent, limit)
		}
		after := getTruth(ts.URL)
		if after.Accepted != int64(res.ok) || after.Requests != int64(res.sent) || after.Throttled != int64(res.throttled) {
			return fmt.Errorf("truth counters: got %d requests, %d accepted, %d throttled; want %d, %d, %d as the client saw",
				after.Requests, after.Accepted, after.Throttled, res.sent, res.ok, res.throttled)
		}
		return nil
	}
	results := make([]error, len(cases))
	var wg sync.WaitGroup
	for i, tc := range cases {
		wg.Go(func() {
			for attempt := 1; ; attempt++ {
				results[i] = runOnce(tc)
				if !errors.Is(results[i], errStarved) || attempt == 3 {
					return
				}
			}
		})
	}
	wg.Wait()
	for i, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			switch err := results[i]; {
			case errors.Is(err, errStarved):
				t.Errorf("the load could not be paced in three tries (the machine is too busy for this test): %v", err)
			case err != nil:
				t.Error(err)
			}
		})
	}
}

// checkLockout: just below the limit nothing is denied; at twice the limit,
// from idle, about one window's quota passes and then the client stays locked
// out. Windows are clock-aligned, so when the hammering starts late in a
// window (P < 25 arrivals there) the next window still admits while
// P·(1-f) + 50·f < 25: at most 30 in all for limit 25 at 100/s, and nothing
// from the second full window on (the count is then ≥ 50).
func checkLockout(client *http.Client, base string, limit float64) error {
	calm := offer(client, base+"/", 0.9*limit, int(0.9*limit*1.5))
	if calm.ok != calm.sent {
		return fmt.Errorf("at 90%% of the limit: got %d of %d admitted, want all", calm.ok, calm.sent)
	}
	if err := resetMock(base); err != nil {
		return err
	}
	hammer := offer(client, base+"/", 2*limit, int(2*limit*1.5))
	late := 0
	for _, at := range hammer.okAt {
		if at >= 1050*time.Millisecond {
			late++
		}
	}
	if hammer.ok > 30 || late > 0 {
		return fmt.Errorf("at twice the limit for 1.5s: got %d admitted, %d after 1.05s, want at most 30 and none after two windows", hammer.ok, late)
	}
	return nil
}

// checkNone: everything offered is admitted.
func checkNone(client *http.Client, base string, _ float64) error {
	res := offer(client, base+"/", 100, 200)
	if res.ok != 200 {
		return fmt.Errorf("got %d of %d admitted, want all 200", res.ok, res.sent)
	}
	return nil
}

func mustSpecErr(spec string) Config {
	cfg, err := ParseSpec(spec)
	if err != nil {
		panic(err)
	}
	return cfg
}

func getTruth(base string) Truth {
	var tr Truth
	resp, err := http.Get(base + TruthPath)
	if err != nil {
		return tr
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&tr)
	return tr
}

func resetMock(base string) error {
	resp, err := http.Post(base+ResetPath, "", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: got %d, want 200", ResetPath, resp.StatusCode)
	}
	return nil
}
