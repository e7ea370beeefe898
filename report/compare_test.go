package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"limitprobe/units"
)

// tiers are three reports of the same API at three plan sizes: limits of
// 31, 50.2 and 90/s, priced 0.3, 0.6 and 1.2 per hour when priced.
func tiers(priced bool) []*Report {
	var reps []*Report
	for i, limit := range []float64{31, 50.2, 90} {
		run := tokenBucketRun()
		run.Summary.EffectiveLimitRPS = limit
		run.Summary.EffectiveLimitBand.Low, run.Summary.EffectiveLimitBand.High = limit*0.97, limit*1.03
		opt := Options{ToolVersion: "0.1.0-test"}
		if priced {
			opt.PriceAmount, opt.PricePer = 0.3*float64(int(1)<<i), time.Hour
		}
		reps = append(reps, New(run, opt))
	}
	return reps
}

var tierNames = []string{"small", "medium", "large"}

func TestCompareVerdict(t *testing.T) {
	tests := []struct {
		name   string
		priced bool
		demand float64
		want   string
	}{
		{"priced: the cheapest that meets", true, 40,
			"medium and large meet 40/s, small does not; the cheapest that does is medium (0.6/h, sends 45.1/s)"},
		{"unpriced: the smallest that meets", false, 40,
			"medium and large meet 40/s, small does not; the smallest that does is medium (sends 45.1/s)"},
		{"only one meets", true, 60,
			"large meets 60/s, small and medium do not; pick large (81/s)"},
		{"none meets", false, 100,
			"none meets 100/s: the largest, large, sends 81/s (19% short)"},
		{"every one meets", true, 20,
			"small, medium and large meet 20/s; the cheapest that does is small (0.3/h, sends 27.9/s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			got, err := Compare(&buf, tiers(tt.priced), tierNames, units.Rate(tt.demand), FormatTable)
			if err != nil {
				t.Fatalf("Compare: %v", err)
			}
			if got != tt.want {
				t.Errorf("verdict:\n got %q\nwant %q", got, tt.want)
			}
			if !strings.Contains(strings.Join(strings.Fields(buf.String()), " "), tt.want) {
				t.Errorf("the table does not end with the verdict:\n%s", buf.String())
			}
		})
	}
}

func TestCompareGolden(t *testing.T) {
	for _, f := range []struct{ format, ext string }{{FormatTable, "table"}, {FormatMarkdown, "md"}} {
		t.Run(f.format, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := Compare(&buf, tiers(true), tierNames, 40, f.format); err != nil {
				t.Fatal(err)
			}
			golden(t, "compare."+f.ext+".golden", buf.Bytes())
		})
	}
	var buf bytes.Buffer
	if _, err := Compare(&buf, tiers(true), tierNames, 40, FormatJSON); err != nil {
		t.Fatal(err)
	}
	goldenJSON(t, "compare.json.golden", buf.Bytes())
}

func TestCompareJSON(t *testing.T) {
	var buf bytes.Buffer
	verdict, err := Compare(&buf, tiers(true), tierNames, 40, FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	var cmp Comparison
	if err := json.Unmarshal(buf.Bytes(), &cmp); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if cmp.Schema != CompareSchema || cmp.Verdict != verdict || cmp.DemandRPS != 40 || len(cmp.Reports) != 3 {
		t.Fatalf("got %+v, want schema, verdict, demand 40 and 3 reports", cmp)
	}
	want := []struct {
		meets bool
		cost  float64 // per million successful requests at the recommended rate
	}{
		{false, 0.3 / (27.9 * 3600) * 1e6}, {true, 0.6 / (45.1 * 3600) * 1e6}, {true, 1.2 / (81 * 3600) * 1e6},
	}
	for i, c := range cmp.Reports {
		if c.Name != tierNames[i] || c.Meets != want[i].meets {
			t.Errorf("report %d: got %s meets %t, want %s meets %t", i, c.Name, c.Meets, tierNames[i], want[i].meets)
		}
		if c.CostPerMillion == nil || *c.CostPerMillion-want[i].cost > 1e-9 || want[i].cost-*c.CostPerMillion > 1e-9 {
			t.Errorf("%s cost per million: got %v, want %v", c.Name, c.CostPerMillion, want[i].cost)
		}
	}
}

func TestCompareDefaults(t *testing.T) {
	reps := tiers(false)
	// No names and no demand: scenario names, the demand the reports share.
	got, err := Compare(&bytes.Buffer{}, reps, nil, 0, FormatMarkdown)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "meet 40/s") {
		t.Errorf("got %q, want the reports' shared demand of 40/s", got)
	}
	reps[0].Recommendation.Demand = nil
	got, err = Compare(&bytes.Buffer{}, reps, nil, 0, FormatMarkdown)
	if err != nil {
		t.Fatal(err)
	}
	if want := "no demand given: mock-token-bucket carries the most (81/s with the recommended settings)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCompareErrors(t *testing.T) {
	if _, err := Compare(&bytes.Buffer{}, nil, nil, 10, FormatTable); err == nil {
		t.Errorf("no reports: got nil, want an error")
	}
	if _, err := Compare(&bytes.Buffer{}, tiers(false), nil, 10, "html"); err == nil || !strings.Contains(err.Error(), `"html"`) {
		t.Errorf("unknown format: got %v, want an error naming it", err)
	}
}
