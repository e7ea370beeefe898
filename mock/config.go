package mock

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"limitprobe/limiter"
	"limitprobe/units"
)

// Header styles accepted in Config.Headers.
const (
	HeadersNone       = "none"
	HeadersIETF       = "ietf"
	HeadersIETFLegacy = "ietf-legacy"
	HeadersXRateLimit = "x-ratelimit"
	HeadersOpenAI     = "openai"
	HeadersHFHub      = "hf-hub"
)

// HeaderStyles lists the accepted header styles.
var HeaderStyles = []string{HeadersNone, HeadersIETF, HeadersIETFLegacy, HeadersXRateLimit, HeadersOpenAI, HeadersHFHub}

// Retry-After formats accepted in Config.RetryAfter; the empty string turns
// Retry-After off.
const (
	RetryAfterSeconds  = "seconds"
	RetryAfterHTTPDate = "http-date"
)

// Body styles accepted in Config.Body.
const (
	BodyJSON = "json" // {"error":"rate limit exceeded","status":429}
	BodyTGI  = "tgi"  // {"error":"Model is overloaded","error_type":"overloaded"}
	BodyHTML = "html" // nginx's default error page
)

// BodyStyles lists the accepted body styles.
var BodyStyles = []string{BodyJSON, BodyTGI, BodyHTML}

// Window starts accepted in Config.WindowStart.
const (
	// WindowStartClock aligns fixed windows to the clock: a one-hour
	// window starts on the hour.
	WindowStartClock = "clock"
	// WindowStartFirstUse starts a fixed window at the first request
	// admitted after the last window ended, as a quota counted from a
	// client's first call does; a sliding counter's or a lockout's
	// windows follow one another from the first request counted and
	// start anew after a whole window with none, as HAProxy's
	// stick-table rates do.
	WindowStartFirstUse = "first-use"
)

// Lockout counts accepted in Config.LockoutCount.
const (
	// LockoutCounter counts a lockout's requests in a sliding counter of
	// two windows, as HAProxy's stick-table rates do.
	LockoutCounter = "counter"
	// LockoutLog keeps every request's time in a sliding log, as a Redis
	// sorted set of request times trimmed to the window does (the usual
	// recipe): a request is refused while Limit fell in the window before
	// it, refused ones included.
	LockoutLog = "log"
)

// LockoutCounts lists the accepted lockout counts.
var LockoutCounts = []string{LockoutCounter, LockoutLog}

// Sliding counts accepted in Config.Count.
const (
	// CountExact admits while a sliding counter's weighted count is below
	// the limit, as Cloudflare's counter does.
	CountExact = "exact"
	// CountRounded admits while the count rounds to less than the limit,
	// half a request lower, as go-chi/httprate does.
	CountRounded = "rounded"
)

// Counts lists the accepted sliding counts.
var Counts = []string{CountExact, CountRounded}

// Key modes accepted in Config.KeyBy, besides "header:NAME".
const (
	KeyNone = "none"
	KeyIP   = "ip"
)

// DefaultThrottleStatus is the status of a throttled response when
// Config.ThrottleStatus is zero.
const DefaultThrottleStatus = http.StatusTooManyRequests

// Config describes a mock limiter. The zero value of a field means its
// default (noted per field); Validate, which New calls, checks the
// combination.
type Config struct {
	// Algorithm is one of limiter.Kinds. Required.
	Algorithm limiter.Kind
	// Rate is the sustained rate in requests per second (token-bucket,
	// gcra, queue).
	Rate float64
	// Burst is, for token-bucket and gcra, how many requests are admitted at
	// once after idling (zero means 1); for queue, how many requests may
	// wait at once (nginx's burst; zero means none wait).
	Burst int
	// Limit is the number of requests admitted per Window (fixed-window,
	// sliding-log, sliding-counter, lockout).
	Limit int
	// Window is the period Limit is counted over.
	Window time.Duration
	// MaxInFlight is the number of requests served at once (concurrency).
	MaxInFlight int
	// WindowStart is WindowStartClock (also the empty string) or
	// WindowStartFirstUse; it applies to fixed-window, sliding-counter,
	// lockout and to Quota.
	WindowStart string
	// LockoutCount is LockoutCounter (also the empty string) or LockoutLog;
	// it applies to lockout only.
	LockoutCount string
	// Count is CountExact (also the empty string) or CountRounded; it
	// applies to sliding-counter only.
	Count string
	// Quota, when its Limit is set, is a fixed-window quota under the
	// algorithm: a request passes only when both admit it, and only then
	// counts against both (a per-second bucket under an hourly quota).
	Quota Quota
	// Latency is the service time of admitted requests; the zero value adds
	// none.
	Latency Latency
	// ThrottleStatus is the status of throttled responses; zero means 429.
	ThrottleStatus int
	// Headers is one of HeaderStyles; empty means none.
	Headers string
	// RetryAfter is "" (no Retry-After), "seconds" or "http-date".
	RetryAfter string
	// Body is one of BodyStyles; empty means json.
	Body string
	// KeyBy is "none" (one limit for everyone, also the empty string), "ip"
	// (one limit per client address) or "header:NAME" (one limit per value
	// of the request header NAME).
	KeyBy string
	// Faults injects failures into admitted requests.
	Faults Faults
	// Now is the clock the limiter reads; nil means SteadyClock(0).
	// Delays and latency always use real time.
	Now func() time.Time
}

