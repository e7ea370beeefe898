package mock

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"limitprobe/limiter"
)

// t0 is an instant aligned to every window the tests use (a whole hour).
var t0 = time.Unix(1_800_000_000, 0)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func mustLimiter(t testing.TB, cfg Config) *keyed {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("validate %+v: %v", cfg, err)
	}
	return newKeyed(&cfg)
}

// step sends n requests at t0+at and expects ok of them admitted.
type step struct {
	at time.Duration
	n  int
	ok int
	// retryAfter, when set, is the expected retry-after of the last denied
	// request of the step.
	retryAfter time.Duration
}

func runSteps(t *testing.T, l *keyed, steps []step) {
	t.Helper()
	for i, s := range steps {
		ok := 0
		var last decision
		for range s.n {
			d := l.Admit("", t0.Add(s.at))
			if d.OK {
				ok++
			} else {
				last = d
			}
		}
		if ok != s.ok {
			t.Errorf("step %d (%d at %v): got %d admitted, want %d", i, s.n, s.at, ok, s.ok)
		}
		if s.retryAfter != 0 && last.RetryAfter != s.retryAfter {
			t.Errorf("step %d (%d at %v): got retry-after %v, want %v", i, s.n, s.at, last.RetryAfter, s.retryAfter)
		}
	}
}

