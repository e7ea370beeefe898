package probe

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"limitprobe/evidence"
	"limitprobe/headers"
	"limitprobe/scenarios"
)

// MaxThrottleBody is how much of a response's body, in bytes, is read to
// look for a throttle body: a throttled response says so in its first
// bytes, and the probe keeps this much of every response while it is
// classified.
const MaxThrottleBody = 4 << 10

// maxPeek is how much of every response's body the probe reads when no
// throttle body is declared: enough for a scaling-up message and for the
// example of an error. io.ReadAll allocates this much anyway.
const maxPeek = 512

// Causes of failure: the kinds of evidence.Step.ErrorKinds, in words a
// user acts on.
const (
	CauseRefused   = "refused"        // nothing listens: connection refused
	CauseTimeout   = "timeout"        // no response within the timeout
	CauseReset     = "reset"          // the connection was reset or closed
	CauseTLS       = "tls"            // the TLS handshake or certificate failed
	CauseDNS       = "dns"            // the host name did not resolve
	CauseProxy     = "proxy"          // the proxy refused or failed the request
	CauseNotHTTP   = "not-http"       // the reply was not HTTP (or not TLS)
	CauseFDLimit   = "local-fd-limit" // this machine ran out of file descriptors
	CauseRedirect  = "redirect"       // a 3xx, not followed (target.redirects)
	CauseRedirects = "redirect-loop"  // more redirects than target.redirects allows
	CauseScalingUp = "scaling-up"     // a 503 from an endpoint scaling up from zero
	Cause4xx       = "4xx"
	Cause5xx       = "5xx"
	CauseOther     = "other"
)

// Classifier decides outcomes from a target's throttle statuses and
// throttle body. The zero value treats 429 as the only throttle status. It
// is safe for concurrent use once made.
type Classifier struct {
	statuses [8]uint64 // bit s-100 for each throttle status s in 100..599
	declared bool      // statuses were given; else 429
	body     []byte    // a throttled response must contain this; nil = any
}

// NewClassifier returns a classifier for which a response is throttled
// when its status is one of statuses (none means 429; any status from 100
// to 599) and, when body is not empty, the first MaxThrottleBody bytes of
// its body contain body. Beside those, a 403 or 420 whose headers say the
// quota is spent (X-RateLimit-Remaining: 0, a RateLimit r=0, a
// Retry-After), as GitHub's are, is throttled; and a 503 that says the
// endpoint is scaling up is an error of its own cause, never throttling.
func NewClassifier(statuses []int, body string) Classifier {
	var c Classifier
	for _, s := range statuses {
		if i := s - 100; i >= 0 && i < 500 {
			c.statuses[i/64] |= 1 << (i % 64)
			c.declared = true
		}
	}
	if body != "" {
		c.body = []byte(body)
	}
	return c
}

// throttleStatus reports whether code is one of the throttle statuses.
func (c *Classifier) throttleStatus(code int) bool {
	if !c.declared {
		return code == http.StatusTooManyRequests
	}
	i := code - 100
	return i >= 0 && i < 500 && c.statuses[i/64]&(1<<(i%64)) != 0
}

// NeedsBody reports whether the outcome of a response with status code
// depends on its body: read up to MaxThrottleBody bytes of it before
// calling Classify.
func (c *Classifier) NeedsBody(code int) bool {
	return c.body != nil && c.throttleStatus(code) || code == http.StatusServiceUnavailable
}

// Classify returns the outcome of a response with status code, headers h
// and a body that begins with body (only read when NeedsBody says so),
// and for a failure its cause.
func (c *Classifier) Classify(code int, h http.Header, body []byte) (evidence.Outcome, string) {
	switch {
	case code == http.StatusServiceUnavailable && scalingUp(body):
		return evidence.Failed, CauseScalingUp
	case c.throttleStatus(code) && (c.body == nil || bytes.Contains(body[:min(len(body), MaxThrottleBody)], c.body)):
		return evidence.Throttled, ""
	case code >= 200 && code < 300:
		return evidence.OK, ""
	case code >= 300 && code < 400:
		return evidence.Failed, CauseRedirect
	case (code == http.StatusForbidden || code == 420) && spent(h):
		return evidence.Throttled, ""
	case code >= 500:
		return evidence.Failed, Cause5xx
	}
	return evidence.Failed, Cause4xx
}

// spent reports whether a refusal's headers say the quota is used up: no
// requests remain, or the client is asked to wait.
func spent(h http.Header) bool {
	a, ok := headers.Parse(h, time.Now())
	return ok && (a.Remaining != nil && *a.Remaining == 0 || a.RetryAfterS > 0)
}

// scalingUp reports whether a 503's body says the endpoint is starting,
// as a Hugging Face Inference Endpoint scaled to zero says while its first
// replica loads.
func scalingUp(body []byte) bool {
	b := strings.ToLower(string(body[:min(len(body), maxPeek)]))
	for _, s := range []string{"scaling up", "scale up", "scaled to zero", "scaling from zero", "currently loading", "is loading", "initializing"} {
		if strings.Contains(b, s) {
			return true
		}
	}
	return false
}

// classify returns the outcome of a vegeta result and, for a failure, its
// cause.
func (c *Classifier) classify(r *vegeta.Result) (evidence.Outcome, string) {
	if r.Code == 0 {
		return evidence.Failed, errorKind(r.Error)
	}
	return c.Classify(int(r.Code), r.Headers, r.Body)
}

// errorKind names a transport error by its cause.
func errorKind(msg string) string {
	m := strings.ToLower(msg)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(m, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("stopped after") && has("redirect"):
		return CauseRedirects
	case has("proxyconnect", "proxy error", "proxy authentication"):
		return CauseProxy
	case has("connection refused"):
		return CauseRefused
	case has("timeout", "deadline exceeded"):
		return CauseTimeout
	case has("malformed http", "transport connection broken", "http response to https client", "first record does not look like a tls handshake", "bad status", "unexpected http", "frame too large", "server sent goaway"):
		return CauseNotHTTP
	case has("tls", "x509", "certificate"):
		return CauseTLS
	case has("connection reset", "eof", "broken pipe", "closed network connection", "server closed"):
		return CauseReset
	case has("no such host", "lookup"):
		return CauseDNS
	case has("too many open files"):
		return CauseFDLimit
	}
	return CauseOther
}

// errorExample is a failed response or error described in one line, for a
// cause's example: the error as the client saw it, or the status with
// where a redirect led or the first words of the body.
func errorExample(r *vegeta.Result, cause string) string {
	if r.Code == 0 {
		return r.Error
	}
	s := strconv.Itoa(int(r.Code)) + " " + http.StatusText(int(r.Code))
	if cause == CauseRedirect {
		if loc := r.Headers.Get("Location"); loc != "" {
			return s + " to " + scenarios.RedactURL(oneLine(loc, 120))
		}
		return s
	}
	if b := oneLine(string(r.Body), 80); b != "" {
		s += ": " + b
	}
	return s
}

// oneLine is s with control characters and runs of spaces made one space,
// cut to at most n bytes (and to whole characters).
func oneLine(s string, n int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < ' ' || r == ' ' || r == 0x7f || r == 0xfffd }), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) { // not inside a character
		n--
	}
	return s[:n] + "…"
}
