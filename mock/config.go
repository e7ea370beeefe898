package mock

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"limitprobe/headers"
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

// Key modes accepted in Config.KeyBy, besides "header:NAME".
const (
	KeyNone = "none"
	KeyIP   = "ip"
)

// DefaultThrottleStatus is the status of a throttled response when
// Config.ThrottleStatus is zero.
const DefaultThrottleStatus = http.StatusTooManyRequests

// Config describes a mock limiter. The zero value of a field means its
// default (noted per field); New validates the combination.
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
	// Now is the clock the limiter reads; nil means time.Now. Delays and
	// latency always use real time.
	Now func() time.Time
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

// Keys lists the keys Set accepts, in the order Spec writes them.
var Keys = []string{
	"preset", "algorithm", "rate", "burst", "limit", "window", "max_in_flight",
	"latency", "throttle_status", "headers", "retry_after", "body", "key_by",
	"error_rate", "reset_rate", "hang_rate",
}

// normKey turns "max-in-flight", "Max_In_Flight" into "max_in_flight".
func normKey(k string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(k)), "-", "_")
}

// Set sets one key of cfg from its text form, the shared vocabulary of the
// command line (--max-in-flight), scenario files (max_in_flight) and specs.
// Keys may be written with dashes or underscores. Setting "preset" replaces
// the whole configuration (keeping Now), so it comes first. Errors are
// *ParamError values that say what to write instead.
func Set(cfg *Config, key, value string) error {
	k := normKey(key)
	v := strings.TrimSpace(value)
	switch k {
	case "preset":
		p, err := Preset(v)
		if err != nil {
			return &ParamError{Key: k, Err: err}
		}
		p.Now = cfg.Now
		*cfg = p
	case "algorithm":
		a := limiter.Kind(strings.ReplaceAll(strings.ToLower(v), "_", "-"))
		switch a {
		case "tokenbucket", "bucket":
			a = limiter.TokenBucket
		case "sliding-window":
			return paramErr(k, "%q is ambiguous; write sliding-log (exact) or sliding-counter (two-window estimate)", value)
		case "leaky-bucket":
			a = limiter.Queue
		}
		if !slices.Contains(limiter.Kinds, a) {
			return paramErr(k, "unknown algorithm %q; write one of %s", value, strings.Join(limiter.KindNames(), ", "))
		}
		cfg.Algorithm = a
	case "rate":
		r, err := units.ParseRate(v)
		if err != nil {
			return &ParamError{Key: k, Err: err}
		}
		cfg.Rate = float64(r)
	case "burst":
		n, err := parseCount(v, 0, "10")
		if err != nil {
			return &ParamError{Key: k, Err: err}
		}
		cfg.Burst = n
	case "limit":
		n, err := parseCount(v, 1, "100")
		if err != nil {
			return &ParamError{Key: k, Err: err}
		}
		cfg.Limit = n
	case "max_in_flight":
		n, err := parseCount(v, 1, "128")
		if err != nil {
			return &ParamError{Key: k, Err: err}
		}
		cfg.MaxInFlight = n
	case "window":
		d, err := units.ParseDuration(v)
		if err != nil {
			return &ParamError{Key: k, Err: err}
		}
		cfg.Window = d
	case "latency":
		l, err := ParseLatency(v)
		if err != nil {
			return &ParamError{Key: k, Err: err}
		}
		cfg.Latency = l
	case "throttle_status":
		n, err := strconv.Atoi(v)
		if err != nil || n < 400 || n > 599 {
			return paramErr(k, "%q is not a 4xx or 5xx status; write for example 429 or 503", value)
		}
		cfg.ThrottleStatus = n
	case "headers":
		h := strings.ToLower(v)
		if h == "" || h == "off" {
			h = HeadersNone
		}
		if !slices.Contains(HeaderStyles, h) {
			return paramErr(k, "unknown header style %q; write one of %s", value, strings.Join(HeaderStyles, ", "))
		}
		cfg.Headers = h
	case "retry_after":
		switch strings.ToLower(v) {
		case "", "off", "none", "false", "no":
			cfg.RetryAfter = ""
		case "seconds", "on", "true", "yes", "delta-seconds":
			cfg.RetryAfter = RetryAfterSeconds
		case "http-date", "date":
			cfg.RetryAfter = RetryAfterHTTPDate
		default:
			return paramErr(k, "%q is not a Retry-After format; write seconds, http-date or off", value)
		}
	case "body":
		b := strings.ToLower(v)
		if !slices.Contains(BodyStyles, b) {
			return paramErr(k, "unknown body style %q; write one of %s", value, strings.Join(BodyStyles, ", "))
		}
		cfg.Body = b
	case "key_by":
		kb, err := parseKeyBy(v)
		if err != nil {
			return &ParamError{Key: k, Err: err}
		}
		cfg.KeyBy = kb
	case "error_rate", "reset_rate", "hang_rate":
		f, err := units.ParseShare(v)
		if err != nil {
			return &ParamError{Key: k, Err: err}
		}
		switch k {
		case "error_rate":
			cfg.Faults.ErrorRate = f
		case "reset_rate":
			cfg.Faults.ResetRate = f
		default:
			cfg.Faults.HangRate = f
		}
	default:
		return paramErr(normKeyOrRaw(k, key), "unknown key; write one of %s", strings.Join(Keys, ", "))
	}
	return nil
}