func TestAlgorithmsAdmitByDefinition(t *testing.T) {
	bucket := []step{
		{at: 0, n: 6, ok: 5, retryAfter: ms(100)}, // the burst, from idle
		{at: ms(50), n: 1, ok: 0, retryAfter: ms(50)},
		{at: ms(100), n: 2, ok: 1, retryAfter: ms(100)}, // then one per 100 ms
		{at: ms(200), n: 2, ok: 1},
		{at: ms(300), n: 2, ok: 1},
		{at: ms(350), n: 1, ok: 0},
		{at: ms(1300), n: 10, ok: 5}, // refilled, but never beyond the burst
		{at: 5 * time.Second, n: 10, ok: 5},
	}
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"token-bucket rate 10 burst 5", Config{Algorithm: limiter.TokenBucket, Rate: 10, Burst: 5}, bucket},
		{"gcra rate 10 burst 5", Config{Algorithm: limiter.GCRA, Rate: 10, Burst: 5}, bucket},
		{"token-bucket burst defaults to 1", Config{Algorithm: limiter.TokenBucket, Rate: 2}, []step{
			{at: 0, n: 3, ok: 1}, {at: ms(499), n: 1, ok: 0}, {at: ms(500), n: 2, ok: 1},
		}},
		{"fixed-window 100/10s", Config{Algorithm: limiter.FixedWindow, Limit: 100, Window: 10 * time.Second}, []step{
			{at: 0, n: 101, ok: 100, retryAfter: 10 * time.Second},
			{at: ms(4000), n: 5, ok: 0, retryAfter: 6 * time.Second},
			{at: ms(9999), n: 5, ok: 0, retryAfter: ms(1)}, // throttled until the boundary
			{at: ms(10000), n: 150, ok: 100},
		}},
		{"fixed-window passes 2L around a boundary", Config{Algorithm: limiter.FixedWindow, Limit: 100, Window: 10 * time.Second}, []step{
			{at: ms(9900), n: 100, ok: 100},
			{at: ms(10000), n: 100, ok: 100},
			{at: ms(10100), n: 1, ok: 0},
		}},
		{"fixed-window from first use", Config{Algorithm: limiter.FixedWindow, Limit: 100, Window: 10 * time.Second, WindowStart: WindowStartFirstUse}, []step{
			{at: ms(7000), n: 101, ok: 100, retryAfter: 10 * time.Second}, // the window starts with the first
			{at: ms(16999), n: 5, ok: 0, retryAfter: ms(1)},
			{at: ms(17000), n: 150, ok: 100},
		}},
		{"bucket under a quota", Config{Algorithm: limiter.TokenBucket, Rate: 10, Burst: 2, Quota: Quota{Limit: 5, Window: time.Hour}}, []step{
			{at: 0, n: 3, ok: 2, retryAfter: ms(100)}, // the bucket refuses the third: not counted
			{at: ms(1000), n: 3, ok: 2},
			{at: ms(2000), n: 3, ok: 1, retryAfter: time.Hour - 2*time.Second}, // the fifth, then the quota
			{at: ms(3000), n: 1, ok: 0},
			{at: time.Hour, n: 3, ok: 2},
		}},
		{"sliding-log 5/1s", Config{Algorithm: limiter.SlidingLog, Limit: 5, Window: time.Second}, []step{
			{at: 0, n: 3, ok: 3},
			{at: ms(400), n: 3, ok: 2, retryAfter: ms(600)},
			{at: ms(999), n: 1, ok: 0, retryAfter: ms(1)},
			{at: ms(1000), n: 4, ok: 3, retryAfter: ms(400)}, // the three slots used at 0 come back
			{at: ms(1400), n: 3, ok: 2},                      // the two used at 400 ms
			{at: ms(2400), n: 9, ok: 5},
		}},
		{"sliding-log 40/1s grows its ring", Config{Algorithm: limiter.SlidingLog, Limit: 40, Window: time.Second}, []step{
			{at: 0, n: 10, ok: 10},
			{at: ms(500), n: 40, ok: 30, retryAfter: ms(500)},
			{at: ms(1000), n: 15, ok: 10},
			{at: ms(1500), n: 40, ok: 30},
			{at: ms(1999), n: 1, ok: 0, retryAfter: ms(1)},
		}},
		{"sliding-counter 10/1s", Config{Algorithm: limiter.SlidingCounter, Limit: 10, Window: time.Second}, []step{
			{at: 0, n: 12, ok: 10, retryAfter: time.Second + 1}, // full until the next window
			{at: ms(1000), n: 1, ok: 0, retryAfter: 1},          // 10·(1-0) + 0: full, draining
			{at: ms(1500), n: 6, ok: 5},                         // 10·0.5 + 5 = 10
			{at: ms(2000), n: 6, ok: 5},                         // 5·1 + 5
			{at: ms(3500), n: 12, ok: 8},                        // 5·0.5 + 8 > 10
			{at: ms(6000), n: 12, ok: 10},                       // two windows idle: empty
		}},
		{"queue rate 10 burst 2 (immediate count)", Config{Algorithm: limiter.Queue, Rate: 10, Burst: 2}, []step{
			{at: 0, n: 4, ok: 3, retryAfter: ms(100)}, // one served, two waiting, one rejected
			{at: ms(100), n: 2, ok: 1},
			{at: ms(10000), n: 4, ok: 3},
		}},
		{"queue burst 0 is nginx's default: nothing waits", Config{Algorithm: limiter.Queue, Rate: 50}, []step{
			{at: 0, n: 2, ok: 1, retryAfter: ms(20)},
			{at: ms(19), n: 1, ok: 0},
			{at: ms(20), n: 2, ok: 1},
		}},
		{"none never limits", Config{Algorithm: limiter.None}, []step{{at: 0, n: 10000, ok: 10000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, mustLimiter(t, tt.cfg), tt.steps)
		})
	}
}

func TestQueueDelaysThenRejects(t *testing.T) {
	l := mustLimiter(t, Config{Algorithm: limiter.Queue, Rate: 10, Burst: 3})
	want := []struct {
		ok    bool
		delay time.Duration
	}{{true, 0}, {true, ms(100)}, {true, ms(200)}, {true, ms(300)}, {false, 0}, {false, 0}}
	for i, w := range want {
		d := l.Admit("", t0)
		if d.OK != w.ok || d.Delay != w.delay {
			t.Errorf("request %d at t0: got ok=%v delay=%v, want ok=%v delay=%v", i, d.OK, d.Delay, w.ok, w.delay)
		}
	}
	// 150 ms later the slots at 0 and 100 ms have been served: the next
	// request queues behind the one at 300 ms.
	if d := l.Admit("", t0.Add(ms(150))); !d.OK || d.Delay != ms(250) {
		t.Errorf("at 150ms: got ok=%v delay=%v, want ok=true delay=250ms", d.OK, d.Delay)
	}
	if d := l.Admit("", t0.Add(ms(150))); d.OK {
		t.Errorf("at 150ms, queue full again: got admitted with delay %v, want rejected", d.Delay)
	}
}

