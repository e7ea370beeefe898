package estimate

import (
	"time"

	"limitprobe/limiter"
	"limitprobe/units"
)

// Summary is the estimate of the limit and its explanation.
type Summary struct {
	Limited            bool    `json:"limited"`
	EffectiveLimitRPS  float64 `json:"effective_limit_rps"`
	EffectiveLimitBand Band    `json:"effective_limit_band"`
	OnsetRPS           float64 `json:"onset_rps"` // 0 when never crossed the threshold
	Burst              int     `json:"burst"`
	WindowS            float64 `json:"window_s"`
	MaxInFlight        int     `json:"max_in_flight"` // the cap, for a concurrency limit
	// ClientInFlight is, for a cap on requests in flight, how many this
	// client must keep in flight to fill it: the server holds each for
	// its service time, the client for that plus the round trip (Little's
	// law). 0 when unknown.
	ClientInFlight int     `json:"client_in_flight,omitempty"`
	Algorithm      string  `json:"algorithm"`  // token-bucket, fixed-window, sliding-window, concurrency, queue, lockout, none-observed, unknown
	Confidence     float64 `json:"confidence"` // 0..1
	LowerBoundOnly bool    `json:"lower_bound_only"`
	// Reasons explain the estimate in sentences a user can check.
	Reasons []string `json:"reasons"`
	// AdvertisedMismatch is set when the advertised limit lies outside the
	// measured band; it says how.
	AdvertisedMismatch string `json:"advertised_mismatch,omitempty"`
	// Model is the limiter that best explains the run, with its
	// parameters, for replaying traffic against it; nil when none was
	// fitted (nothing throttled, or an older report).
	Model *Model `json:"model,omitempty"`
	// Policies are the limits the target advertised or quota mode
	// measured, the binding one marked; absent when there are none. After
	// quota mode the numbers above are the binding policy's.
	Policies []Policy `json:"policies,omitempty"`
}

// Model is a limiter and its parameters, as a report keeps them.
type Model struct {
	Kind        limiter.Kind `json:"kind"`
	RateRPS     float64      `json:"rate_rps,omitempty"`      // token-bucket, gcra, queue
	Burst       int          `json:"burst,omitempty"`         // token-bucket, gcra, queue (requests that wait)
	Limit       int          `json:"limit,omitempty"`         // per window
	WindowS     float64      `json:"window_s,omitempty"`      // the window, seconds
	PhaseS      float64      `json:"phase_s,omitempty"`       // where clock-aligned windows start, seconds past whole windows of Unix time
	FirstUse    bool         `json:"first_use,omitempty"`     // windows counted from a request instead (limiter.Config.FirstUse)
	Log         bool         `json:"log,omitempty"`           // a lockout kept as a log of every request (limiter.Config.Log)
	Round       bool         `json:"round,omitempty"`         // a sliding counter whose count rounds (limiter.Config.Round)
	MaxInFlight int          `json:"max_in_flight,omitempty"` // concurrency
	// ServiceS is the mean time an admitted request held its slot at the
	// server, seconds: a cap on requests in flight admits MaxInFlight ÷
	// ServiceS a second.
	ServiceS float64 `json:"service_s,omitempty"`
}

// modelOf keeps cfg as a report does, with service the mean time a
// request held a cap's slot. A window's phase is left out: it was fitted
// on the run's own clock.
func modelOf(cfg limiter.Config, service time.Duration) *Model {
	m := &Model{Kind: cfg.Kind, RateRPS: cfg.Rate, Burst: cfg.Burst, Limit: cfg.Limit, WindowS: cfg.Window.Seconds(), FirstUse: cfg.FirstUse, Log: cfg.Log, Round: cfg.Round, MaxInFlight: cfg.MaxInFlight}
	if cfg.Kind == limiter.Concurrency {
		m.ServiceS = service.Seconds()
	}
	return m
}

// Config is the model as package limiter runs it.
func (m Model) Config() limiter.Config {
	return limiter.Config{Kind: m.Kind, Rate: m.RateRPS, Burst: m.Burst, Limit: m.Limit,
		Window: time.Duration(m.WindowS * float64(time.Second)), Phase: time.Duration(m.PhaseS * float64(time.Second)),
		FirstUse: m.FirstUse, Log: m.Log, Round: m.Round, MaxInFlight: m.MaxInFlight}
}