// Quota is a number of requests per window.
type Quota struct {
	// Limit is the number of requests admitted per Window; 0 means no quota.
	Limit int
	// Window is the period Limit is counted over.
	Window time.Duration
}

// Faults are shares (0..1) of admitted requests that fail instead of being
// served. Their sum must be at most 1. Resets and hangs need a real
// connection (an http.Server or httptest.Server): they end the handler with
// panic(http.ErrAbortHandler), which net/http turns into a closed connection.
type Faults struct {
	// ErrorRate is the share answered with 500 Internal Server Error.
	ErrorRate float64
	// ResetRate is the share whose connection is reset without a response.
	ResetRate float64
	// HangRate is the share that never get a response; the handler returns
	// when the request's context ends (client gone or server shut down).
	HangRate float64
}

// ParamError is an error about one configuration key. Set, ParseSpec,
// FromParams and New return it so callers can point at the line that set
// the key.
type ParamError struct {
	// Key is the configuration key, spelled as in Set ("rate", "max_in_flight").
	Key string
	// Err says what is wrong and what to write instead.
	Err error
}

// Error returns "KEY: reason".
func (e *ParamError) Error() string { return e.Key + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ParamError) Unwrap() error { return e.Err }

func paramErr(key, format string, args ...any) error {
	return &ParamError{Key: key, Err: fmt.Errorf(format, args...)}
}

// Validate checks the configuration as a whole and fills in the defaults
// of the zero fields, as New does. Errors are *ParamError values naming the
// key at fault. Validating a valid configuration again changes nothing.
func (c *Config) Validate() error {
	if c.Algorithm == "" {
		return paramErr("algorithm", "missing; write one of %s, or a preset", strings.Join(limiter.KindNames(), ", "))
	}
	if err := oneOf("algorithm", string(c.Algorithm), string(c.Algorithm), limiter.KindNames()); err != nil {
		return &ParamError{Key: "algorithm", Err: err}
	}
	if err := c.validateLimit(); err != nil {
		return err
	}
	if err := c.validateQuota(); err != nil {
		return err
	}
	if c.ThrottleStatus == 0 {
		c.ThrottleStatus = DefaultThrottleStatus
	}
	if c.ThrottleStatus < 400 || c.ThrottleStatus > 599 {
		return paramErr("throttle_status", "%d is not a 4xx or 5xx status; write for example 429 or 503", c.ThrottleStatus)
	}
	if c.Headers == "" {
		c.Headers = HeadersNone
	}
	if err := oneOf("header style", c.Headers, c.Headers, HeaderStyles); err != nil {
		return &ParamError{Key: "headers", Err: err}
	}
	if c.RetryAfter != "" && c.RetryAfter != RetryAfterSeconds && c.RetryAfter != RetryAfterHTTPDate {
		return paramErr("retry_after", "%q is not a Retry-After format; write seconds, http-date or off", c.RetryAfter)
	}
	if c.Body == "" {
		c.Body = BodyJSON
	}
	if err := oneOf("body style", c.Body, c.Body, BodyStyles); err != nil {
		return &ParamError{Key: "body", Err: err}
	}
	kb, err := parseKeyBy(c.KeyBy)
	if err != nil {
		return &ParamError{Key: "key_by", Err: err}
	}
	c.KeyBy = kb
	if c.logs() && kb != KeyNone && c.Limit > maxKeyedLogLimit {
		instead := "use sliding-counter"
		if c.Algorithm == limiter.Lockout {
			instead = "lockout_count=counter"
		}
		return paramErr("limit", "a log keeps limit timestamps per key, too many for %d with key_by; write limit=%d or less, or %s", c.Limit, maxKeyedLogLimit, instead)
	}
	if err := c.Latency.validate(); err != nil {
		return &ParamError{Key: "latency", Err: err}
	}
	return c.Faults.validate()
}

// validateLimit checks the keys of the algorithm and fills the default burst.
func (c *Config) validateLimit() error {
	switch a := c.Algorithm; {
	case slices.Contains(bucketKinds, a):
		if !(c.Rate >= units.MinRate && c.Rate <= units.MaxRate) {
			return paramErr("rate", "%s needs a rate between one a day and %d/s; write for example rate=50/s", a, units.MaxRate)
		}
		if c.Burst < 0 || c.Burst > 1_000_000 {
			return paramErr("burst", "%d is out of range; write a whole number from 0 to 1000000", c.Burst)
		}
		if c.Burst == 0 && a != limiter.Queue {
			c.Burst = 1
		}
	case slices.Contains(windowKinds, a):
		if c.Limit < 1 || c.Limit > 1_000_000 {
			return paramErr("limit", "%s needs a limit from 1 to 1000000 requests per window; write for example limit=100", a)
		}
		if c.Window < time.Millisecond {
			return paramErr("window", "%s needs a window of at least 1ms; write for example window=10s", a)
		}
	case a == limiter.Concurrency:
		if c.MaxInFlight < 1 {
			return paramErr("max_in_flight", "concurrency needs a cap on requests in flight; write for example max_in_flight=128")
		}
		if c.Latency.Mean() <= 0 {
			return paramErr("latency", "concurrency needs a latency, or requests never overlap and the limit is infinite; write for example latency=100ms")
		}
	}
	return nil
}