func normKeyOrRaw(k, raw string) string {
	if k == "" {
		return strconv.Quote(raw)
	}
	return k
}

// parseCount parses a whole number ≥ lo and at most 1e6.
func parseCount(s string, lo int, example string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number; write for example %s", s, example)
	}
	if n < lo || n > 1_000_000 {
		return 0, fmt.Errorf("%d is out of range; write a whole number from %d to 1000000, for example %s", n, lo, example)
	}
	return n, nil
}

func parseKeyBy(s string) (string, error) {
	switch l := strings.ToLower(s); {
	case l == "" || l == KeyNone:
		return KeyNone, nil
	case l == KeyIP:
		return KeyIP, nil
	case strings.HasPrefix(l, "header:"):
		name := strings.TrimSpace(s[len("header:"):])
		if !headers.ValidName(name) {
			return "", fmt.Errorf("%q has no valid header name; write for example header:Authorization", s)
		}
		return "header:" + http.CanonicalHeaderKey(name), nil
	}
	return "", fmt.Errorf("%q is not a key mode; write none, ip or header:NAME (for example header:Authorization)", s)
}

// Param is one key=value pair of the shared vocabulary (see Set).
type Param struct {
	Key, Value string
}

// FromParams builds a configuration from key=value pairs: a "preset" pair is
// applied first wherever it appears, then the others in order with Set.
// Without a preset the configuration starts from the zero Config. A key that
// does not apply to the resulting algorithm is an error (rate with
// fixed-window, say), so a typo in intent does not pass silently; keys set
// only by the preset are never checked. The result is not validated as a
// whole; New does that.
func FromParams(params []Param) (Config, error) {
	var cfg Config
	seen := map[string]bool{}
	for _, p := range params {
		k := normKey(p.Key)
		if seen[k] {
			return Config{}, paramErr(k, "set twice; keep one")
		}
		seen[k] = true
		if k == "preset" {
			if err := Set(&cfg, k, p.Value); err != nil {
				return Config{}, err
			}
		}
	}
	for _, p := range params {
		if normKey(p.Key) == "preset" {
			continue
		}
		if err := Set(&cfg, p.Key, p.Value); err != nil {
			return Config{}, err
		}
	}
	for _, p := range params {
		k := normKey(p.Key)
		if !Applies(cfg.Algorithm, k) {
			return Config{}, paramErr(k, "does not apply to algorithm %s; %s", cfg.Algorithm, needs(cfg.Algorithm))
		}
	}
	return cfg, nil
}

