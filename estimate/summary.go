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
