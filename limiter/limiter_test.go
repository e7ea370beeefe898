package limiter

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestMeterAgreesWithAdmit drives each limiter and a meter of the same kind
// with the same random arrivals (and departures, for a cap on requests in
// flight); the meter is told what the limiter decided. The limiter admits
// exactly when the meter's level is below Capacity: the estimator's replay
// and the mock read one copy of each algorithm. Peek, just before, says
// what Admit then does.
func TestMeterAgreesWithAdmit(t *testing.T) {
	w := time.Second
	configs := []Config{
		{Kind: TokenBucket, Rate: 7, Burst: 3},
		{Kind: GCRA, Rate: 50, Burst: 1},
		{Kind: Queue, Rate: 7, Burst: 2},
		{Kind: Queue, Rate: 20},
		{Kind: FixedWindow, Limit: 7, Window: w, Phase: 300 * time.Millisecond},
		{Kind: FixedWindow, Limit: 7, Window: w, FirstUse: true},
		{Kind: SlidingLog, Limit: 7, Window: w},
		{Kind: SlidingCounter, Limit: 7, Window: w},
		{Kind: SlidingCounter, Limit: 7, Window: w, FirstUse: true},
		{Kind: SlidingCounter, Limit: 7, Window: w, Round: true},
		{Kind: Lockout, Limit: 7, Window: w, Phase: 700 * time.Millisecond},
		{Kind: Lockout, Limit: 7, Window: w, FirstUse: true},
		{Kind: Lockout, Limit: 7, Window: w, Log: true},
		{Kind: Concurrency, MaxInFlight: 3},
	}
	for _, c := range configs {
		name := string(c.Kind)
		if c.FirstUse {
			name += " from first use"
		}
		if c.Log {
			name += " as a log"
		}
		if c.Round {
			name += " rounded"
		}
		t.Run(name, func(t *testing.T) {
			if err := c.Check(); err != nil {
				t.Fatal(err)
			}
			lim, m := New(c), NewMeter(c)
			rng := rand.New(rand.NewPCG(3, 4))
			var inFlight []time.Duration // departures of admitted requests
			at := time.Duration(1_800_000_000) * time.Second
			admitted := 0
			gap := 60 * time.Millisecond
			if c.Kind == Lockout {
				gap = 150 * time.Millisecond // faster locks the client out for good
			}
			for i := range 5000 {
				at += time.Duration(rng.ExpFloat64() * float64(gap))
				// Departures due by now leave first.
				kept := inFlight[:0]
				for _, d := range inFlight {
					if d <= at {
						lim.Done(d)
						m.Done(d)
					} else {
						kept = append(kept, d)
					}
				}
				inFlight = kept
				level := m.Level(at)
				p := lim.Peek(at)
				d := lim.Admit(at)
				if p != d {
					t.Fatalf("request %d: Peek said %+v, Admit then %+v", i, p, d)
				}
				if want := level < Capacity(c); d.OK != want {
					t.Fatalf("request %d: Admit says %v, the meter's level %.3f against capacity %.3f says %v", i, d.OK, level, Capacity(c), want)
				}
				m.Record(at, d.OK)
				if d.OK {
					admitted++
					inFlight = append(inFlight, at+time.Duration(rng.ExpFloat64()*float64(200*time.Millisecond)))
				}
			}
			if admitted < 500 || admitted == 5000 {
				t.Errorf("got %d of 5000 admitted, want a limited sample", admitted)
			}
		})
	}
}

// TestBucketSigned: a bucket's signed level is its level where that is
// above zero, and below zero minus the intervals since it emptied.
func TestBucketSigned(t *testing.T) {
	b := NewBucket(Config{Kind: TokenBucket, Rate: 5, Burst: 1})
	if got := b.Signed(0); !math.IsInf(got, -1) {
		t.Errorf("before any admission: got %g, want −Inf", got)
	}
	b.Record(time.Second, true)
	b.Record(1100*time.Millisecond, false) // a refusal takes no token
	for _, tt := range []struct {
		at           time.Duration
		level, signd float64
	}{{1100 * time.Millisecond, 0.5, 0.5}, {1200 * time.Millisecond, 0, 0}, {1300 * time.Millisecond, 0, -0.5}, {3 * time.Second, 0, -9}} {
		if l, s := b.Level(tt.at), b.Signed(tt.at); math.Abs(l-tt.level) > 1e-9 || math.Abs(s-tt.signd) > 1e-9 {
			t.Errorf("at %v: got level %g, signed %g; want %g, %g", tt.at, l, s, tt.level, tt.signd)
		}
	}
}

// TestCheck refuses parameters no limiter can have.
func TestCheck(t *testing.T) {
	bad := []Config{
		{Kind: TokenBucket},
		{Kind: Queue, Rate: 1, Burst: -1},
		{Kind: FixedWindow, Limit: 0, Window: time.Second},
		{Kind: SlidingLog, Limit: 3},
		{Kind: Concurrency},
		{Kind: "leaky"},
	}
	for _, c := range bad {
		if err := c.Check(); err == nil {
			t.Errorf("Check(%+v) = nil, want an error", c)
		}
	}
	if err := (Config{Kind: None}).Check(); err != nil {
		t.Errorf("Check(none) = %v, want nil", err)
	}
}