// ParseSpec parses a comma-separated list of key=value pairs such as
// "algorithm=token-bucket,rate=50/s,burst=10" or "preset=nginx,rate=20/s"
// with FromParams. Latency values may contain commas
// ("latency=lognormal:50ms,400ms"): a comma-separated part without "=" is
// joined to the value before it.
func ParseSpec(spec string) (Config, error) {
	var params []Param
	for part := range strings.SplitSeq(spec, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			if len(params) == 0 {
				return Config{}, paramErr(normKeyOrRaw(normKey(part), part), "has no value; write key=value pairs such as algorithm=token-bucket,rate=50/s")
			}
			params[len(params)-1].Value += "," + part
			continue
		}
		params = append(params, Param{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	if len(params) == 0 {
		return Config{}, paramErr("algorithm", "empty spec; write for example algorithm=token-bucket,rate=50/s,burst=10 or preset=nginx")
	}
	return FromParams(params)
}

// Applies reports whether key (as in Set) has an effect with algorithm.
// Keys that shape responses (headers, body, faults, ...) apply to every
// algorithm.
func Applies(algorithm limiter.Kind, key string) bool {
	switch normKey(key) {
	case "rate":
		return algorithm == limiter.TokenBucket || algorithm == limiter.GCRA || algorithm == limiter.Queue
	case "burst":
		return algorithm == limiter.TokenBucket || algorithm == limiter.GCRA || algorithm == limiter.Queue
	case "limit", "window":
		return algorithm == limiter.FixedWindow || algorithm == limiter.SlidingLog || algorithm == limiter.SlidingCounter || algorithm == limiter.Lockout
	case "max_in_flight":
		return algorithm == limiter.Concurrency
	}
	return true
}

// needs says which keys an algorithm uses.
func needs(algorithm limiter.Kind) string {
	switch algorithm {
	case limiter.TokenBucket, limiter.GCRA:
		return "it uses rate and burst"
	case limiter.Queue:
		return "it uses rate and burst (requests that may wait)"
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter, limiter.Lockout:
		return "it uses limit and window"
	case limiter.Concurrency:
		return "it uses max_in_flight and latency"
	case limiter.None:
		return "it never limits"
	}
	return "set algorithm first"
}

// validate checks the configuration as a whole and fills in defaults.
func (c *Config) validate() error {
	if c.Algorithm == "" {
		return paramErr("algorithm", "missing; write one of %s, or a preset", strings.Join(limiter.KindNames(), ", "))
	}
	if !slices.Contains(limiter.Kinds, c.Algorithm) {
		return paramErr("algorithm", "unknown algorithm %q; write one of %s", c.Algorithm, strings.Join(limiter.KindNames(), ", "))
	}
	switch c.Algorithm {
	case limiter.TokenBucket, limiter.GCRA, limiter.Queue:
		if !(c.Rate >= units.MinRate && c.Rate <= units.MaxRate) {
			return paramErr("rate", "%s needs a rate between one a day and %d/s; write for example rate=50/s", c.Algorithm, units.MaxRate)
		}
		if c.Burst < 0 || c.Burst > 1_000_000 {
			return paramErr("burst", "%d is out of range; write a whole number from 0 to 1000000", c.Burst)
		}
		if c.Burst == 0 && c.Algorithm != limiter.Queue {
			c.Burst = 1
		}
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter, limiter.Lockout:
		if c.Limit < 1 || c.Limit > 1_000_000 {
			return paramErr("limit", "%s needs a limit from 1 to 1000000 requests per window; write for example limit=100", c.Algorithm)
		}
		if c.Window < time.Millisecond {
			return paramErr("window", "%s needs a window of at least 1ms; write for example window=10s", c.Algorithm)
		}
	case limiter.Concurrency:
		if c.MaxInFlight < 1 {
			return paramErr("max_in_flight", "concurrency needs a cap on requests in flight; write for example max_in_flight=128")
		}
		if c.Latency.Mean() <= 0 {
			return paramErr("latency", "concurrency needs a latency, or requests never overlap and the limit is infinite; write for example latency=100ms")
		}
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
	if !slices.Contains(HeaderStyles, c.Headers) {
		return paramErr("headers", "unknown header style %q; write one of %s", c.Headers, strings.Join(HeaderStyles, ", "))
	}
	if c.RetryAfter != "" && c.RetryAfter != RetryAfterSeconds && c.RetryAfter != RetryAfterHTTPDate {
		return paramErr("retry_after", "%q is not a Retry-After format; write seconds, http-date or off", c.RetryAfter)
	}
	if c.Body == "" {
		c.Body = BodyJSON
	}
	if !slices.Contains(BodyStyles, c.Body) {
		return paramErr("body", "unknown body style %q; write one of %s", c.Body, strings.Join(BodyStyles, ", "))
	}
	kb, err := parseKeyBy(c.KeyBy)
	if err != nil {
		return &ParamError{Key: "key_by", Err: err}
	}
	c.KeyBy = kb
	if c.Algorithm == limiter.SlidingLog && kb != KeyNone && c.Limit > maxKeyedLogLimit {
		return paramErr("limit", "a sliding log keeps limit timestamps per key, too many for %d with key_by; write limit=%d or less, or use sliding-counter", c.Limit, maxKeyedLogLimit)
	}
	if err := c.Latency.validate(); err != nil {
		return &ParamError{Key: "latency", Err: err}
	}
	f := c.Faults
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

// Spec renders the configuration as a spec that ParseSpec reads back, with
// only the keys that apply to its algorithm and differ from the defaults.
func (c Config) Spec() string {
	var parts []string
	add := func(k, v string) { parts = append(parts, k+"="+v) }
	add("algorithm", string(c.Algorithm))
	if Applies(c.Algorithm, "rate") && c.Rate > 0 {
		add("rate", strconv.FormatFloat(c.Rate, 'g', -1, 64)+"/s")
	}
	if Applies(c.Algorithm, "burst") && c.Burst > 0 {
		add("burst", strconv.Itoa(c.Burst))
	}
	if Applies(c.Algorithm, "limit") && c.Limit > 0 {
		add("limit", strconv.Itoa(c.Limit))
	}
	if Applies(c.Algorithm, "window") && c.Window > 0 {
		add("window", c.Window.String())
	}
	if Applies(c.Algorithm, "max_in_flight") && c.MaxInFlight > 0 {
		add("max_in_flight", strconv.Itoa(c.MaxInFlight))
	}
	if c.Latency.Dist != "" {
		add("latency", c.Latency.String())
	}
	if c.ThrottleStatus != 0 && c.ThrottleStatus != DefaultThrottleStatus {
		add("throttle_status", strconv.Itoa(c.ThrottleStatus))
	}
	if c.Headers != "" && c.Headers != HeadersNone {
		add("headers", c.Headers)
	}
	if c.RetryAfter != "" {
		add("retry_after", c.RetryAfter)
	}
	if c.Body != "" && c.Body != BodyJSON {
		add("body", c.Body)
	}
	if c.KeyBy != "" && c.KeyBy != KeyNone {
		add("key_by", c.KeyBy)
	}
	share := func(f float64) string { return strconv.FormatFloat(f*100, 'g', -1, 64) + "%" }
	if c.Faults.ErrorRate > 0 {
		add("error_rate", share(c.Faults.ErrorRate))
	}
	if c.Faults.ResetRate > 0 {
		add("reset_rate", share(c.Faults.ResetRate))
	}
	if c.Faults.HangRate > 0 {
		add("hang_rate", share(c.Faults.HangRate))
	}
	return strings.Join(parts, ",")
}

// Latency is the distribution of the service time of admitted requests. Its
// text form (see ParseLatency) is "20ms" (fixed), "20ms..80ms" (uniform) or
// "lognormal:50ms,400ms" (log-normal with median 50 ms and 99th percentile
// 400 ms). The zero value adds no latency.
type Latency struct {
	// Dist is "fixed", "uniform", "lognormal", or "" for none.
	Dist string
	// Min is the fixed latency, or the lower bound of a uniform one.
	Min time.Duration
	// Max is the upper bound of a uniform latency.
	Max time.Duration
	// Median is the median of a log-normal latency.
	Median time.Duration
	// P99 is the 99th percentile of a log-normal latency.
	P99 time.Duration
}

// Latency distributions.
const (
	LatencyFixed     = "fixed"
	LatencyUniform   = "uniform"
	LatencyLognormal = "lognormal"
)

// z99 is the 99th percentile of the standard normal distribution.
const z99 = 2.3263478740408408

// maxLatency bounds latencies: a mock request that takes longer is a typo.
const maxLatency = 10 * time.Minute

// ParseLatency parses a latency: "0" or "none" (no latency), "20ms"
// (fixed), "20ms..80ms" (uniform between the two) or
// "lognormal:50ms,400ms" (log-normal with that median and 99th percentile).
func ParseLatency(s string) (Latency, error) {
	in := strings.TrimSpace(s)
	const hint = `write "20ms" (fixed), "20ms..80ms" (uniform) or "lognormal:50ms,400ms" (median, p99)`
	switch strings.ToLower(in) {
	case "0", "0s", "none", "off":
		return Latency{}, nil
	}
	if rest, ok := strings.CutPrefix(strings.ToLower(in), "lognormal:"); ok {
		a, b, ok := strings.Cut(rest, ",")
		if !ok {
			return Latency{}, fmt.Errorf("%q needs a median and a p99; %s", s, hint)
		}
		med, err1 := units.ParseDuration(a)
		p99, err2 := units.ParseDuration(b)
		if err := errors.Join(err1, err2); err != nil {
			return Latency{}, fmt.Errorf("%q is not a latency: %w", s, err)
		}
		l := Latency{Dist: LatencyLognormal, Median: med, P99: p99}
		return l, l.validate()
	}
	if a, b, ok := strings.Cut(in, ".."); ok {
		lo, err1 := units.ParseDuration(a)
		hi, err2 := units.ParseDuration(b)
		if err := errors.Join(err1, err2); err != nil {
			return Latency{}, fmt.Errorf("%q is not a latency: %w", s, err)
		}
		l := Latency{Dist: LatencyUniform, Min: lo, Max: hi}
		return l, l.validate()
	}
	d, err := units.ParseDuration(in)
	if err != nil {
		return Latency{}, fmt.Errorf("%q is not a latency; %s", s, hint)
	}
	l := Latency{Dist: LatencyFixed, Min: d}
	return l, l.validate()
}

func (l Latency) validate() error {
	switch l.Dist {
	case "":
		return nil
	case LatencyFixed:
		if l.Min < 0 || l.Min > maxLatency {
			return fmt.Errorf("latency %s is out of range; write at most 10m", l.Min)
		}
	case LatencyUniform:
		if l.Min < 0 || l.Max < l.Min || l.Max > maxLatency {
			return fmt.Errorf("uniform latency %s..%s needs 0 ≤ low ≤ high ≤ 10m; write for example 20ms..80ms", l.Min, l.Max)
		}
	case LatencyLognormal:
		if l.Median <= 0 || l.P99 <= l.Median || l.P99 > maxLatency {
			return fmt.Errorf("log-normal latency needs 0 < median < p99 ≤ 10m, got median %s and p99 %s; write for example lognormal:50ms,400ms", l.Median, l.P99)
		}
	default:
		return fmt.Errorf("unknown latency distribution %q; write fixed, uniform or lognormal", l.Dist)
	}
	return nil
}

// String returns the text form ParseLatency reads.
func (l Latency) String() string {
	switch l.Dist {
	case LatencyFixed:
		return l.Min.String()
	case LatencyUniform:
		return l.Min.String() + ".." + l.Max.String()
	case LatencyLognormal:
		return "lognormal:" + l.Median.String() + "," + l.P99.String()
	}
	return "0s"
}

// sigma is the standard deviation of the logarithm of a log-normal latency.
func (l Latency) sigma() float64 {
	return math.Log(float64(l.P99)/float64(l.Median)) / z99
}

// Mean returns the mean latency. It equals the median for fixed and uniform
// latencies; for a log-normal one it is median·exp(σ²/2), above the median.
func (l Latency) Mean() time.Duration {
	switch l.Dist {
	case LatencyFixed:
		return l.Min
	case LatencyUniform:
		return (l.Min + l.Max) / 2
	case LatencyLognormal:
		s := l.sigma()
		return time.Duration(float64(l.Median) * math.Exp(s*s/2))
	}
	return 0
}

// MedianLatency returns the median latency.
func (l Latency) MedianLatency() time.Duration {
	switch l.Dist {
	case LatencyFixed:
		return l.Min
	case LatencyUniform:
		return (l.Min + l.Max) / 2
	case LatencyLognormal:
		return l.Median
	}
	return 0
}

// sample draws one latency; u is uniform in [0,1) and z standard normal.
func (l Latency) sample(u, z float64) time.Duration {
	switch l.Dist {
	case LatencyFixed:
		return l.Min
	case LatencyUniform:
		return l.Min + time.Duration(u*float64(l.Max-l.Min))
	case LatencyLognormal:
		d := float64(l.Median) * math.Exp(l.sigma()*z)
		return time.Duration(min(d, float64(maxLatency)))
	}
	return 0
}

// limiterConfig is the algorithm's part of a validated configuration.
func (c *Config) limiterConfig() limiter.Config {
	return limiter.Config{Kind: c.Algorithm, Rate: c.Rate, Burst: c.Burst, Limit: c.Limit, Window: c.Window, MaxInFlight: c.MaxInFlight}
}
