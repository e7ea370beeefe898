package advise

import (
	"math"
	"strings"
	"testing"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/headers"
)

// steps builds measured steps at the given offered rates, each with p50
// latency latMS; retryAfterS is the Retry-After the throttled ones saw.
func steps(latMS, retryAfterS float64, rates ...float64) []evidence.Step {
	var out []evidence.Step
	for i, r := range rates {
		out = append(out, evidence.Step{Index: i, OfferedRPS: r, Requests: int64(r * 3), OK: int64(r * 3), GoodputRPS: r,
			LatencyMS: evidence.Latency{P50: latMS, P99: latMS * 3}, RetryAfterS: retryAfterS})
	}
	return out
}

func TestRecommend(t *testing.T) {
	tb := estimate.Summary{Limited: true, EffectiveLimitRPS: 50, OnsetRPS: 60, Burst: 10, Algorithm: "token-bucket", Confidence: 0.9}
	fw := estimate.Summary{Limited: true, EffectiveLimitRPS: 10, OnsetRPS: 12, Burst: 600, WindowS: 60, Algorithm: "fixed-window", Confidence: 0.8}
	sw := estimate.Summary{Limited: true, EffectiveLimitRPS: 5, OnsetRPS: 6, Burst: 20, Algorithm: "sliding-window", Confidence: 0.7}
	queue := estimate.Summary{Limited: true, EffectiveLimitRPS: 50, OnsetRPS: 55, Burst: 0, Algorithm: "queue", Confidence: 0.8}
	conc := estimate.Summary{Limited: true, EffectiveLimitRPS: 40, OnsetRPS: 120, MaxInFlight: 8, Algorithm: "concurrency", Confidence: 0.9}
	far := conc
	far.ClientInFlight = 24 // the cap of 8 behind a round trip twice the service time
	lock := estimate.Summary{Limited: true, EffectiveLimitRPS: 18, OnsetRPS: 20, Algorithm: "lockout", Confidence: 0.7}
	none := estimate.Summary{EffectiveLimitRPS: 40, Algorithm: "none-observed", LowerBoundOnly: true}
	unknown := estimate.Summary{Limited: true, EffectiveLimitRPS: 30, OnsetRPS: 25, Algorithm: "unknown", Confidence: 0.3}
	raAdv := &headers.Advertised{RetryAfterS: 2, Source: headers.SourceRetryAfter}
	resetAdv := &headers.Advertised{Limit: 5, WindowS: 30, ResetS: 12, Source: headers.SourceIETF}

	tests := []struct {
		name   string
		s      estimate.Summary
		steps  []evidence.Step
		adv    *headers.Advertised
		margin float64
		// want
		basis                string
		rate                 float64
		burst, conc          int
		honor                bool
		baseMS, capMS        int64
		minRetries, maxRetry int
		budget, sustainable  float64
		noteHas              string
	}{
		{name: "token bucket, Retry-After", s: tb, steps: steps(4, 1, 20, 40, 60), margin: 0.9,
			basis: BasisEffectiveLimit, rate: 45, burst: 9, honor: true, baseMS: 20, capMS: 5000, minRetries: 9, maxRetry: 9, budget: 0.1, sustainable: 45, noteHas: "sent up to 1 s"},
		{name: "token bucket, no Retry-After", s: tb, steps: steps(4, 0, 20, 40, 60), margin: 0.9,
			basis: BasisEffectiveLimit, rate: 45, burst: 9, honor: false, baseMS: 20, capMS: 5000, minRetries: 9, maxRetry: 9, budget: 0.1, sustainable: 45, noteHas: "sent no Retry-After"},
		{name: "token bucket, slow responses set the base", s: tb, steps: steps(230, 0, 20, 40, 60), margin: 0.9,
			basis: BasisEffectiveLimit, rate: 45, burst: 9, baseMS: 230, capMS: 5000, minRetries: 6, maxRetry: 6, budget: 0.1, sustainable: 45},
		{name: "token bucket, margin 0.8 widens the budget", s: tb, steps: steps(4, 0, 60), margin: 0.8,
			basis: BasisEffectiveLimit, rate: 40, burst: 8, baseMS: 20, capMS: 5000, minRetries: 9, maxRetry: 9, budget: 0.2, sustainable: 40},
		{name: "token bucket, bad margin means 0.9", s: tb, steps: steps(4, 0, 60), margin: 1.7,
			basis: BasisEffectiveLimit, rate: 45, burst: 9, baseMS: 20, capMS: 5000, minRetries: 9, maxRetry: 9, budget: 0.1, sustainable: 45},
		{name: "fixed window, Retry-After", s: fw, steps: steps(30, 20, 5, 10, 15), adv: raAdv, margin: 0.9,
			// burst: 600 − 9/s × 60 s = 60 keeps any window under its quota of 600.
			basis: BasisEffectiveLimit, rate: 9, burst: 60, honor: true, baseMS: 100, capMS: 60000, minRetries: 10, maxRetry: 10, budget: 0.1, sustainable: 9, noteHas: "no window overflows"},
		{name: "fixed window, no Retry-After", s: fw, steps: steps(30, 0, 5, 10, 15), margin: 0.9,
			basis: BasisEffectiveLimit, rate: 9, burst: 60, honor: false, baseMS: 100, capMS: 60000, minRetries: 10, maxRetry: 10, budget: 0.1, sustainable: 9},
		{name: "sliding window, advertised window and reset", s: sw, steps: steps(10, 0, 2, 4, 8), adv: resetAdv, margin: 0.9,
			// window 30 s from the advertised policy: burst ≤ 5 × 30 − 4.5 × 30 = 15.
			basis: BasisEffectiveLimit, rate: 4.5, burst: 15, honor: true, baseMS: 200, capMS: 30000, minRetries: 9, maxRetry: 9, budget: 0.1, sustainable: 4.5, noteHas: "advertised window"},
		{name: "sliding window, nothing advertised", s: sw, steps: steps(10, 0, 2, 4, 8), margin: 0.9,
			basis: BasisEffectiveLimit, rate: 4.5, burst: 18, honor: false, baseMS: 200, capMS: 5000, minRetries: 6, maxRetry: 6, budget: 0.1, sustainable: 4.5},
		{name: "queue", s: queue, steps: steps(15, 0, 40, 55), margin: 0.9,
			basis: BasisEffectiveLimit, rate: 45, burst: 1, baseMS: 20, capMS: 5000, minRetries: 9, maxRetry: 9, budget: 0.1, sustainable: 45, noteHas: "queues"},
		{name: "concurrency, far away: the client's count fills the cap", s: far, steps: steps(200, 0, 5, 10, 20, 40), margin: 0.9,
			basis: BasisConcurrencyCap, rate: 0, burst: 0, conc: 21, baseMS: 200, capMS: 5000, minRetries: 6, maxRetry: 6, budget: 0.1, sustainable: 35, noteHas: "24 in flight fill it"},
		{name: "concurrency, no Retry-After", s: conc, steps: steps(200, 0, 5, 10, 20, 40), margin: 0.9,
			basis: BasisConcurrencyCap, rate: 0, burst: 0, conc: 7, baseMS: 200, capMS: 5000, minRetries: 6, maxRetry: 6, budget: 0.1, sustainable: 35, noteHas: "Little's law"},
		{name: "concurrency, Retry-After", s: conc, steps: steps(200, 0, 5, 10, 20, 40), adv: raAdv, margin: 0.9,
			basis: BasisConcurrencyCap, rate: 0, burst: 0, conc: 7, honor: true, baseMS: 200, capMS: 5000, minRetries: 6, maxRetry: 6, budget: 0.1, sustainable: 35},
		{name: "concurrency, cap derived from limit × latency", s: estimate.Summary{Limited: true, EffectiveLimitRPS: 40, Algorithm: "concurrency"}, steps: steps(250, 0, 10, 40),
			margin: 0.9, basis: BasisConcurrencyCap, conc: 9, baseMS: 250, capMS: 5000, minRetries: 6, maxRetry: 6, budget: 0.1, sustainable: 36},
		{name: "concurrency, cap unknown and no latency: a rate", s: estimate.Summary{Limited: true, EffectiveLimitRPS: 40, Algorithm: "concurrency"}, margin: 0.9,
			basis: BasisConcurrencyCap, rate: 36, burst: 1, baseMS: 25, capMS: 5000, minRetries: 9, maxRetry: 9, budget: 0.1, sustainable: 36, noteHas: "could not be sized"},
		{name: "lockout, Retry-After", s: lock, steps: steps(20, 30, 10, 20), margin: 0.9,
			basis: BasisLockoutOnset, rate: 16.2, burst: 1, honor: true, baseMS: 1000, capMS: 30000, minRetries: 4, maxRetry: 4, budget: 0.1, sustainable: 16.2, noteHas: "extends the lockout"},
		{name: "lockout, no Retry-After", s: lock, steps: steps(20, 0, 10, 20), margin: 0.9,
			basis: BasisLockoutOnset, rate: 16.2, burst: 1, honor: false, baseMS: 1000, capMS: 30000, minRetries: 4, maxRetry: 4, budget: 0.1, sustainable: 16.2},
		{name: "none observed", s: none, steps: steps(12, 0, 10, 20, 40), margin: 0.9,
			basis: BasisHighestTestedRate, rate: 40, burst: 1, honor: false, baseMS: 25, capMS: 5000, minRetries: 9, maxRetry: 9, budget: 0.1, sustainable: 40, noteHas: "at least 40/s"},
		{name: "none observed, Retry-After advertised anyway", s: none, steps: steps(12, 0, 10, 20, 40), adv: raAdv, margin: 0.9,
			basis: BasisHighestTestedRate, rate: 40, burst: 1, honor: true, baseMS: 25, capMS: 5000, minRetries: 9, maxRetry: 9, budget: 0.1, sustainable: 40},
		{name: "lower bound of a concurrency sweep", s: estimate.Summary{LowerBoundOnly: true, Algorithm: "concurrency"},
			steps: []evidence.Step{{OfferedRPS: 10, Concurrency: 4, Requests: 30, OK: 30, GoodputRPS: 10, LatencyMS: evidence.Latency{P50: 400}},
				{OfferedRPS: 20, Concurrency: 8, Requests: 60, OK: 60, GoodputRPS: 20, LatencyMS: evidence.Latency{P50: 400}}},
			margin: 0.9, basis: BasisHighestTestedRate, rate: 20, burst: 1, conc: 8, baseMS: 400, capMS: 5000, minRetries: 5, maxRetry: 5, budget: 0.1, sustainable: 20},
		{name: "unknown, Retry-After", s: unknown, steps: steps(8, 5, 10, 20, 30), margin: 0.9,
			basis: BasisConservative, rate: 15, burst: 1, honor: true, baseMS: 67, capMS: 5000, minRetries: 8, maxRetry: 8, budget: 0.1, sustainable: 15, noteHas: "not recognised"},
		{name: "unknown, no Retry-After", s: unknown, steps: steps(8, 0, 10, 20, 30), margin: 0.9,
			basis: BasisConservative, rate: 15, burst: 1, honor: false, baseMS: 67, capMS: 5000, minRetries: 8, maxRetry: 8, budget: 0.1, sustainable: 15},
		{name: "unknown, nothing got through", s: estimate.Summary{Limited: true, Algorithm: "unknown"}, margin: 0.9,
			basis: BasisConservative, rate: 0, burst: 0, baseMS: 10, capMS: 5000, minRetries: 10, maxRetry: 10, budget: 0.1, noteHas: "probe again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := Recommend(tt.s, tt.steps, tt.adv, tt.margin)
			r := rec.Retry
			if rec.Basis != tt.basis {
				t.Errorf("basis: got %q, want %q", rec.Basis, tt.basis)
			}
			if math.Abs(rec.ClientRateRPS-tt.rate) > 1e-9 {
				t.Errorf("client_rate_rps: got %v, want %v", rec.ClientRateRPS, tt.rate)
			}
			if rec.ClientBurst != tt.burst {
				t.Errorf("client_burst: got %d, want %d", rec.ClientBurst, tt.burst)
			}
			if rec.MaxConcurrency != tt.conc {
				t.Errorf("max_concurrency: got %d, want %d", rec.MaxConcurrency, tt.conc)
			}
			if r.HonorRetryAfter != tt.honor {
				t.Errorf("honor_retry_after: got %t, want %t", r.HonorRetryAfter, tt.honor)
			}
			if r.BaseDelayMS != tt.baseMS {
				t.Errorf("base_delay_ms: got %d, want %d", r.BaseDelayMS, tt.baseMS)
			}
			if r.MaxDelayMS != tt.capMS {
				t.Errorf("max_delay_ms: got %d, want %d", r.MaxDelayMS, tt.capMS)
			}
			if r.MaxRetries < tt.minRetries || r.MaxRetries > tt.maxRetry {
				t.Errorf("max_retries: got %d, want %d..%d", r.MaxRetries, tt.minRetries, tt.maxRetry)
			}
			if r.BudgetRatio != tt.budget {
				t.Errorf("budget_ratio: got %v, want %v", r.BudgetRatio, tt.budget)
			}
			if math.Abs(rec.SustainableRPS-tt.sustainable) > 1e-9 {
				t.Errorf("sustainable_rps: got %v, want %v", rec.SustainableRPS, tt.sustainable)
			}
			if tt.noteHas != "" && !strings.Contains(strings.Join(rec.Notes, " "), tt.noteHas) {
				t.Errorf("notes: got %q, want one to mention %q", rec.Notes, tt.noteHas)
			}
			checkInvariants(t, tt.s, tt.steps, rec)
		})
	}
}

