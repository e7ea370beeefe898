package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	simulation "limitprobe/simulate"
	"limitprobe/traffic"
)

// simulationFixture replays three minutes of Poisson traffic, 30/s with a
// 15 s peak at 120/s each minute, against the token-bucket fixture's
// report, batched 4 to 1, with a 1% gate; and, when capped, against the
// concurrency fixture's cap of 8 in flight, with latencies from the
// traffic.
func simulationFixture(t *testing.T, capped bool) *simulation.Simulation {
	t.Helper()
	rep := New(tokenBucketRun(), fixtureOptions())
	m := simulation.Measured{Name: rep.Scenario.Name, Target: rep.Scenario.Target.URL, Summary: rep.Summary, Steps: rep.Steps,
		Advertised: rep.Advertised, Recommendation: rep.Recommendation}
	if capped {
		rep = New(concurrencyRun(), fixtureOptions())
		m = simulation.Measured{Name: rep.Scenario.Name, Summary: rep.Summary, Steps: rep.Steps, Recommendation: rep.Recommendation}
	}
	rng := rand.New(rand.NewPCG(18, 1))
	var b strings.Builder
	start := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	for at := time.Duration(0); ; {
		rate := 30.0
		if at%time.Minute < 15*time.Second {
			rate = 120
		}
		at += time.Duration(rng.ExpFloat64() / rate * float64(time.Second))
		if at >= 3*time.Minute {
			break
		}
		fmt.Fprintf(&b, `{"time": %q, "latency_ms": %d}`+"\n", start.Add(at).Format(time.RFC3339Nano), 60+rng.IntN(80))
	}
	r, err := traffic.NewReader(strings.NewReader(b.String()), "traffic.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	gate := 0.01
	sim, err := simulation.Run(context.Background(), r, "traffic.jsonl", m, simulation.Options{Batch: 4, MaxThrottled: &gate, TempDir: t.TempDir(), ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

// TestSimulationGolden renders the fixtures in every format against the
// golden files (go test ./report -update rewrites them).
func TestSimulationGolden(t *testing.T) {
	for _, f := range []struct {
		name   string
		capped bool
	}{{"simulation", false}, {"simulation-cap", true}} {
		sim := simulationFixture(t, f.capped)
		for _, ft := range []struct{ format, ext string }{{FormatTable, "table"}, {FormatMarkdown, "md"}, {FormatHTML, "html"}, {FormatJSON, "json"}} {
			t.Run(f.name+"."+ft.ext, func(t *testing.T) {
				var buf bytes.Buffer
				if err := WriteSimulation(&buf, sim, ft.format); err != nil {
					t.Fatal(err)
				}
				if ft.format == FormatJSON {
					goldenJSON(t, f.name+".json.golden", buf.Bytes())
					return
				}
				golden(t, f.name+"."+ft.ext+".golden", buf.Bytes())
			})
		}
	}
}

// TestSimulationTable checks what the table must say, and that it fits a
// terminal of 100 columns.
func TestSimulationTable(t *testing.T) {
	sim := simulationFixture(t, false)
	var buf bytes.Buffer
	if err := WriteSimulation(&buf, sim, FormatTable); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"optimistic", "measured", "pessimistic", "refused as it comes", "refused behind client",
		"peak queue", "worst minutes", "batching", "smallest limit", "gate", "FAIL: refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q", want)
		}
	}
	for i, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > textWidth {
			t.Errorf("line %d is %d columns: %s", i+1, n, l)
		}
	}
}

// TestSimulationHTMLRendersInChromium opens the simulation page in headless
// Chromium, offline, and checks it shows drawn charts.
func TestSimulationHTMLRendersInChromium(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSimulation(&buf, simulationFixture(t, false), FormatHTML); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), ":root") {
		t.Fatal("the page lacks the report's style sheet")
	}
	checkScreenshot(t, buf.Bytes())
}

func TestWriteSimulationErrors(t *testing.T) {
	if err := WriteSimulation(&bytes.Buffer{}, nil, FormatTable); err == nil {
		t.Error("a nil simulation was written")
	}
	err := WriteSimulation(&bytes.Buffer{}, &simulation.Simulation{}, "pdf")
	if !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("got %v, want ErrUnknownFormat", err)
	}
}
