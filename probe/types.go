package probe

import (
	"time"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/headers"
)

// Run is everything one probe measured: the finished steps, a timeline at a
// fixed resolution, what the target advertised, and the estimate. Its JSON
// names are part of the limitprobe.report/v1 contract.
type Run struct {
	Scenario    ScenarioRef `json:"scenario"`
	StartedAt   time.Time   `json:"started_at"`
	DurationS   float64     `json:"duration_s"`
	Interrupted bool        `json:"interrupted"`
	StopReason  string      `json:"stop_reason"` // why the run ended, in words
	// Inconclusive says why the run measured no limit to advise from (no
	// request succeeded, or the target asked for a wait longer than the
	// run had left); absent when it did.
	Inconclusive   string `json:"inconclusive,omitempty"`
	RequestsSent   int64  `json:"requests_sent"`
	ThrottledTotal int64  `json:"throttled_total"`
	ErrorsTotal    int64  `json:"errors_total"`
	// ErrorCauses groups the errors by cause, most first, each with the
	// first one's message; absent when there were none.
	ErrorCauses []evidence.ErrorCause `json:"error_causes,omitempty"`
	// Advertised is the last rate-limit information the target sent; nil
	// when it sent none.
	Advertised *headers.Advertised `json:"advertised"`
	Steps      []evidence.Step     `json:"steps"`
	// Timeline buckets every request by the time it was sent, from the
	// start of the run, ResolutionS seconds each.
	Timeline evidence.Timeline `json:"timeline"`
	// Requests is every request of the run, for the estimator; not part
	// of the report.
	Requests *evidence.Requests `json:"-"`
	// Quota is what quota mode read and spent; nil (absent) when it did
	// not run.
	Quota   *evidence.Quota  `json:"quota,omitempty"`
	Summary estimate.Summary `json:"summary"`
	// input is what the estimator read (see Recording).
	input estimate.Input
}

// Recording is the run's evidence as the estimator read it, to keep.
func (r *Run) Recording() estimate.Recording { return estimate.Record(r.input) }

// ScenarioRef is what a report keeps of its scenario: nothing secret.
type ScenarioRef struct {
	Name      string    `json:"name"`
	Target    TargetRef `json:"target"`
	Strategy  string    `json:"strategy"`
	Threshold float64   `json:"threshold"`  // throttled share that marks onset
	DemandRPS float64   `json:"demand_rps"` // 0 when unset
}

// TargetRef names the target; URL has credentials and secrets removed.
type TargetRef struct {
	URL    string `json:"url"`
	Method string `json:"method"`
	// Mock is the embedded mock's spec, "algorithm=token-bucket,rate=50/s",
	// when the target was the mock (URL then reads "mock SPEC"); absent
	// otherwise. limitprobe verify replays against the same mock.
	Mock string `json:"mock,omitempty"`
	// Proxy is the proxy the requests went through, credentials removed;
	// absent when they went directly.
	Proxy string `json:"proxy,omitempty"`
	// Insecure is true when TLS certificates were not verified: anything
	// could have answered.
	Insecure bool `json:"insecure,omitempty"`
}