// checkInvariants holds for every recommendation, whatever the class.
func checkInvariants(t *testing.T, s estimate.Summary, st []evidence.Step, rec Recommendation) {
	t.Helper()
	r := rec.Retry
	if r.Jitter != "full" || r.Multiplier != 2 {
		t.Errorf("got jitter %q ×%v, want full ×2", r.Jitter, r.Multiplier)
	}
	if r.BudgetRatio < 0.1 || r.BudgetRatio > 0.2 {
		t.Errorf("budget_ratio: got %v, want 0.1..0.2", r.BudgetRatio)
	}
	if r.MaxDelayMS < r.BaseDelayMS || r.BaseDelayMS < minBaseMS {
		t.Errorf("got base %d ms cap %d ms, want %d ≤ base ≤ cap", r.BaseDelayMS, r.MaxDelayMS, minBaseMS)
	}
	if s.WindowS > 0 && float64(r.MaxDelayMS) < s.WindowS*1000 {
		t.Errorf("max_delay_ms %d is shorter than the %v s window", r.MaxDelayMS, s.WindowS)
	}
	if p50 := statsOf(st).p50MS; float64(r.BaseDelayMS) < p50 {
		t.Errorf("base_delay_ms %d is below the median latency %v ms", r.BaseDelayMS, p50)
	}
	if rec.ClientRateRPS > 0 {
		if float64(r.BaseDelayMS) < 1000/(rec.ClientRateRPS/rec.Margin)-1e-6 && rec.Basis == BasisEffectiveLimit {
			t.Errorf("base_delay_ms %d is shorter than one request slot at the limit", r.BaseDelayMS)
		}
		if rec.ClientBurst < 1 {
			t.Errorf("client_burst: got %d with a rate, want ≥ 1", rec.ClientBurst)
		}
	}
	if s.Burst > 0 && rec.ClientBurst > s.Burst {
		t.Errorf("client_burst %d exceeds the measured burst %d", rec.ClientBurst, s.Burst)
	}
	if rec.Basis == BasisEffectiveLimit && rec.ClientRateRPS > rec.Margin*s.EffectiveLimitRPS+1e-9 {
		t.Errorf("client_rate_rps %v exceeds margin × limit %v", rec.ClientRateRPS, rec.Margin*s.EffectiveLimitRPS)
	}
	if len(rec.Reference) != 4 {
		t.Errorf("got %d reference points, want 4", len(rec.Reference))
	}
	for _, ref := range rec.Reference {
		if ref.WhyOursDiffers == "" || strings.Contains(ref.WhyOursDiffers, "\n") {
			t.Errorf("%s: why_ours_differs %q, want one line", ref.Name, ref.WhyOursDiffers)
		}
	}
	if len(rec.Notes) == 0 {
		t.Errorf("no notes, want each setting explained")
	}
}