func TestConcurrencyAdmitsNThenThrottles(t *testing.T) {
	l := mustLimiter(t, Config{Algorithm: limiter.Concurrency, MaxInFlight: 3, Latency: Latency{Dist: LatencyFixed, Min: ms(100)}})
	var held []decision
	for i := range 3 {
		d := l.Admit("", t0)
		if !d.OK {
			t.Fatalf("request %d of 3: got throttled, want admitted", i+1)
		}
		held = append(held, d)
	}
	if d := l.Admit("", t0); d.OK {
		t.Fatalf("request 4 with 3 in flight: got admitted, want throttled")
	} else if d.RetryAfter != ms(100) {
		t.Errorf("retry-after: got %v, want the mean latency 100ms", d.RetryAfter)
	}
	held[0].release(t0)
	if d := l.Admit("", t0); !d.OK {
		t.Errorf("after one finished: got throttled, want admitted")
	}
	if d := l.Admit("", t0); d.OK {
		t.Errorf("cap reached again: got admitted, want throttled")
	}
}

func TestLockoutStaysLockedWhileHammered(t *testing.T) {
	cfg := Config{Algorithm: limiter.Lockout, Limit: 10, Window: time.Second}
	lock := mustLimiter(t, cfg)
	cfg.Algorithm = limiter.SlidingCounter
	slide := mustLimiter(t, cfg)

	// Hammer at 40/s (4× the limit) for 5 s, from idle.
	var lockOK, slideOK, lockLate int
	for i := range 200 {
		at := t0.Add(time.Duration(i) * 25 * time.Millisecond)
		if lock.Admit("", at).OK {
			lockOK++
			if i >= 40 {
				lockLate++
			}
		}
		if slide.Admit("", at).OK {
			slideOK++
		}
	}
	if lockOK != 10 || lockLate != 0 {
		t.Errorf("lockout hammered at 4x for 5s: got %d admitted (%d after 1s), want the first 10 only", lockOK, lockLate)
	}
	// The sliding counter, counting only admitted requests, keeps admitting
	// about limit per window.
	if slideOK < 45 || slideOK > 55 {
		t.Errorf("sliding-counter hammered for 5s: got %d admitted, want about 50", slideOK)
	}

	// Idle: the count decays and the client recovers.
	last := t0.Add(199 * 25 * time.Millisecond)
	d := lock.Admit("", last.Add(ms(1)))
	if d.OK {
		t.Fatalf("lockout right after hammering: got admitted, want denied")
	}
	back := last.Add(ms(1)).Add(d.RetryAfter)
	if !lock.Admit("", back).OK {
		t.Errorf("lockout after idling its retry-after %v: got denied, want admitted", d.RetryAfter)
	}
	if d.RetryAfter > 2*time.Second {
		t.Errorf("lockout retry-after: got %v, want at most two windows", d.RetryAfter)
	}

	// At the limit rate (below it by a hair) nothing is ever denied.
	calm := mustLimiter(t, Config{Algorithm: limiter.Lockout, Limit: 10, Window: time.Second})
	for i := range 100 {
		at := t0.Add(time.Duration(i) * 101 * time.Millisecond)
		if !calm.Admit("", at).OK {
			t.Fatalf("lockout at 9.9/s, request %d: got denied, want admitted", i)
		}
	}
}

