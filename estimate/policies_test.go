package estimate

import (
	"math"
	"strings"
	"testing"

	"limitprobe/evidence"
	"limitprobe/headers"
)

// quotaReadings builds n readings a quarter second apart from at0: each
// policy of mk(i) as the i-th response advertised it.
func quotaReadings(n int, at0 float64, mk func(i int, at float64) []headers.Policy) []evidence.Reading {
	var rs []evidence.Reading
	for i := range n {
		sent := at0 + float64(i)*0.25
		rs = append(rs, evidence.Reading{SentS: sent, AtS: sent + 0.002, Status: 200, Policies: mk(i, sent+0.002)})
	}
	return rs
}

func fptr(v float64) *float64 { return &v }

// startUnix places the tests' runs on the clock: 17 s past a whole hour,
// so that no reset below falls on a whole window by chance.
const startUnix = 1_800_000_017.0

func TestPoliciesAdvertised(t *testing.T) {
	tests := []struct {
		name        string
		readings    []evidence.Reading
		wantBinding string
		check       func(t *testing.T, pols []Policy)
	}{
		{
			name: "a fixed window read, not spent",
			readings: quotaReadings(25, 0, func(i int, at float64) []headers.Policy {
				return []headers.Policy{{Name: "api", Limit: 1000, WindowS: 300, Remaining: fptr(999 - float64(i)), ResetS: 200 - at, Unit: "requests", Kind: "fixed"}}
			}),
			wantBinding: "api",
			check: func(t *testing.T, pols []Policy) {
				p := pols[0]
				if !p.Consistent || p.Checked != 25 || p.Kind != KindFixed || math.Abs(p.RateRPS-1000.0/300) > 1e-9 || p.Source != SourceAdvertised {
					t.Errorf("got %+v, want consistent with 25 requests, fixed, 3.33/s, advertised", p)
				}
			},
		},
		{
			name: "an unstated window counted from the first request",
			readings: quotaReadings(10, 1, func(i int, at float64) []headers.Policy {
				// The first request (sent at 1 s) began an hour; resets are
				// whole Unix seconds, rounded up.
				reset := math.Ceil(startUnix+1+3600) - startUnix
				return []headers.Policy{{Limit: 5000, Remaining: fptr(4999 - float64(i)), ResetS: reset - at, Unit: "requests"}}
			}),
			wantBinding: "",
			check: func(t *testing.T, pols []Policy) {
				p := pols[0]
				if p.WindowS != 3600 || p.Kind != KindFirstUse || !p.Consistent || p.Checked != 10 {
					t.Errorf("got %+v, want a window of 3600 s counted from first use, consistent with 10", p)
				}
			},
		},
		{
			name: "an unstated window ending on the clock is only at least so long",
			readings: quotaReadings(5, 0, func(i int, at float64) []headers.Policy {
				reset := 1_800_003_600 - startUnix // the next whole hour
				return []headers.Policy{{Limit: 5000, Remaining: fptr(4999 - float64(i)), ResetS: reset - at, Unit: "requests"}}
			}),
			check: func(t *testing.T, pols []Policy) {
				p := pols[0]
				if p.WindowS != 0 || math.Abs(p.WindowMinS-3583) > 1 || p.RateRPS <= 0 {
					t.Errorf("got %+v, want no window, at least 3583 s, a rate bound", p)
				}
			},
		},
		{
			name: "a bucket under an hourly quota: the hourly one binds",
			readings: quotaReadings(20, 0, func(i int, at float64) []headers.Policy {
				return []headers.Policy{
					{Name: "p", Limit: 20, WindowS: 1, Remaining: fptr(19), ResetS: 1, Unit: "requests"},
					{Name: "quota", Limit: 2000, WindowS: 3600, Remaining: fptr(1999 - float64(i)), ResetS: 3000 - at, Unit: "requests"},
				}
			}),
			wantBinding: "quota",
			check: func(t *testing.T, pols []Policy) {
				if pols[0].Kind != KindBucket || pols[1].Kind != KindFixed || !pols[1].Consistent {
					t.Errorf("got %+v, want the second-long policy a bucket and the hourly one a consistent fixed window", pols)
				}
			},
		},
		{
			name: "the count falls by two per request",
			readings: quotaReadings(6, 0, func(i int, at float64) []headers.Policy {
				return []headers.Policy{{Name: "day", Limit: 10000, WindowS: 86400, Remaining: fptr(9000 - 2*float64(i)), ResetS: 50000 - at, Unit: "requests"}}
			}),
			wantBinding: "day",
			check: func(t *testing.T, pols []Policy) {
				if pols[0].Consistent || !strings.Contains(pols[0].Mismatch, "fell by 2") {
					t.Errorf("got %+v, want inconsistent: the count fell by 2", pols[0])
				}
			},
		},
		{
			name: "a refusal while some remain",
			readings: func() []evidence.Reading {
				rs := quotaReadings(4, 0, func(i int, at float64) []headers.Policy {
					return []headers.Policy{{Name: "day", Limit: 100, WindowS: 86400, Remaining: fptr(50 - float64(i)), ResetS: 50000 - at, Unit: "requests"}}
				})
				rs[3].Throttled, rs[3].Status = true, 429
				rs[3].Policies[0].Remaining = fptr(48)
				return rs
			}(),
			wantBinding: "day",
			check: func(t *testing.T, pols []Policy) {
				if pols[0].Consistent || !strings.Contains(pols[0].Mismatch, "refused with 48 remaining") {
					t.Errorf("got %+v, want inconsistent: refused with 48 remaining", pols[0])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pols := Policies(&evidence.Quota{Readings: tt.readings, StartUnixS: startUnix}, nil)
			if len(pols) == 0 {
				t.Fatal("got no policies")
			}
			b, ok := binding(pols)
			if tt.wantBinding != "" && (!ok || b.Name != tt.wantBinding) {
				t.Errorf("binding %+v (%v), want %q", b, ok, tt.wantBinding)
			}
			tt.check(t, pols)
		})
	}
}

func TestPoliciesMeasured(t *testing.T) {
	tests := []struct {
		name       string
		shift      float64 // where the run starts past startUnix, seconds
		spends     []evidence.Spend
		wantLimit  float64
		wantWindow float64
		wantMin    float64
		wantKind   string
	}{
		{
			name: "two windows on the clock",
			spends: []evidence.Spend{
				{FirstS: 0, Admitted: 500, RefusedS: 0.5, LastRefusedS: 79.8, ReopenS: 80.6, Polls: 40},
				{FirstS: 80.6, Admitted: 500, RefusedS: 81.1, LastRefusedS: 199.9, ReopenS: 200.6, Polls: 60},
			},
			wantLimit: 500, wantWindow: 120, wantKind: KindFixed,
		},
		{
			name:  "two windows on the clock, the first begun with its window",
			shift: 120 - 17, // the run starts on a whole two minutes
			spends: []evidence.Spend{
				{FirstS: 0.2, Admitted: 500, RefusedS: 0.7, LastRefusedS: 119.6, ReopenS: 120.4},
				{FirstS: 120.4, Admitted: 500, RefusedS: 120.9, LastRefusedS: 239.7, ReopenS: 240.5},
			},
			wantLimit: 500, wantWindow: 120, wantKind: KindFixed,
		},
		{
			name: "two windows counted from their first request",
			spends: []evidence.Spend{
				{FirstS: 0, Admitted: 500, RefusedS: 0.5, LastRefusedS: 119.7, ReopenS: 120.3},
				{FirstS: 120.3, Admitted: 500, RefusedS: 120.8, LastRefusedS: 240.1, ReopenS: 240.6},
			},
			wantLimit: 500, wantWindow: 120, wantKind: KindFirstUse,
		},
		{
			name:      "one window: at least as long as the silence",
			spends:    []evidence.Spend{{FirstS: 0, Admitted: 500, RefusedS: 0.5, LastRefusedS: 40, ReopenS: 44}},
			wantLimit: 500, wantMin: 40,
		},
		{
			name:      "one window with an advertised wait",
			spends:    []evidence.Spend{{FirstS: 0, Admitted: 500, RefusedS: 0.5, RetryAfterS: 90, LastRefusedS: 0.5, ReopenS: 90.7}},
			wantLimit: 500, wantMin: 89.5,
		},
		{
			name:      "never reopened",
			spends:    []evidence.Spend{{FirstS: 1, Admitted: 20, RefusedS: 1.1, LastRefusedS: 301}},
			wantLimit: 20, wantMin: 300,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := measuredPolicy(tt.spends, startUnix+tt.shift)
			if !ok {
				t.Fatal("no policy")
			}
			if p.Limit != tt.wantLimit || math.Abs(p.WindowS-tt.wantWindow) > 0.01*max(1, tt.wantWindow) || p.Kind != tt.wantKind ||
				math.Abs(p.WindowMinS-tt.wantMin) > 0.01*max(1, tt.wantMin) {
				t.Errorf("got %d per %v s (at least %v s), %q; want %v per %v s (at least %v s), %q",
					int(p.Limit), p.WindowS, p.WindowMinS, p.Kind, tt.wantLimit, tt.wantWindow, tt.wantMin, tt.wantKind)
			}
		})
	}
}

