package probe

import (
	"net/http"
	"testing"
	"time"

	"limitprobe/evidence"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkRecorderAdd measures the aggregation of one result: what every
// response costs the prober once it is back (classification, step and
// timeline counters, latency quantiles, header parsing where the recorder
// does it). Results arrive 50 µs apart, as at 20 000 requests per second,
// into one open step.
func BenchmarkRecorderAdd(b *testing.B) {
	ietf := http.Header{
		"Content-Type":     {"application/json"},
		"Date":             {"Wed, 25 Nov 2026 20:00:00 GMT"},
		"Ratelimit-Policy": {`"default";q=1000;w=1`},
		"Ratelimit":        {`"default";r=0;t=1`},
		"Retry-After":      {"1"},
	}
	plain := http.Header{"Content-Type": {"text/html"}, "Server": {"nginx"}, "Date": {"Wed, 25 Nov 2026 20:00:00 GMT"}}
	for _, bc := range []struct {
		name string
		res  []vegeta.Result // cycled through
	}{
		{"ok", []vegeta.Result{{Code: 200, Headers: plain}}},
		{"throttled/no-headers", []vegeta.Result{{Code: 429, Headers: plain}}},
		{"throttled/ietf", []vegeta.Result{{Code: 429, Headers: ietf}}},
		// A saturated limiter: one success for every nine throttles.
		{"saturated/ietf", append([]vegeta.Result{{Code: 200, Headers: ietf}},
			repeat(vegeta.Result{Code: 429, Headers: ietf}, 9)...)},
		{"error/refused", []vegeta.Result{{Error: "Get \"http://127.0.0.1:1/\": dial tcp 127.0.0.1:1: connect: connection refused"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			start := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
			r := newRecorder(start, 100*time.Millisecond, NewClassifier([]int{429}, ""))
			r.open(evidence.Step{Phase: "ramp", OfferedRPS: 20000}, start, start.Add(time.Hour), 10*time.Second)
			res := make([]vegeta.Result, len(bc.res))
			copy(res, bc.res)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				x := &res[i%len(res)]
				x.Timestamp = start.Add(time.Duration(i) * 50 * time.Microsecond)
				x.Latency = 200*time.Microsecond + time.Duration(i%64)*10*time.Microsecond
				r.add(x)
				i++
			}
		})
	}
}

func repeat(r vegeta.Result, n int) []vegeta.Result {
	out := make([]vegeta.Result, n)
	for i := range out {
		out[i] = r
	}
	return out
}
