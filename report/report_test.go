package report

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"limitprobe/advise"
	"limitprobe/evidence"
	"limitprobe/probe"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// kinds of JSON values, as encoding/json decodes them into any.
const (
	kString = "string"
	kNumber = "number"
	kBool   = "bool"
	kArray  = "array"
	kObject = "object"
	kNull   = "null"
)

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return kString
	case float64:
		return kNumber
	case bool:
		return kBool
	case []any:
		return kArray
	case map[string]any:
		return kObject
	case nil:
		return kNull
	}
	return "?"
}

// field returns the value at a dotted path and whether every key existed.
func field(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// requireFields checks that each path exists in m with one of the kinds.
func requireFields(t *testing.T, where string, m map[string]any, fields map[string]string) {
	t.Helper()
	for path, kinds := range fields {
		v, ok := field(m, path)
		if !ok {
			t.Errorf("%s: field %s is missing", where, path)
			continue
		}
		if k := kindOf(v); !strings.Contains("|"+kinds+"|", "|"+k+"|") {
			t.Errorf("%s: %s: got %s, want %s", where, path, k, kinds)
		}
	}
}

func encodeMap(t *testing.T, rep *Report) (map[string]any, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, rep, FormatJSON, RenderOptions{}); err != nil {
		t.Fatalf("Write json: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("the json format is not JSON: %v", err)
	}
	return m, buf.Bytes()
}

// TestJSONContract checks every field of limitprobe.report/v1 by meaning:
// present, of the right type, in the right units.
func TestJSONContract(t *testing.T) {
	contract := map[string]string{
		"schema": kString, "tool_version": kString,
		"scenario": kObject, "scenario.name": kString, "scenario.target.url": kString, "scenario.target.method": kString,
		"started_at": kString, "duration_s": kNumber, "interrupted": kBool,
		"requests_sent": kNumber, "throttled_total": kNumber, "errors_total": kNumber,
		"advertised": kObject + "|" + kNull,
		"steps":      kArray,
		"summary":    kObject, "summary.limited": kBool, "summary.effective_limit_rps": kNumber,
		"summary.effective_limit_band.low": kNumber, "summary.effective_limit_band.high": kNumber,
		"summary.onset_rps": kNumber, "summary.burst": kNumber, "summary.window_s": kNumber,
		"summary.max_in_flight": kNumber, "summary.algorithm": kString, "summary.confidence": kNumber,
		"summary.lower_bound_only":       kBool,
		"recommendation.client_rate_rps": kNumber, "recommendation.client_burst": kNumber,
		"recommendation.max_concurrency":         kNumber,
		"recommendation.retry.honor_retry_after": kBool, "recommendation.retry.base_delay_ms": kNumber,
		"recommendation.retry.multiplier": kNumber, "recommendation.retry.max_delay_ms": kNumber,
		"recommendation.retry.jitter": kString, "recommendation.retry.max_retries": kNumber,
		"recommendation.retry.budget_ratio": kNumber,
		"expectations":                      kArray,
		// Extras beyond the contract.
		"price": kObject + "|" + kNull, "recommendation.margin": kNumber, "recommendation.basis": kString,
		"recommendation.sustainable_rps": kNumber, "recommendation.notes": kArray, "recommendation.reference": kArray,
		"recommendation.demand": kObject + "|" + kNull,
	}
	stepFields := map[string]string{
		"index": kNumber, "phase": kString, "offered_rps": kNumber, "duration_s": kNumber, "requests": kNumber,
		"ok": kNumber, "throttled": kNumber, "errors": kNumber, "goodput_rps": kNumber, "throttled_ratio": kNumber,
		"latency_ms.p50": kNumber, "latency_ms.p95": kNumber, "latency_ms.p99": kNumber, "latency_ms.max": kNumber,
		"max_in_flight": kNumber,
	}
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			m, _ := encodeMap(t, fx.rep)
			requireFields(t, fx.name, m, contract)
			if got := m["schema"]; got != Schema {
				t.Errorf("schema: got %v, want %q", got, Schema)
			}
			if s, _ := m["started_at"].(string); s != "" {
				if _, err := time.Parse(time.RFC3339, s); err != nil {
					t.Errorf("started_at %q is not RFC 3339: %v", s, err)
				}
			}
			// Units: seconds, not milliseconds; shares within [0, 1].
			if got, want := m["duration_s"], fx.rep.DurationS; got != want {
				t.Errorf("duration_s: got %v, want %v (seconds)", got, want)
			}
			steps := m["steps"].([]any)
			if len(steps) != len(fx.rep.Steps) {
				t.Fatalf("steps: got %d, want %d", len(steps), len(fx.rep.Steps))
			}
			for i, s := range steps {
				sm := s.(map[string]any)
				requireFields(t, fx.name+" step "+strconv.Itoa(i), sm, stepFields)
				if r := sm["throttled_ratio"].(float64); r < 0 || r > 1 {
					t.Errorf("step %d throttled_ratio: got %v, want a share in [0, 1]", i, r)
				}
			}
			if c := m["summary"].(map[string]any)["confidence"].(float64); c < 0 || c > 1 {
				t.Errorf("confidence: got %v, want 0..1", c)
			}
			retry := m["recommendation"].(map[string]any)["retry"].(map[string]any)
			if b := retry["budget_ratio"].(float64); b < 0.1 || b > 0.2 {
				t.Errorf("budget_ratio: got %v, want a share in [0.1, 0.2]", b)
			}
			if j := retry["jitter"]; j != "full" {
				t.Errorf("jitter: got %v, want full", j)
			}
			if base, limit := retry["base_delay_ms"].(float64), fx.rep.Summary.EffectiveLimitRPS; limit > 0 && base < 1000/limit-1e-9 {
				t.Errorf("base_delay_ms: got %v, want ≥ one request slot, %v ms", base, 1000/limit)
			}
			for i, e := range m["expectations"].([]any) {
				requireFields(t, fx.name+" expectation "+strconv.Itoa(i), e.(map[string]any),
					map[string]string{"name": kString, "want": kString, "got": kString, "pass": kBool})
			}
		})
	}

	t.Run("nulls", func(t *testing.T) {
		m, _ := encodeMap(t, New(concurrencyRun(), Options{}))
		for _, path := range []string{"advertised", "price"} {
			if v, ok := field(m, path); !ok || v != nil {
				t.Errorf("%s: got %v (present %t), want null", path, v, ok)
			}
		}
		if v := m["expectations"]; kindOf(v) != kArray {
			t.Errorf("expectations with none set: got %s, want an empty array", kindOf(v))
		}
		m, _ = encodeMap(t, New(probe.Run{}, Options{}))
		for _, path := range []string{"steps", "timeline.buckets", "summary.reasons", "expectations", "recommendation.notes"} {
			if v, _ := field(m, path); kindOf(v) != kArray {
				t.Errorf("empty run, %s: got %s, want an array", path, kindOf(v))
			}
		}
	})

	t.Run("advertised and price", func(t *testing.T) {
		m, _ := encodeMap(t, fixtures()[0].rep)
		requireFields(t, "advertised", m, map[string]string{
			"advertised.limit": kNumber, "advertised.window_s": kNumber, "advertised.remaining": kNumber + "|" + kNull,
			"advertised.reset_s": kNumber, "advertised.retry_after_s": kNumber, "advertised.source": kString,
		})
		m, _ = encodeMap(t, fixtures()[2].rep)
		requireFields(t, "price", m, map[string]string{"price.amount": kNumber, "price.per_s": kNumber})
		if got := m["price"].(map[string]any)["per_s"]; got != 3600.0 {
			t.Errorf("price.per_s: got %v, want 3600 (seconds in an hour)", got)
		}
	})
}

