package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestInconclusiveRunsRecommendNothing: a run where nothing succeeded, and
// one where the target asked to wait 23 days after six requests, end with
// exit 3, say why, and recommend no settings.
func TestInconclusiveRunsRecommendNothing(t *testing.T) {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/refused":
			w.WriteHeader(http.StatusTooManyRequests)
		case n.Add(1) > 5:
			w.Header().Set("Retry-After", "1987200")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.Write([]byte("ok"))
		}
	}))
	defer ts.Close()
	for _, tt := range []struct{ path, why string }{
		{"/refused", "no request succeeded"},
		{"/spent", "the target asked to wait 23 d (Retry-After)"},
	} {
		n.Store(0)
		steps := []string{"--strategy", "steps", "--start", "20/s", "--max", "40/s", "--step", "1s"}
		code, stdout, stderr := runCLI(t, append([]string{"probe", ts.URL + tt.path, "--quiet", "--format", "json"}, steps...)...)
		if code != exitTarget || !strings.Contains(stderr, tt.why) {
			t.Errorf("%s: exit %d, stderr %q; want exit 3 saying %q", tt.path, code, stderr, tt.why)
		}
		var rep struct {
			StopReason     string `json:"stop_reason"`
			Inconclusive   string `json:"inconclusive"`
			Recommendation struct {
				ClientRateRPS float64  `json:"client_rate_rps"`
				Basis         string   `json:"basis"`
				Notes         []string `json:"notes"`
			} `json:"recommendation"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("%s: stdout is not a report: %v", tt.path, err)
		}
		r := rep.Recommendation
		if r.ClientRateRPS != 0 || r.Basis != "none" || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], tt.why) ||
			!strings.Contains(rep.StopReason, tt.why) || !strings.Contains(rep.Inconclusive, tt.why) {
			t.Errorf("%s: got stop reason %q, inconclusive %q, recommendation %+v; want none, saying %q", tt.path, rep.StopReason, rep.Inconclusive, r, tt.why)
		}
		n.Store(0)
		_, table, _ := runCLI(t, append([]string{"probe", ts.URL + tt.path, "--quiet"}, steps...)...)
		if !strings.Contains(table, "no recommendation") || strings.Contains(table, "Backoff reference points") || strings.Contains(table, "Pace at") {
			t.Errorf("%s: the table should recommend nothing:\n%s", tt.path, table)
		}
	}
}
