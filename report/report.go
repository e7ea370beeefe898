// Package report is the document limitprobe writes after a run: a probe's
// measurements with advise's recommendation and the CI gate's verdicts,
// read back from JSON, and rendered as terminal tables, JSON, Markdown and
// HTML; with comparisons between reports, verifications (package verify)
// and plans. It computes from plain data and writes only to the writers it
// is given.
package report

import (
	"strings"
	"time"

	"limitprobe/advise"
	"limitprobe/evidence"
	"limitprobe/probe"
	"limitprobe/scenarios"
	"limitprobe/verify"
)

// Schema is the version of the JSON contract a Report follows. Other tools
// and CI read its field names; they change only with a new version.
const Schema = "limitprobe.report/v1"

// Report is the document limitprobe writes after a run: the measurements of
// probe.Run, flattened into the top level of the JSON, with the recommended
// client settings and the verdict of each expectation. Its JSON is the
// limitprobe.report/v1 contract; Price is an optional extra (null when no
// price is known).
type Report struct {
	Schema      string `json:"schema"`       // always Schema
	ToolVersion string `json:"tool_version"` // limitprobe's version
	probe.Run
	// Price is what the probed tier costs; nil (JSON null) when unknown.
	Price          *Price                `json:"price"`
	Recommendation advise.Recommendation `json:"recommendation"`
	// Expectations are the CI gate's checks, in a fixed order; empty when
	// the scenario set none.
	Expectations []Expectation `json:"expectations"`
	// Verification is what limitprobe verify measured of the
	// recommendation; nil (absent from the JSON) until it is run.
	Verification *verify.Verification `json:"verification,omitempty"`
}

// Price is what a tier costs: Amount (in the user's currency) per PerS
// seconds.
type Price struct {
	Amount float64 `json:"amount"`
	PerS   float64 `json:"per_s"`
}

// perHour returns the price of one hour.
func (p Price) perHour() float64 { return p.Amount / p.PerS * 3600 }

// Options tune New. The zero value is usable: a 90% margin, no expectations,
// no demand beyond the scenario's, no price.
type Options struct {
	// ToolVersion is recorded in the report as tool_version.
	ToolVersion string
	// Margin is the share of the measured limit the recommendation uses, in
	// (0, 1]; 0 means advise.DefaultMargin.
	Margin float64
	// Expect is the CI gate to evaluate.
	Expect scenarios.Expect
	// DemandRPS is the rate, requests per second, the service will need;
	// 0 means the scenario's demand (Run.Scenario.DemandRPS), if any.
	DemandRPS float64
	// PriceAmount per PricePer is what the tier costs; PricePer 0 means no
	// price is known.
	PriceAmount float64
	PricePer    time.Duration
}

// Expectation is the verdict on one check of the CI gate. Want and Got are
// human-readable ("≥ 40/s", "48.2/s").
type Expectation struct {
	Name string `json:"name"` // the scenario key: min_effective_limit, min_onset, ...
	Want string `json:"want"`
	Got  string `json:"got"`
	Pass bool   `json:"pass"`
	// Note qualifies the verdict, e.g. that the run was interrupted and it
	// is judged on what was measured before; "" when there is nothing to say.
	Note string `json:"note,omitempty"`
}

// New builds the report of run: it computes the recommendation (see
// advise.Recommend) and evaluates opt.Expect. run is copied; nil slices become
// empty so that every list in the JSON is an array, never null.
func New(run probe.Run, opt Options) *Report {
	if run.Steps == nil {
		run.Steps = []evidence.Step{}
	}
	if run.Timeline.Buckets == nil {
		run.Timeline.Buckets = []evidence.Bucket{}
	}
	if run.Summary.Reasons == nil {
		run.Summary.Reasons = []string{}
	}
	rep := &Report{Schema: Schema, ToolVersion: opt.ToolVersion, Run: run, Expectations: []Expectation{}}
	if opt.PricePer > 0 && opt.PriceAmount >= 0 {
		rep.Price = &Price{Amount: opt.PriceAmount, PerS: opt.PricePer.Seconds()}
	}
	if run.Inconclusive != "" {
		rep.Recommendation = advise.None(run.Inconclusive, opt.Margin)
		rep.Expectations = evaluate(rep, opt.Expect)
		return rep
	}
	rep.Recommendation = advise.Recommend(run.Summary, run.Steps, run.Advertised, opt.Margin)
	demand := opt.DemandRPS
	if demand <= 0 {
		demand = run.Scenario.DemandRPS
	}
	if demand > 0 {
		d := advise.DemandFor(demand, run.Summary, run.Steps, rep.Recommendation)
		rep.Recommendation.Demand = &d
	}
	rep.Expectations = evaluate(rep, opt.Expect)
	return rep
}

// MockSpec is the spec of the embedded mock the report was made against;
// "" for a real target. A report written before scenario.target.mock
// existed names the mock in its URL: "mock algorithm=...".
func (r *Report) MockSpec() string {
	if spec := r.Scenario.Target.Mock; spec != "" {
		return spec
	}
	if spec, ok := strings.CutPrefix(r.Scenario.Target.URL, "mock "); ok {
		return spec
	}
	return ""
}

// Failed returns the expectations that did not hold, in report order; nil
// when every one held (or none was set).
func (r *Report) Failed() []Expectation {
	var failed []Expectation
	for _, e := range r.Expectations {
		if !e.Pass {
			failed = append(failed, e)
		}
	}
	return failed
}
