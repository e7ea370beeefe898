package mock

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"limitprobe/limiter"
)

// renderer writes the rate-limit headers, Retry-After and bodies of one
// configuration. The parts that never change are computed once.
type renderer struct {
	style      string
	retryStyle string
	limit      int      // the advertised "limit" (bucket or queue capacity, quota, cap)
	policy     []string // RateLimit-Policy value (ietf, hf-hub)
	policyQ    int      // ietf quota; remaining is clipped to it
	ietfReset  bool     // whether RateLimit carries t (not for a concurrency cap)
	limitStr   []string // decimal limit, shared by every response
	quotaAlone bool     // algorithm none under a quota: the quota is the one policy
	quotaQ     int      // the quota listed beside the algorithm's policy (ietf); 0 if none

	throttleBody, okBody []byte
	throttleType, okType []string
}

func newRenderer(cfg *Config) renderer {
	rd := renderer{style: cfg.Headers, retryStyle: cfg.RetryAfter}
	c := cfg // what the styles with one policy advertise
	if cfg.Quota.Limit > 0 && cfg.Algorithm == limiter.None {
		c = &Config{Algorithm: limiter.FixedWindow, Limit: cfg.Quota.Limit, Window: cfg.Quota.Window, ThrottleStatus: cfg.ThrottleStatus, Body: cfg.Body}
		rd.quotaAlone = true
	}
	if c.Algorithm == limiter.None {
		rd.style = HeadersNone // nothing to advertise
	}
	switch c.Algorithm {
	case limiter.TokenBucket, limiter.GCRA:
		rd.limit = c.Burst
	case limiter.Queue:
		rd.limit = c.Burst + 1
	case limiter.Concurrency:
		rd.limit = c.MaxInFlight
	default:
		rd.limit = c.Limit
	}
	rd.limitStr = []string{strconv.Itoa(rd.limit)}
	rd.policyQ = rd.limit
	rd.ietfReset = c.Algorithm != limiter.Concurrency
	switch rd.style {
	case HeadersIETF:
		var p string
		switch c.Algorithm {
		case limiter.TokenBucket, limiter.GCRA, limiter.Queue:
			q, w := ratePolicy(c.Rate)
			rd.policyQ = q
			p = fmt.Sprintf(`"p";q=%d;w=%d`, q, w)
		case limiter.Concurrency:
			p = fmt.Sprintf(`"p";q=%d;qu="concurrent-requests"`, c.MaxInFlight)
		default:
			p = fmt.Sprintf(`"p";q=%d;w=%d`, c.Limit, ceilSeconds(c.Window))
		}
		if q := cfg.Quota; q.Limit > 0 && !rd.quotaAlone {
			rd.quotaQ = q.Limit
			p += fmt.Sprintf(`, "quota";q=%d;w=%d`, q.Limit, ceilSeconds(q.Window))
		}
		rd.policy = []string{p}
	case HeadersHFHub:
		rd.policy = []string{fmt.Sprintf(`"fixed window";"api";q=%d;w=%d`, rd.limit, ceilSeconds(c.Window))}
	}
	status := c.ThrottleStatus
	switch c.Body {
	case BodyTGI:
		rd.throttleBody = []byte(`{"error":"Model is overloaded","error_type":"overloaded"}`)
		rd.throttleType = jsonType
		rd.okBody = []byte(`{"generated_text":"limitprobe mock"}`)
		rd.okType = jsonType
	case BodyHTML:
		text := http.StatusText(status)
		if status == http.StatusServiceUnavailable {
			text = "Service Temporarily Unavailable" // nginx's wording
		}
		rd.throttleBody = fmt.Appendf(nil, "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", status, text, status, text)
		rd.throttleType = htmlType
		rd.okBody = []byte("<html><body>ok</body></html>\r\n")
		rd.okType = htmlType
	default:
		rd.throttleBody = fmt.Appendf(nil, `{"error":"rate limit exceeded","status":%d}`+"\n", status)
		rd.throttleType = jsonType
		rd.okBody = []byte(`{"ok":true}` + "\n")
		rd.okType = jsonType
	}
	return rd
}

