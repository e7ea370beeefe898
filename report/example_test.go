package report_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/headers"
	"limitprobe/probe"
	"limitprobe/report"
	"limitprobe/scenarios"
)

// exampleRun is what probe.Run might return for a token bucket of 50/s
// with a burst of 10.
func exampleRun() probe.Run {
	return probe.Run{
		Scenario:     probe.ScenarioRef{Name: "billing-api", Target: probe.TargetRef{URL: "https://billing.example.com/v1/invoices", Method: "GET"}, Threshold: 0.01},
		StartedAt:    time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		DurationS:    7,
		RequestsSent: 330, ThrottledTotal: 90,
		Advertised: &headers.Advertised{RetryAfterS: 1, Source: headers.SourceRetryAfter},
		Steps: []evidence.Step{
			{Index: 0, Phase: "ramp", OfferedRPS: 30, DurationS: 3, Requests: 90, OK: 90, GoodputRPS: 30, LatencyMS: evidence.Latency{P50: 8, P99: 20}, MaxInFlight: 2},
			{Index: 1, Phase: "ramp", OfferedRPS: 80, StartS: 4, DurationS: 3, Requests: 240, OK: 150, Throttled: 90, GoodputRPS: 50,
				ThrottledRatio: 0.375, LatencyMS: evidence.Latency{P50: 9, P99: 25}, MaxInFlight: 2, RetryAfterS: 1},
		},
		Summary: estimate.Summary{Limited: true, EffectiveLimitRPS: 50, EffectiveLimitBand: estimate.Band{Low: 48, High: 52},
			OnsetRPS: 80, Burst: 10, Algorithm: "token-bucket", Confidence: 0.8},
	}
}

// New computes the recommendation and checks the CI gate; Write renders the
// report in any format.
func Example() {
	rep := report.New(exampleRun(), report.Options{
		ToolVersion: "0.1.0",
		DemandRPS:   40,
		Expect:      scenarios.Expect{MinEffectiveLimit: 40, MeetsDemand: true},
	})
	rec := rep.Recommendation
	fmt.Printf("client: %v requests/s, burst %d\n", rec.ClientRateRPS, rec.ClientBurst)
	fmt.Printf("retry: honour Retry-After %t, else %d ms ×%v up to %d ms, %d retries, budget %v\n",
		rec.Retry.HonorRetryAfter, rec.Retry.BaseDelayMS, rec.Retry.Multiplier, rec.Retry.MaxDelayMS, rec.Retry.MaxRetries, rec.Retry.BudgetRatio)
	fmt.Println(rec.Demand.Sentence)
	fmt.Println("failed expectations:", len(rep.Failed()))

	// The same report as Markdown for a pull-request comment, and as JSON
	// that Read takes back.
	var md, js bytes.Buffer
	if err := report.Write(&md, rep, report.FormatMarkdown, report.RenderOptions{}); err != nil {
		fmt.Println(err)
	}
	fmt.Println(strings.SplitN(md.String(), "\n", 2)[0])
	if err := report.Write(&js, rep, report.FormatJSON, report.RenderOptions{}); err != nil {
		fmt.Println(err)
	}
	back, err := report.Read(&js)
	fmt.Println(back.Summary.EffectiveLimitRPS, err)
	// Output:
	// client: 45 requests/s, burst 9
	// retry: honour Retry-After true, else 20 ms ×2 up to 5000 ms, 9 retries, budget 0.1
	// needs 40/s, limit 50/s: 25% headroom; at 90% margin you can send 45/s
	// failed expectations: 0
	// ## limitprobe: billing-api
	// 50 <nil>
}

// Compare puts reports side by side and says which meets the demand.
func ExampleCompare() {
	small, large := exampleRun(), exampleRun()
	small.Summary.EffectiveLimitRPS = 30
	small.Summary.EffectiveLimitBand = estimate.Band{Low: 29, High: 31}
	reps := []*report.Report{
		report.New(small, report.Options{PriceAmount: 20, PricePer: 730 * time.Hour}),
		report.New(large, report.Options{PriceAmount: 50, PricePer: 730 * time.Hour}),
	}
	verdict, err := report.Compare(os.Stdout, reps, []string{"basic", "pro"}, 40, report.FormatMarkdown)
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println("\nverdict:", verdict)
	// Output:
	// ## limitprobe comparison
	//
	// |  | basic | pro |
	// |---|--:|--:|
	// | effective limit | 30/s | 50/s |
	// | band | 29–31/s | 48–52/s |
	// | burst | 10 | 10 |
	// | window | — | — |
	// | algorithm | token-bucket | token-bucket |
	// | recommended | 27/s burst 9 | 45/s burst 9 |
	// | sends | 27/s | 45/s |
	// | vs 40/s | 25% short, does not meet | 25% headroom, meets |
	// | price | 20/month | 50/month |
	// | cost / 1M ok | 0.282 | 0.423 |
	//
	// **Verdict:** pro meets 40/s, basic does not; pick pro (45/s).
	//
	// <sub>cost / 1M ok: the price of a million successful requests at the recommended rate, fully used.</sub>
	//
	// verdict: pro meets 40/s, basic does not; pick pro (45/s)
}
