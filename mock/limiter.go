package mock

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// decision is what a limiter says about one request. It is plain data so the
// algorithm tests can compare it field by field at fixed instants.
type decision struct {
	// ok reports whether the request is admitted.
	ok bool
	// delay is how long an admitted request waits before it is served
	// (queue only; zero otherwise).
	delay time.Duration
	// retryAfter is, for a denied request, the earliest time from now at
	// which a retry could be admitted if nothing else arrives.
	retryAfter time.Duration
	// remaining is how many more requests the limiter would admit right now.
	remaining int
	// reset is the time from now until the quota is fully restored (the
	// window ends, the bucket is full) if nothing else arrives.
	reset time.Duration
	// st is the state that admitted the request; ServeHTTP calls release on
	// it when the request ends (only the concurrency state cares).
	st state
}

// state is the limiter state of one key. Implementations are safe for
// concurrent use.
type state interface {
	admit(now time.Time) decision
	release()
}

// newStateFunc builds the state of one key for a validated configuration.
type newStateFunc func() state

// stateFactory returns the constructor of per-key states for cfg, which must
// have been validated by New.
func stateFactory(cfg *Config) newStateFunc {
	switch cfg.Algorithm {
	case AlgTokenBucket:
		r, b := cfg.Rate, cfg.Burst
		return func() state { return &tokenBucket{lim: rate.NewLimiter(rate.Limit(r), b), rate: r, burst: b} }
	case AlgGCRA:
		t := interval(cfg.Rate)
		tau := time.Duration(cfg.Burst) * t
		b := cfg.Burst
		return func() state { return &gcra{t: int64(t), tau: int64(tau), burst: b} }
	case AlgQueue:
		t := interval(cfg.Rate)
		b := cfg.Burst
		return func() state { return &queue{t: int64(t), maxDelay: int64(b) * int64(t), burst: b} }
	case AlgFixedWindow:
		l, w := cfg.Limit, int64(cfg.Window)
		return func() state { return &fixedWindow{limit: l, window: w} }
	case AlgSlidingLog:
		l, w := cfg.Limit, int64(cfg.Window)
		return func() state { return &slidingLog{limit: l, window: w, buf: make([]int64, min(l, 16))} }
	case AlgSlidingCounter:
		l, w := cfg.Limit, int64(cfg.Window)
		return func() state { return &slidingCounter{limit: l, window: w} }
	case AlgLockout:
		l, w := cfg.Limit, int64(cfg.Window)
		return func() state { return &slidingCounter{limit: l, window: w, countDenied: true} }
	case AlgConcurrency:
		n := int64(cfg.MaxInFlight)
		ra := cfg.Latency.Mean()
		return func() state { return &concurrency{max: n, retryAfter: ra} }
	default:
		return func() state { return unlimited{} }
	}
}

// interval is the time between two requests at rps requests per second.
func interval(rps float64) time.Duration {
	return time.Duration(math.Round(float64(time.Second) / rps))
}

// unlimited is the state of the none algorithm: it admits everything.
type unlimited struct{}

func (unlimited) admit(time.Time) decision { return decision{ok: true} }
func (unlimited) release()                 {}

// tokenBucket wraps golang.org/x/time/rate: a bucket of burst tokens refilled
// at rate tokens per second, one token per request, full when created.
type tokenBucket struct {
	lim   *rate.Limiter
	rate  float64
	burst int
}

func (s *tokenBucket) admit(now time.Time) decision {
	ok := s.lim.AllowN(now, 1)
	tokens := s.lim.TokensAt(now)
	d := decision{ok: ok, remaining: int(math.Floor(tokens + 1e-9))}
	d.reset = secondsToDuration((float64(s.burst) - tokens) / s.rate)
	if !ok {
		d.retryAfter = secondsToDuration((1 - tokens) / s.rate)
	}
	return d
}

func (s *tokenBucket) release() {}

// secondsToDuration converts non-negative seconds to a duration, rounding up
// to the nanosecond so a retry after it never comes too early.
func secondsToDuration(s float64) time.Duration {
	if s <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(s * float64(time.Second)))
}

// gcra is the generic cell rate algorithm as in redis_rate: a theoretical
// arrival time (tat) that advances by the emission interval t per admitted
// request; a request is admitted while tat, after adding it, is at most
// tau = burst·t ahead of now. From idle it admits burst requests at once and
// then one per t, the same admissions as a token bucket. The state is one
// int64 updated with compare-and-swap, so it never blocks.
type gcra struct {
	tat   atomic.Int64 // unix nanoseconds; 0 when idle since creation
	t     int64        // emission interval, ns
	tau   int64        // delay variation tolerance, ns
	burst int
}

func (s *gcra) admit(now time.Time) decision {
	n := now.UnixNano()
	for {
		tat := s.tat.Load()
		newTat := max(tat, n) + s.t
		allowAt := newTat - s.tau
		if n < allowAt {
			// Denied: nothing changes. Remaining is zero; the quota is
			// back in full once tat has passed.
			return decision{retryAfter: time.Duration(allowAt - n), reset: time.Duration(max(tat, n) - n)}
		}
		if s.tat.CompareAndSwap(tat, newTat) {
			return decision{
				ok:        true,
				remaining: int((n - allowAt) / s.t),
				reset:     time.Duration(newTat - n),
			}
		}
	}
}

