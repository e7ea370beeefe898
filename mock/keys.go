package mock

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"limitprobe/headers"
	"limitprobe/limiter"
	"limitprobe/units"
)

// Param is one key=value pair of the shared vocabulary (see Set).
type Param struct {
	Key, Value string
}

// configKey is one key of the vocabulary: how Set reads it, which
// algorithms it applies to, and how Spec writes it.
type configKey struct {
	name string
	// uses lists the algorithms the key configures, as needs names them;
	// nil for keys that shape the responses of every algorithm.
	uses []limiter.Kind
	// every makes the key apply to every algorithm although uses names some
	// (any algorithm may have a latency; concurrency needs one).
	every bool
	// note says what the key means for an algorithm, when needs names it.
	note map[limiter.Kind]string
	// set reads the value, trimmed, into c; its error names no key.
	set func(c *Config, v string) error
	// spec is the value as Spec writes it, "" to leave the key out; nil for
	// keys Spec never writes.
	spec func(c Config) string
}

var (
	bucketKinds = []limiter.Kind{limiter.TokenBucket, limiter.GCRA, limiter.Queue}
	windowKinds = []limiter.Kind{limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter, limiter.Lockout}
)

// configKeys is the vocabulary, in the order Spec writes it.
var configKeys = []configKey{
	{name: "preset", set: func(c *Config, v string) error {
		p, err := Preset(v)
		if err != nil {
			return err
		}
		p.Now = c.Now
		*c = p
		return nil
	}},
	{name: "algorithm", set: setAlgorithm, spec: func(c Config) string { return string(c.Algorithm) }},
	{name: "rate", uses: bucketKinds,
		set: func(c *Config, v string) error {
			r, err := units.ParseRate(v)
			if err == nil {
				c.Rate = float64(r)
			}
			return err
		},
		spec: func(c Config) string {
			if c.Rate <= 0 {
				return ""
			}
			return strconv.FormatFloat(c.Rate, 'g', -1, 64) + "/s"
		}},
	countKey("burst", bucketKinds, 0, "10", func(c *Config) *int { return &c.Burst }).
		withNote(limiter.Queue, "requests that may wait"),
	countKey("limit", windowKinds, 1, "100", func(c *Config) *int { return &c.Limit }),
	{name: "window", uses: windowKinds,
		set: func(c *Config, v string) error {
			d, err := units.ParseDuration(v)
			if err == nil {
				c.Window = d
			}
			return err
		},
		spec: func(c Config) string { return nonZero(c.Window, c.Window.String()) }},
	countKey("max_in_flight", []limiter.Kind{limiter.Concurrency}, 1, "128", func(c *Config) *int { return &c.MaxInFlight }),
	{name: "quota",
		set: func(c *Config, v string) error {
			n, per, err := units.ParseQuota(v)
			if err == nil {
				c.Quota = Quota{Limit: n, Window: per}
			}
			return err
		},
		spec: func(c Config) string {
			return nonZero(c.Quota.Limit, strconv.Itoa(c.Quota.Limit)+"/"+c.Quota.Window.String())
		}},
	{name: "window_start",
		set: func(c *Config, v string) error {
			ws := strings.ReplaceAll(strings.ToLower(v), "_", "-")
			if err := oneOf("window start", ws, v, []string{WindowStartClock, WindowStartFirstUse}); err != nil {
				return err
			}
			c.WindowStart = ws
			return nil
		},
		spec: func(c Config) string { return nonDefault(c.WindowStart, WindowStartClock, c.WindowStart) }},
	{name: "lockout_count", uses: []limiter.Kind{limiter.Lockout},
		set:  choose("lockout count", LockoutCounts, func(c *Config) *string { return &c.LockoutCount }),
		spec: func(c Config) string { return nonDefault(c.LockoutCount, LockoutCounter, c.LockoutCount) }},
	{name: "count", uses: []limiter.Kind{limiter.SlidingCounter},
		set:  choose("sliding count", Counts, func(c *Config) *string { return &c.Count }),
		spec: func(c Config) string { return nonDefault(c.Count, CountExact, c.Count) }},
	{name: "latency", uses: []limiter.Kind{limiter.Concurrency}, every: true,
		set: func(c *Config, v string) error {
			l, err := ParseLatency(v)
			if err == nil {
				c.Latency = l
			}
			return err
		},
		spec: func(c Config) string { return nonZero(c.Latency.Dist, c.Latency.String()) }},
	{name: "throttle_status",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 400 || n > 599 {
				return fmt.Errorf("%q is not a 4xx or 5xx status; write for example 429 or 503", v)
			}
			c.ThrottleStatus = n
			return nil
		},
		spec: func(c Config) string {
			return nonDefault(c.ThrottleStatus, DefaultThrottleStatus, strconv.Itoa(c.ThrottleStatus))
		}},
	{name: "headers",
		set: func(c *Config, v string) error {
			h := strings.ToLower(v)
			if h == "" || h == "off" {
				h = HeadersNone
			}
			if err := oneOf("header style", h, v, HeaderStyles); err != nil {
				return err
			}
			c.Headers = h
			return nil
		},
		spec: func(c Config) string { return nonDefault(c.Headers, HeadersNone, c.Headers) }},
	{name: "retry_after", set: setRetryAfter, spec: func(c Config) string { return c.RetryAfter }},
	{name: "body",
		set:  choose("body style", BodyStyles, func(c *Config) *string { return &c.Body }),
		spec: func(c Config) string { return nonDefault(c.Body, BodyJSON, c.Body) }},
	{name: "key_by",
		set: func(c *Config, v string) error {
			kb, err := parseKeyBy(v)
			if err == nil {
				c.KeyBy = kb
			}
			return err
		},
		spec: func(c Config) string { return nonDefault(c.KeyBy, KeyNone, c.KeyBy) }},
	faultKey("error_rate", func(f *Faults) *float64 { return &f.ErrorRate }),
	faultKey("reset_rate", func(f *Faults) *float64 { return &f.ResetRate }),
	faultKey("hang_rate", func(f *Faults) *float64 { return &f.HangRate }),
}