func TestRecommendReferencesWindow(t *testing.T) {
	s := estimate.Summary{Limited: true, EffectiveLimitRPS: 1, Burst: 60, WindowS: 60, Algorithm: "fixed-window"}
	rec := Recommend(s, steps(50, 0, 1, 2), nil, 0.9)
	for _, ref := range rec.Reference {
		if ref.MaxMS < 60_000 && ref.Name != "gRPC connection backoff" && !strings.Contains(ref.WhyOursDiffers, "before the quota resets") &&
			(ref.Name == "openai-python" || ref.Name == "huggingface_hub http_backoff") {
			t.Errorf("%s (cap %v ms) does not say it gives up before a 60 s window resets: %q", ref.Name, ref.MaxMS, ref.WhyOursDiffers)
		}
	}
	want := map[string][3]float64{ // base ms, multiplier, cap ms, from REFERENCE.md
		"gRPC connection backoff":      {1000, 1.6, 120000},
		"cenkalti/backoff":             {500, 1.5, 60000},
		"huggingface_hub http_backoff": {1000, 2, 8000},
		"openai-python":                {500, 2, 8000},
	}
	for _, ref := range rec.Reference {
		w, ok := want[ref.Name]
		if !ok {
			t.Errorf("unexpected reference %q", ref.Name)
			continue
		}
		if got := [3]float64{ref.BaseMS, ref.Multiplier, ref.MaxMS}; got != w {
			t.Errorf("%s: got %v, want %v", ref.Name, got, w)
		}
	}
}