// TestFirstUse: a window counted from first use starts with the first
// request admitted after the last window ended, wherever the clock is.
func TestFirstUse(t *testing.T) {
	s := time.Second
	w := New(Config{Kind: FixedWindow, Limit: 3, Window: 10 * s, FirstUse: true})
	at := 1_000_000*s + 700*time.Millisecond // not on a boundary of 10 s
	steps := []struct {
		at        time.Duration
		ok        bool
		remaining int
		reset     time.Duration
	}{
		{at, true, 2, 10 * s}, // starts the window
		{at + s, true, 1, 9 * s},
		{at + 2*s, true, 0, 8 * s},
		{at + 3*s, false, 0, 7 * s}, // spent until at+10s
		{at + 10*s - 1, false, 0, 1},
		{at + 13*s, true, 2, 10 * s}, // a new window from this request
		{at + 22*s, true, 1, 1 * s},
		{at + 23*s, true, 2, 10 * s},
	}
	for i, st := range steps {
		d := w.Admit(st.at)
		if d.OK != st.ok || d.Remaining != st.remaining || d.Reset != st.reset {
			t.Errorf("request %d at +%v: got ok %v, remaining %d, reset %v; want %v, %d, %v",
				i, st.at-at, d.OK, d.Remaining, d.Reset, st.ok, st.remaining, st.reset)
		}
		if !d.OK && d.RetryAfter != d.Reset {
			t.Errorf("request %d: retry after %v, want the end of the window %v", i, d.RetryAfter, d.Reset)
		}
	}
}

// TestAnchoredLikeHAProxy: sliding counters counted from first use decide
// as HAProxy 2.6's stick-table rates do (freq_ctr_total over
// update_freq_ctr_period): periods follow one another from the first
// request counted; a request counted when the period after the current one
// has passed too forgets both and starts a period of its own. Written out
// here independently, in seconds: http_req_rate counts every request
// before the rule reads it (refused when the rate, floored, exceeds the
// limit); gpc0_rate counts only those past the rule (refused when it
// reaches the limit). The traffic idles now and then for up to three
// periods.
func TestAnchoredLikeHAProxy(t *testing.T) {
	const limit, period = 20, 2.0
	for _, kind := range []Kind{Lockout, SlidingCounter} {
		t.Run(string(kind), func(t *testing.T) {
			lim := New(Config{Kind: kind, Limit: limit, Window: seconds(period), FirstUse: true})
			var tick, curr, prev float64
			started := false
			update := func(now float64) {
				if !started {
					tick, started = now, true
				}
				if now-tick >= period {
					prev, curr = curr, 0
					tick += period
					if now-tick >= period {
						prev, tick = 0, now
					}
				}
				curr++
			}
			rate := func(now float64) float64 { // the counter read at now, before flooring
				if !started {
					return 0
				}
				p, c, e := prev, curr, now-tick
				if e >= period {
					p, c, e = c, 0, e-period
					if e >= period {
						p = 0
					}
				}
				return p*(period-e)/period + c
			}
			rng := rand.New(rand.NewPCG(5, 6))
			now, refused, anew := 1000.37, 0, 0
			for i := range 4000 {
				now += rng.ExpFloat64() * 0.08
				if rng.IntN(100) == 0 {
					now += rng.Float64() * 3 * period
				}
				if started && now-tick >= 2*period {
					anew++
				}
				var ok bool
				if kind == Lockout {
					update(now)
					ok = math.Floor(rate(now)) <= limit
				} else if ok = math.Floor(rate(now)) < limit; ok {
					update(now)
				}
				if got := lim.Admit(seconds(now)).OK; got != ok {
					t.Fatalf("request %d at %.4f s: admitted %v, HAProxy's counter says %v", i, now, got, ok)
				}
				if !ok {
					refused++
				}
			}
			if refused < 400 || anew < 10 {
				t.Errorf("%d refused, %d fresh starts: the traffic did not exercise the counter", refused, anew)
			}
		})
	}
}

