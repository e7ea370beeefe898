package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"limitprobe/scenarios"
	"limitprobe/units"
)

// probeFlags build a scenario from the command line.
type probeFlags struct {
	method, data, mock, name, strategy  string
	headers, throttleStatus             []string
	start, max, step, maxRate, duration string
	threshold, throttleBody             string
	maxRequests                         int
}

func cmdProbe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o runOptions
	var f probeFlags
	fs := newFlags("probe", "URL [flags]  |  limitprobe probe --mock SPEC [flags]", `  limitprobe probe http://127.0.0.1:8080/api --max 200/s --throttle-status 429,503
  limitprobe probe --mock 'algorithm=token-bucket,rate=50/s,burst=10'
  limitprobe probe https://api.example.com/v1 -H "Authorization: Bearer $TOKEN" --max 20/s --max-requests 500
`, stdout)
	fs.StringVarP(&f.method, "method", "X", "GET", "HTTP method")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, "request header 'Name: value' (repeatable); values are never printed")
	fs.StringVarP(&f.data, "data", "d", "", "request body, or @FILE to read it from a file")
	fs.StringSliceVar(&f.throttleStatus, "throttle-status", []string{"429"}, "statuses that mean slow down")
	fs.StringVar(&f.throttleBody, "throttle-body", "", "count a throttle status as throttling only when the body contains this")
	fs.StringVar(&f.mock, "mock", "", "probe the embedded mock with this spec instead of a URL")
	fs.StringVar(&f.name, "name", "", "name of the run in reports (default: the host)")
	fs.StringVar(&f.strategy, "strategy", scenarios.StrategyAuto, "auto, steps, linear, concurrency or quota")
	fs.StringVar(&f.start, "start", "", "first rate (concurrency: workers)")
	fs.StringVar(&f.max, "max", "", "top rate (concurrency: workers)")
	fs.StringVar(&f.step, "step", "", "length of one step")
	fs.StringVar(&f.threshold, "threshold", "", "throttled share that marks onset (default 1%)")
	fs.StringVar(&f.maxRate, "max-rate", "", "safety cap on the rate")
	fs.IntVar(&f.maxRequests, "max-requests", 0, "safety cap on requests")
	fs.StringVar(&f.duration, "max-duration", "", "safety cap on time")
	o.register(fs)
	if code, done := fs.parse(args, stderr); done {
		return code
	}
	if !o.check(stderr, "probe") {
		return exitUsage
	}
	sc, problems := f.scenario(fs.Args())
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "limitprobe probe: %s\n", p)
		}
		return exitUsage
	}
	return execute(ctx, sc, o, o.out, stdout, stderr)
}

