package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/probe"
	"limitprobe/report"
)

// writeReport saves a report of a synthetic token-bucket run whose
// effective limit is limit, as limitprobe run --out would.
func writeReport(t *testing.T, dir, name string, limit float64) string {
	t.Helper()
	run := probe.Run{
		Scenario:  probe.ScenarioRef{Name: name, Target: probe.TargetRef{URL: "http://127.0.0.1:8080/", Method: "GET"}, Strategy: "auto", Threshold: 0.01},
		StartedAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), DurationS: 10, RequestsSent: 500, ThrottledTotal: 100,
		Steps: []evidence.Step{{Index: 0, Phase: "saturate", OfferedRPS: limit * 1.3, DurationS: 5, Requests: int64(limit * 6.5), OK: int64(limit * 5),
			Throttled: int64(limit * 1.5), GoodputRPS: limit, ThrottledRatio: 0.23, FirstThrottleS: 0, SteadyRPS: limit}},
		Summary: estimate.Summary{Limited: true, EffectiveLimitRPS: limit, EffectiveLimitBand: estimate.Band{Low: limit * 0.98, High: limit * 1.02},
			OnsetRPS: limit * 1.3, Burst: 10, Algorithm: "token-bucket", Confidence: 0.8, Reasons: []string{"synthetic"}},
	}
	rep := report.New(run, report.Options{ToolVersion: toolVersion})
	path := filepath.Join(dir, name, "report.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := report.Write(f, rep, report.FormatJSON, report.RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportRerenders(t *testing.T) {
	path := writeReport(t, t.TempDir(), "tier", 50)
	for _, tt := range []struct{ format, want string }{
		{"table", "effective limit"},
		{"markdown", "|"},
		{"html", "<html"},
		{"json", `"schema": "limitprobe.report/v1"`},
	} {
		code, stdout, stderr := runCLI(t, "report", path, "--format", tt.format)
		if code != exitOK || !strings.Contains(stdout, tt.want) {
			t.Errorf("report --format %s: exit %d, stdout lacks %q (stderr %s)", tt.format, code, tt.want, stderr)
		}
	}
	if code, _, stderr := runCLI(t, "report", path, "--format", "pdf"); code != exitUsage || !strings.Contains(stderr, "unknown format") {
		t.Errorf("bad format: exit %d, stderr %q", code, stderr)
	}
	bad := filepath.Join(t.TempDir(), "other.json")
	os.WriteFile(bad, []byte(`{"schema":"limitprobe.report/v9"}`), 0o600)
	if code, _, _ := runCLI(t, "report", bad); code != exitUsage {
		t.Errorf("another schema: exit %d, want %d", code, exitUsage)
	}
}

func TestCompareVerdict(t *testing.T) {
	dir := t.TempDir()
	small := writeReport(t, dir, "small", 30)
	large := writeReport(t, dir, "large", 60)
	code, stdout, stderr := runCLI(t, "compare", small, large, "--demand", "40/s")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	verdict := lines[len(lines)-1]
	if !strings.Contains(verdict, "large") || strings.Contains(verdict, "small meets") {
		t.Errorf("verdict %q; want large to be the one that meets 40/s", verdict)
	}
	if code, _, _ := runCLI(t, "compare", small); code != exitUsage {
		t.Errorf("one report: exit %d, want %d", code, exitUsage)
	}
	if code, _, stderr := runCLI(t, "compare", small, large, "--names", "a"); code != exitUsage || !strings.Contains(stderr, "--names gives 1 names for 2 reports") {
		t.Errorf("one name for two reports: exit %d, stderr %q; want exit 2 naming --names", code, stderr)
	}
}