func TestDemandSentence(t *testing.T) {
	bucket := func(limit float64) estimate.Summary {
		return estimate.Summary{Limited: true, EffectiveLimitRPS: limit, Burst: 5, Algorithm: "token-bucket"}
	}
	tests := []struct {
		name   string
		s      estimate.Summary
		demand float64
		want   string
		meets  bool
	}{
		{"short", bucket(31), 40, "needs 40/s, limit 31/s: 23% short; at 90% margin you can send 27.9/s", false},
		{"headroom", bucket(50), 40, "needs 40/s, limit 50/s: 25% headroom; at 90% margin you can send 45/s", true},
		{"headroom eaten by the margin", bucket(42), 40, "needs 40/s, limit 42/s: 5% headroom, but at 90% margin you can send 37.8/s (6% short)", false},
		{"exactly", bucket(40), 36, "needs 36/s, limit 40/s: 11% headroom; at 90% margin you can send 36/s", true},
		{"lower bound covers", estimate.Summary{EffectiveLimitRPS: 40, Algorithm: "none-observed", LowerBoundOnly: true}, 25,
			"needs 25/s, limit at least 40/s (never throttled): 60% headroom or more", true},
		{"lower bound below", estimate.Summary{EffectiveLimitRPS: 40, Algorithm: "none-observed", LowerBoundOnly: true}, 60,
			"needs 60/s, but it was tested only up to 40/s without throttling: the limit may or may not cover it; probe higher", false},
		{"concurrency", estimate.Summary{Limited: true, EffectiveLimitRPS: 40, MaxInFlight: 8, Algorithm: "concurrency"}, 4,
			"needs 4/s, limit 40/s: 900% headroom; at 7 in flight you can send about 35/s", true},
		{"nothing measured", estimate.Summary{Limited: true, Algorithm: "unknown"}, 10,
			"needs 10/s; no limit could be measured, so whether it fits is unknown", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := steps(10, 0, 10, 20, 40)
			rec := Recommend(tt.s, st, nil, 0.9)
			d := DemandFor(tt.demand, tt.s, st, rec)
			if d.Sentence != tt.want {
				t.Errorf("got %q,\nwant %q", d.Sentence, tt.want)
			}
			if d.Meets != tt.meets {
				t.Errorf("meets: got %t, want %t", d.Meets, tt.meets)
			}
		})
	}
}

