package probe

import (
	"bytes"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// outcome is what one response means for the probe.
type outcome uint8

const (
	outcomeOK        outcome = iota // the target served the request
	outcomeThrottled                // the target said "slow down"
	outcomeError                    // anything else that failed; never throttling
	outcomeCanceled                 // cut off by the probe itself (interrupt); not a measurement
)

// classifier decides outcomes from a scenario's throttle_status and
// throttle_body. The zero value treats 429 as the only throttle.
type classifier struct {
	statuses [8]uint16 // small and fixed: no allocation per result
	n        int
	body     []byte // a throttled response must contain this; nil = any
}

func newClassifier(statuses []int, body string) classifier {
	var c classifier
	for _, s := range statuses {
		if c.n < len(c.statuses) {
			c.statuses[c.n] = uint16(s)
			c.n++
		}
	}
	if c.n == 0 {
		c.statuses[0], c.n = 429, 1
	}
	if body != "" {
		c.body = []byte(body)
	}
	return c
}

func (c *classifier) throttleStatus(code uint16) bool {
	for _, s := range c.statuses[:c.n] {
		if s == code {
			return true
		}
	}
	return false
}

// classify returns the outcome of r and, for errors, their kind.
func (c *classifier) classify(r *vegeta.Result) (outcome, string) {
	if r.Code == 0 {
		if strings.Contains(r.Error, "context canceled") {
			return outcomeCanceled, ""
		}
		return outcomeError, errorKind(r.Error)
	}
	if c.throttleStatus(r.Code) && (c.body == nil || bytes.Contains(r.Body, c.body)) {
		return outcomeThrottled, ""
	}
	switch {
	case r.Code >= 200 && r.Code < 400:
		return outcomeOK, ""
	case r.Code >= 500:
		return outcomeError, "5xx"
	default:
		return outcomeError, "4xx"
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
