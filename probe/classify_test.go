package probe

import (
	"strings"
	"testing"

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
		want     Outcome
		needBody bool
	}{
		{"zero value: 429", Classifier{}, 429, "", OutcomeThrottled, false},
		{"zero value: 503 is an error", Classifier{}, 503, "", OutcomeError, false},
		{"default: 429", NewClassifier(nil, ""), 429, "", OutcomeThrottled, false},
		{"declared 503", NewClassifier([]int{429, 503}, ""), 503, "", OutcomeThrottled, false},
		{"200", NewClassifier([]int{429}, ""), 200, "", OutcomeOK, false},
		{"304", NewClassifier([]int{429}, ""), 304, "", OutcomeOK, false},
		{"404", NewClassifier([]int{429}, ""), 404, "", OutcomeError, false},
		{"body matches", tgi, 429, `{"error":"Model is overloaded"}`, OutcomeThrottled, true},
		{"body does not match", tgi, 503, "<html>bad gateway</html>", OutcomeError, true},
		{"body beyond the limit", tgi, 429, far, OutcomeError, true},
		{"success with a body rule", tgi, 200, "", OutcomeOK, false},
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
		want Outcome
		kind string
	}{
		{vegeta.Result{Code: 200}, OutcomeOK, ""},
		{vegeta.Result{Code: 429}, OutcomeThrottled, ""},
		{vegeta.Result{Code: 502}, OutcomeError, "5xx"},
		{vegeta.Result{Code: 401}, OutcomeError, "4xx"},
		{vegeta.Result{Error: "dial tcp 127.0.0.1:1: connect: connection refused"}, OutcomeError, "refused"},
		{vegeta.Result{Error: "Get \"http://x/\": context canceled"}, OutcomeCanceled, ""},
	}
	for _, tt := range tests {
		out, kind := c.classify(&tt.res)
		if out != tt.want || kind != tt.kind {
			t.Errorf("%+v: got %d %q, want %d %q", tt.res, out, kind, tt.want, tt.kind)
		}
	}
}