// ratePolicy expresses a rate as a whole quota per whole-second window,
// preferring the shortest of 1 s, 1 min, 1 h and 1 day that makes the quota a
// whole number; otherwise it rounds the quota per second up.
func ratePolicy(rps float64) (q, w int) {
	for _, w := range []int{1, 60, 3600, 86400} {
		x := rps * float64(w)
		if r := math.Round(x); r >= 1 && math.Abs(x-r) < 1e-6*x {
			return int(r), w
		}
	}
	if rps >= 1 {
		return int(math.Ceil(rps)), 1
	}
	return max(1, int(math.Round(rps*86400))), 86400
}

// ceilSeconds returns d in whole seconds, rounded up; zero for d ≤ 0.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// limitHeaders writes the rate-limit headers of the configured style.
func (rd *renderer) limitHeaders(h http.Header, d *decision, now time.Time) {
	if rd.style == HeadersNone {
		return
	}
	var buf [96]byte
	m := &d.main // what the styles with one policy advertise
	if rd.quotaAlone {
		m = &d.quota
	}
	remaining := max(m.Remaining, 0)
	switch rd.style {
	case HeadersIETF:
		b := append(buf[:0], `"p";r=`...)
		b = strconv.AppendInt(b, int64(min(remaining, rd.policyQ)), 10)
		if rd.ietfReset {
			b = append(b, ";t="...)
			b = strconv.AppendInt(b, ceilSeconds(m.Reset), 10)
		}
		if rd.quotaQ > 0 {
			b = append(b, `, "quota";r=`...)
			b = strconv.AppendInt(b, int64(min(max(d.quota.Remaining, 0), rd.quotaQ)), 10)
			b = append(b, ";t="...)
			b = strconv.AppendInt(b, ceilSeconds(d.quota.Reset), 10)
		}
		h["RateLimit-Policy"] = rd.policy
		h["RateLimit"] = []string{string(b)}
	case HeadersHFHub:
		b := append(buf[:0], `"api";r=`...)
		b = strconv.AppendInt(b, int64(remaining), 10)
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, ceilSeconds(m.Reset), 10)
		h["RateLimit"] = []string{string(b)}
		h["RateLimit-Policy"] = rd.policy
	case HeadersIETFLegacy:
		h["RateLimit-Limit"] = rd.limitStr
		h["RateLimit-Remaining"] = []string{strconv.Itoa(remaining)}
		h["RateLimit-Reset"] = []string{strconv.FormatInt(ceilSeconds(m.Reset), 10)}
	case HeadersXRateLimit:
		h["x-ratelimit-limit"] = rd.limitStr
		h["x-ratelimit-remaining"] = []string{strconv.Itoa(remaining)}
		h["x-ratelimit-used"] = []string{strconv.Itoa(max(rd.limit-remaining, 0))}
		h["x-ratelimit-reset"] = []string{strconv.FormatInt(ceilUnix(now.Add(m.Reset)), 10)}
		h["x-ratelimit-resource"] = coreResource
	case HeadersOpenAI:
		h["x-ratelimit-limit-requests"] = rd.limitStr
		h["x-ratelimit-remaining-requests"] = []string{strconv.Itoa(remaining)}
		h["x-ratelimit-reset-requests"] = []string{ceilMillis(m.Reset).String()}
	}
}

var coreResource = []string{"core"}

// ceilUnix returns t in Unix seconds, rounded up.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// ceilMillis rounds d up to the millisecond, as OpenAI's reset values are.
func ceilMillis(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + time.Millisecond - 1) / time.Millisecond * time.Millisecond
}

// retryAfter writes Retry-After on a throttled response: whole seconds,
// rounded up and at least 1, or the HTTP-date of that instant.
func (rd *renderer) retryAfter(h http.Header, d *decision, now time.Time) {
	switch rd.retryStyle {
	case RetryAfterSeconds:
		h["Retry-After"] = []string{strconv.FormatInt(max(1, ceilSeconds(d.RetryAfter)), 10)}
	case RetryAfterHTTPDate:
		at := time.Unix(ceilUnix(now.Add(max(d.RetryAfter, time.Second))), 0)
		h["Retry-After"] = []string{at.UTC().Format(http.TimeFormat)}
	}
}
