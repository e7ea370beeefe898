package estimate

// Summary is the estimate of the limit and its explanation.
type Summary struct {
	Limited            bool    `json:"limited"`
	EffectiveLimitRPS  float64 `json:"effective_limit_rps"`
	EffectiveLimitBand Band    `json:"effective_limit_band"`
	OnsetRPS           float64 `json:"onset_rps"` // 0 when never crossed the threshold
	Burst              int     `json:"burst"`
	WindowS            float64 `json:"window_s"`
	MaxInFlight        int     `json:"max_in_flight"` // the cap, for a concurrency limit
	Algorithm          string  `json:"algorithm"`     // token-bucket, fixed-window, sliding-window, concurrency, queue, lockout, none-observed, unknown
	Confidence         float64 `json:"confidence"`    // 0..1
	LowerBoundOnly     bool    `json:"lower_bound_only"`
	// Reasons explain the estimate in sentences a user can check.
	Reasons []string `json:"reasons"`
	// AdvertisedMismatch is set when the advertised limit lies outside the
	// measured band; it says how.
	AdvertisedMismatch string `json:"advertised_mismatch,omitempty"`
}

// Band is an interval of rates, requests per second.
type Band struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
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
