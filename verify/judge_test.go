package verify

import (
	"math"
	"strings"
	"testing"
	"time"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/headers"
)

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	d := Demand{RPS: 4, Duration: 2 * time.Second, Deadline: time.Second, Clients: 2}
	recs := []record{
		{client: 0, fate: fateOK, attempts: 1, arrival: 0, lastStart: 0, done: 10 * ms, sending: 10 * ms},
		{client: 1, fate: fateOK, attempts: 3, throttled: 2, arrival: 100 * ms, lastStart: 400 * ms, done: 420 * ms, sending: 60 * ms},
		{client: 0, fate: fateShed, arrival: 500 * ms, done: 1500 * ms},
		{client: 1, fate: fateGaveUp, attempts: 2, throttled: 2, arrival: 600 * ms, lastStart: 900 * ms, done: 900 * ms},
		{client: 0, fate: fateError, attempts: 1, arrival: 700 * ms, lastStart: 700 * ms, done: 710 * ms},
		{client: 1, fate: fateOK, attempts: 1, arrival: 1990 * ms, lastStart: 1990 * ms, done: 2100 * ms}, // after the demand
		{client: 0, fate: fateCanceled, attempts: 1},                                                      // interrupted: not counted
		{client: 1, fate: fatePending}, // never dispatched
	}
	got := summarize(Policy{Name: "x", Settings: "words"}, recs, d, 3*time.Second)
	want := PolicyResult{
		Name: "x", Settings: "words", Requests: 6, Succeeded: 3, Shed: 1, GaveUp: 1, Errors: 1,
		Attempts: 8, Throttled: 4, SuccessRatio: 0.5, SentSuccessRatio: 0.6,
		ThrottledPerRequest: 4.0 / 6, RetriesPerRequest: 3.0 / 6, // 8 attempts, 5 first attempts
		GoodputRPS: 1, DemandMet: 0.25, WallS: 3,
	}
	if got.Requests != want.Requests || got.Succeeded != want.Succeeded || got.Shed != want.Shed || got.GaveUp != want.GaveUp ||
		got.Errors != want.Errors || got.Attempts != want.Attempts || got.Throttled != want.Throttled {
		t.Errorf("counts: got %+v\nwant %+v", got, want)
	}
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"success", got.SuccessRatio, want.SuccessRatio},
		{"success of sent", got.SentSuccessRatio, want.SentSuccessRatio},
		{"throttled per request", got.ThrottledPerRequest, want.ThrottledPerRequest},
		{"retries per request", got.RetriesPerRequest, want.RetriesPerRequest},
		{"goodput (2 successes within the 2 s demand)", got.GoodputRPS, want.GoodputRPS},
		{"demand met", got.DemandMet, want.DemandMet},
		{"attempt time (70 ms over 8 attempts)", got.AttemptMS, 8.8},
		{"added p50 (0, 0, 300 ms)", got.AddedLatencyMS.P50, 0},
		{"added max", got.AddedLatencyMS.Max, 300},
		{"end-to-end p50 (10, 110, 320 ms)", got.LatencyMS.P50, 110},
		{"end-to-end p99", got.LatencyMS.P99, 320},
		// client 0: 1 of 3 succeeded; client 1: 2 of 3.
		{"worst client", got.WorstClientSuccess, 1.0 / 3},
		{"fairness", got.Fairness, Jain([]float64{1.0 / 3, 2.0 / 3})},
	} {
		if math.Abs(f.got-f.want) > 1e-9 {
			t.Errorf("%s: got %v, want %v", f.name, f.got, f.want)
		}
	}
}

