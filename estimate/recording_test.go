package estimate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"limitprobe/evidence"
	"limitprobe/headers"
)

// TestRecordingReadsBack: a saved recording reads back as the input it
// was, in a new file named after the run; one written before the scenario's
// fields were kept reads with the old defaults.
func TestRecordingReadsBack(t *testing.T) {
	reqs := []evidence.Request{
		{Sent: 0, Latency: 300 * time.Millisecond, Outcome: evidence.OK},
		{Sent: 10 * time.Millisecond, Latency: time.Millisecond, Outcome: evidence.Throttled, Step: 1},
	}
	in := Input{Steps: []evidence.Step{{Index: 0}, {Index: 1, OfferedRPS: 20}}, Timeline: evidence.Timeline{ResolutionS: 0.1},
		Advertised: &headers.Advertised{Limit: 50, WindowS: 1}, Threshold: 0.02, MaxOfferedRPS: 500, Precision: 0.03,
		Requests: Compact(reqs)}
	dir := t.TempDir()
	var files []string
	for range 2 {
		file, b, err := Record(in).Save(dir, "token-bucket 50/s 50±20 ms")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(filepath.Base(file), "token-bucket-50-s-50-20-ms-") || filepath.Dir(file) != dir {
			t.Errorf("saved as %s, want token-bucket-50-s-50-20-ms-*.json in %s", file, dir)
		}
		if on, err := os.ReadFile(file); err != nil || string(on) != string(b) {
			t.Errorf("the file holds %d bytes (%v), want the %d returned", len(on), err, len(b))
		}
		files = append(files, file)
		var r Recording
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		got := r.Input()
		if len(got.Steps) != 2 || got.Steps[1].OfferedRPS != 20 || got.Timeline.ResolutionS != 0.1 ||
			got.Advertised == nil || got.Advertised.Limit != 50 ||
			got.Threshold != 0.02 || got.MaxOfferedRPS != 500 || got.Precision != 0.03 ||
			got.Requests.Len() != 2 || got.Requests.At(0) != reqs[0] || got.Requests.At(1) != reqs[1] {
			t.Errorf("read back %+v, want the input saved", got)
		}
	}
	if files[0] == files[1] {
		t.Errorf("both saved to %s, want a file each", files[0])
	}
	old := Recording{Steps: in.Steps, Requests: reqs}.Input()
	if old.Threshold != 0.01 || old.MaxOfferedRPS != 4000 || old.Advertised != nil {
		t.Errorf("an old recording read with threshold %g, max %g, advertised %v; want 0.01, 4000, none", old.Threshold, old.MaxOfferedRPS, old.Advertised)
	}
}
