// Package limiter holds the rate-limiting algorithms limitprobe knows, as
// small state machines with time passed in: a token bucket (GCRA), nginx's
// queue, fixed windows, a sliding log, a sliding counter (and its lockout
// variant, which counts denied requests too), a cap on requests in flight,
// and none.
//
// There is one copy of each algorithm. The mock serves them, the estimator
// replays them against what a probe saw, and the tests simulate with them.
// Instants are time.Durations on one clock; window boundaries fall at whole
// multiples of the window from its zero, shifted by Config.Phase (the mock
// passes Unix time, so a one-minute window starts on the minute), unless a
// fixed window is counted from first use (Config.FirstUse). A Stack puts
// several limiters on one path. Nothing here is safe for concurrent use:
// callers serialise.
package limiter

import (
	"fmt"
	"math"
	"time"
)

// Kind names an algorithm.
type Kind string

// The algorithms. Bucket and GCRA admit the same requests; they differ in
// how a server words its headers, not in their arithmetic.
const (
	TokenBucket    Kind = "token-bucket"    // Rate, Burst
	GCRA           Kind = "gcra"            // Rate, Burst
	Queue          Kind = "queue"           // Rate, Burst: nginx limit_req without nodelay
	FixedWindow    Kind = "fixed-window"    // Limit per Window, aligned to the clock
	SlidingLog     Kind = "sliding-log"     // Limit in any Window
	SlidingCounter Kind = "sliding-counter" // Limit per Window, the previous window weighted
	Lockout        Kind = "lockout"         // a sliding counter of every request, denied or not
	Concurrency    Kind = "concurrency"     // MaxInFlight at once
	None           Kind = "none"
)

// Kinds lists every algorithm.
var Kinds = []Kind{TokenBucket, GCRA, FixedWindow, SlidingLog, SlidingCounter, Concurrency, Queue, Lockout, None}

// Config holds an algorithm's parameters. Fields an algorithm does not use
// are ignored.
type Config struct {
	Kind Kind
	// Rate is the sustained rate, requests per second (token-bucket, gcra,
	// queue).
	Rate float64
	// Burst is how many requests a bucket admits at once from idle (at
	// least 1), or how many may wait in a queue (nginx's burst; 0 means
	// none wait).
	Burst int
	// Limit is how many requests a window admits (fixed-window,
	// sliding-log, sliding-counter, lockout).
	Limit int
	// Window is the period Limit is counted over.
	Window time.Duration
	// Phase shifts clock-aligned window boundaries from multiples of
	// Window (fixed-window, sliding-counter, lockout).
	Phase time.Duration
	// FirstUse starts a fixed window at the first request admitted after
	// the last window ended, instead of at the clock: a quota counted from
	// a client's first call (fixed-window; Phase is then unused).
	FirstUse bool
	// Log makes a lockout count every request in a sliding log, their
	// times themselves, instead of a sliding counter: a sorted set of
	// request times in Redis, trimmed to the window, the usual recipe.
	Log bool
	// Round makes a sliding counter admit while its count rounds to less
	// than Limit, half a request short of the count itself below it:
	// go-chi/httprate's round(prev·(1−f) + curr) < Limit (sliding-counter).
	Round bool
	// MaxInFlight is how many requests are served at once (concurrency).
	MaxInFlight int
}

// Check reports what is wrong with c for its kind, in words a user acts
// on; nil when c is usable.
func (c Config) Check() error {
	switch c.Kind {
	case TokenBucket, GCRA, Queue:
		if !(c.Rate > 0) || math.IsInf(c.Rate, 0) {
			return fmt.Errorf("%s needs a rate above zero", c.Kind)
		}
		if c.Burst < 0 {
			return fmt.Errorf("%s needs a burst of zero or more", c.Kind)
		}
	case FixedWindow, SlidingLog, SlidingCounter, Lockout:
		if c.Limit < 1 || c.Window <= 0 {
			return fmt.Errorf("%s needs a limit of at least 1 and a window above zero", c.Kind)
		}
	case Concurrency:
		if c.MaxInFlight < 1 {
			return fmt.Errorf("concurrency needs max_in_flight of at least 1")
		}
	case None:
	default:
		return fmt.Errorf("unknown algorithm %q", c.Kind)
	}
	return nil
}