func TestJain(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 1},
		{[]float64{0.7}, 1},
		{[]float64{0.5, 0.5, 0.5, 0.5}, 1},
		{[]float64{1, 0, 0, 0}, 0.25},
		{[]float64{0, 0}, 1},
		{[]float64{1, 0.5}, 0.9},
	} {
		if got := Jain(tt.xs); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Jain(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

// pr is a policy result with the numbers the verdict reads.
func pr(name string, success, sent, throttled, goodput float64) PolicyResult {
	return PolicyResult{Name: name, Requests: 1000, SuccessRatio: success, SentSuccessRatio: sent,
		ThrottledPerRequest: throttled, GoodputRPS: goodput}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name        string
		demand      float64
		durationS   float64
		policies    []PolicyResult
		judged      bool
		pass        bool
		regime      string
		failedCheck string // the name of the check that fails, when one does
		say         string // in the sentence
	}{
		{
			name: "fits: all succeed, nobody throttled: a tie at zero passes", demand: 40,
			policies: []PolicyResult{pr("recommended", 1, 1, 0, 40), pr("naive", 1, 1, 0, 40), pr("none", 1, 1, 0, 40)},
			judged:   true, pass: true, regime: RegimeFits, say: "met the demand of 40/s",
		},
		{
			name: "fits: fewer throttled attempts than every other", demand: 40,
			policies: []PolicyResult{pr("recommended", 0.995, 0.995, 0.002, 39.8), pr("naive", 0.98, 0.98, 0.4, 39), pr("none", 0.9, 0.9, 0.1, 36)},
			judged:   true, pass: true, regime: RegimeFits, say: "fewest of the others: none, 0.1",
		},
		{
			name: "fits: below 99% eventual success fails", demand: 40,
			policies: []PolicyResult{pr("recommended", 0.97, 1, 0, 38.8), pr("none", 0.9, 0.9, 0.1, 36)},
			judged:   true, pass: false, regime: RegimeFits, failedCheck: "eventual success", say: "did not hold up",
		},
		{
			name: "fits: more throttled than another policy beyond the tolerance fails", demand: 40,
			policies: []PolicyResult{pr("recommended", 1, 1, 0.05, 40), pr("seed", 1, 1, 0.02, 40)},
			judged:   true, pass: false, regime: RegimeFits, failedCheck: "fewest throttled attempts",
		},
		{
			name: "fits: within the tolerance of another policy passes", demand: 40,
			policies: []PolicyResult{pr("recommended", 1, 1, 0.008, 40), pr("seed", 1, 1, 0, 40)},
			judged:   true, pass: true, regime: RegimeFits,
		},
		{
			name: "over: sheds the excess, delivers the sustainable rate, succeeds for what it sent", demand: 75,
			policies: []PolicyResult{
				{Name: "recommended", Requests: 1500, Shed: 600, SuccessRatio: 0.6, SentSuccessRatio: 1, GoodputRPS: 44.9},
				pr("naive", 0.67, 0.67, 3.8, 50), pr("none", 0.67, 0.67, 0.33, 50)},
			judged: true, pass: true, regime: RegimeOver, say: "exceeds what the recommended settings send (45/s), so no policy can meet it",
		},
		{
			name: "over: too little goodput fails", demand: 75,
			policies: []PolicyResult{pr("recommended", 0.5, 1, 0, 40), pr("none", 0.67, 0.67, 0.33, 50)},
			judged:   true, pass: false, regime: RegimeOver, failedCheck: "goodput",
		},
		{
			name: "over: a cap in flight is judged by what it carries at the attempt time measured", demand: 75,
			policies: []PolicyResult{
				{Name: "recommended", Requests: 1500, SentSuccessRatio: 1, GoodputRPS: 29, MaxInFlight: 9, AttemptMS: 300}, // 30/s
				pr("none", 0.67, 0.67, 0.33, 50)},
			judged: true, pass: true, regime: RegimeOver,
		},
		{
			name: "over: a cap in flight that carries the sustainable rate but delivers less fails", demand: 75,
			policies: []PolicyResult{
				{Name: "recommended", Requests: 1500, SentSuccessRatio: 1, GoodputRPS: 40, MaxInFlight: 9, AttemptMS: 100}, // 90/s
				pr("none", 0.67, 0.67, 0.33, 50)},
			judged: true, pass: false, regime: RegimeOver, failedCheck: "goodput",
		},
		{
			name: "over: no answer can come before the first attempt's time", demand: 75, durationS: 3,
			policies: []PolicyResult{
				{Name: "recommended", Requests: 225, SentSuccessRatio: 1, GoodputRPS: 39, AttemptMS: 300}, // 45/s over 2.7 of 3 s
				pr("none", 0.67, 0.67, 0.33, 50)},
			judged: true, pass: true, regime: RegimeOver,
		},
		{
			name: "over: sent requests that fail count", demand: 75,
			policies: []PolicyResult{pr("recommended", 0.58, 0.95, 0, 44), pr("none", 0.67, 0.67, 0.33, 50)},
			judged:   true, pass: false, regime: RegimeOver, failedCheck: "success of sent",
		},
		{
			name: "only the recommended policy: judged on success alone", demand: 40,
			policies: []PolicyResult{pr("recommended", 1, 1, 0, 40)},
			judged:   true, pass: true, regime: RegimeFits,
		},
		{
			name: "no recommended policy: nothing to judge", demand: 40,
			policies: []PolicyResult{pr("naive", 1, 1, 0, 40)},
			judged:   false, pass: false, regime: RegimeFits, say: "not run",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verification{DemandRPS: tt.demand, DurationS: tt.durationS, SustainableRPS: 45, LimitRPS: 50, Policies: tt.policies}
			vd := Judge(v)
			if vd.Judged != tt.judged || vd.Pass != tt.pass || vd.Regime != tt.regime {
				t.Errorf("got judged %v, pass %v, regime %s; want %v, %v, %s\n%s\n%+v", vd.Judged, vd.Pass, vd.Regime, tt.judged, tt.pass, tt.regime, vd.Sentence, vd.Checks)
			}
			var failed []string
			for _, c := range vd.Checks {
				if !c.Pass {
					failed = append(failed, c.Name)
				}
			}
			if got := strings.Join(failed, ","); got != tt.failedCheck {
				t.Errorf("failed checks %q, want %q", got, tt.failedCheck)
			}
			if !strings.Contains(vd.Sentence, tt.say) {
				t.Errorf("sentence %q lacks %q", vd.Sentence, tt.say)
			}
		})
	}
}

func TestCooldown(t *testing.T) {
	tests := []struct {
		name string
		m    Measured
		want time.Duration
		why  string
	}{
		{"token bucket that refills at once", Measured{Summary: estimate.Summary{EffectiveLimitRPS: 50, Burst: 10}}, time.Second, "minimum"},
		{"slow refill", Measured{Summary: estimate.Summary{EffectiveLimitRPS: 10, Burst: 100}}, 10 * time.Second, "burst of 100"},
		{"measured window", Measured{Summary: estimate.Summary{WindowS: 60, EffectiveLimitRPS: 5, Burst: 300}}, 60 * time.Second, "window"},
		{"advertised reset", Measured{Advertised: &headers.Advertised{ResetS: 30}}, 30 * time.Second, "reset"},
		{"Retry-After seen", Measured{Steps: []evidence.Step{{RetryAfterS: 2}, {RetryAfterS: 7}}}, 7 * time.Second, "Retry-After"},
		{"an hourly quota is capped", Measured{Summary: estimate.Summary{WindowS: 3600}}, 5 * time.Minute, "capped"},
	}
	for _, tt := range tests {
		got, why := Cooldown(tt.m)
		if got != tt.want || !strings.Contains(why, tt.why) {
			t.Errorf("%s: got %v (%s), want %v (%s)", tt.name, got, why, tt.want, tt.why)
		}
	}
}
