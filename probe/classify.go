package probe

import (
	"bytes"
	"net/http"
	"strings"

	"limitprobe/evidence"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// MaxThrottleBody is how much of a response's body, in bytes, is read to
// look for a throttle body: a throttled response says so in its first
// bytes, and the probe keeps this much of every response while it is
// classified.
const MaxThrottleBody = 4 << 10

// Classifier decides outcomes from a target's throttle statuses and
// throttle body. The zero value treats 429 as the only throttle. It is
// safe for concurrent use once made.
type Classifier struct {
	statuses [8]uint16 // small and fixed: no allocation per result
	n        int
	body     []byte // a throttled response must contain this; nil = any
}

// NewClassifier returns a classifier for which a response is throttled
// when its status is one of statuses (none means 429; at most eight are
// kept) and, when body is not empty, the first MaxThrottleBody bytes of its
// body contain body.
func NewClassifier(statuses []int, body string) Classifier {
	var c Classifier
	for _, s := range statuses {
		if c.n < len(c.statuses) {
			c.statuses[c.n] = uint16(s)
			c.n++
		}
	}
	if body != "" {
		c.body = []byte(body)
	}
	return c
}

// throttleStatus reports whether code is one of the throttle statuses.
func (c *Classifier) throttleStatus(code uint16) bool {
	if c.n == 0 {
		return code == 429
	}
	for _, s := range c.statuses[:c.n] {
		if s == code {
			return true
		}
	}
	return false
}

// NeedsBody reports whether the outcome of a response with status code
// depends on its body: read up to MaxThrottleBody bytes of it before
// calling Classify.
func (c *Classifier) NeedsBody(code int) bool { return c.body != nil && c.throttleStatus(uint16(code)) }

// Classify returns the outcome of a response with status code whose body
// begins with body (only read when NeedsBody says so).
func (c *Classifier) Classify(code int, body []byte) evidence.Outcome {
	if c.throttleStatus(uint16(code)) && (c.body == nil || bytes.Contains(body[:min(len(body), MaxThrottleBody)], c.body)) {
		return evidence.Throttled
	}
	if code >= 200 && code < 400 {
		return evidence.OK
	}
	return evidence.Failed
}

// classify returns the outcome of a vegeta result and, for errors, their
// kind.
func (c *Classifier) classify(r *vegeta.Result) (evidence.Outcome, string) {
	if r.Code == 0 {
		if strings.Contains(r.Error, "context canceled") {
			return evidence.Canceled, ""
		}
		return evidence.Failed, errorKind(r.Error)
	}
	out := c.Classify(int(r.Code), r.Body)
	switch {
	case out != evidence.Failed:
		return out, ""
	case r.Code == 403 && quotaSpent(r.Headers):
		// GitHub refuses a spent primary limit with 403 and says so in
		// x-ratelimit-remaining: 0.
		return evidence.Throttled, ""
	case r.Code >= 500:
		return evidence.Failed, "5xx"
	default:
		return evidence.Failed, "4xx"
	}
}

// errorKind names a transport error in words a user acts on.
func errorKind(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "connection refused"):
		return "refused"
	case strings.Contains(m, "timeout") || strings.Contains(m, "deadline exceeded"):
		return "timeout"
	case strings.Contains(m, "connection reset") || strings.Contains(m, "eof") || strings.Contains(m, "broken pipe"):
		return "reset"
	case strings.Contains(m, "tls") || strings.Contains(m, "x509") || strings.Contains(m, "certificate"):
		return "tls"
	case strings.Contains(m, "no such host") || strings.Contains(m, "lookup"):
		return "dns"
	case strings.Contains(m, "too many open files"):
		return "local-fd-limit"
	}
	return "other"
}

// quotaSpent reports whether h says that no request of the quota remains
// (X-RateLimit-Remaining: 0).
func quotaSpent(h http.Header) bool {
	v := h.Get("X-Ratelimit-Remaining")
	return v != "" && strings.TrimSpace(v) == "0"
}
