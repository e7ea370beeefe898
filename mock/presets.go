package mock

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"limitprobe/limiter"
)

// Presets lists the preset names Preset accepts.
var Presets = []string{"hf-endpoint", "hf-hub", "github", "openai", "nginx"}

// Preset returns the configuration of a named preset; PRESETS.md gives the
// truth of each. Every field can be overridden afterwards with Set.
func Preset(name string) (Config, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "hf-endpoint":
		// A Hugging Face Inference Endpoint running text-generation-inference
		// with its default max_concurrent_requests: an instant 429 with TGI's
		// body once 128 requests are in flight, no rate-limit headers.
		return Config{
			Algorithm:   limiter.Concurrency,
			MaxInFlight: 128,
			Latency:     Latency{Dist: LatencyLognormal, Median: 500 * time.Millisecond, P99: 2 * time.Second},
			Body:        BodyTGI,
			Headers:     HeadersNone,
		}, nil
	case "hf-hub":
		// The Hugging Face Hub API: a fixed 5-minute window per client with
		// the Hub's RateLimit and RateLimit-Policy headers.
		return Config{
			Algorithm: limiter.FixedWindow,
			Limit:     1000,
			Window:    5 * time.Minute,
			Headers:   HeadersHFHub,
		}, nil
	case "github":
		// GitHub's primary REST limit for an authenticated user: 5000 per
		// hour counted from the window's first request, x-ratelimit-*
		// headers, 403 when exhausted.
		return Config{
			Algorithm:      limiter.FixedWindow,
			Limit:          5000,
			Window:         time.Hour,
			WindowStart:    WindowStartFirstUse,
			Headers:        HeadersXRateLimit,
			ThrottleStatus: 403,
		}, nil
	case "openai":
		// An OpenAI-style API: a token bucket (3000 requests per minute
		// enforced per second) with x-ratelimit-*-requests headers and
		// Retry-After in seconds.
		return Config{
			Algorithm:  limiter.TokenBucket,
			Rate:       50,
			Burst:      100,
			Headers:    HeadersOpenAI,
			RetryAfter: RetryAfterSeconds,
		}, nil
	case "nginx":
		// nginx limit_req zone rate=10r/s with burst=20 and no nodelay:
		// excess requests wait, beyond the burst they get nginx's 503 page.
		return Config{
			Algorithm:      limiter.Queue,
			Rate:           10,
			Burst:          20,
			ThrottleStatus: 503,
			Headers:        HeadersNone,
			Body:           BodyHTML,
		}, nil
	}
	if slices.Contains([]string{"hf", "huggingface", "tgi"}, strings.ToLower(name)) {
		return Config{}, fmt.Errorf("unknown preset %q; write hf-endpoint (TGI concurrency cap) or hf-hub (Hub API window)", name)
	}
	return Config{}, fmt.Errorf("unknown preset %q; write one of %s", name, strings.Join(Presets, ", "))
}