// Keys lists the keys Set accepts, in the order Spec writes them.
var Keys = func() []string {
	names := make([]string, len(configKeys))
	for i, k := range configKeys {
		names[i] = k.name
	}
	return names
}()

// countKey is a key holding a whole number from lo to 1e6.
func countKey(name string, uses []limiter.Kind, lo int, example string, field func(*Config) *int) configKey {
	return configKey{name: name, uses: uses,
		set: func(c *Config, v string) error {
			n, err := parseCount(v, lo, example)
			if err == nil {
				*field(c) = n
			}
			return err
		},
		spec: func(c Config) string {
			n := *field(&c)
			return nonZero(n, strconv.Itoa(n))
		}}
}

// faultKey is a key holding the share of one fault.
func faultKey(name string, field func(*Faults) *float64) configKey {
	return configKey{name: name,
		set: func(c *Config, v string) error {
			f, err := units.ParseShare(v)
			if err == nil {
				*field(&c.Faults) = f
			}
			return err
		},
		spec: func(c Config) string {
			f := *field(&c.Faults)
			return nonZero(f, strconv.FormatFloat(f*100, 'g', -1, 64)+"%")
		}}
}

// withNote returns ck with note n for algorithm a.
func (ck configKey) withNote(a limiter.Kind, n string) configKey {
	ck.note = map[limiter.Kind]string{a: n}
	return ck
}

// nonZero is s, or "" when v is its type's zero value or negative.
func nonZero[T int | float64 | time.Duration | string](v T, s string) string {
	var zero T
	if v <= zero {
		return ""
	}
	return s
}

// nonDefault is s, or "" when v is unset or the default.
func nonDefault[T comparable](v, def T, s string) string {
	var zero T
	if v == zero || v == def {
		return ""
	}
	return s
}

func setAlgorithm(c *Config, v string) error {
	a := limiter.Kind(strings.ReplaceAll(strings.ToLower(v), "_", "-"))
	switch a {
	case "tokenbucket", "bucket":
		a = limiter.TokenBucket
	case "sliding-window":
		return fmt.Errorf("%q is ambiguous; write sliding-log (exact) or sliding-counter (two-window estimate)", v)
	case "leaky-bucket":
		a = limiter.Queue
	}
	if err := oneOf("algorithm", string(a), v, limiter.KindNames()); err != nil {
		return err
	}
	c.Algorithm = a
	return nil
}

func setRetryAfter(c *Config, v string) error {
	switch strings.ToLower(v) {
	case "", "off", "none", "false", "no":
		c.RetryAfter = ""
	case "seconds", "on", "true", "yes", "delta-seconds":
		c.RetryAfter = RetryAfterSeconds
	case "http-date", "date":
		c.RetryAfter = RetryAfterHTTPDate
	default:
		return fmt.Errorf("%q is not a Retry-After format; write seconds, http-date or off", v)
	}
	return nil
}

// oneOf checks that v, as written, is one of list once normalised to norm.
func oneOf(what, norm, v string, list []string) error {
	if !slices.Contains(list, norm) {
		return fmt.Errorf("unknown %s %q; write one of %s", what, v, strings.Join(list, ", "))
	}
	return nil
}

