package main

import (
	"context"
	"fmt"
	"io"

	"limitprobe/scenarios"
)

func cmdProbe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o runOptions
	var f scenarios.Flags
	fs := newFlags("probe", "URL [flags]  |  limitprobe probe --mock SPEC [flags]", `  limitprobe probe http://127.0.0.1:8080/api --max 200/s --throttle-status 429,503
  limitprobe probe --mock 'algorithm=token-bucket,rate=50/s,burst=10'
  limitprobe probe https://api.example.com/v1 -H "Authorization: Bearer $TOKEN" --max 20/s --max-requests 500
`, stdout)
	fs.StringVarP(&f.Method, "method", "X", "GET", "HTTP method")
	fs.StringArrayVarP(&f.Headers, "header", "H", nil, "request header 'Name: value' (repeatable); values are never printed")
	fs.StringVarP(&f.Data, "data", "d", "", "request body, or @FILE to read it from a file")
	fs.StringSliceVar(&f.ThrottleStatus, "throttle-status", []string{"429"}, "statuses that mean slow down")
	fs.StringVar(&f.ThrottleBody, "throttle-body", "", "count a throttle status as throttling only when the body contains this")
	fs.IntVar(&f.Redirects, "redirects", 0, "redirects to follow, the final status counting (default none: a 3xx is an error)")
	fs.StringVar(&f.Mock, "mock", "", "probe the embedded mock with this spec instead of a URL")
	fs.StringVar(&f.Name, "name", "", "name of the run in reports (default: the host)")
	fs.StringVar(&f.Strategy, "strategy", scenarios.StrategyAuto, "auto, steps, linear, concurrency or quota")
	fs.StringVar(&f.Start, "start", "", "first rate (concurrency: workers)")
	fs.StringVar(&f.Max, "max", "", "top rate (concurrency: workers)")
	fs.StringVar(&f.Step, "step", "", "length of one step")
	fs.StringVar(&f.Threshold, "threshold", "", "throttled share that marks onset (default 1%)")
	fs.StringVar(&f.MaxRate, "max-rate", "", "safety cap on the rate")
	fs.IntVar(&f.MaxRequests, "max-requests", 0, "safety cap on requests")
	fs.StringVar(&f.MaxDuration, "max-duration", "", "safety cap on time")
	fs.StringVar(&f.MaxQuotaShare, "max-quota-share", "", "`SHARE` of a window quota the probe may spend (default 10% off this machine, 100% on it)")
	fs.StringVar(&f.Timeout, "timeout", "", "how long one request may take (default 10s)")
	registerNetwork(fs, &f.Network)
	o.register(fs)
	if code, done := fs.parse(args, stderr); done {
		return code
	}
	if !o.check(stderr, "probe") {
		return exitUsage
	}
	f.Args = fs.Args()
	sc, problems := scenarios.FromFlags(f)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "limitprobe probe: %v\n", p)
		}
		return exitUsage
	}
	return execute(ctx, sc, o, o.out, stdout, stderr)
}