// TestStack: a bucket under a quota admits what both admit, and a request
// one of them refuses is counted by neither.
func TestStack(t *testing.T) {
	s := time.Second
	st := NewStack(Config{Kind: TokenBucket, Rate: 10, Burst: 2}, Config{Kind: FixedWindow, Limit: 5, Window: time.Hour, FirstUse: true})
	at := 5000 * s
	var got []bool
	for i := range 12 {
		// Three at once every second: the bucket refuses the third.
		d := st.Admit(at + time.Duration(i/3)*s + time.Duration(i%3)*time.Millisecond)
		got = append(got, d.OK)
		parts := st.Decisions()
		if d.OK != (parts[0].OK && parts[1].OK) {
			t.Fatalf("request %d: stack says %v, its limiters %v and %v", i, d.OK, parts[0].OK, parts[1].OK)
		}
		if i == 2 && parts[1].Remaining != 3 {
			t.Errorf("request 2, refused by the bucket: the quota says %d remain, want 3 (two used of five)", parts[1].Remaining)
		}
		if d.OK && d.Remaining != min(parts[0].Remaining, parts[1].Remaining) {
			t.Errorf("request %d: remaining %d, want the fewer of %d and %d", i, d.Remaining, parts[0].Remaining, parts[1].Remaining)
		}
	}
	// Two pass each second until the quota's five are used: the refused
	// third of each second did not count against the quota.
	want := []bool{true, true, false, true, true, false, true, false, false, false, false, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("admitted %v, want %v", got, want)
		}
	}
	d := st.Admit(at + 4*s)
	if d.OK || d.RetryAfter < 59*time.Minute {
		t.Errorf("after the quota: got ok %v, retry after %v; want a refusal until the hour ends", d.OK, d.RetryAfter)
	}
}

// TestLockoutLog: a lockout kept as a log of every request's time admits
// Limit per Window from idle, then refuses a client that keeps sending
// faster, its refusals logged too, until all but Limit−1 of its requests
// are a window old.
func TestLockoutLog(t *testing.T) {
	ms := time.Millisecond
	l := New(Config{Kind: Lockout, Limit: 3, Window: time.Second, Log: true})
	var got []bool
	for i := range 25 { // every 100 ms for 2.4 s
		got = append(got, l.Admit(time.Duration(i)*100*ms).OK)
	}
	for i, ok := range got {
		if want := i < 3; ok != want {
			t.Fatalf("request %d at %v: admitted %v, want %v (all: %v)", i, time.Duration(i)*100*ms, ok, want, got)
		}
	}
	// The log ends 2.2, 2.3 and 2.4 s: a slot comes back when 2.2 s
	// leaves it, at 3.2 s.
	if d := l.Peek(3199 * ms); d.OK || d.RetryAfter != ms {
		t.Errorf("at 3.199 s: admitted %v, retry after %v; want refused, retry after 1ms", d.OK, d.RetryAfter)
	}
	if d := l.Admit(3200 * ms); !d.OK {
		t.Errorf("refused at 3.2 s, a window after the third last request")
	}
	// Hammered, it keeps the newest Limit times, no more.
	for i := range 100_000 {
		l.Admit(4*time.Second + time.Duration(i)*ms)
	}
	if n := len(l.(*Log).buf); n > 3 {
		t.Errorf("hammered 100,000 times: the log holds room for %d times, want 3", n)
	}
}

// TestRoundedCounter: a sliding counter that rounds its count, as
// go-chi/httprate does (round(prev·(1−f) + curr) < Limit), admits a full
// window from idle as the plain counter does, but refuses a count that
// rounds up to the limit; its RetryAfter is the moment the count rounds
// down again.
func TestRoundedCounter(t *testing.T) {
	w := 3 * time.Second
	plain := New(Config{Kind: SlidingCounter, Limit: 30, Window: w})
	round := New(Config{Kind: SlidingCounter, Limit: 30, Window: w, Round: true})
	for i := range 31 {
		at := time.Duration(i) * time.Millisecond
		p, r := plain.Admit(at), round.Admit(at)
		if p.OK != r.OK || p.OK != (i < 30) {
			t.Fatalf("request %d from idle: plain %v, rounded %v; want both %v", i, p.OK, r.OK, i < 30)
		}
	}
	// 40 ms into the next window the first window's 30 weigh 29.6: below
	// 30, but rounding to it.
	if p, r := plain.Peek(w+40*time.Millisecond), round.Peek(w+40*time.Millisecond); !p.OK || r.OK {
		t.Fatalf("at a count of 29.6: plain admits %v, rounded %v; want true, false", p.OK, r.OK)
	}
	d := round.Peek(w + 40*time.Millisecond)
	// 30·(1−f) < 29.5 from f = 1/60: 50 ms into the window.
	if got, want := d.RetryAfter, 10*time.Millisecond; got < want || got > want+time.Microsecond {
		t.Fatalf("rounded RetryAfter at 29.6 = %v, want %v", got, want)
	}
	if round.Peek(w+40*time.Millisecond+d.RetryAfter-time.Microsecond).OK || !round.Peek(w+40*time.Millisecond+d.RetryAfter).OK {
		t.Fatalf("rounded counter does not open at its RetryAfter %v", d.RetryAfter)
	}
	// At 28.6 the request is admitted; the next would meet 29.6.
	at := w + 140*time.Millisecond
	if p, r := plain.Peek(at), round.Peek(at); !p.OK || !r.OK || p.Remaining != 1 || r.Remaining != 0 {
		t.Fatalf("at a count of 28.6: plain %+v, rounded %+v; want both admitted, 1 and 0 remaining", p, r)
	}
}
