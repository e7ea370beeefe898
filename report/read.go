package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode"

	"limitprobe/units"
)

// MaxReportBytes bounds a report read back: a run's report is a few
// megabytes at most.
const MaxReportBytes = 64 << 20

// Read decodes a report written as JSON by Write. It refuses documents of
// another schema version, anything that is not a limitprobe report, and a
// report whose numbers no run writes (a negative rate, a share above 1, a
// burst of 1e300) or whose text holds control characters: report, compare
// and verify compute from what it says, and print it to a terminal.
func Read(r io.Reader) (*Report, error) {
	var head struct {
		Schema *string `json:"schema"`
	}
	raw, err := io.ReadAll(io.LimitReader(r, MaxReportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if len(raw) > MaxReportBytes {
		return nil, fmt.Errorf("read report: over %d MiB; this is not a limitprobe report", MaxReportBytes>>20)
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("read report: not a JSON object: %w", err)
	}
	switch {
	case head.Schema == nil:
		return nil, errors.New("read report: no \"schema\" field; this is not a limitprobe report (write one with limitprobe run --format json)")
	case *head.Schema != Schema:
		return nil, fmt.Errorf("read report: schema %q is not supported; this limitprobe reads %q (re-run the probe, or use the limitprobe version that wrote it)", *head.Schema, Schema)
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if rep.Expectations == nil {
		rep.Expectations = []Expectation{}
	}
	if err := check(&rep); err != nil {
		return nil, fmt.Errorf("read report: %w; was it edited? write it again with limitprobe run --format json", err)
	}
	return &rep, nil
}

// Bounds of the numbers a report may hold.
const (
	maxCount = 1e12            // requests, bursts, workers
	maxDelay = 366 * 86400.0   // seconds: windows, resets, durations of a run
	maxMS    = maxDelay * 1000 // milliseconds
)

// check returns what is wrong with the numbers and text of a report read
// back, naming the first field at fault.
func check(rep *Report) error {
	c := &checker{}
	c.rate("scenario.demand_rps", rep.Scenario.DemandRPS)
	c.share("scenario.threshold", rep.Scenario.Threshold)
	c.in("duration_s", rep.DurationS, 0, maxDelay)
	for _, n := range []struct {
		name string
		v    int64
	}{{"requests_sent", rep.RequestsSent}, {"throttled_total", rep.ThrottledTotal}, {"errors_total", rep.ErrorsTotal}} {
		c.in(n.name, float64(n.v), 0, maxCount)
	}
	for i, st := range rep.Steps {
		p := fmt.Sprintf("steps[%d].", i)
		c.rate(p+"offered_rps", st.OfferedRPS)
		c.rate(p+"goodput_rps", st.GoodputRPS)
		c.rate(p+"steady_rps", st.SteadyRPS)
		c.in(p+"duration_s", st.DurationS, 0, maxDelay)
		c.in(p+"requests", float64(st.Requests), 0, maxCount)
		c.in(p+"ok", float64(st.OK), 0, float64(st.Requests))
		c.in(p+"throttled", float64(st.Throttled), 0, float64(st.Requests))
		c.in(p+"errors", float64(st.Errors), 0, float64(st.Requests))
		c.share(p+"throttled_ratio", st.ThrottledRatio)
		c.in(p+"concurrency", float64(st.Concurrency), 0, maxCount)
		c.in(p+"retry_after_s", st.RetryAfterS, 0, maxDelay)
		for _, l := range []float64{st.LatencyMS.P50, st.LatencyMS.P95, st.LatencyMS.P99, st.LatencyMS.Max} {
			c.in(p+"latency_ms", l, 0, maxMS)
		}
	}
	if len(rep.Timeline.Buckets) > 0 {
		c.in("timeline.resolution_s", rep.Timeline.ResolutionS, 0.001, maxDelay)
	}
	s := rep.Summary
	c.rate("summary.effective_limit_rps", s.EffectiveLimitRPS)
	c.rate("summary.effective_limit_band.low", s.EffectiveLimitBand.Low)
	c.rate("summary.effective_limit_band.high", s.EffectiveLimitBand.High)
	c.rate("summary.onset_rps", s.OnsetRPS)
	c.in("summary.burst", float64(s.Burst), 0, maxCount)
	c.in("summary.window_s", s.WindowS, 0, maxDelay)
	c.in("summary.max_in_flight", float64(s.MaxInFlight), 0, maxCount)
	c.share("summary.confidence", s.Confidence)
	rec := rep.Recommendation
	c.rate("recommendation.client_rate_rps", rec.ClientRateRPS)
	c.in("recommendation.client_burst", float64(rec.ClientBurst), 0, maxCount)
	c.in("recommendation.max_concurrency", float64(rec.MaxConcurrency), 0, maxCount)
	c.rate("recommendation.sustainable_rps", rec.SustainableRPS)
	c.share("recommendation.margin", rec.Margin)
	rt := rec.Retry
	c.in("recommendation.retry.base_delay_ms", float64(rt.BaseDelayMS), 0, maxMS)
	c.in("recommendation.retry.max_delay_ms", float64(rt.MaxDelayMS), 0, maxMS)
	c.in("recommendation.retry.multiplier", rt.Multiplier, 0, 100)
	c.in("recommendation.retry.max_retries", float64(rt.MaxRetries), 0, 1000)
	c.share("recommendation.retry.budget_ratio", rt.BudgetRatio)
	if d := rec.Demand; d != nil {
		c.rate("recommendation.demand.demand_rps", d.DemandRPS)
		c.rate("recommendation.demand.limit_rps", d.LimitRPS)
		c.rate("recommendation.demand.sustainable_rps", d.SustainableRPS)
	}
	if p := rep.Price; p != nil {
		c.in("price.amount", p.Amount, 0, 1e12)
		c.in("price.per_s", p.PerS, 1, maxDelay*100)
	}
	if a := rep.Advertised; a != nil {
		c.in("advertised.limit", a.Limit, 0, maxCount)
		c.in("advertised.window_s", a.WindowS, 0, maxDelay)
		c.in("advertised.reset_s", a.ResetS, 0, maxDelay)
		c.in("advertised.retry_after_s", a.RetryAfterS, 0, maxDelay)
		if a.Remaining != nil {
			c.in("advertised.remaining", *a.Remaining, 0, maxCount)
		}
	}
	c.text("", reflect.ValueOf(rep).Elem())
	return c.err
}

// checker keeps the first problem found.
type checker struct{ err error }

func (c *checker) in(name string, v, lo, hi float64) {
	if c.err == nil && !(v >= lo && v <= hi) {
		c.err = fmt.Errorf("%s is %s, outside %s..%s", name, units.Num(v), units.Num(lo), units.Num(hi))
	}
}

func (c *checker) rate(name string, v float64)  { c.in(name, v, 0, units.MaxRate) }
func (c *checker) share(name string, v float64) { c.in(name, v, 0, 1) }

// text walks v for strings with control characters (a terminal would run
// them as escapes), naming the first field that holds one.
func (c *checker) text(path string, v reflect.Value) {
	if c.err != nil {
		return
	}
	switch v.Kind() {
	case reflect.String:
		if i := strings.IndexFunc(v.String(), unicode.IsControl); i >= 0 {
			c.err = fmt.Errorf("%s holds a control character", strings.TrimPrefix(path, "."))
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			c.text(path, v.Elem())
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if f := t.Field(i); f.IsExported() {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "-" {
					continue
				}
				if f.Anonymous || name == "" {
					name = ""
				} else {
					name = "." + name
				}
				c.text(path+name, v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			c.text(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			c.text(path+"."+it.Key().String(), it.Key())
			c.text(path+"."+it.Key().String(), it.Value())
		}
	}
}