// Decision is what a limiter says about one request.
type Decision struct {
	// OK reports whether the request is admitted.
	OK bool
	// Delay is how long an admitted request waits before it is served
	// (queue only).
	Delay time.Duration
	// RetryAfter is, for a denied request, the earliest time from now at
	// which a retry could be admitted if nothing else arrives.
	RetryAfter time.Duration
	// Remaining is how many more requests would be admitted right now.
	Remaining int
	// Reset is the time from now until the limiter is back to idle (the
	// window ends, the bucket is full) if nothing else arrives.
	Reset time.Duration
}

// Limiter decides about requests in the order they arrive.
type Limiter interface {
	// Admit decides about a request arriving at t and records it.
	Admit(t time.Duration) Decision
	// Peek returns the decision Admit would make at t without recording
	// the request.
	Peek(t time.Duration) Decision
	// Done is called once for every admitted request, when it leaves at t.
	// Only a cap on requests in flight counts it.
	Done(t time.Duration)
}

// Meter is a limiter's state seen as one number, without its capacity.
// Level(t) is how much capacity is in use just before a request at t; the
// limiter admits the request when Level is below its capacity (Capacity).
// Record tells the meter what became of that request, so that a replay
// can drive it with the outcomes a real limiter chose rather than its own,
// and fit the capacity afterwards. Calls come in time order.
type Meter interface {
	Level(t time.Duration) float64
	Record(t time.Duration, admitted bool)
	Done(t time.Duration)
}

// Capacity is the level below which a limiter of c admits: a request is
// admitted when Meter.Level(t) < Capacity(c). For a bucket the level is
// the tokens in use, and a request needs one, so the capacity is Burst
// less one token (a hair above it, so that whole levels compare exactly).
func Capacity(c Config) float64 {
	const hair = 1e-9
	switch c.Kind {
	case TokenBucket, GCRA:
		return float64(max(c.Burst, 1)) - 1 + hair
	case Queue:
		return float64(c.Burst) + hair
	case SlidingCounter:
		if c.Round {
			return float64(c.Limit) - 0.5 // half-way rounds up: refused
		}
		return float64(c.Limit) - hair
	case FixedWindow, SlidingLog, Lockout:
		return float64(c.Limit) - hair
	case Concurrency:
		return float64(c.MaxInFlight) - hair
	}
	return math.Inf(1)
}

// New returns a limiter for c, idle. c must pass Check.
func New(c Config) Limiter {
	switch c.Kind {
	case TokenBucket, GCRA, Queue:
		return NewBucket(c)
	case FixedWindow, SlidingLog, SlidingCounter, Lockout:
		return windowed(c)
	case Concurrency:
		return &InFlight{max: c.MaxInFlight}
	}
	return none{}
}

// windowed is the limiter, and meter, of a window kind.
func windowed(c Config) interface {
	Limiter
	Meter
} {
	switch {
	case c.Kind == FixedWindow:
		return &Window{cfg: c}
	case c.Kind == SlidingLog, c.Kind == Lockout && c.Log:
		return NewLog(c)
	}
	return &Window{cfg: c, sliding: true, countDenied: c.Kind == Lockout}
}

// NewMeter returns the meter of c's kind with c's parameters other than
// the capacity (Burst, Limit, MaxInFlight are not read).
func NewMeter(c Config) Meter {
	switch c.Kind {
	case TokenBucket, GCRA, Queue:
		return NewBucket(c)
	case FixedWindow, SlidingLog, SlidingCounter, Lockout:
		return windowed(c)
	case Concurrency:
		return &InFlight{}
	}
	return none{}
}

// none admits everything.
type none struct{}

func (none) Admit(time.Duration) Decision { return Decision{OK: true} }
func (none) Peek(time.Duration) Decision  { return Decision{OK: true} }
func (none) Done(time.Duration)           {}
func (none) Level(time.Duration) float64  { return 0 }
func (none) Record(time.Duration, bool)   {}

// seconds converts non-negative seconds to a duration, rounding up to the
// nanosecond so that a retry after it never comes too early.
func seconds(s float64) time.Duration {
	if s <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(s * float64(time.Second)))
}

// mod is the non-negative remainder of a divided by b > 0.
func mod(a, b time.Duration) time.Duration {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// KindNames returns the names of Kinds, for messages.
func KindNames() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = string(k)
	}
	return out
}
