// Package simulate replays a team's own traffic (package traffic) against
// the limiter a probe measured, offline: which requests it would refuse,
// and when; what the recommended client-side limiter would do instead
// (the delay it adds, the queue it needs, what it sheds past a deadline);
// what batching changes; and the smallest limit that would carry the
// traffic. The limiters are package limiter's, the one copy of each
// algorithm; the model and its band come from the report (package
// estimate), the client settings from its recommendation (package advise).
//
// Run streams: it reads the traffic once into a temporary spill (package
// traffic), then replays every variant side by side from it, so memory
// depends on how many requests are waiting or in flight at once, not on
// the length of the traffic.
package simulate

import (
	"errors"
	"time"

	"limitprobe/advise"
	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/headers"
)

// Schema is the version of the JSON contract a Simulation follows.
const Schema = "limitprobe.simulate/v1"

// Defaults of Options.
const (
	DefaultDeadline  = 10 * time.Second
	DefaultBatchWait = time.Second
)

// ErrNoLimiter is wrapped by Run's error when the report names no limiter
// to replay against (nothing was throttled, or the limiter was not
// recognised).
var ErrNoLimiter = errors.New("the report names no limiter to replay against")

// Measured is what Run needs of a report: its estimate, the steps and
// advertised fields the recommendation reads, and the recommendation.
type Measured struct {
	Name           string // the scenario's name
	Target         string // its target, credentials removed
	Summary        estimate.Summary
	Steps          []evidence.Step
	Advertised     *headers.Advertised
	Recommendation advise.Recommendation
}

// Options tune Run. The zero value replays the recommendation with a
// 10 s deadline, without batching or a gate.
type Options struct {
	// Client overrides the recommendation's client limiter: its non-zero
	// fields replace the recommendation's.
	Client Client
	// Deadline is how long a request may wait at the client before it is
	// shed; 0 means DefaultDeadline.
	Deadline time.Duration
	// Batch, when above 1, also replays the traffic merged Batch requests
	// to one, a batch leaving when full or once its first request has
	// waited BatchWait (0 means DefaultBatchWait).
	Batch     int
	BatchWait time.Duration
	// MaxThrottled, when set, is the CI gate: the share of the traffic
	// the measured limiter may refuse.
	MaxThrottled *float64
	// TempDir holds the spill; "" means the system's temporary directory.
	TempDir string
	// ToolVersion is recorded as tool_version.
	ToolVersion string
}

// Simulation is what Run found. Its JSON is the limitprobe.simulate/v1
// contract.
type Simulation struct {
	Schema      string    `json:"schema"` // always Schema
	ToolVersion string    `json:"tool_version"`
	Report      ReportRef `json:"report"`
	Traffic     Traffic   `json:"traffic"`
	DeadlineS   float64   `json:"deadline_s"`
	// Client is the client limiter replayed in front; nil when the
	// recommendation has none and none was given.
	Client *Client `json:"client"`
	// Ends are the measured limiter and, when the report has a band, its
	// optimistic and pessimistic ends: optimistic first.
	Ends []End `json:"ends"`
	// Batch is the measured end with requests batched; nil without it.
	Batch *Batched `json:"batch"`
	// SmallestLimit is the smallest limit that carries the traffic; nil
	// when there is no client limiter to size it with.
	SmallestLimit *Sizing `json:"smallest_limit"`
	// Gate is the CI gate's verdict; nil when none was set.
	Gate     *Gate    `json:"gate"`
	Timeline Timeline `json:"timeline"`
	// Notes say what the replay assumed, in sentences.
	Notes []string `json:"notes"`
}

// ReportRef is what a simulation keeps of its report.
type ReportRef struct {
	Name              string         `json:"name"`
	Target            string         `json:"target"`
	Algorithm         string         `json:"algorithm"`
	EffectiveLimitRPS float64        `json:"effective_limit_rps"`
	Band              estimate.Band  `json:"effective_limit_band"`
	Model             estimate.Model `json:"model"`
}