// ModelOf is the model of s: s.Model when the estimate fitted one, else
// the limiter its algorithm and numbers describe (a report from before
// models were kept; a sliding window is read as a sliding log). ok is
// false when s names no limiter.
func ModelOf(s Summary) (m Model, ok bool) {
	if s.Model != nil {
		return *s.Model, true
	}
	switch s.Algorithm {
	case AlgorithmTokenBucket:
		return Model{Kind: limiter.TokenBucket, RateRPS: s.EffectiveLimitRPS, Burst: max(1, s.Burst)}, s.EffectiveLimitRPS > 0
	case AlgorithmQueue:
		return Model{Kind: limiter.Queue, RateRPS: s.EffectiveLimitRPS, Burst: s.Burst}, s.EffectiveLimitRPS > 0
	case AlgorithmFixedWindow, AlgorithmSlidingWindow, AlgorithmLockout:
		kind := map[string]limiter.Kind{AlgorithmFixedWindow: limiter.FixedWindow, AlgorithmSlidingWindow: limiter.SlidingLog, AlgorithmLockout: limiter.Lockout}[s.Algorithm]
		w := s.WindowS
		if w <= 0 && s.EffectiveLimitRPS > 0 && s.Burst > 0 {
			w = float64(s.Burst) / s.EffectiveLimitRPS
		}
		return Model{Kind: kind, Limit: s.Burst, WindowS: w}, s.Burst > 0 && w > 0
	case AlgorithmConcurrency:
		if s.MaxInFlight <= 0 || s.EffectiveLimitRPS <= 0 {
			return Model{}, false
		}
		return Model{Kind: limiter.Concurrency, MaxInFlight: s.MaxInFlight, ServiceS: float64(s.MaxInFlight) / s.EffectiveLimitRPS}, true
	}
	return Model{}, false
}

// Band is an interval of rates, requests per second.
type Band struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// bandOf is the band from lo to hi, rounded outward to three significant
// digits: rounded to the nearest, a band of 159.27–159.32/s read 159–159,
// which holds neither end.
func bandOf(lo, hi float64) Band {
	return Band{Low: units.FloorSig(lo, 3), High: units.CeilSig(hi, 3)}
}

// Algorithms Estimate can name, the values of Summary.Algorithm.
const (
	// AlgorithmTokenBucket is a token bucket or GCRA: after an idle period
	// a burst at once, then a steady rate.
	AlgorithmTokenBucket = "token-bucket"
	// AlgorithmFixedWindow is a quota per clock-aligned window: successes
	// come in clumps at the window boundaries.
	AlgorithmFixedWindow = "fixed-window"
	// AlgorithmSlidingWindow is a sliding log (each slot returns one window
	// after it was used) or a sliding counter (capacity returns gradually).
	AlgorithmSlidingWindow = "sliding-window"
	// AlgorithmConcurrency is a cap on requests in flight.
	AlgorithmConcurrency = "concurrency"
	// AlgorithmQueue is a leaky bucket that delays excess requests before
	// it rejects any (nginx limit_req without nodelay).
	AlgorithmQueue = "queue"
	// AlgorithmLockout counts denied requests too: above the limit goodput
	// collapses until the client idles.
	AlgorithmLockout = "lockout"
	// AlgorithmNoneObserved means nothing was throttled up to the highest
	// rate tested.
	AlgorithmNoneObserved = "none-observed"
	// AlgorithmUnknown means throttling was seen but the evidence does not
	// say how the limiter works.
	AlgorithmUnknown = "unknown"
)

// Algorithms are the algorithms an expectation can ask for: every value
// of Summary.Algorithm but AlgorithmUnknown.
var Algorithms = []string{AlgorithmTokenBucket, AlgorithmFixedWindow, AlgorithmSlidingWindow, AlgorithmConcurrency,
	AlgorithmQueue, AlgorithmLockout, AlgorithmNoneObserved}
