package verify

import (
	"time"

	"limitprobe/evidence"
)

// Schema is the version of the JSON document limitprobe verify writes
// (verify.json, and a report's verification). Other tools read its field
// names; they change only with a new version.
const Schema = "limitprobe.verify/v1"

// Regimes of a verdict, the values of Verdict.Regime.
const (
	// RegimeFits: the demand is within what the recommendation sends, so
	// the recommended policy must serve (nearly) all of it.
	RegimeFits = "fits"
	// RegimeOver: the demand exceeds what the recommendation sends; no
	// policy can meet it, and the recommended one must deliver its
	// sustainable rate instead.
	RegimeOver = "over"
)

// Verification is what limitprobe verify measured: the same client demand
// replayed against the target once per retry policy, each time against a
// limiter that had recovered, and the verdict on the recommended policy.
// Rates are requests per second; shares are fractions in [0, 1].
type Verification struct {
	Schema string `json:"schema"` // always Schema
	// Target is what the demand was sent to: a URL without credentials, or
	// "mock: SPEC" for the embedded mock.
	Target    string    `json:"target"`
	StartedAt time.Time `json:"started_at"`
	DemandRPS float64   `json:"demand_rps"`
	// Clients is how many independent callers shared the demand.
	Clients int `json:"clients"`
	// DurationS is how long each policy's demand lasted, seconds.
	DurationS float64 `json:"duration_s"`
	// DeadlineS is how long one request may take, retries included, seconds.
	DeadlineS float64 `json:"deadline_s"`
	// LimitRPS is the report's effective limit.
	LimitRPS float64 `json:"limit_rps"`
	// SustainableRPS is what the recommendation sends at most: the share of
	// the demand the limit allows at the recommended margin.
	SustainableRPS float64 `json:"sustainable_rps"`
	// Interrupted is true when the run was stopped early; the policies
	// not run are missing and the last one may be partial.
	Interrupted bool           `json:"interrupted"`
	Policies    []PolicyResult `json:"policies"`
	Verdict     Verdict        `json:"verdict"`
	// Notes qualify the numbers in sentences.
	Notes []string `json:"notes"`
}

// PolicyResult is what one retry policy cost under the demand.
type PolicyResult struct {
	Name string `json:"name"` // recommended, naive, seed, hf-hub, grpc, none
	// Settings says what the policy does, in words.
	Settings string `json:"settings"`
	// Requests counts the demand's requests (arrivals), whatever became of
	// them; Succeeded + Shed + GaveUp + Errors = Requests.
	Requests  int64 `json:"requests"`
	Succeeded int64 `json:"succeeded"`
	// Shed counts requests never sent: they waited in the client's own
	// queue (pacing or the in-flight cap) until their deadline, or, rarely,
	// met the safety bound on requests alive at once.
	Shed int64 `json:"shed"`
	// GaveUp counts requests sent and throttled until the policy gave up:
	// out of retries, out of retry budget, or out of time.
	GaveUp int64 `json:"gave_up"`
	// Errors counts requests that ended in an error (transport, 5xx, other
	// 4xx); errors are not retried by any policy.
	Errors int64 `json:"errors"`
	// Attempts counts requests sent to the target, retries included;
	// Throttled counts the attempts answered "slow down".
	Attempts  int64 `json:"attempts"`
	Throttled int64 `json:"throttled"`
	// SuccessRatio is Succeeded ÷ Requests: eventual success of the demand.
	SuccessRatio float64 `json:"success_ratio"`
	// SentSuccessRatio is Succeeded ÷ (Requests − Shed): eventual success of
	// the requests the client let through.
	SentSuccessRatio float64 `json:"sent_success_ratio"`
	// ThrottledPerRequest is Throttled ÷ Requests.
	ThrottledPerRequest float64 `json:"throttled_per_request"`
	// RetriesPerRequest is (Attempts − first attempts) ÷ Requests.
	RetriesPerRequest float64 `json:"retries_per_request"`
	// AddedLatencyMS is, for successful requests, the time from arrival to
	// the start of the attempt that succeeded: queueing, backoff and
	// failed attempts, milliseconds.
	AddedLatencyMS evidence.Latency `json:"added_latency_ms"`
	// LatencyMS is the end-to-end latency of successful requests, from
	// arrival to response, milliseconds.
	LatencyMS evidence.Latency `json:"latency_ms"`
	// AttemptMS is the mean time of an attempt, from its send to its
	// answer, throttled ones included, milliseconds.
	AttemptMS float64 `json:"attempt_ms"`
	// MaxInFlight is the policy's cap on attempts in flight; 0 for none.
	MaxInFlight int `json:"max_in_flight,omitempty"`
	// GoodputRPS is successful responses per second received while the
	// demand lasted.
	GoodputRPS float64 `json:"goodput_rps"`
	// DemandMet is GoodputRPS ÷ the demand, at most 1.
	DemandMet float64 `json:"demand_met"`
	// Fairness is Jain's index of the clients' success ratios: 1 when every
	// client got the same share, 1/n when one got everything; 1 with a
	// single client.
	Fairness float64 `json:"fairness"`
	// WorstClientSuccess is the lowest success ratio of any client.
	WorstClientSuccess float64 `json:"worst_client_success"`
	// AttemptCapReached is true when the safety cap on attempts stopped
	// the policy from sending; its numbers are then a lower bound of the
	// damage.
	AttemptCapReached bool `json:"attempt_cap_reached"`
	// WallS is how long the policy ran, its drain included, seconds.
	WallS float64 `json:"wall_s"`
}

// CarriedRPS is what the policy's cap on attempts in flight carries at the
// attempt time measured (Little's law): MaxInFlight ÷ AttemptMS. It is 0
// without a cap or a measured attempt.
func (p PolicyResult) CarriedRPS() float64 {
	if p.MaxInFlight <= 0 || p.AttemptMS <= 0 {
		return 0
	}
	return float64(p.MaxInFlight) * 1000 / p.AttemptMS
}

// Verdict is the CI gate of a verification: does the recommended policy
// meet the demand the limit allows, at a lower cost in throttled attempts
// than every other policy?
type Verdict struct {
	// Judged is false when there was nothing to judge (the recommended
	// policy was not run); Pass is then false too.
	Judged bool `json:"judged"`
	Pass   bool `json:"pass"`
	// Regime is RegimeFits or RegimeOver.
	Regime string `json:"regime"`
	// Sentence says the verdict, and what it means, in words.
	Sentence string `json:"sentence"`
	// Checks are the verdict's parts.
	Checks []Check `json:"checks"`
}

// Check is one part of a verdict. Want and Got are human-readable
// ("≥ 99% of the demand", "99.6%").
type Check struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Pass bool   `json:"pass"`
}