// Traffic describes the traffic replayed.
type Traffic struct {
	File   string `json:"file"`
	Format string `json:"format"`
	Lines  int64  `json:"lines"`
	// Requests counts the requests, costs counted: a line of cost 3 is 3.
	Requests  int64     `json:"requests"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	DurationS float64   `json:"duration_s"`
	MeanRPS   float64   `json:"mean_rps"`
	// PeakRPS is the busiest clock second; PeakMinuteRPS the busiest
	// clock minute, per second.
	PeakRPS       float64 `json:"peak_rps"`
	PeakMinuteRPS float64 `json:"peak_minute_rps"`
	// WithLatency counts the lines that carried a latency; the others are
	// given the report's.
	WithLatency int64 `json:"with_latency"`
	// Spread counts lines written to the whole second and spread over it;
	// Late those more than 30 s out of order, replayed earlier (MaxLateS
	// is the worst).
	Spread   int64   `json:"spread"`
	Late     int64   `json:"late"`
	MaxLateS float64 `json:"max_late_s"`
	// MaxInFlight is, for a cap on requests in flight, the most requests
	// the traffic holds in flight at once if every one were served; 0
	// for other limiters.
	MaxInFlight int `json:"max_in_flight"`
}

// End is the replay against one end of the measured band.
type End struct {
	Name     string         `json:"name"` // optimistic, measured or pessimistic
	LimitRPS float64        `json:"limit_rps"`
	Model    estimate.Model `json:"model"`
	// Prediction is the traffic sent as it came.
	Prediction Prediction `json:"prediction"`
	// Smoothed is the traffic behind the client limiter; nil without one.
	Smoothed *Smoothed `json:"smoothed"`
}

// Names of the ends.
const (
	EndOptimistic  = "optimistic"
	EndMeasured    = "measured"
	EndPessimistic = "pessimistic"
)

// Prediction is what the limiter does to the traffic sent as it came.
type Prediction struct {
	Requests     int64   `json:"requests"`
	Refused      int64   `json:"refused"`
	RefusedShare float64 `json:"refused_share"`
	// WorstMinutes are the clock minutes with the most refusals, most
	// first (at most five).
	WorstMinutes []Minute `json:"worst_minutes"`
	// LongestRefusalRun is the most requests refused in a row; nil when
	// none was.
	LongestRefusalRun *Streak `json:"longest_refusal_run"`
	// MaxInFlight is, for a cap, the most requests it held at once.
	MaxInFlight int `json:"max_in_flight"`
}

// Minute is one clock minute of a prediction.
type Minute struct {
	Start    time.Time `json:"start"`
	Requests int64     `json:"requests"`
	Refused  int64     `json:"refused"`
}

// Streak is requests refused in a row.
type Streak struct {
	Requests  int64     `json:"requests"`
	Start     time.Time `json:"start"`
	DurationS float64   `json:"duration_s"`
}

// Smoothed is what the client limiter does to the traffic, and what the
// limiter then does to what it sends.
type Smoothed struct {
	Sent         int64   `json:"sent"`
	Refused      int64   `json:"refused"` // still refused: 0 when the client limiter fits
	RefusedShare float64 `json:"refused_share"`
	// DelayMS is the delay the client adds to the requests it sends,
	// milliseconds (within 1%).
	DelayMS evidence.Latency `json:"delay_ms"`
	// PeakQueue is the most requests waiting at the client at once.
	PeakQueue int `json:"peak_queue"`
	// Shed counts the requests that would have waited past the deadline
	// and were not sent; ShedShare is their share of the traffic.
	Shed      int64   `json:"shed"`
	ShedShare float64 `json:"shed_share"`
}

// Batched is the measured end with the traffic batched.
type Batched struct {
	Size  int     `json:"size"`
	WaitS float64 `json:"wait_s"`
	// Prediction counts batches; RefusedRequests the traffic's requests
	// in the refused batches.
	Prediction      Prediction `json:"prediction"`
	RefusedRequests int64      `json:"refused_requests"`
	// Smoothed counts batches, but for its delays and shedding, which are
	// the traffic's requests'.
	Smoothed *Smoothed `json:"smoothed"`
}

// Sizing is the smallest limit that carries the traffic behind the client
// limiter a report of that limit would recommend: nothing refused, nothing
// waiting past the deadline. The limit is the measured one with more or
// less capacity: a bucket's rate, a window's limit, a cap's size.
type Sizing struct {
	// Found is false when even 256 times the measured capacity did not
	// carry the traffic.
	Found    bool           `json:"found"`
	LimitRPS float64        `json:"limit_rps"`
	Model    estimate.Model `json:"model"`
	Client   Client         `json:"client"`
	// Ratio is LimitRPS over the measured limit.
	Ratio float64 `json:"ratio"`
	// AtMost is true when the smallest limit tried (1/16 of the measured)
	// carried the traffic: the answer is that or less.
	AtMost bool `json:"at_most"`
}

// Gate is the verdict of the CI gate: the share of the traffic the
// measured limiter refuses, against the most allowed.
type Gate struct {
	MaxThrottled float64 `json:"max_throttled"`
	Got          float64 `json:"got"`
	Pass         bool    `json:"pass"`
}
