package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"limitprobe/evidence"
	"limitprobe/probe"
)

// TestKeepRun: a kept run reads back as the evidence it was, in a file
// named after the case and its condition.
func TestKeepRun(t *testing.T) {
	dir := t.TempDir()
	reqs := evidence.Compact([]evidence.Request{
		{Sent: 0, Latency: 300 * time.Millisecond, Outcome: evidence.OK},
		{Sent: 10 * time.Millisecond, Latency: time.Millisecond, Outcome: evidence.Throttled, Step: 1},
	})
	run := &probe.Run{Steps: []evidence.Step{{Index: 0}, {Index: 1, OfferedRPS: 20}}, Requests: reqs}
	if err := keepRun(dir, "token-bucket 50/s 50±20 ms", run); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "token-bucket-50-s-50-20-ms.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got evidence.Recording
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Steps) != 2 || got.Steps[1].OfferedRPS != 20 || len(got.Requests) != 2 ||
		got.Requests[0] != reqs.At(0) || got.Requests[1] != reqs.At(1) {
		t.Errorf("read back %+v, want the run's two steps and two requests", got)
	}
	if err := keepRun(dir, "none", nil); err != nil {
		t.Errorf("no run: %v, want nothing written and no error", err)
	}
}