func (s *gcra) release() {}

// queue models nginx limit_req without nodelay. Requests are served at most
// one per interval t; a request that arrives too early is delayed until its
// slot, as long as its delay is at most burst·t (at most burst requests wait at
// any time); otherwise it is rejected at once. nginx keeps the same state in
// milliseconds as "excess"; here it is a theoretical arrival time in
// nanoseconds updated with compare-and-swap.
type queue struct {
	tat      atomic.Int64 // unix ns at which the next request may be served
	t        int64
	maxDelay int64
	burst    int
}

func (s *queue) admit(now time.Time) decision {
	n := now.UnixNano()
	for {
		tat := s.tat.Load()
		start := max(tat, n)
		delay := start - n
		if delay > s.maxDelay {
			return decision{retryAfter: time.Duration(delay - s.maxDelay), reset: time.Duration(delay)}
		}
		if s.tat.CompareAndSwap(tat, start+s.t) {
			// After this request, the next one would wait delay+t; the queue
			// has room for the requests whose delay stays within maxDelay.
			free := (s.maxDelay - delay) / s.t
			return decision{ok: true, delay: time.Duration(delay), remaining: int(free), reset: time.Duration(start + s.t - n)}
		}
	}
}

func (s *queue) release() {}

// fixedWindow counts admitted requests in clock-aligned windows (aligned to
// the Unix epoch, so a 1m window starts on the minute) and admits limit per
// window.
type fixedWindow struct {
	mu     sync.Mutex
	limit  int
	window int64 // ns
	start  int64 // unix ns of the current window
	count  int
}

func (s *fixedWindow) admit(now time.Time) decision {
	n := now.UnixNano()
	start := n - mod(n, s.window)
	s.mu.Lock()
	if start != s.start {
		s.start, s.count = start, 0
	}
	ok := s.count < s.limit
	if ok {
		s.count++
	}
	count := s.count
	s.mu.Unlock()
	d := decision{ok: ok, remaining: s.limit - count, reset: time.Duration(start + s.window - n)}
	if !ok {
		d.retryAfter = d.reset
	}
	return d
}

func (s *fixedWindow) release() {}

// mod is the non-negative remainder of a divided by b > 0.
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// slidingLog keeps the times of the last limit admitted requests and admits a
// request when fewer than limit were admitted in (now-window, now]: each slot
// comes back exactly one window after it was used. The log grows as needed,
// up to limit entries.
type slidingLog struct {
	mu     sync.Mutex
	limit  int
	window int64
	buf    []int64 // ring of admission times, unix ns
	head   int     // index of the oldest entry
	n      int     // number of entries
}

func (s *slidingLog) admit(now time.Time) decision {
	t := now.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.n > 0 && s.buf[s.head] <= t-s.window {
		s.head = (s.head + 1) % len(s.buf)
		s.n--
	}
	if s.n == s.limit {
		oldest := s.buf[s.head]
		newest := s.buf[(s.head+s.n-1)%len(s.buf)]
		return decision{retryAfter: time.Duration(oldest + s.window - t), reset: time.Duration(newest + s.window - t)}
	}
	if s.n == len(s.buf) {
		grown := make([]int64, min(2*len(s.buf), s.limit))
		for i := range s.n {
			grown[i] = s.buf[(s.head+i)%len(s.buf)]
		}
		s.buf, s.head = grown, 0
	}
	s.buf[(s.head+s.n)%len(s.buf)] = t
	s.n++
	return decision{ok: true, remaining: s.limit - s.n, reset: time.Duration(s.window)}
}

func (s *slidingLog) release() {}

// slidingCounter approximates a sliding window from two clock-aligned fixed
// windows, as Cloudflare and HAProxy do: the count is
// prev·(1-f) + curr, where f is the elapsed share of the current window.
// A request is admitted while the count before it is below limit (the
// count with it, rounded down as HAProxy's integer arithmetic does, is at most
// limit). From idle it admits limit at once, and under overload limit per
// window.
//
// With countDenied it is the lockout algorithm: every request is counted,
// admitted or not, as HAProxy's http_req_rate counter in a stick table is
// when a deny rule tests it. A client that keeps sending above the limit then
// stays denied; it recovers after idling until the count falls.
type slidingCounter struct {
	mu          sync.Mutex
	limit       int
	window      int64
	countDenied bool
	start       int64 // unix ns of the current window
	prev, curr  int
}

// countEps absorbs floating-point error in the estimated count.
const countEps = 1e-9

