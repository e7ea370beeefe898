package evidence

import "limitprobe/headers"

// Quota is what a probe's quota mode saw of a window quota, one that takes
// minutes to days to refill: the advertised policies request by request,
// and the windows it spent and watched reopen. Times are seconds from the
// start of the run.
type Quota struct {
	// Trigger says, in words, why quota mode ran.
	Trigger string `json:"trigger"`
	// StartUnixS is the start of the run in Unix seconds, to tell windows
	// aligned to the clock from windows counted from their first request.
	StartUnixS float64 `json:"start_unix_s"`
	// HorizonS is the longest window, seconds, the probe measures by
	// ramping through it; quota mode takes over beyond it.
	HorizonS float64 `json:"horizon_s"`
	// Share is limits.max_quota_share; Budget the requests it allowed quota
	// mode to spend of the quota it knew of (0 when none was known before
	// one was spent).
	Share  float64 `json:"share"`
	Budget int     `json:"budget"`
	// Readings are the responses to the requests sent one at a time to
	// read and check the advertised policies, in the order they came back.
	Readings []Reading `json:"readings,omitempty"`
	// Spends are the windows spent until a request was refused, each
	// watched until one was admitted again.
	Spends []Spend `json:"spends,omitempty"`
	// Notes say what quota mode did not do, and why.
	Notes []string `json:"notes,omitempty"`
}

// Reading is what one response advertised.
type Reading struct {
	// SentS is when the request was sent, AtS when its response came back.
	SentS float64 `json:"sent_s"`
	AtS   float64 `json:"at_s"`
	// Status is the response's HTTP status; Throttled whether the probe
	// read it as throttled.
	Status    int  `json:"status"`
	Throttled bool `json:"throttled"`
	// Policies are the policies the response advertised (see
	// headers.Advertised.Policies); RetryAfterS the wait it asked for.
	Policies    []headers.Policy `json:"policies"`
	RetryAfterS float64          `json:"retry_after_s"`
}

// Spend is one window spent from its first request until one was refused,
// and watched until one was admitted again.
type Spend struct {
	// FirstS is when the first request counted in the window was sent.
	FirstS float64 `json:"first_s"`
	// Admitted counts the requests admitted from FirstS until the first
	// refusal: the quota, when the window was fresh.
	Admitted int64 `json:"admitted"`
	// RefusedS is when the first refused request was sent; RetryAfterS
	// the wait its response advertised (Retry-After or a reset), 0 if none,
	// counted from RefusedS: the wait runs from the answer, so a spend's
	// adds the refusal's round trip.
	RefusedS    float64 `json:"refused_s"`
	RetryAfterS float64 `json:"retry_after_s"`
	// LastRefusedS is when the last request refused before the window
	// reopened was sent, ReopenS when the first one admitted again was;
	// ReopenS is 0 when none was (the watch ended first).
	LastRefusedS float64 `json:"last_refused_s"`
	ReopenS      float64 `json:"reopen_s"`
	// Polls counts the requests sent while watching.
	Polls int64 `json:"polls"`
}

// Reopened reports whether the window was seen to admit again.
func (s Spend) Reopened() bool { return s.ReopenS > 0 }
