package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"limitprobe/evidence"
	"limitprobe/verify"
)

// verificationFixture is a verification of a 50/s token bucket at 150% of
// its limit from 8 clients, with numbers of the kind a run gives.
func verificationFixture() *verify.Verification {
	return &verify.Verification{
		Schema: verify.Schema, Target: "mock algorithm=token-bucket,rate=50/s,burst=10,retry_after=seconds",
		StartedAt: fixtureStart, DemandRPS: 75, Clients: 8, DurationS: 20, DeadlineS: 10, LimitRPS: 50, SustainableRPS: 45,
		Policies: []verify.PolicyResult{
			{Name: "recommended", Settings: "pace at 45/s, burst 9 (shared by all clients); honour Retry-After, else full jitter from 20ms ×2 up to 5s, at most 9 retries",
				Requests: 1500, Succeeded: 1127, Shed: 373, Attempts: 1127, SuccessRatio: 0.7513, SentSuccessRatio: 1,
				AddedLatencyMS: evidence.Latency{P50: 8120, P99: 9890}, LatencyMS: evidence.Latency{P50: 8121, P99: 9891},
				GoodputRPS: 45.1, DemandMet: 0.601, Fairness: 0.9999, WorstClientSuccess: 0.74, WallS: 29.9},
			{Name: "naive", Settings: "retry at once, at most 10 retries; Retry-After ignored",
				Requests: 1500, Succeeded: 1010, GaveUp: 490, Attempts: 6402, Throttled: 5392, SuccessRatio: 0.6733, SentSuccessRatio: 0.6733,
				ThrottledPerRequest: 3.595, RetriesPerRequest: 3.268, AddedLatencyMS: evidence.Latency{P50: 0, P99: 1.2},
				GoodputRPS: 50.5, DemandMet: 0.673, Fairness: 0.875, WorstClientSuccess: 0.52, WallS: 20},
			{Name: "none", Settings: "no retries", Requests: 1500, Succeeded: 1010, GaveUp: 490, Attempts: 1500, Throttled: 490,
				SuccessRatio: 0.6733, SentSuccessRatio: 0.6733, ThrottledPerRequest: 0.3267, GoodputRPS: 50.5, DemandMet: 0.673,
				Fairness: 0.884, WorstClientSuccess: 0.55, WallS: 20, AttemptCapReached: false},
		},
		Verdict: verify.Verdict{Judged: true, Pass: true, Regime: verify.RegimeOver,
			Sentence: "the demand of 75/s exceeds what the recommended settings send (45/s), so no policy can meet it",
			Checks: []verify.Check{
				{Name: "goodput", Want: "≥ 42.8/s", Got: "45.1/s", Pass: true},
				{Name: "fewest throttled attempts", Want: "≤ every other policy's (±0.01 per request)", Got: "0 per request; fewest of the others: none 0.327", Pass: true},
			}},
		Notes: []string{"Every policy faced the same 1500 arrivals (seed 1), each against a limiter that had recovered; errors are never retried."},
	}
}

func TestVerificationGolden(t *testing.T) {
	for _, f := range []struct{ format, ext string }{{FormatTable, "table"}, {FormatMarkdown, "md"}} {
		var buf bytes.Buffer
		if err := WriteVerification(&buf, verificationFixture(), f.format); err != nil {
			t.Fatal(err)
		}
		golden(t, "verify."+f.ext+".golden", buf.Bytes())
	}
	var buf bytes.Buffer
	if err := WriteVerification(&buf, verificationFixture(), FormatJSON); err != nil {
		t.Fatal(err)
	}
	goldenJSON(t, "verify.json.golden", buf.Bytes())
}

func TestVerificationTableFitsTerminal(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteVerification(&buf, verificationFixture(), FormatTable); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(buf.String(), "\n") {
		if n := utf8.RuneCountInString(line); n > textWidth {
			t.Errorf("line %d: got %d columns, want ≤ %d: %q", i+1, n, textWidth, line)
		}
	}
}

func TestVerificationJSONRoundTrips(t *testing.T) {
	want := verificationFixture()
	var buf bytes.Buffer
	if err := WriteVerification(&buf, want, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var got verify.Verification
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("round trip differs:\ngot  %+v\nwant %+v", got, *want)
	}
	var raw map[string]any
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	p := raw["policies"].([]any)[1].(map[string]any)
	for _, k := range []string{"name", "success_ratio", "sent_success_ratio", "throttled_per_request", "retries_per_request",
		"added_latency_ms", "goodput_rps", "demand_met", "fairness"} {
		if _, ok := p[k]; !ok {
			t.Errorf("policy JSON lacks %q", k)
		}
	}
}

func TestReportWithVerification(t *testing.T) {
	rep := *fixtures()[0].rep
	rep.Verification = verificationFixture()
	for format, want := range map[string]string{
		FormatTable:    "Verification · mock algorithm=token-bucket",
		FormatMarkdown: "### Verification",
		FormatHTML:     "<h2>Verification</h2>",
		FormatJSON:     `"verification": {`,
	} {
		var buf bytes.Buffer
		if err := Write(&buf, &rep, format, RenderOptions{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), want) {
			t.Errorf("%s lacks %q", format, want)
		}
		if format == FormatHTML && !strings.Contains(buf.String(), `<tr class="ours"><td>recommended</td>`) {
			t.Error("html does not mark the recommended row")
		}
	}
	// Read keeps it; a report without one has no "verification" key at all.
	var buf bytes.Buffer
	if err := Write(&buf, &rep, FormatJSON, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf)
	if err != nil || back.Verification == nil || back.Verification.Policies[0].Succeeded != 1127 {
		t.Fatalf("Read: %v, %+v", err, back.Verification)
	}
	buf.Reset()
	if err := Write(&buf, fixtures()[0].rep, FormatJSON, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "verification") {
		t.Error("a report never verified has a verification key")
	}
}

func TestVerificationHTMLEscapes(t *testing.T) {
	v := verificationFixture()
	v.Target = `<script>alert(1)</script>`
	v.Notes = append(v.Notes, "a & b <i>")
	h, err := verificationHTML(v)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(h), "<script>") || strings.Contains(string(h), "<i>") {
		t.Errorf("unescaped text in the HTML section:\n%s", h)
	}
}

func TestWriteVerificationErrors(t *testing.T) {
	if err := WriteVerification(&bytes.Buffer{}, nil, FormatTable); err == nil {
		t.Error("nil verification: got no error")
	}
	if err := WriteVerification(&bytes.Buffer{}, verificationFixture(), "pdf"); err == nil || !strings.Contains(err.Error(), `"pdf"`) {
		t.Errorf("unknown format: got %v", err)
	}
}