func (s *slidingCounter) admit(now time.Time) decision {
	n := now.UnixNano()
	start := n - mod(n, s.window)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case start == s.start:
	case start == s.start+s.window:
		s.prev, s.curr = s.curr, 0
	default:
		s.prev, s.curr = 0, 0
	}
	s.start = start
	elapsed := n - start
	f := float64(elapsed) / float64(s.window)
	est := float64(s.prev)*(1-f) + float64(s.curr)
	ok := est < float64(s.limit)-countEps
	if ok || s.countDenied {
		s.curr++
		est++
	}
	d := decision{ok: ok}
	d.remaining = max(0, int(math.Ceil(float64(s.limit)-est-countEps)))
	// Fully restored when the current window's count has faded too, at the
	// end of the next window; the previous window's count fades by the end
	// of this one.
	d.reset = time.Duration(s.window - elapsed)
	if s.curr > 0 {
		d.reset += time.Duration(s.window)
	}
	if !ok {
		d.retryAfter = s.untilAdmitted(elapsed)
	}
	return d
}

// untilAdmitted returns how long, with no further requests, until a request
// would be admitted (the count falls below limit), given the elapsed time in
// the current window. The caller holds s.mu.
func (s *slidingCounter) untilAdmitted(elapsed int64) time.Duration {
	l := float64(s.limit)
	w := float64(s.window)
	if s.curr < s.limit && s.prev > 0 {
		// prev·(1-f) + curr < limit  ⇔  f > 1 - (limit-curr)/prev.
		f := 1 - (l-float64(s.curr))/float64(s.prev)
		at := int64(math.Floor(f*w)) + 1
		if at < s.window {
			return time.Duration(max(at-elapsed, 1))
		}
	}
	// In the next window curr becomes prev: curr·(1-f) < limit.
	rest := s.window - elapsed
	if s.curr < s.limit {
		return time.Duration(rest)
	}
	f := 1 - l/float64(s.curr)
	return time.Duration(rest + int64(math.Floor(f*w)) + 1)
}

func (s *slidingCounter) release() {}

// concurrency caps the number of requests in flight, as the router of
// text-generation-inference does with a semaphore taken by a non-blocking
// try: the max+1th concurrent request is rejected at once.
type concurrency struct {
	inFlight   atomic.Int64
	max        int64
	retryAfter time.Duration // advertised on rejection: the mean service time
}

func (s *concurrency) admit(time.Time) decision {
	n := s.inFlight.Add(1)
	if n > s.max {
		s.inFlight.Add(-1)
		return decision{retryAfter: s.retryAfter}
	}
	return decision{ok: true, remaining: int(s.max - n), st: s}
}

func (s *concurrency) release() { s.inFlight.Add(-1) }

// maxKeys bounds the number of keys a keyed limiter remembers; beyond it the
// oldest key is forgotten (its client starts afresh).
const maxKeys = 10_000

// maxLogEntries bounds the memory of a keyed sliding log: keys × limit
// timestamps of 8 bytes each (32 MB).
const maxLogEntries = 4_000_000

// maxKeyedLogLimit is the largest limit of a keyed sliding log, so that one
// key per shard still fits in maxLogEntries.
const maxKeyedLogLimit = maxLogEntries / nShards

const nShards = 32

// limiter holds the per-key states of one algorithm. With no keys it has a
// single state and no map.
type limiter struct {
	newState newStateFunc
	single   state // when not keyed
	seed     maphash.Seed
	perShard int
	shards   []shard
}

type shard struct {
	mu    sync.Mutex
	m     map[string]state
	order []string // keys in insertion order, a ring of perShard entries
	head  int
	_     [64]byte // keep shards on separate cache lines
}

// newLimiter returns a limiter for a validated configuration.
func newLimiter(cfg *Config) *limiter {
	l := &limiter{newState: stateFactory(cfg)}
	if cfg.KeyBy == "" || cfg.KeyBy == KeyNone {
		l.single = l.newState()
		return l
	}
	keys := maxKeys
	if cfg.Algorithm == AlgSlidingLog {
		keys = min(keys, max(nShards, maxLogEntries/cfg.Limit))
	}
	l.seed = maphash.MakeSeed()
	l.perShard = max(1, keys/nShards)
	l.shards = make([]shard, nShards)
	for i := range l.shards {
		l.shards[i].m = make(map[string]state)
	}
	return l
}

// Admit decides about one request from key at instant now. The key is
// ignored when the limiter is not keyed.
func (l *limiter) Admit(key string, now time.Time) decision {
	if l.single != nil {
		return l.single.admit(now)
	}
	return l.state(key).admit(now)
}

// state returns the state of key, creating it (and forgetting the oldest key
// of its shard when the shard is full).
func (l *limiter) state(key string) state {
	sh := &l.shards[maphash.String(l.seed, key)%nShards]
	sh.mu.Lock()
	st, ok := sh.m[key]
	if !ok {
		st = l.newState()
		if len(sh.order) < l.perShard {
			sh.order = append(sh.order, key)
		} else {
			delete(sh.m, sh.order[sh.head])
			sh.order[sh.head] = key
			sh.head = (sh.head + 1) % l.perShard
		}
		sh.m[key] = st
	}
	sh.mu.Unlock()
	return st
}

// keys returns how many keys the limiter remembers.
func (l *limiter) keys() int {
	if l.single != nil {
		return 1
	}
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