// validateQuota checks the quota and the window start, and fills the
// default start.
func (c *Config) validateQuota() error {
	if q := c.Quota; q.Limit != 0 || q.Window != 0 {
		if q.Limit < 1 || q.Limit > 1_000_000_000 || q.Window < time.Millisecond {
			return paramErr("quota", "needs a count from 1 to 1000000000 and a window of at least 1ms; write for example quota=2000/1h")
		}
	}
	switch c.WindowStart {
	case "":
		c.WindowStart = WindowStartClock
	case WindowStartClock:
	case WindowStartFirstUse:
		if !anchorable(c.Algorithm) && c.Quota.Limit == 0 {
			return paramErr("window_start", "first-use applies to a fixed window, a sliding counter, a lockout or a quota; write algorithm=fixed-window (or sliding-counter, lockout), or add quota=N/PERIOD")
		}
	default:
		return paramErr("window_start", "%q is not a window start; write clock or first-use", c.WindowStart)
	}
	return c.validateLockoutCount()
}

// logs reports whether the limiter keeps a timestamp per request counted:
// a sliding log, or a lockout kept as a log.
func (c *Config) logs() bool {
	return c.Algorithm == limiter.SlidingLog || c.Algorithm == limiter.Lockout && c.LockoutCount == LockoutLog
}

// validateLockoutCount checks the lockout's count and fills its default.
func (c *Config) validateLockoutCount() error {
	switch c.LockoutCount {
	case "":
		if c.Algorithm == limiter.Lockout {
			c.LockoutCount = LockoutCounter
		}
	case LockoutCounter:
	case LockoutLog:
		if c.WindowStart == WindowStartFirstUse {
			return paramErr("lockout_count", "a log has no windows to start at first use; write window_start=clock, or lockout_count=counter")
		}
	default:
		return &ParamError{Key: "lockout_count", Err: oneOf("lockout count", c.LockoutCount, c.LockoutCount, LockoutCounts)}
	}
	if c.LockoutCount != "" && c.Algorithm != limiter.Lockout {
		return paramErr("lockout_count", "applies to algorithm lockout only; write algorithm=lockout, or leave lockout_count out")
	}
	return c.validateCount()
}

// validateCount checks a sliding counter's count and fills its default.
func (c *Config) validateCount() error {
	switch c.Count {
	case "":
		if c.Algorithm == limiter.SlidingCounter {
			c.Count = CountExact
		}
	case CountExact, CountRounded:
	default:
		return &ParamError{Key: "count", Err: oneOf("sliding count", c.Count, c.Count, Counts)}
	}
	if c.Count != "" && c.Algorithm != limiter.SlidingCounter {
		return paramErr("count", "applies to algorithm sliding-counter only; write algorithm=sliding-counter, or leave count out")
	}
	return nil
}

// validate checks that the shares are shares and add up to at most 1.
func (f Faults) validate() error {
	for _, s := range []struct {
		key string
		v   float64
	}{{"error_rate", f.ErrorRate}, {"reset_rate", f.ResetRate}, {"hang_rate", f.HangRate}} {
		if !(s.v >= 0 && s.v <= 1) {
			return paramErr(s.key, "%v is not a share; write a percentage such as 1%% or a fraction such as 0.01", s.v)
		}
	}
	if f.ErrorRate+f.ResetRate+f.HangRate > 1+1e-9 {
		return paramErr("error_rate", "error_rate, reset_rate and hang_rate add up to more than 100%%; lower one of them")
	}
	return nil
}

// limiterConfigs are the limiters of a validated configuration: the
// algorithm's, then the quota's when there is one.
func (c *Config) limiterConfigs() []limiter.Config {
	firstUse := c.WindowStart == WindowStartFirstUse
	cs := []limiter.Config{{Kind: c.Algorithm, Rate: c.Rate, Burst: c.Burst, Limit: c.Limit, Window: c.Window, MaxInFlight: c.MaxInFlight,
		FirstUse: firstUse && anchorable(c.Algorithm), Log: c.LockoutCount == LockoutLog, Round: c.Count == CountRounded}}
	if c.Quota.Limit > 0 {
		cs = append(cs, limiter.Config{Kind: limiter.FixedWindow, Limit: c.Quota.Limit, Window: c.Quota.Window, FirstUse: firstUse})
	}
	return cs
}

// anchorable reports whether window_start applies to algorithm k's own
// windows: a sliding log has none to start.
func anchorable(k limiter.Kind) bool {
	return k == limiter.FixedWindow || k == limiter.SlidingCounter || k == limiter.Lockout
}