// TestReadRoundTrip writes each fixture as JSON, reads it back and checks
// that nothing was lost.
func TestReadRoundTrip(t *testing.T) {
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			m1, raw := encodeMap(t, fx.rep)
			back, err := Read(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !reflect.DeepEqual(back, fx.rep) {
				t.Errorf("Read(Write(rep)) differs from rep")
			}
			m2, _ := encodeMap(t, back)
			if !reflect.DeepEqual(m1, m2) {
				t.Errorf("re-encoding the read report changed its JSON")
			}
			// The table of a read report is the table of the original.
			var a, b bytes.Buffer
			if err := Write(&a, fx.rep, FormatTable, RenderOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := Write(&b, back, FormatTable, RenderOptions{}); err != nil {
				t.Fatal(err)
			}
			if a.String() != b.String() {
				t.Errorf("table of the read report differs")
			}
		})
	}
}

func TestReadRejects(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // substrings of the error
	}{
		{"other version", `{"schema":"limitprobe.report/v2","steps":[]}`, []string{`"limitprobe.report/v2"`, `"limitprobe.report/v1"`}},
		{"no schema", `{"steps":[]}`, []string{"not a limitprobe report"}},
		{"not json", `steps: []`, []string{"not a JSON object"}},
		{"array", `[]`, []string{"not a JSON object"}},
		{"wrong type", `{"schema":"limitprobe.report/v1","steps":"many"}`, []string{"read report"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Read(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("got report %+v, want an error", rep)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestNewOptions(t *testing.T) {
	run := tokenBucketRun()
	t.Run("defaults", func(t *testing.T) {
		rep := New(run, Options{})
		if got := rep.Recommendation.Margin; got != advise.DefaultMargin {
			t.Errorf("margin: got %v, want %v", got, advise.DefaultMargin)
		}
		if rep.Price != nil {
			t.Errorf("price: got %+v, want nil", rep.Price)
		}
		if d := rep.Recommendation.Demand; d == nil || d.DemandRPS != run.Scenario.DemandRPS {
			t.Errorf("demand: got %+v, want the scenario's %v/s", d, run.Scenario.DemandRPS)
		}
	})
	t.Run("options win", func(t *testing.T) {
		rep := New(run, Options{Margin: 0.8, DemandRPS: 45, PriceAmount: 20, PricePer: 730 * time.Hour, ToolVersion: "9.9"})
		if got, want := rep.Recommendation.ClientRateRPS, units.FloorSig(0.8*run.Summary.EffectiveLimitRPS, 3); got != want {
			t.Errorf("client rate at margin 0.8: got %v, want %v", got, want)
		}
		if d := rep.Recommendation.Demand; d == nil || d.DemandRPS != 45 || d.Meets {
			t.Errorf("demand: got %+v, want 45/s, not met at 80%%", d)
		}
		if rep.Price == nil || rep.Price.Amount != 20 || rep.Price.PerS != 730*3600 {
			t.Errorf("price: got %+v, want 20 per 730 h", rep.Price)
		}
		if rep.ToolVersion != "9.9" || rep.Schema != Schema {
			t.Errorf("got tool_version %q schema %q, want 9.9 and %s", rep.ToolVersion, rep.Schema, Schema)
		}
	})
	t.Run("input not modified", func(t *testing.T) {
		r := probe.Run{}
		New(r, Options{})
		if r.Steps != nil {
			t.Errorf("New changed its argument")
		}
	})
}

func TestExpectations(t *testing.T) {
	tb := tokenBucketRun() // limit 50.2/s, onset 60/s, burst 10, 2 errors in 930
	none := noneObservedRun()
	tests := []struct {
		name   string
		run    probe.Run
		demand float64
		expect scenarios.Expect
		want   map[string]bool // name → pass
		got    map[string]string
	}{
		{"all pass", tb, 40, scenarios.Expect{MinEffectiveLimit: 50, MinOnset: 60, MinBurst: 10, MaxErrors: 0.01, Algorithm: "gcra", MeetsDemand: true},
			map[string]bool{ExpectMinEffectiveLimit: true, ExpectMinOnset: true, ExpectMinBurst: true, ExpectMaxErrors: true, ExpectAlgorithm: true, ExpectMeetsDemand: true},
			map[string]string{ExpectMinEffectiveLimit: "50.2/s", ExpectMaxErrors: "0.2% (2 of 930)"}},
		{"all fail", tb, 48, scenarios.Expect{MinEffectiveLimit: 60, MinOnset: 70, MinBurst: 20, MaxErrors: 0.001, Algorithm: "fixed-window", MeetsDemand: true},
			map[string]bool{ExpectMinEffectiveLimit: false, ExpectMinOnset: false, ExpectMinBurst: false, ExpectMaxErrors: false, ExpectAlgorithm: false, ExpectMeetsDemand: false},
			map[string]string{ExpectMinBurst: "10", ExpectAlgorithm: "token-bucket"}},
		{"unset are skipped", tb, 0, scenarios.Expect{MinBurst: 1}, map[string]bool{ExpectMinBurst: true}, nil},
		{"meets demand without a demand", func() probe.Run { r := tb; r.Scenario.DemandRPS = 0; return r }(), 0, scenarios.Expect{MeetsDemand: true},
			map[string]bool{ExpectMeetsDemand: false}, map[string]string{ExpectMeetsDemand: "no demand given"}},
		{"never throttled: lower bounds prove minimums", none, 0, scenarios.Expect{MinEffectiveLimit: 40, MinOnset: 40},
			map[string]bool{ExpectMinEffectiveLimit: true, ExpectMinOnset: true},
			map[string]string{ExpectMinEffectiveLimit: "≥ 40/s (never throttled)", ExpectMinOnset: "none up to 40/s"}},
		{"never throttled: but not above what was tested", none, 0, scenarios.Expect{MinEffectiveLimit: 50, MinOnset: 50},
			map[string]bool{ExpectMinEffectiveLimit: false, ExpectMinOnset: false}, nil},
		{"nothing sent", probe.Run{}, 0, scenarios.Expect{MaxErrors: 0.5},
			map[string]bool{ExpectMaxErrors: false}, map[string]string{ExpectMaxErrors: "no requests sent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := New(tt.run, Options{Expect: tt.expect, DemandRPS: tt.demand})
			got := map[string]bool{}
			for _, e := range rep.Expectations {
				got[e.Name] = e.Pass
				if e.Want == "" || e.Got == "" {
					t.Errorf("%s: want %q got %q, want both said", e.Name, e.Want, e.Got)
				}
				if w, ok := tt.got[e.Name]; ok && e.Got != w {
					t.Errorf("%s got: got %q, want %q", e.Name, e.Got, w)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got verdicts %v, want %v", got, tt.want)
			}
			var failed []string
			for _, e := range rep.Failed() {
				failed = append(failed, e.Name)
			}
			for name, pass := range tt.want {
				if in := strings.Contains(strings.Join(failed, ","), name); in == pass {
					t.Errorf("Failed(): %s listed %t, want %t", name, in, !pass)
				}
			}
		})
	}
}

func TestExpectationsInterrupted(t *testing.T) {
	run := tokenBucketRun()
	run.Interrupted = true
	run.Steps = run.Steps[:4]
	rep := New(run, Options{Expect: scenarios.Expect{MinEffectiveLimit: 40, MinBurst: 5}})
	if len(rep.Expectations) != 2 {
		t.Fatalf("got %d expectations, want 2", len(rep.Expectations))
	}
	for _, e := range rep.Expectations {
		if !e.Pass {
			t.Errorf("%s: got FAIL, want pass on what was measured", e.Name)
		}
		if !strings.Contains(e.Note, "interrupted") {
			t.Errorf("%s note: got %q, want it to say the run was interrupted", e.Name, e.Note)
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, rep, FormatTable, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "interrupted") {
		t.Errorf("table of an interrupted run does not say so")
	}
}

func TestFailedNilWhenAllPass(t *testing.T) {
	if got := fixtures()[0].rep.Failed(); got != nil {
		t.Errorf("got %v, want nil", got)
	}
	if got := fixtures()[1].rep.Failed(); len(got) != 1 || got[0].Name != ExpectMinEffectiveLimit {
		t.Errorf("got %v, want only %s", got, ExpectMinEffectiveLimit)
	}
}

func TestHTMLSelfContained(t *testing.T) {
	for _, fx := range fixtures() {
		var buf bytes.Buffer
		if err := Write(&buf, fx.rep, FormatHTML, RenderOptions{}); err != nil {
			t.Fatal(err)
		}
		page := buf.String()
		for _, bad := range []string{"<script src", "<link", "@import", "url(", "<img", "<iframe"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s: page contains %q: it must not fetch anything", fx.name, bad)
			}
		}
		if n := strings.Count(page, "<svg"); n != 4 {
			t.Errorf("%s: got %d charts, want 4", fx.name, n)
		}
		for _, id := range []string{"chart-rates", "chart-cumulative", "chart-latency", "chart-inflight"} {
			if !strings.Contains(page, `id="`+id+`"`) {
				t.Errorf("%s: chart %s is missing", fx.name, id)
			}
		}
		if strings.Contains(page, "NaN") || strings.Contains(page, "Inf") {
			t.Errorf("%s: page contains NaN or Inf", fx.name)
		}
	}
}

func TestHTMLEscapes(t *testing.T) {
	run := tokenBucketRun()
	run.Scenario.Name = `<script>alert("x")</script>`
	run.Summary.Reasons = []string{`a <b> & "c"`}
	var buf bytes.Buffer
	if err := Write(&buf, New(run, Options{}), FormatHTML, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<script>") || strings.Contains(buf.String(), "<b>") {
		t.Errorf("user text reached the page unescaped")
	}
}

func TestHTMLWithoutTimeline(t *testing.T) {
	run := tokenBucketRun()
	run.Timeline = evidence.Timeline{}
	var buf bytes.Buffer
	if err := Write(&buf, New(run, Options{}), FormatHTML, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "No timeline was recorded"); n != 4 {
		t.Errorf("got %d placeholders, want 4", n)
	}
}

func TestCoarsenKeepsTotals(t *testing.T) {
	tl := evidence.Timeline{ResolutionS: 0.1}
	for i := range 1501 {
		tl.Buckets = append(tl.Buckets, evidence.Bucket{Sent: int64(i % 7), OK: int64(i % 5), InFlight: 2, LatencyMSP50: 10})
	}
	bs, res := coarsen(tl)
	if len(bs) > maxChartPoints {
		t.Errorf("got %d points, want ≤ %d", len(bs), maxChartPoints)
	}
	var sent, ok int64
	for _, b := range bs {
		sent += b.Sent
		ok += b.OK
		if b.InFlight != 2 || math.Abs(b.LatencyMSP50-10) > 1e-9 && b.OK > 0 {
			t.Fatalf("merged bucket %+v: got in flight %v latency %v, want 2 and 10", b, b.InFlight, b.LatencyMSP50)
		}
	}
	var wantSent, wantOK int64
	for _, b := range tl.Buckets {
		wantSent += b.Sent
		wantOK += b.OK
	}
	if sent != wantSent || ok != wantOK {
		t.Errorf("got sent %d ok %d, want %d and %d", sent, ok, wantSent, wantOK)
	}
	if want := 0.1 * float64((1501+maxChartPoints-1)/maxChartPoints); math.Abs(res-want) > 1e-9 {
		t.Errorf("resolution: got %v, want %v", res, want)
	}
}

func TestNiceAxis(t *testing.T) {
	tests := []struct{ in, step, top float64 }{
		{0, 1, 1}, {1, 0.2, 1}, {52.7, 20, 60}, {105, 50, 150}, {23, 5, 25}, {0.37, 0.1, 0.4}, {800, 200, 800},
	}
	for _, tt := range tests {
		step, top := niceAxis(tt.in)
		if math.Abs(step-tt.step) > 1e-9 || math.Abs(top-tt.top) > 1e-9 {
			t.Errorf("niceAxis(%v): got %v, %v, want %v, %v", tt.in, step, top, tt.step, tt.top)
		}
	}
}