// choose sets a key whose value is one of list, in any case: field is
// where it goes.
func choose(what string, list []string, field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		s := strings.ToLower(v)
		if err := oneOf(what, s, v, list); err != nil {
			return err
		}
		*field(c) = s
		return nil
	}
}

// lookupKey returns the key named k, normalised.
func lookupKey(k string) (configKey, bool) {
	i := slices.IndexFunc(configKeys, func(ck configKey) bool { return ck.name == k })
	if i < 0 {
		return configKey{}, false
	}
	return configKeys[i], true
}

// normKey turns "max-in-flight", "Max_In_Flight" into "max_in_flight".
func normKey(k string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(k)), "-", "_")
}

func normKeyOrRaw(k, raw string) string {
	if k == "" {
		return strconv.Quote(raw)
	}
	return k
}

// Set sets one key of cfg from its text form, the shared vocabulary of the
// command line (--max-in-flight), scenario files (max_in_flight) and specs.
// Keys may be written with dashes or underscores. Setting "preset" replaces
// the whole configuration (keeping Now), so it comes first. Errors are
// *ParamError values that say what to write instead.
func Set(cfg *Config, key, value string) error {
	k := normKey(key)
	ck, ok := lookupKey(k)
	if !ok {
		return paramErr(normKeyOrRaw(k, key), "unknown key; write one of %s", strings.Join(Keys, ", "))
	}
	if err := ck.set(cfg, strings.TrimSpace(value)); err != nil {
		return &ParamError{Key: k, Err: err}
	}
	return nil
}

// Applies reports whether key (as in Set) has an effect with algorithm.
// Keys that shape responses (headers, body, faults, ...) apply to every
// algorithm.
func Applies(algorithm limiter.Kind, key string) bool {
	ck, ok := lookupKey(normKey(key))
	return !ok || ck.uses == nil || ck.every || slices.Contains(ck.uses, algorithm)
}

// needs says which keys an algorithm uses.
func needs(algorithm limiter.Kind) string {
	if algorithm == limiter.None {
		return "it never limits"
	}
	var used []string
	for _, ck := range configKeys {
		if slices.Contains(ck.uses, algorithm) {
			used = append(used, ck.name)
			if n := ck.note[algorithm]; n != "" {
				used[len(used)-1] += " (" + n + ")"
			}
		}
	}
	if len(used) == 0 {
		return "set algorithm first"
	}
	return "it uses " + strings.Join(used, " and ")
}

// Spec renders the configuration as a spec that ParseSpec reads back, with
// only the keys that apply to its algorithm and differ from the defaults.
func (c Config) Spec() string {
	var parts []string
	for _, ck := range configKeys {
		if ck.spec == nil || !Applies(c.Algorithm, ck.name) {
			continue
		}
		if v := ck.spec(c); v != "" {
			parts = append(parts, ck.name+"="+v)
		}
	}
	return strings.Join(parts, ",")
}

// FromParams builds a configuration from key=value pairs: a "preset" pair is
// applied first wherever it appears, then the others in order with Set.
// Without a preset the configuration starts from the zero Config. A key that
// does not apply to the resulting algorithm is an error (rate with
// fixed-window, say), so a typo in intent does not pass silently; keys set
// only by the preset are never checked. The result is not validated as a
// whole; Validate and New do that.
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

// SpecParams splits a comma-separated list of key=value pairs such as
// "algorithm=token-bucket,rate=50/s,burst=10" into pairs, keys and values
// trimmed, without checking them. Latency values may contain commas
// ("latency=lognormal:50ms,400ms"): a comma-separated part without "=" is
// joined to the value before it. Empty parts are skipped; a spec of none
// gives no pairs.
func SpecParams(spec string) ([]Param, error) {
	var params []Param
	for part := range strings.SplitSeq(spec, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			if len(params) == 0 {
				return nil, paramErr(normKeyOrRaw(normKey(part), part), "has no value; write key=value pairs such as algorithm=token-bucket,rate=50/s")
			}
			params[len(params)-1].Value += "," + part
			continue
		}
		params = append(params, Param{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	return params, nil
}

// ParseSpec parses a spec such as "algorithm=token-bucket,rate=50/s,burst=10"
// or "preset=nginx,rate=20/s" (see SpecParams) with FromParams.
func ParseSpec(spec string) (Config, error) {
	params, err := SpecParams(spec)
	if err != nil {
		return Config{}, err
	}
	if len(params) == 0 {
		return Config{}, paramErr("algorithm", "empty spec; write for example algorithm=token-bucket,rate=50/s,burst=10 or preset=nginx")
	}
	return FromParams(params)
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
