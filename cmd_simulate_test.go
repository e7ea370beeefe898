package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"limitprobe/simulate"
)

// sampleTraffic is the traffic sample the README runs.
const sampleTraffic = "scenarios/examples/traffic.log"

func TestSimulate(t *testing.T) {
	dir := t.TempDir()
	rep := writeReport(t, dir, "tier", 50)
	out := filepath.Join(dir, "sim")
	code, stdout, stderr := runCLI(t, "simulate", rep, sampleTraffic, "--batch", "4", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"access-log, 1881 requests", "refused as it comes", "refused behind client", "batching", "smallest limit"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, "simulation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sim simulate.Simulation
	if err := json.Unmarshal(raw, &sim); err != nil {
		t.Fatal(err)
	}
	if sim.Schema != simulate.Schema || sim.Traffic.Requests != 1881 || sim.Batch == nil || sim.MeasuredEnd().Prediction.Refused == 0 {
		t.Errorf("simulation.json: %+v", sim.Traffic)
	}
	for _, f := range []string{"simulation.md", "simulation.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestSimulateGate exits 1 when more of the traffic is refused than
// --expect-max-throttled allows.
func TestSimulateGate(t *testing.T) {
	rep := writeReport(t, t.TempDir(), "tier", 50)
	code, _, stderr := runCLI(t, "simulate", rep, sampleTraffic, "--expect-max-throttled", "0.1%", "-f", "json")
	if code != exitExpectation || !strings.Contains(stderr, "more than the 0.1% allowed") {
		t.Errorf("gate at 0.1%%: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "simulate", rep, sampleTraffic, "--expect-max-throttled", "100%", "-f", "markdown"); code != exitOK {
		t.Errorf("gate at 100%%: exit %d, stderr %q", code, stderr)
	}
}

// TestSimulateOverrides replays a client limiter given by flags.
func TestSimulateOverrides(t *testing.T) {
	rep := writeReport(t, t.TempDir(), "tier", 50)
	code, stdout, stderr := runCLI(t, "simulate", rep, sampleTraffic, "--client-rate", "20/s", "--client-burst", "2", "--max-concurrency", "3", "--deadline", "2m", "-f", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sim simulate.Simulation
	if err := json.Unmarshal([]byte(stdout), &sim); err != nil {
		t.Fatal(err)
	}
	if c := sim.Client; c == nil || c.RateRPS != 20 || c.Burst != 2 || c.MaxConcurrency != 3 || c.From != "recommendation and flags" || sim.DeadlineS != 120 {
		t.Errorf("client %+v, deadline %v s", sim.Client, sim.DeadlineS)
	}
}

// TestSimulateMistakes checks that a user's mistake exits 2 and says what
// is wrong.
func TestSimulateMistakes(t *testing.T) {
	dir := t.TempDir()
	rep := writeReport(t, dir, "tier", 50)
	badTraffic := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(badTraffic, []byte("1714564800.5\n1714564801.5\nnoon\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	none := filepath.Join(dir, "none.json")
	raw, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(none, []byte(strings.Replace(string(raw), `"algorithm": "token-bucket"`, `"algorithm": "none-observed"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{rep}, "name a saved report and a traffic file"},
		{[]string{rep, badTraffic}, "bad.txt:3: \"noon\" is not a time"},
		{[]string{rep, filepath.Join(dir, "missing.log")}, "missing.log"},
		{[]string{none, sampleTraffic}, "the report names no limiter"},
		{[]string{rep, sampleTraffic, "--client-rate", "fast"}, "--client-rate"},
		{[]string{rep, sampleTraffic, "--deadline", "10"}, "--deadline: duration \"10\" has no unit"},
		{[]string{rep, sampleTraffic, "--expect-max-throttled", "2"}, "--expect-max-throttled"},
		{[]string{rep, sampleTraffic, "--batch", "-1"}, "whole number"},
		{[]string{rep, sampleTraffic, "--format", "pdf"}, "unknown format \"pdf\""},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, append([]string{"simulate"}, tt.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("simulate %v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
