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
	github := http.Header{"X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1700000000"}}
	secondary := http.Header{"Retry-After": {"60"}}
	ietf := http.Header{"Ratelimit": {`"default";r=0;t=30`}, "Ratelimit-Policy": {`"default";q=100;w=60`}}
	tests := []struct {
		name     string
		c        Classifier
		code     int
		h        http.Header
		body     string
		want     evidence.Outcome
		cause    string
		needBody bool
	}{
		{"zero value: 429", Classifier{}, 429, nil, "", evidence.Throttled, "", false},
		{"zero value: 503 is an error", Classifier{}, 503, nil, "", evidence.Failed, Cause5xx, true},
		{"default: 429", NewClassifier(nil, ""), 429, nil, "", evidence.Throttled, "", false},
		{"declared 503", NewClassifier([]int{429, 503}, ""), 503, nil, "", evidence.Throttled, "", true},
		{"200", NewClassifier([]int{429}, ""), 200, nil, "", evidence.OK, "", false},
		{"3xx is not success", NewClassifier([]int{429}, ""), 301, http.Header{"Location": {"https://x/"}}, "", evidence.Failed, CauseRedirect, false},
		{"304 is not success", NewClassifier([]int{429}, ""), 304, nil, "", evidence.Failed, CauseRedirect, false},
		{"404", NewClassifier([]int{429}, ""), 404, nil, "", evidence.Failed, Cause4xx, false},
		{"body matches", tgi, 429, nil, `{"error":"Model is overloaded"}`, evidence.Throttled, "", true},
		{"body does not match", tgi, 503, nil, "<html>bad gateway</html>", evidence.Failed, Cause5xx, true},
		{"body beyond the limit", tgi, 429, nil, far, evidence.Failed, Cause4xx, true},
		{"success with a body rule", tgi, 200, nil, "", evidence.OK, "", false},
		{"200 with an error body, declared", NewClassifier([]int{429, 200}, "rate limit"), 200, nil, `{"error":"rate limit exceeded"}`, evidence.Throttled, "", true},
		{"200 without it", NewClassifier([]int{429, 200}, "rate limit"), 200, nil, `{"ok":true}`, evidence.OK, "", true},
		{"any status: 418", NewClassifier([]int{418}, ""), 418, nil, "", evidence.Throttled, "", false},
		{"403 with x-ratelimit-remaining 0", NewClassifier(nil, ""), 403, github, "", evidence.Throttled, "", false},
		{"403 with Retry-After", NewClassifier(nil, ""), 403, secondary, "", evidence.Throttled, "", false},
		{"403 with RateLimit r=0", NewClassifier(nil, ""), 403, ietf, "", evidence.Throttled, "", false},
		{"403 with requests left is forbidden", NewClassifier(nil, ""), 403, http.Header{"X-Ratelimit-Remaining": {"10"}}, "", evidence.Failed, Cause4xx, false},
		{"plain 403", NewClassifier(nil, ""), 403, nil, "", evidence.Failed, Cause4xx, false},
		{"scaling up", NewClassifier(nil, ""), 503, nil, "503 Service Unavailable: the endpoint is scaling up", evidence.Failed, CauseScalingUp, true},
		{"scaling up is not throttling", NewClassifier([]int{429, 503}, ""), 503, nil, `{"error":"Model is currently loading"}`, evidence.Failed, CauseScalingUp, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.NeedsBody(tt.code); got != tt.needBody {
				t.Errorf("NeedsBody(%d): got %t, want %t", tt.code, got, tt.needBody)
			}
			if got, cause := tt.c.Classify(tt.code, tt.h, []byte(tt.body)); got != tt.want || cause != tt.cause {
				t.Errorf("Classify(%d): got %d %q, want %d %q", tt.code, got, cause, tt.want, tt.cause)
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
		{vegeta.Result{Code: 502}, evidence.Failed, Cause5xx},
		{vegeta.Result{Code: 401}, evidence.Failed, Cause4xx},
		{vegeta.Result{Code: 302}, evidence.Failed, CauseRedirect},
		{vegeta.Result{Error: "dial tcp 127.0.0.1:1: connect: connection refused"}, evidence.Failed, CauseRefused},
		{vegeta.Result{Error: `Get "http://x/": stopped after 3 redirects`}, evidence.Failed, CauseRedirects},
		{vegeta.Result{Error: `Get "http://x/": net/http: HTTP/1.x transport connection broken: malformed HTTP status code "http"`}, evidence.Failed, CauseNotHTTP},
		{vegeta.Result{Error: `Get "https://x/": http: server gave HTTP response to HTTPS client`}, evidence.Failed, CauseNotHTTP},
		{vegeta.Result{Error: `Get "https://x/": tls: failed to verify certificate: x509: certificate signed by unknown authority`}, evidence.Failed, CauseTLS},
		{vegeta.Result{Error: `Get "http://x/": proxyconnect tcp: dial tcp 127.0.0.1:3128: connect: connection refused`}, evidence.Failed, CauseProxy},
		{vegeta.Result{Error: `Get "http://x/": read: connection reset by peer`}, evidence.Failed, CauseReset},
		{vegeta.Result{Error: `Get "http://x/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`}, evidence.Failed, CauseTimeout},
		// GitHub's spent primary limit: 403 with nothing remaining.
		{vegeta.Result{Code: 403, Headers: http.Header{"X-Ratelimit-Remaining": {"0"}}}, evidence.Throttled, ""},
		{vegeta.Result{Code: 403, Headers: http.Header{"X-Ratelimit-Remaining": {"12"}}}, evidence.Failed, Cause4xx},
		{vegeta.Result{Code: 403}, evidence.Failed, Cause4xx},
	}
	for _, tt := range tests {
		out, kind := c.classify(&tt.res)
		if out != tt.want || kind != tt.kind {
			t.Errorf("%+v: got %d %q, want %d %q", tt.res, out, kind, tt.want, tt.kind)
		}
	}
}

func TestErrorExample(t *testing.T) {
	tests := []struct {
		res   vegeta.Result
		cause string
		want  string
	}{
		{vegeta.Result{Code: 302, Headers: http.Header{"Location": {"https://login.example.com/?token=abc123&next=/"}}}, CauseRedirect,
			"302 Found to https://login.example.com/?token=***&next=/"},
		{vegeta.Result{Code: 502, Body: []byte("<html>\n  <h1>Bad\tGateway</h1>\n</html>")}, Cause5xx, "502 Bad Gateway: <html> <h1>Bad Gateway</h1> </html>"},
		{vegeta.Result{Code: 500, Body: []byte(strings.Repeat("é", 100))}, Cause5xx, "500 Internal Server Error: " + strings.Repeat("é", 40) + "…"},
		{vegeta.Result{Error: "dial tcp 127.0.0.1:1: connect: connection refused"}, CauseRefused, "dial tcp 127.0.0.1:1: connect: connection refused"},
	}
	for _, tt := range tests {
		if got := errorExample(&tt.res, tt.cause); got != tt.want {
			t.Errorf("errorExample(%d %q) = %q, want %q", tt.res.Code, tt.res.Error, got, tt.want)
		}
	}
}