func TestGoDurationString(t *testing.T) {
	for _, tt := range []struct {
		ms   int64
		want string
	}{{25, "25ms"}, {5000, "5s"}, {60000, "1m"}, {1500, "1500ms"}} {
		if got := goDurationString(tt.ms); got != tt.want {
			t.Errorf("goDurationString(%d): got %q, want %q", tt.ms, got, tt.want)
		}
	}
}

// TestRecommendQuota: under an hourly quota with a per-second bucket the
// client paces within the quota over the hour, bursts no more than the
// shortest policy allows, and retries at the reset, not after seconds.
func TestRecommendQuota(t *testing.T) {
	s := estimate.Summary{Limited: true, EffectiveLimitRPS: 2000.0 / 3600, Burst: 20, WindowS: 3600, Algorithm: "fixed-window", Confidence: 0.9,
		Policies: []estimate.Policy{
			{Name: "p", Limit: 20, WindowS: 1, RateRPS: 20, Unit: "requests", Kind: estimate.KindBucket, Source: estimate.SourceAdvertised},
			{Name: "quota", Limit: 2000, WindowS: 3600, RateRPS: 2000.0 / 3600, Unit: "requests", Kind: estimate.KindFixed, Source: estimate.SourceAdvertised, Binding: true},
		}}
	adv := &headers.Advertised{Limit: 2000, WindowS: 3600, ResetS: 1800, Source: headers.SourceIETF}
	rec := Recommend(s, steps(5, 0, 4, 5), adv, 0.9)
	if rec.ClientRateRPS != 0.5 || rec.ClientBurst > 20 || rec.ClientBurst < 1 {
		t.Errorf("got rate %v, burst %d; want 0.5/s (90%% of 2000 per hour) and a burst of at most 20", rec.ClientRateRPS, rec.ClientBurst)
	}
	r := rec.Retry
	if !r.HonorRetryAfter || r.BaseDelayMS != 3_600_000 || r.MaxDelayMS != 3_600_000 || r.MaxRetries != 2 {
		t.Errorf("got retry %+v, want the reset honoured, else a random wait within the hour, twice at most", r)
	}
	joined := strings.Join(rec.Notes, "\n")
	for _, want := range []string{"do not back off by seconds", "2 policies: p 20 per 1 s (20/s); quota 2000 per 60 min (33.3/m, binding)", "keeps within all of them"} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes lack %q:\n%s", want, joined)
		}
	}
	d := DemandFor(1, s, nil, rec)
	if d.Meets {
		t.Errorf("a demand of 1/s meets an hourly quota of 2000: %+v", d)
	}
}
