package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"limitprobe/limiter"
	"limitprobe/mock"
	"limitprobe/scenarios"
)

const mockExamples = `  limitprobe mock                                  token bucket 50/s, burst 10, IETF headers
  limitprobe mock --preset nginx                   nginx limit_req: queue 10/s, burst 20, 503
  limitprobe mock --preset hf-hub --window 10s --limit 50
  limitprobe mock --algorithm concurrency --max-in-flight 8 --latency 100ms --body tgi
  limitprobe mock --algorithm fixed-window --limit 100 --window 10s --retry-after --listen 127.0.0.1:0

  curl http://127.0.0.1:8429/_limitprobe/truth      the ground truth and counters
  curl -X POST http://127.0.0.1:8429/_limitprobe/reset   forget limiter state and counters
`

// mockDefaults is what "limitprobe mock" serves with neither --preset nor
// --algorithm: a limit worth probing, with headers to compare against.
var mockDefaults = []mock.Param{
	{Key: "algorithm", Value: string(limiter.TokenBucket)},
	{Key: "rate", Value: "50/s"},
	{Key: "burst", Value: "10"},
	{Key: "headers", Value: mock.HeadersIETF},
	{Key: "retry_after", Value: mock.RetryAfterSeconds},
}

// mockFlags are the flags that set a mock key; the key is the flag name with
// underscores.
var mockFlags = []struct{ name, usage string }{
	{"preset", "start from a preset: `NAME` is hf-endpoint, hf-hub, github, openai or nginx"},
	{"algorithm", "limiting algorithm `NAME`: token-bucket, gcra, fixed-window, sliding-log, sliding-counter, concurrency, queue, lockout or none"},
	{"rate", "sustained `RATE` (token-bucket, gcra, queue), e.g. 50/s, 600/m"},
	{"burst", "`N` requests at once from idle (token-bucket, gcra); requests that may wait (queue)"},
	{"limit", "`N` requests per window (fixed-window, sliding-log, sliding-counter, lockout)"},
	{"window", "the `DURATION` the limit is counted over, e.g. 10s, 5m"},
	{"max-in-flight", "`N` requests served at once (concurrency)"},
	{"quota", "a fixed-window quota `N/PERIOD` under the algorithm, e.g. 2000/1h"},
	{"window-start", "windows (fixed, sliding-counter, lockout, the quota's) start on the `clock` (default) or at first-use"},
	{"lockout-count", "a lockout counts in a sliding `counter` of two windows (default) or keeps every request's time in a log (a Redis sorted set)"},
	{"count", "a sliding counter admits while its count is below the limit (`exact`, default) or while it rounds below it (rounded, as go-chi/httprate)"},
	{"latency", "service time `DIST` of admitted requests: 20ms, 20ms..80ms or lognormal:50ms,400ms"},
	{"throttle-status", "`STATUS` of throttled responses (default 429)"},
	{"headers", "rate-limit header `STYLE`: none, ietf, ietf-legacy, x-ratelimit, openai, hf-hub"},
	{"retry-after", "send Retry-After on throttled responses, as `FORMAT` seconds (bare flag) or http-date"},
	{"body", "throttled body `STYLE`: json, tgi or html"},
	{"key-by", "one limit per `KEY`: none, ip or header:NAME"},
	{"error-rate", "`SHARE` of admitted requests answered 500, e.g. 1%"},
	{"reset-rate", "`SHARE` of admitted requests whose connection is reset"},
	{"hang-rate", "`SHARE` of admitted requests never answered"},
}

// cmdMock serves the mock limiter on a loopback address until ctx ends.
func cmdMock(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("mock", "[flags]", mockExamples, stdout)
	listen := fs.String("listen", "127.0.0.1:8429", "loopback `ADDR` to serve on; 127.0.0.1:0 picks a free port")
	for _, f := range mockFlags {
		fs.String(f.name, "", f.usage)
	}
	fs.Lookup("retry-after").NoOptDefVal = mock.RetryAfterSeconds
	if code, done := fs.parse(args, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "limitprobe mock: unexpected argument %q; the mock takes flags only (see 'limitprobe mock --help')\n", fs.Arg(0))
		return exitUsage
	}
	if err := checkLoopback(*listen); err != nil {
		fmt.Fprintf(stderr, "limitprobe mock: %v\n", err)
		return exitUsage
	}

	var params []mock.Param
	if !fs.Changed("preset") && !fs.Changed("algorithm") {
		for _, d := range mockDefaults {
			if !fs.Changed(strings.ReplaceAll(d.Key, "_", "-")) {
				params = append(params, d)
			}
		}
	}
	for _, f := range mockFlags {
		if fs.Changed(f.name) {
			v, _ := fs.GetString(f.name)
			params = append(params, mock.Param{Key: strings.ReplaceAll(f.name, "-", "_"), Value: v})
		}
	}
	cfg, err := mock.FromParams(params)
	var ep *mock.Endpoint
	if err == nil {
		ep, err = mock.Start(ctx, cfg, *listen)
	}
	var pe *mock.ParamError
	switch {
	case errors.As(err, &pe):
		fmt.Fprintf(stderr, "limitprobe mock: --%s: %v\n", strings.ReplaceAll(pe.Key, "_", "-"), pe.Err)
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "limitprobe mock: %v; choose another --listen, e.g. 127.0.0.1:0 for a free port\n", err)
		return exitUsage
	}
	defer ep.Close()
	truth, _ := json.MarshalIndent(ep.Truth(), "", "  ")
	fmt.Fprintf(stdout, "%s\n%s\n", ep.URL, truth)
	fmt.Fprintf(stderr, "limitprobe mock: serving %s until interrupted (truth: GET %s%s, reset: POST %s%s)\n",
		ep.URL, ep.URL, mock.TruthPath, ep.URL, mock.ResetPath)
	select {
	case <-ep.Done():
		fmt.Fprintf(stderr, "limitprobe mock: %v\n", ep.Err())
		return exitTarget
	case <-ctx.Done():
	}
	ep.Close()
	fmt.Fprintln(stderr, "limitprobe mock: stopped")
	return exitOK
}

// checkLoopback refuses addresses that would expose the mock beyond this
// machine: it is load anyone could aim at, and it answers without
// authentication.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q is not HOST:PORT; write for example 127.0.0.1:8429 or 127.0.0.1:0", addr)
	}
	if port == "" {
		return fmt.Errorf("--listen %q has no port; write for example 127.0.0.1:8429 or 127.0.0.1:0", addr)
	}
	if scenarios.IsLoopbackHost(host) {
		return nil
	}
	what := "a non-loopback address"
	if host == "" || host == "0.0.0.0" || host == "::" {
		what = "every interface"
	}
	return fmt.Errorf("refusing --listen %q (%s): the mock serves loopback only so no other machine can load it; write 127.0.0.1:PORT, [::1]:PORT or localhost:PORT", addr, what)
}