// scenario turns the flags into a checked scenario, or the problems found.
func (f *probeFlags) scenario(args []string) (*scenarios.Scenario, []string) {
	var probs []string
	bad := func(format string, a ...any) { probs = append(probs, fmt.Sprintf(format, a...)) }
	sc := &scenarios.Scenario{Name: f.name}
	t := &sc.Target
	switch {
	case f.mock != "" && len(args) > 0:
		bad("give a URL or --mock, not both")
	case f.mock != "":
		m := &scenarios.Mock{}
		for _, kv := range splitSpec(f.mock) {
			k, v, _ := strings.Cut(kv, "=")
			m.Params = append(m.Params, scenarios.Param{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
		}
		if _, err := m.Config(); err != nil {
			bad("--mock: %v", err)
		}
		t.Mock = m
		if sc.Name == "" {
			sc.Name = "mock"
		}
	case len(args) == 1:
		t.URL = args[0]
		if sc.Name == "" {
			sc.Name = hostOf(args[0])
		}
	default:
		bad("name one URL, e.g. limitprobe probe http://127.0.0.1:8080/api, or use --mock")
	}
	t.Method = strings.ToUpper(f.method)
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			bad("-H %q: write 'Name: value'", redactHeader(h))
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		t.Headers = append(t.Headers, scenarios.Header{Name: k, Value: v, Secret: true})
		sc.AddSecret("-H "+k, v)
	}
	if f.data != "" {
		if name, ok := strings.CutPrefix(f.data, "@"); ok {
			b, err := os.ReadFile(name)
			if err != nil {
				bad("--data @%s: cannot read it; write the path of an existing file", name)
			}
			t.Body = b
		} else {
			t.Body = []byte(f.data)
		}
	}
	for _, s := range f.throttleStatus {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 400 || n > 599 {
			bad("--throttle-status %q: write 4xx or 5xx statuses such as 429,503", s)
			continue
		}
		t.ThrottleStatus = append(t.ThrottleStatus, n)
	}
	t.ThrottleBody = f.throttleBody
	pr := &sc.Probe
	pr.Strategy = f.strategy
	if !slices.Contains([]string{scenarios.StrategyAuto, scenarios.StrategySteps, scenarios.StrategyLinear, scenarios.StrategyConcurrency, scenarios.StrategyQuota}, pr.Strategy) {
		bad("--strategy %q: write auto, steps, linear, concurrency or quota", pr.Strategy)
	}
	rate := func(flag, v string, dst *units.Rate) {
		if v == "" {
			return
		}
		r, err := units.ParseRate(v)
		if err != nil {
			bad("--%s: %v", flag, err)
		}
		*dst = r
	}
	workers := func(flag, v string, dst *int) {
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad("--%s %q: with --strategy concurrency write a whole number of workers such as 8", flag, v)
		}
		*dst = n
	}
	if pr.Strategy == scenarios.StrategyConcurrency {
		workers("start", f.start, &pr.StartConcurrency)
		workers("max", f.max, &pr.MaxConcurrency)
	} else {
		rate("start", f.start, &pr.Start)
		rate("max", f.max, &pr.Max)
	}
	rate("max-rate", f.maxRate, &sc.Limits.MaxRate)
	if f.step != "" {
		d, err := units.ParseDuration(f.step)
		if err != nil {
			bad("--step: %v", err)
		}
		pr.Step = d
	}
	if f.duration != "" {
		d, err := units.ParseDuration(f.duration)
		if err != nil {
			bad("--max-duration: %v", err)
		}
		sc.Limits.MaxDuration = d
	}
	if f.threshold != "" {
		s, err := units.ParseShare(f.threshold)
		if err != nil || s == 0 {
			bad("--threshold %q: write a share such as 1%%", f.threshold)
		}
		pr.Threshold = s
	}
	if f.maxRequests < 0 {
		bad("--max-requests %d: write a positive number", f.maxRequests)
	}
	sc.Limits.MaxRequests = f.maxRequests
	if len(probs) > 0 {
		return nil, probs
	}
	scenarios.ApplyDefaults(sc)
	for _, p := range scenarios.Check(sc) {
		probs = append(probs, "--"+flagFor(p.Key)+": "+p.Msg)
	}
	if t.URL != "" {
		if msg := scenarios.CheckURL(t.URL); msg != "" {
			probs = append(probs, msg)
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return sc, nil
}

// flagFor maps a scenario key to the flag that sets it.
func flagFor(key string) string {
	k := key[strings.LastIndex(key, ".")+1:]
	return strings.ReplaceAll(k, "_", "-")
}

// splitSpec splits "a=1,b=2" keeping commas that belong to a value
// ("latency=lognormal:50ms,400ms").
func splitSpec(spec string) []string {
	var out []string
	for _, part := range strings.Split(spec, ",") {
		if !strings.Contains(part, "=") && len(out) > 0 {
			out[len(out)-1] += "," + part
			continue
		}
		if strings.TrimSpace(part) != "" {
			out = append(out, part)
		}
	}
	return out
}

func hostOf(raw string) string {
	s := raw[strings.Index(raw, "//")+2:]
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// redactHeader shows a header's name but never its value.
func redactHeader(h string) string {
	if k, _, ok := strings.Cut(h, ":"); ok {
		return k + ": ***"
	}
	return "***"
}