// A lockout kept as a log refuses while Limit requests fell in the window
// before, where the counter weighs the last window by its overlap: ten
// requests late in one window, then one half a window later, which the
// counter (10 × 0.5) admits and the log refuses. Hammered, the log stays
// shut; idle a window, it admits again.
func TestLockoutLog(t *testing.T) {
	base := time.Unix(1_700_000_000, 0) // on a whole second: the counter's windows
	cfg := Config{Algorithm: limiter.Lockout, Limit: 10, Window: time.Second}
	counter := mustLimiter(t, cfg)
	cfg.LockoutCount = LockoutLog
	log := mustLimiter(t, cfg)
	for i := range 10 {
		at := base.Add(900*time.Millisecond + time.Duration(i)*10*time.Millisecond)
		if !counter.Admit("", at).OK || !log.Admit("", at).OK {
			t.Fatalf("request %d of the first 10: refused, want admitted", i)
		}
	}
	later := base.Add(1500 * time.Millisecond)
	if !counter.Admit("", later).OK {
		t.Errorf("counter half a window on: refused, want admitted (10 × 0.5 below 10)")
	}
	if log.Admit("", later).OK {
		t.Errorf("log half a window on: admitted, want refused (10 in the window before)")
	}
	ok := 0
	for i := range 5000 {
		if log.Admit("", later.Add(time.Duration(i+1)*25*time.Millisecond)).OK {
			ok++
		}
	}
	if ok != 0 {
		t.Errorf("log hammered at 40/s for 125 s: %d admitted, want none", ok)
	}
	last := later.Add(5000 * 25 * time.Millisecond)
	if !log.Admit("", last.Add(time.Second)).OK {
		t.Errorf("log idle a window after hammering: refused, want admitted")
	}
}

// TestWindowInvariants drives every algorithm with random arrivals and checks
// the invariant of its definition against a brute-force count.
func TestWindowInvariants(t *testing.T) {
	w := time.Second
	tests := []struct {
		cfg Config
		// check returns an error when the admitted instants break the
		// algorithm's definition.
		check func(admitted []time.Time) error
	}{
		{Config{Algorithm: limiter.SlidingLog, Limit: 7, Window: w}, func(a []time.Time) error {
			// Never more than L in any window (t-W, t].
			for i := range a {
				n := 0
				for j := i; j >= 0 && a[j].After(a[i].Add(-w)); j-- {
					n++
				}
				if n > 7 {
					return fmt.Errorf("%d admitted in the window ending at +%v, want at most 7", n, a[i].Sub(t0))
				}
			}
			return nil
		}},
		{Config{Algorithm: limiter.FixedWindow, Limit: 7, Window: w}, alignedAtMost(7, w)},
		{Config{Algorithm: limiter.SlidingCounter, Limit: 7, Window: w}, alignedAtMost(7, w)},
		{Config{Algorithm: limiter.Lockout, Limit: 7, Window: w}, alignedAtMost(7, w)},
		{Config{Algorithm: limiter.TokenBucket, Rate: 7, Burst: 3}, bucketBound(7, 3)},
		{Config{Algorithm: limiter.GCRA, Rate: 7, Burst: 3}, bucketBound(7, 3)},
		{Config{Algorithm: limiter.Queue, Rate: 7, Burst: 0}, bucketBound(7, 1)},
	}
	for _, tt := range tests {
		t.Run(string(tt.cfg.Algorithm), func(t *testing.T) {
			l := mustLimiter(t, tt.cfg)
			rng := rand.New(rand.NewPCG(1, 2))
			var admitted []time.Time
			at := t0
			for range 3000 {
				// Bursty arrivals: mostly close together, sometimes a pause.
				gap := time.Duration(rng.ExpFloat64() * float64(40*time.Millisecond))
				if rng.IntN(20) == 0 {
					gap += time.Duration(rng.IntN(2000)) * time.Millisecond
				}
				at = at.Add(gap)
				if d := l.Admit("", at); d.OK {
					admitted = append(admitted, at.Add(d.Delay))
				}
			}
			if len(admitted) < 100 {
				t.Fatalf("got %d admitted, want a meaningful sample (≥ 100)", len(admitted))
			}
			if err := tt.check(admitted); err != nil {
				t.Error(err)
			}
		})
	}
}

// alignedAtMost checks that no clock-aligned window holds more than limit.
func alignedAtMost(limit int, w time.Duration) func([]time.Time) error {
	return func(a []time.Time) error {
		count := map[int64]int{}
		for _, t := range a {
			k := t.UnixNano() / int64(w)
			if count[k]++; count[k] > limit {
				return fmt.Errorf("%d admitted in the window starting at %v, want at most %d", count[k], time.Unix(0, k*int64(w)), limit)
			}
		}
		return nil
	}
}

