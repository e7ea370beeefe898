package probe

import (
	"net/http"
	"strings"
	"testing"

	"limitprobe/evidence"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestClassifier(t *testing.T) {
	tgi := NewClassifier([]int{429, 503}, "Model is overloaded")
	far := strings.Repeat(" ", MaxThrottleBody) + "Model is overloaded"
	tests := []struct {
		name     string
		c        Classifier
		code     int
		body     string
		want     evidence.Outcome
		needBody bool
	}{
		{"zero value: 429", Classifier{}, 429, "", evidence.Throttled, false},
		{"zero value: 503 is an error", Classifier{}, 503, "", evidence.Failed, false},
		{"default: 429", NewClassifier(nil, ""), 429, "", evidence.Throttled, false},
		{"declared 503", NewClassifier([]int{429, 503}, ""), 503, "", evidence.Throttled, false},
		{"200", NewClassifier([]int{429}, ""), 200, "", evidence.OK, false},
		{"304", NewClassifier([]int{429}, ""), 304, "", evidence.OK, false},
		{"404", NewClassifier([]int{429}, ""), 404, "", evidence.Failed, false},
		{"body matches", tgi, 429, `{"error":"Model is overloaded"}`, evidence.Throttled, true},
		{"body does not match", tgi, 503, "<html>bad gateway</html>", evidence.Failed, true},
		{"body beyond the limit", tgi, 429, far, evidence.Failed, true},
		{"success with a body rule", tgi, 200, "", evidence.OK, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.NeedsBody(tt.code); got != tt.needBody {
				t.Errorf("NeedsBody(%d): got %t, want %t", tt.code, got, tt.needBody)
			}
			if got := tt.c.Classify(tt.code, []byte(tt.body)); got != tt.want {
				t.Errorf("Classify(%d): got %d, want %d", tt.code, got, tt.want)
			}
		})
	}
}

func TestClassifyResult(t *testing.T) {
	c := NewClassifier([]int{429}, "")
	tests := []struct {
		res  vegeta.Result
		want evidence.Outcome
		kind string
	}{
		{vegeta.Result{Code: 200}, evidence.OK, ""},
		{vegeta.Result{Code: 429}, evidence.Throttled, ""},
		{vegeta.Result{Code: 502}, evidence.Failed, "5xx"},
		{vegeta.Result{Code: 401}, evidence.Failed, "4xx"},
		// GitHub's spent primary limit: 403 with nothing remaining.
		{vegeta.Result{Code: 403, Headers: http.Header{"X-Ratelimit-Remaining": {"0"}}}, evidence.Throttled, ""},
		{vegeta.Result{Code: 403, Headers: http.Header{"X-Ratelimit-Remaining": {"12"}}}, evidence.Failed, "4xx"},
		{vegeta.Result{Code: 403}, evidence.Failed, "4xx"},
		{vegeta.Result{Error: "dial tcp 127.0.0.1:1: connect: connection refused"}, evidence.Failed, "refused"},
		{vegeta.Result{Error: "Get \"http://x/\": context canceled"}, evidence.Canceled, ""},
	}
	for _, tt := range tests {
		out, kind := c.classify(&tt.res)
		if out != tt.want || kind != tt.kind {
			t.Errorf("%+v: got %d %q, want %d %q", tt.res, out, kind, tt.want, tt.kind)
		}
	}
}
