package probe_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"limitprobe/evidence"
	"limitprobe/probe"
	"limitprobe/scenarios"
)

// TestReplay sends a schedule to a token bucket of 10/s with no burst: five
// requests at one instant (one passes), then five 150 ms apart (all pass,
// a token comes back every 100 ms). Each leaves near its instant.
func TestReplay(t *testing.T) {
	_, url := serveMock(t, "algorithm=token-bucket,rate=10/s,burst=1")
	sc := scenario(t, url, func(*scenarios.Scenario) {})
	start := time.Now().Add(200 * time.Millisecond)
	var at []time.Time
	for range 5 {
		at = append(at, start)
	}
	for i := range 5 {
		at = append(at, start.Add(time.Duration(i+1)*150*time.Millisecond))
	}
	run, err := probe.Replay(context.Background(), sc, probe.Schedule{At: at}, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Steps) != 1 || run.Steps[0].Phase != evidence.PhaseReplay {
		t.Fatalf("got steps %+v, want one replay step", run.Steps)
	}
	if run.RequestsSent != 10 || run.ThrottledTotal != 4 || run.ErrorsTotal != 0 {
		t.Errorf("got %d sent, %d throttled, %d errors; want 10, 4, 0", run.RequestsSent, run.ThrottledTotal, run.ErrorsTotal)
	}
	// Send times, in order, against the schedule: within a few milliseconds
	// on a loaded machine (the recorder holds them from the run's start).
	var sent []time.Duration
	for i := range run.Requests.Len() {
		sent = append(sent, run.Requests.At(i).Sent)
	}
	if len(sent) != len(at) {
		t.Fatalf("got %d requests recorded, want %d", len(sent), len(at))
	}
	slices.Sort(sent)
	first := sent[0]
	for i, q := range sent {
		want := at[i].Sub(at[0])
		if d := q - first - want; d < -5*time.Millisecond || d > 5*time.Millisecond {
			t.Errorf("request %d sent %v after the first, want %v", i, q-first, want)
		}
	}
	if run.Summary.Algorithm != "" {
		t.Errorf("got an estimate (%s) of a replay", run.Summary.Algorithm)
	}
	var ok int64
	for _, s := range run.Steps {
		ok += s.OK
	}
	if ok != 6 {
		t.Errorf("got %d ok, want 6", ok)
	}
}