// bucketBound checks that any interval [a, b] holds at most burst + rate·(b-a)
// admissions (served instants, for the queue).
func bucketBound(rate float64, burst int) func([]time.Time) error {
	return func(a []time.Time) error {
		a = slices.Clone(a)
		slices.SortFunc(a, func(x, y time.Time) int { return x.Compare(y) })
		for i := range a {
			for j := i; j < len(a) && j < i+200; j++ {
				n := j - i + 1
				bound := float64(burst) + rate*a[j].Sub(a[i]).Seconds() + 1e-9
				if float64(n) > bound {
					return fmt.Errorf("%d admitted in %v, want at most %.2f", n, a[j].Sub(a[i]), bound)
				}
			}
		}
		return nil
	}
}

func TestKeysAreIndependentAndBounded(t *testing.T) {
	l := mustLimiter(t, Config{Algorithm: limiter.FixedWindow, Limit: 2, Window: time.Minute, KeyBy: "ip"})
	for _, key := range []string{"10.0.0.1", "10.0.0.2"} {
		got := 0
		for range 3 {
			if l.Admit(key, t0).OK {
				got++
			}
		}
		if got != 2 {
			t.Errorf("key %s: got %d admitted, want 2 (its own limit)", key, got)
		}
	}
	for i := range 3 * maxKeys {
		l.Admit(fmt.Sprint("client-", i), t0)
	}
	if n := l.keys(); n > maxKeys {
		t.Errorf("after %d keys: got %d remembered, want at most %d", 3*maxKeys, n, maxKeys)
	}

	const big = maxKeyedLogLimit
	logs := []struct {
		cfg     Config
		instead string
	}{
		{Config{Algorithm: limiter.SlidingLog, Limit: big, Window: time.Minute}, "use sliding-counter"},
		{Config{Algorithm: limiter.Lockout, Limit: big, Window: time.Minute, LockoutCount: LockoutLog}, "lockout_count=counter"},
	}
	for _, lg := range logs {
		cfg := lg.cfg
		cfg.KeyBy = "header:X-Key"
		log := mustLimiter(t, cfg)
		for i := range 200 {
			log.Admit(fmt.Sprint(i), t0)
		}
		if n := log.keys(); n*big > maxLogEntries {
			t.Errorf("%s with limit %d: got %d keys remembered, want at most %d timestamps", cfg.Algorithm, big, n, maxLogEntries)
		}
		cfg.Limit, cfg.KeyBy = big+1, "ip"
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), lg.instead) {
			t.Errorf("keyed %s with limit %d: got %v, want an error suggesting %s", cfg.Algorithm, big+1, err, lg.instead)
		}
	}
}

func TestDecisionHeadersData(t *testing.T) {
	// Remaining and reset feed the headers; check them at fixed instants.
	tests := []struct {
		name          string
		cfg           Config
		warm          int // requests admitted before the one checked
		at            time.Duration
		wantRemaining int
		wantReset     time.Duration
	}{
		{"token-bucket", Config{Algorithm: limiter.TokenBucket, Rate: 10, Burst: 5}, 1, 0, 3, ms(200)},
		{"gcra", Config{Algorithm: limiter.GCRA, Rate: 10, Burst: 5}, 1, 0, 3, ms(200)},
		{"fixed-window", Config{Algorithm: limiter.FixedWindow, Limit: 10, Window: 10 * time.Second}, 3, ms(2500), 6, ms(7500)},
		{"sliding-log", Config{Algorithm: limiter.SlidingLog, Limit: 10, Window: 10 * time.Second}, 3, 0, 6, 10 * time.Second},
		{"queue", Config{Algorithm: limiter.Queue, Rate: 10, Burst: 5}, 1, 0, 4, ms(200)},
		{"concurrency", Config{Algorithm: limiter.Concurrency, MaxInFlight: 4, Latency: Latency{Dist: LatencyFixed, Min: ms(10)}}, 1, 0, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustLimiter(t, tt.cfg)
			for range tt.warm {
				l.Admit("", t0.Add(tt.at))
			}
			d := l.Admit("", t0.Add(tt.at))
			if !d.OK || d.Remaining != tt.wantRemaining || d.Reset != tt.wantReset {
				t.Errorf("got ok=%v remaining=%d reset=%v, want ok=true remaining=%d reset=%v", d.OK, d.Remaining, d.Reset, tt.wantRemaining, tt.wantReset)
			}
		})
	}
}