// TestEstimateQuotaHeadline: after quota mode the summary states the
// binding quota per window, never the rate of a step that was not
// throttled.
func TestEstimateQuotaHeadline(t *testing.T) {
	readings := quotaReadings(25, 0, func(i int, at float64) []headers.Policy {
		return []headers.Policy{{Name: "api", Limit: 1000, WindowS: 300, Remaining: fptr(999 - float64(i)), ResetS: 200 - at, Unit: "requests", Kind: "fixed"}}
	})
	steps := []evidence.Step{{Index: 0, Phase: "headers", OfferedRPS: 4, DurationS: 6.2, Requests: 25, OK: 25, GoodputRPS: 4, FirstThrottleS: -1}}
	s := Estimate(Input{Steps: steps, Threshold: 0.01, Quota: &evidence.Quota{Trigger: "test", Readings: readings, StartUnixS: startUnix, Share: 0.1, Budget: 100}})
	const rate = 1000.0 / 300
	if !s.Limited || s.LowerBoundOnly || s.Algorithm != AlgorithmFixedWindow || s.WindowS != 300 || s.EffectiveLimitRPS != rate || s.Burst != 1000 {
		t.Errorf("got %+v, want limited, fixed-window 1000 per 300 s = 3.33/s", s)
	}
	if s.EffectiveLimitBand.Low != rate || s.EffectiveLimitBand.High != rate || s.Confidence < 0.8 {
		t.Errorf("got band %+v, confidence %v; want exactly the advertised rate, confidence ≥ 0.8", s.EffectiveLimitBand, s.Confidence)
	}
	if m, ok := ModelOf(s); !ok || m.Limit != 1000 || m.WindowS != 300 {
		t.Errorf("got model %+v, want a fixed window of 1000 per 300 s", m)
	}
	joined := strings.Join(s.Reasons, "\n")
	for _, want := range []string{"advertised and consistent with 25 requests", "binding", "100 requests, 10% of the quota"} {
		if !strings.Contains(joined, want) {
			t.Errorf("reasons lack %q:\n%s", want, joined)
		}
	}
}
