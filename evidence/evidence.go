// Package evidence holds what a probe measured, as plain data: the steps
// it ran and a timeline of the run. The probe writes it; the estimator, the
// advice and the report read it.
package evidence

// ArrivalsPoisson marks a step whose requests had exponential gaps.
const ArrivalsPoisson = "poisson"

// Step is the measurement of one step. Counts are of requests sent during
// the step, whenever their responses came back. Rates are per second.
type Step struct {
	Index      int     `json:"index"`
	Phase      string  `json:"phase"`
	OfferedRPS float64 `json:"offered_rps"` // planned rate; for concurrency steps the achieved send rate
	// SlopeRPS is how fast the offered rate grew, per second, in a linear
	// step (whose OfferedRPS is the mean); StartRPS its rate at the start.
	StartRPS    float64 `json:"start_rps,omitempty"`
	SlopeRPS    float64 `json:"slope_rps,omitempty"`
	Concurrency int     `json:"concurrency,omitempty"` // workers of a concurrency step
	// Arrivals is "poisson" when requests were spaced at random around the
	// offered rate; empty when evenly.
	Arrivals       string  `json:"arrivals,omitempty"`
	StartS         float64 `json:"start_s"` // from the start of the run
	DurationS      float64 `json:"duration_s"`
	Requests       int64   `json:"requests"`
	OK             int64   `json:"ok"`
	Throttled      int64   `json:"throttled"`
	Errors         int64   `json:"errors"`
	GoodputRPS     float64 `json:"goodput_rps"`
	ThrottledRatio float64 `json:"throttled_ratio"`
	LatencyMS      Latency `json:"latency_ms"`          // of successful responses
	ThrottleMS     Latency `json:"throttle_latency_ms"` // of throttled responses
	MaxInFlight    int     `json:"max_in_flight"`       // most requests outstanding at once
	MeanInFlight   float64 `json:"mean_in_flight"`      // time-average of requests outstanding
	// FirstThrottleS is when, from the start of the step, the first
	// throttled request was sent; -1 when none was.
	FirstThrottleS float64 `json:"first_throttle_s"`
	// OKBeforeThrottle counts successful requests sent before the first
	// throttled one: with an idle start, the burst plus what refilled.
	OKBeforeThrottle int64 `json:"ok_before_throttle"`
	// SteadyRPS is the goodput from the first throttled request to the end
	// of the step: the rate the limiter lets through once saturated. 0 when
	// nothing was throttled.
	SteadyRPS  float64          `json:"steady_rps"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"` // "refused", "timeout", "reset", "5xx", ...
	// SlotMS, for a step with Poisson arrivals, is the gap after an
	// accepted request from which the next was accepted: a limiter that
	// keeps no burst admits one request per slot, 1/r. 0 when no sharp
	// edge showed.
	SlotMS float64 `json:"slot_ms,omitempty"`
	// SlotTickMS is the limiter's clock step when the edge spanned one
	// whole millisecond (nginx counts time in them): passes began at
	// SlotMS−1 and were the rule from SlotMS. 0 otherwise.
	SlotTickMS float64 `json:"slot_tick_ms,omitempty"`
	// RetryAfterS is the largest Retry-After (or reset) the step saw, in
	// seconds; 0 when none.
	RetryAfterS float64 `json:"retry_after_s"`
}

// ErrorCause is one cause of failed requests ("refused", "5xx", ...; see
// probe's Cause constants): how many failed so over the run, and what the
// first of them said.
type ErrorCause struct {
	Cause   string `json:"cause"`
	Count   int64  `json:"count"`
	Example string `json:"example"` // redacted, on one line
}

// Latency holds latency quantiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Timeline is the run in fixed time buckets, for charts and for estimates
// that need the shape of a step (bursts, windows).
type Timeline struct {
	ResolutionS float64  `json:"resolution_s"`
	Buckets     []Bucket `json:"buckets"`
}

// Bucket counts the requests sent in one slice of the timeline.
type Bucket struct {
	Sent         int64   `json:"sent"`
	OK           int64   `json:"ok"`
	Throttled    int64   `json:"throttled"`
	Errors       int64   `json:"errors"`
	LatencyMSP50 float64 `json:"latency_ms_p50"` // median latency of successful responses; 0 when none
	InFlight     float64 `json:"in_flight"`      // mean requests outstanding
}
