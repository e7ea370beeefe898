package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"limitprobe/units"
)

// probeDefaults are limitprobe probe's flag defaults.
func probeDefaults(f Flags) Flags {
	if f.Method == "" {
		f.Method = "GET"
	}
	if f.Strategy == "" {
		f.Strategy = StrategyAuto
	}
	if f.ThrottleStatus == nil {
		f.ThrottleStatus = []string{"429"}
	}
	return f
}

func TestFromFlags(t *testing.T) {
	body := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(body, []byte(`{"inputs":"hi"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		flags Flags
		check func(t *testing.T, sc *Scenario)
	}{
		{"url names the run by its host", Flags{Args: []string{"https://user:pw@api.example.com:8443/v1?q=1"}}, func(t *testing.T, sc *Scenario) {
			if sc.Name != "api.example.com:8443" || sc.Target.URL != "https://user:pw@api.example.com:8443/v1?q=1" {
				t.Errorf("got name %q, url %q", sc.Name, sc.Target.URL)
			}
			if sc.Limits != RemoteDefaults || sc.Probe.Max != RemoteDefaults.MaxRate {
				t.Errorf("got limits %+v, max %v; want the remote defaults", sc.Limits, sc.Probe.Max)
			}
		}},
		{"mock", Flags{Mock: "algorithm=concurrency,max_in_flight=4,latency=lognormal:50ms,400ms"}, func(t *testing.T, sc *Scenario) {
			want := []Param{{Key: "algorithm", Value: "concurrency"}, {Key: "max_in_flight", Value: "4"}, {Key: "latency", Value: "lognormal:50ms,400ms"}}
			if sc.Name != "mock" || sc.Target.Mock == nil || !reflect.DeepEqual(sc.Target.Mock.Params, want) {
				t.Errorf("got name %q, mock %+v; want %+v", sc.Name, sc.Target.Mock, want)
			}
			if sc.Limits != LoopbackDefaults {
				t.Errorf("got limits %+v, want the loopback defaults", sc.Limits)
			}
		}},
		{"every flag", Flags{Args: []string{"http://127.0.0.1:8080/api"}, Name: "gw", Method: "post",
			Headers: []string{"Authorization: Bearer s3cret", "X-Tier:  gold "}, Data: "@" + body,
			ThrottleStatus: []string{"429", " 503"}, ThrottleBody: "slow down", Strategy: StrategySteps,
			Start: "10/s", Max: "600/m", Step: "2s", Threshold: "5%", MaxRate: "200/s", MaxRequests: 900, MaxDuration: "1m", MaxQuotaShare: "25%"},
			func(t *testing.T, sc *Scenario) {
				tg, pr, l := sc.Target, sc.Probe, sc.Limits
				if sc.Name != "gw" || tg.Method != "POST" || string(tg.Body) != `{"inputs":"hi"}` || tg.ThrottleBody != "slow down" ||
					!reflect.DeepEqual(tg.ThrottleStatus, []int{429, 503}) {
					t.Errorf("got target %+v", tg)
				}
				wantH := []Header{{"Authorization", NewSecret("Bearer s3cret", "")}, {"X-Tier", NewSecret("gold", "")}}
				if !reflect.DeepEqual(tg.Headers, wantH) {
					t.Errorf("got headers %+v, want %+v", tg.Headers, wantH)
				}
				if shown := fmt.Sprintf("%v %+v %#v %s", tg.Headers, tg.Headers, tg.Headers, tg.Headers[0].Value); strings.Contains(shown, "s3cret") || strings.Contains(shown, "gold") {
					t.Errorf("a header value is shown: %s", shown)
				}
				if got := sc.Redact("auth Bearer s3cret"); strings.Contains(got, "s3cret") {
					t.Errorf("Redact left the header value in %q", got)
				}
				if pr.Strategy != StrategySteps || pr.Start != 10 || pr.Max != 10 || pr.Step != 2*time.Second || pr.Threshold != 0.05 {
					t.Errorf("got probe %+v", pr)
				}
				if l != (Limits{MaxRate: 200, MaxRequests: 900, MaxDuration: time.Minute, MaxQuotaShare: 0.25}) {
					t.Errorf("got limits %+v", l)
				}
			}},
		{"concurrency counts workers", Flags{Args: []string{"http://127.0.0.1/"}, Strategy: StrategyConcurrency, Start: "2", Max: "16"},
			func(t *testing.T, sc *Scenario) {
				if sc.Probe.StartConcurrency != 2 || sc.Probe.MaxConcurrency != 16 || sc.Probe.Start != 0 {
					t.Errorf("got probe %+v, want workers 2..16", sc.Probe)
				}
			}},
		{"a short run bounds the default timeout", Flags{Args: []string{"http://127.0.0.1/"}, MaxDuration: "5s"}, func(t *testing.T, sc *Scenario) {
			if sc.Target.Timeout != 5*time.Second {
				t.Errorf("got timeout %v, want 5s", sc.Target.Timeout)
			}
		}},
		{"a 200 that says throttled", Flags{Args: []string{"http://127.0.0.1/"}, ThrottleStatus: []string{"429", "200"}, ThrottleBody: "rate limit", Redirects: 2},
			func(t *testing.T, sc *Scenario) {
				if !reflect.DeepEqual(sc.Target.ThrottleStatus, []int{429, 200}) || sc.Target.Redirects != 2 {
					t.Errorf("got statuses %v, redirects %d", sc.Target.ThrottleStatus, sc.Target.Redirects)
				}
			}},
		{"any method token", Flags{Args: []string{"http://127.0.0.1/"}, Method: "purge"}, func(t *testing.T, sc *Scenario) {
			if sc.Target.Method != "PURGE" {
				t.Errorf("got method %q, want PURGE", sc.Target.Method)
			}
		}},
		{"literal body", Flags{Args: []string{"http://127.0.0.1/"}, Data: `{"a":1}`}, func(t *testing.T, sc *Scenario) {
			if string(sc.Target.Body) != `{"a":1}` {
				t.Errorf("got body %q", sc.Target.Body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, probs := FromFlags(probeDefaults(tt.flags))
			if len(probs) > 0 {
				t.Fatalf("got problems %v, want none", probs)
			}
			tt.check(t, sc)
		})
	}
}

func TestFromFlagsProblems(t *testing.T) {
	url := []string{"http://127.0.0.1:8080/api"}
	tests := []struct {
		name  string
		flags Flags
		want  []string
	}{
		{"empty URL does not panic", Flags{Args: []string{""}}, []string{"name one URL, e.g. limitprobe probe http://127.0.0.1:8080/api, or use --mock"}},
		{"no URL", Flags{}, []string{"name one URL, e.g. limitprobe probe http://127.0.0.1:8080/api, or use --mock"}},
		{"two URLs", Flags{Args: []string{"http://a/", "http://b/"}}, []string{"name one URL, e.g. limitprobe probe http://127.0.0.1:8080/api, or use --mock"}},
		{"URL and mock", Flags{Args: url, Mock: "preset=nginx"}, []string{"give a URL or --mock, not both"}},
		{"not a URL", Flags{Args: []string{"example.com/api"}}, []string{`"example.com/api" is not an absolute http(s) URL; write for example http://127.0.0.1:8080/api`}},
		{"bad mock", Flags{Mock: "algorithm=fixed-window,rate=5/s"}, []string{"--mock: rate: does not apply to algorithm fixed-window; it uses limit and window"}},
		{"mock spec without a value", Flags{Mock: "foo"}, []string{"--mock: foo: has no value; write key=value pairs such as algorithm=token-bucket,rate=50/s"}},
		{"mock key twice", Flags{Mock: "algorithm=none,body=tgi,body=html"}, []string{"--mock: body: set twice; keep one"}},
		{"flag by flag, in flag order", Flags{Args: url, Headers: []string{"Authorization Bearer s3cret", ": x"},
			Data: "@/nonexistent/body.json", ThrottleStatus: []string{"429", "200", "abc"}, Strategy: "ramp",
			Start: "fast", Max: "20/x", MaxRate: "x", Step: "10", MaxDuration: "-1m", Threshold: "0", MaxRequests: -1},
			[]string{
				`-H "***": write 'Name: value'`,
				`-H ": ***": write 'Name: value'`,
				"--data @/nonexistent/body.json: cannot read it (no such file or directory); write the path of an existing file",
				`--throttle-status "abc": write HTTP statuses such as 429,503`,
				"--throttle-status 200: is a success or redirect status; it means throttled only with --throttle-body",
				`--strategy "ramp": write auto, steps, linear, concurrency or quota`,
				"--start: ", "--max: ", "--max-rate: ", "--step: ", "--max-duration: ",
				`--threshold "0": write a share such as 1%`,
				"--max-requests -1: write a positive number",
			}},
		{"workers", Flags{Args: url, Strategy: StrategyConcurrency, Start: "0", Max: "many"}, []string{
			`--start "0": with --strategy concurrency write a whole number of workers such as 8`,
			`--max "many": with --strategy concurrency write a whole number of workers such as 8`,
		}},
		{"checked as a file is, naming the flag", Flags{Args: []string{"https://api.example.com/"}, Max: "100/s", Step: "100ms"}, []string{
			"--max: max 100/s is above the safety cap --max-rate 50/s for a target off this machine; lower --max, or raise --max-rate explicitly if the target's owner agrees",
			"--step: a step of 100ms is too short to measure a rate; write at least 200ms, typically 3s to 10s",
		}},
		{"start above max", Flags{Args: url, Start: "50/s", Max: "10/s"}, []string{"--max: max 10/s is below start 50/s; raise max or lower start"}},
		{"port out of range", Flags{Args: []string{"http://127.0.0.1:99999/"}}, []string{`"http://127.0.0.1:99999/" has port 99999, out of range; write a port from 1 to 65535`}},
		{"space in the URL", Flags{Args: []string{"http://127.0.0.1/a b"}}, []string{`"http://127.0.0.1/a b" has a space; write %20 in its place`}},
		{"control character in the URL", Flags{Args: []string{"http://127.0.0.1/a\nb"}}, []string{`"http://127.0.0.1/a\nb" has a control character`}},
		{"method with a space", Flags{Args: url, Method: "BAD METHOD"}, []string{`-X: "BAD METHOD" is not an HTTP method`}},
		{"method typo", Flags{Args: url, Method: "GTE"}, []string{`-X: unknown method "GTE"; did you mean "GET"?`}},
		{"header value with CR/LF", Flags{Args: url, Headers: []string{"X-Tenant: a\r\nX-Injected: 1"}},
			[]string{`-H "X-Tenant: ***": the value holds a line break or another control character, which would end the header early; write it on one line`}},
		{"header name with a space", Flags{Args: url, Headers: []string{"X Tenant: s3cret"}}, []string{`-H "X Tenant: ***": "X Tenant" is not a valid header name`}},
		{"workers beyond what a probe holds", Flags{Args: url, Strategy: StrategyConcurrency, Max: "2000000000"},
			[]string{"--max: 2000000000 workers is more than a probe can hold open; write at most 10000"}},
		{"name with an escape", Flags{Args: url, Name: "api\x1b[2J"}, []string{"--name: holds a control character"}},
		{"redirects", Flags{Args: url, Redirects: 21}, []string{"--redirects 21: write how many redirects to follow, from 0 to 20"}},
		{"timeout over the run", Flags{Args: url, MaxDuration: "5s", Timeout: "6s"},
			[]string{"--timeout: timeout 6s is longer than --max-duration 5s; lower --timeout or raise --max-duration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, probs := FromFlags(probeDefaults(tt.flags))
			if sc != nil {
				t.Errorf("got a scenario with problems %v", probs)
			}
			if len(probs) != len(tt.want) {
				t.Fatalf("got %d problems %q, want %d %q", len(probs), probs, len(tt.want), tt.want)
			}
			for i, p := range probs {
				if got := p.Error(); !strings.HasPrefix(got, tt.want[i]) {
					t.Errorf("problem %d: got %q, want it to start %q", i, got, tt.want[i])
				}
				if p.File != "" || p.Line != 0 {
					t.Errorf("problem %d: got file %q line %d, want none for flags", i, p.File, p.Line)
				}
			}
		})
	}
}

// FuzzFromFlags feeds FromFlags command lines: it must never panic, it
// returns a scenario or problems but not both, and a scenario it returns is
// bounded, planable and keeps its header values secret.
func FuzzFromFlags(f *testing.F) {
	type seed struct {
		url, mock, header, data, status, strategy, start, max, step, threshold, maxRate, maxDuration, method, timeout string
		maxRequests                                                                                                   int
	}
	for _, s := range []seed{
		{url: "http://127.0.0.1:8080/api", strategy: "auto", status: "429", max: "200/s"},
		{url: "https://api.example.com/v1", header: "Authorization: Bearer tok-123", strategy: "auto", status: "429", max: "20/s", maxRequests: 500},
		{mock: "algorithm=token-bucket,rate=50/s,burst=10", strategy: "steps", status: "429", start: "20/s", max: "80/s", step: "2s"},
		{mock: "preset=nginx", strategy: "linear", status: "503", threshold: "5%", maxDuration: "1m"},
		{mock: "algorithm=concurrency,max_in_flight=8,latency=lognormal:50ms,400ms", strategy: "concurrency", status: "429", start: "2", max: "16"},
		{url: "http://localhost:9000/v1/chat", header: "X-Api-Key: k", data: `{"model":"m"}`, strategy: "quota", status: "429", maxRate: "5/s"},
		{url: "", strategy: "auto", status: "429"},
		{url: "example.com", mock: ",", header: ":", status: "abc", strategy: "ramp", start: "x", maxRequests: -1},
		{url: "http://127.0.0.1:99999/a b", header: "X-A: a\r\nb", method: "BAD METHOD", timeout: "1h", maxDuration: "5s", status: "429"},
		{url: "https://u:p@api.example.com/v1?api_key=k&x=1", method: "purge", timeout: "2s", status: "429"},
	} {
		f.Add(s.url, s.mock, s.header, s.data, s.status, s.strategy, s.start, s.max, s.step, s.threshold, s.maxRate, s.maxDuration, s.method, s.timeout, s.maxRequests)
	}
	f.Fuzz(func(t *testing.T, url, mockSpec, header, data, status, strategy, start, max, step, threshold, maxRate, maxDuration, method, timeout string, maxRequests int) {
		data = strings.TrimLeft(data, "@") // never read files named by the fuzzer
		fl := Flags{Mock: mockSpec, Method: method, Data: data, ThrottleStatus: strings.Split(status, ","), Strategy: strategy,
			Start: start, Max: max, Step: step, Threshold: threshold, MaxRate: maxRate, MaxRequests: maxRequests, MaxDuration: maxDuration, Timeout: timeout}
		if url != "" {
			fl.Args = []string{url}
		}
		if header != "" {
			fl.Headers = []string{header}
		}
		sc, probs := FromFlags(fl)
		if (sc == nil) == (len(probs) == 0) {
			t.Fatalf("got scenario %v and problems %v, want exactly one of them", sc != nil, probs)
		}
		for _, p := range probs {
			if p.Msg == "" || p.File != "" {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		if sc == nil {
			return
		}
		if sc.Limits.MaxRequests <= 0 || sc.Limits.MaxDuration <= 0 || sc.Limits.MaxRate <= 0 || sc.Limits.MaxRate > units.MaxRate {
			t.Fatalf("unbounded scenario accepted: %+v", sc.Limits)
		}
		if sc.Target.URL != "" && urlProblem(sc.Target.URL) != "" || methodProblem(sc.Target.Method) != "" || sc.Target.Timeout > sc.Limits.MaxDuration {
			t.Fatalf("unsendable target accepted: %q %q timeout %v", sc.Target.Method, sc.Target.URL, sc.Target.Timeout)
		}
		for _, h := range sc.Target.Headers {
			if headerNameProblem(h.Name) != "" || headerValueProblem(h.Value.Reveal()) != "" {
				t.Fatalf("unsendable header %q accepted", h.Name)
			}
		}
		pl := MakePlan(sc)
		if pl.Requests > sc.Limits.MaxRequests || pl.Duration > sc.Limits.MaxDuration || pl.MaxRate > sc.Limits.MaxRate {
			t.Fatalf("plan %+v exceeds caps %+v", pl, sc.Limits)
		}
		for _, h := range sc.Target.Headers {
			v := h.Value.Reveal()
			if v != "" && strings.Contains(sc.Redact("sent "+v), v) && !strings.Contains("sent ***", v) {
				t.Fatalf("header %s's value is not redacted", h.Name)
			}
			// fmt renders the header as it would with any other value.
			other := h
			other.Value.value = v + "\x00"
			show := func(h Header) string { return fmt.Sprintf("%v %+v %#v %q", h, h, h, h.Value) }
			if show(h) != show(other) {
				t.Fatalf("header %s's value is shown by fmt: %s", h.Name, show(h))
			}
		}
	})
}
