package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"limitprobe/units"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func mustParse(t *testing.T, src string, opt Options) *Scenario {
	t.Helper()
	sc, err := Parse("test.yaml", []byte(src), opt)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return sc
}

func TestDefaultsRemoteAndLoopback(t *testing.T) {
	tests := []struct {
		name, url string
		want      Limits
		wantMax   units.Rate
	}{
		{"remote", "https://api.example.com/v1", RemoteDefaults, RemoteDefaults.MaxRate},
		{"loopback ip", "http://127.0.0.1:8080/", LoopbackDefaults, DefaultLoopbackMax},
		{"localhost", "http://localhost:8080/", LoopbackDefaults, DefaultLoopbackMax},
		{"ipv6 loopback", "http://[::1]:8080/", LoopbackDefaults, DefaultLoopbackMax},
		{"private address is not loopback", "http://10.0.0.5/", RemoteDefaults, RemoteDefaults.MaxRate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := mustParse(t, "name: x\ntarget:\n  url: "+tt.url+"\n", Options{})
			if sc.Limits != tt.want {
				t.Errorf("limits = %+v, want %+v", sc.Limits, tt.want)
			}
			if sc.Probe.Max != tt.wantMax {
				t.Errorf("probe.max = %v, want %v", sc.Probe.Max, tt.wantMax)
			}
			if sc.Target.Method != "GET" || sc.Target.Timeout != DefaultTimeout || len(sc.Target.ThrottleStatus) != 1 || sc.Target.ThrottleStatus[0] != 429 {
				t.Errorf("target defaults = %+v", sc.Target)
			}
			if sc.Probe.Strategy != StrategyAuto || !sc.Probe.CooldownAuto || sc.Probe.Threshold != DefaultThreshold {
				t.Errorf("probe defaults = %+v", sc.Probe)
			}
		})
	}
}

func TestExplicitLimitsRaiseRemoteCaps(t *testing.T) {
	src := `name: x
target: {url: "https://api.example.com/"}
probe: {max: 200/s}
limits: {max_rate: 300/s, max_requests: 50000, max_duration: 10m, max_quota_share: 100%}
`
	sc := mustParse(t, src, Options{})
	if sc.Probe.Max != 200 || sc.Limits.MaxRate != 300 || sc.Limits.MaxRequests != 50000 || sc.Limits.MaxDuration != 10*time.Minute || sc.Limits.MaxQuotaShare != 1 {
		t.Errorf("got probe.max %v, limits %+v", sc.Probe.Max, sc.Limits)
	}
}

func TestSecretsExpandedAndRedacted(t *testing.T) {
	src := `name: x
target:
  url: "https://user:pw@api.example.com/v1?key=${KEY}"
  headers: {Authorization: "Bearer ${TOKEN}", Accept: application/json}
  body: '{"k":"${KEY}"}'
`
	sc := mustParse(t, src, Options{LookupEnv: env(map[string]string{"TOKEN": "tok-123", "KEY": "key-456"})})
	if got := sc.Target.Headers[0]; got.Value.Reveal() != "Bearer tok-123" || got.Value.String() != "Bearer ${TOKEN}" {
		t.Errorf("Authorization = %q shown as %v, want expanded and shown as written", got.Value.Reveal(), got.Value)
	}
	if got := sc.Target.Headers[1]; got.Value.Reveal() != "application/json" || fmt.Sprint(got) != "{Accept ***}" {
		t.Errorf("Accept = %q shown as %v, want sent as written and shown as ***", got.Value.Reveal(), got)
	}
	if string(sc.Target.Body) != `{"k":"key-456"}` {
		t.Errorf("body = %s", sc.Target.Body)
	}
	shown := sc.DisplayURL() + " " + sc.Redact("auth failed for Bearer tok-123")
	for _, leak := range []string{"tok-123", "key-456", "pw@"} {
		if strings.Contains(shown, leak) {
			t.Errorf("%q leaks %q", shown, leak)
		}
	}
	if !strings.Contains(shown, "${TOKEN}") || !strings.Contains(shown, "${KEY}") {
		t.Errorf("redaction should name the variables: %q", shown)
	}
}

func TestBodyFileRelativeToScenario(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "body.json"), []byte(`{"inputs":"hi"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(path, []byte("name: x\ntarget:\n  url: http://127.0.0.1/\n  method: post\n  body_file: body.json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if string(sc.Target.Body) != `{"inputs":"hi"}` || sc.Target.Method != "POST" {
		t.Errorf("body %q method %q", sc.Target.Body, sc.Target.Method)
	}
}

func TestEveryProblemReportedAtOnce(t *testing.T) {
	src := `name: x
target:
  url: http://127.0.0.1/
  method: FETCH
probe:
  max: 20/x
  stpe: 10s
limits:
  max_requests: -3
`
	_, err := Parse("f.yaml", []byte(src), Options{})
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("error %v is %T, want Problems", err, err)
	}
	var lines []int
	for _, p := range ps {
		lines = append(lines, p.Line)
	}
	want := []int{4, 6, 7, 9}
	if len(lines) != len(want) {
		t.Fatalf("problems on lines %v, want %v:\n%v", lines, want, err)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Fatalf("problems on lines %v, want %v", lines, want)
		}
	}
}

func TestMockSectionCheckedWithItsLine(t *testing.T) {
	tests := []struct{ src, want string }{
		{"algorithm: token-bucket\n    rate: 20/x\n", `m.yaml:5: target.mock: rate: "20/x" is not a rate`},
		{"algorithm: fixed-window\n    limit: 10\n    window: 1s\n    rate: 5/s\n", "m.yaml:7: target.mock: rate: does not apply to algorithm fixed-window"},
		{"algorithm: token-bucket\n    burst: 5\n", "m.yaml:4: target.mock: rate: token-bucket needs a rate"}, // at the mock: no line sets rate
		{"preset: nginx\n    colour: red\n", "m.yaml:5: target.mock: colour: unknown key"},
	}
	for _, tt := range tests {
		_, err := Parse("m.yaml", []byte("name: x\ntarget:\n  mock:\n    "+tt.src), Options{})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("got %v, want a problem starting %q", err, tt.want)
		}
	}
	sc := mustParse(t, "name: x\ntarget:\n  mock: openai\n", Options{})
	if sc.Target.Mock == nil || sc.Target.Mock.Params[0] != (Param{Key: "preset", Value: "openai", Line: 3}) {
		t.Errorf("mock shorthand = %+v", sc.Target.Mock)
	}
	if !sc.Target.Loopback() {
		t.Error("a mock target must count as loopback")
	}
}

func TestConcurrencyStartMaxAreWorkers(t *testing.T) {
	sc := mustParse(t, "name: x\ntarget: {url: http://127.0.0.1/}\nprobe: {strategy: concurrency, start: 2, max: 16}\n", Options{})
	if sc.Probe.StartConcurrency != 2 || sc.Probe.MaxConcurrency != 16 {
		t.Errorf("concurrency %d..%d, want 2..16", sc.Probe.StartConcurrency, sc.Probe.MaxConcurrency)
	}
}

func TestJSONScenario(t *testing.T) {
	src := `{"name": "j", "target": {"url": "http://127.0.0.1/", "throttle_status": [429, 503]}, "probe": {"start": "10/s", "max": "600/m"}}`
	sc := mustParse(t, src, Options{})
	if sc.Probe.Start != 10 || sc.Probe.Max != 10 || len(sc.Target.ThrottleStatus) != 2 {
		t.Errorf("got %+v %+v", sc.Probe, sc.Target)
	}
}

func TestParsePrice(t *testing.T) {
	for in, want := range map[string]Price{"0.06/h": {0.06, time.Hour}, "$20/month": {20, 730 * time.Hour}, "1.5/d": {1.5, 24 * time.Hour}} {
		got, err := ParsePrice(in)
		if err != nil || got != want {
			t.Errorf("ParsePrice(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"cheap", "5", "-1/h", "3/fortnight"} {
		if _, err := ParsePrice(bad); err == nil {
			t.Errorf("ParsePrice(%q) accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("examples/*.yaml")
	more, _ := filepath.Glob("../testdata/invalid/*.*")
	for _, p := range append(seeds, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("fuzz.yaml", data, Options{LookupEnv: env(map[string]string{"HF_TOKEN": "t", "API_TOKEN": "t"})})
		if err != nil {
			ps, ok := err.(Problems)
			if !ok || len(ps) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty Problems", err, err)
			}
			return
		}
		// A scenario that parses must be safe to run: sendable, bounded
		// and planable, and the file must hold one JSON or YAML document.
		if sc.Limits.MaxRequests <= 0 || sc.Limits.MaxDuration <= 0 || sc.Limits.MaxRate <= 0 || !(sc.Limits.MaxQuotaShare > 0 && sc.Limits.MaxQuotaShare <= 1) {
			t.Fatalf("unbounded scenario accepted: %+v", sc.Limits)
		}
		if sc.Target.URL != "" && urlProblem(sc.Target.URL) != "" || methodProblem(sc.Target.Method) != "" || nameProblem(sc.Name) != "" {
			t.Fatalf("unsendable target accepted: %q %q %q", sc.Name, sc.Target.Method, sc.Target.URL)
		}
		for _, h := range sc.Target.Headers {
			if headerNameProblem(h.Name) != "" || headerValueProblem(h.Value.Reveal()) != "" {
				t.Fatalf("unsendable header %q accepted", h.Name)
			}
		}
		if _, rest, ok := jsonTrailer(data); ok && rest != "" {
			t.Fatalf("JSON followed by %q accepted", rest)
		}
		pl := MakePlan(sc)
		if pl.Requests > sc.Limits.MaxRequests || pl.Duration > sc.Limits.MaxDuration || pl.MaxRate > sc.Limits.MaxRate {
			t.Fatalf("plan %+v exceeds caps %+v", pl, sc.Limits)
		}
	})
}

func TestSizeCaps(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	huge := "name: x\ntarget: {url: http://127.0.0.1/}\n# " + strings.Repeat("x", MaxScenarioBytes) + "\n"
	if err := os.WriteFile(big, []byte(huge), 0o600); err != nil {
		t.Fatal(err)
	}
	body := filepath.Join(dir, "body.bin")
	if err := os.WriteFile(body, make([]byte, MaxBodyBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	bodyRef := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(bodyRef, []byte("name: x\ntarget:\n  url: http://127.0.0.1/\n  body_file: body.bin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, loadErr := Load(big, Options{})
	_, parseErr := Parse("big.yaml", []byte(huge), Options{})
	_, bodyErr := Load(bodyRef, Options{})
	_, flagProbs := FromFlags(probeDefaults(Flags{Args: []string{"http://127.0.0.1/"}, Data: "@" + body}))
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"scenario file", loadErr, big + ": the file is over 1 MiB, the most a scenario may be; move a large request body into body_file"},
		{"scenario data", parseErr, "big.yaml: the file is over 1 MiB"},
		{"body_file", bodyErr, bodyRef + `:4: target.body_file: "body.bin" is over 10 MiB, the most a request body may be; send a smaller body`},
		{"--data @FILE", flagProbs, "--data @" + body + ": is over 10 MiB, the most a request body may be"},
	} {
		if tt.err == nil || !strings.HasPrefix(tt.err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error starting %q", tt.name, tt.err, tt.want)
		}
	}
}

func TestDocumentEnds(t *testing.T) {
	ok := []string{
		"name: x\ntarget: {url: http://127.0.0.1/}\n",
		"name: x\ntarget: {url: http://127.0.0.1/}\n---\n",
		`{"name": "x", "target": {"url": "http://127.0.0.1/"}}` + "\n\n",
		`{name: x, target: {url: "http://127.0.0.1/"}}`,
	}
	for _, src := range ok {
		if _, err := Parse("s", []byte(src), Options{}); err != nil {
			t.Errorf("Parse(%q): %v, want no problem", src, err)
		}
	}
	bad := []struct{ src, want string }{
		{`{"name": "x", "target": {"url": "http://127.0.0.1/"}}}`, `s:1: "}" follows the end of the JSON object`},
		{`{"name": "x", "target": {"url": "http://127.0.0.1/"}} garbage`, `s:1: "garbage" follows the end of the JSON object`},
		{`{"name": "x", "target": {"url": "http://127.0.0.1/"}}{"name": "y"}`, `s:1: "{\"name\": \"y\"}" follows the end of the JSON object`},
		{"{\"name\": \"x\",\n \"target\": {\"url\": \"http://127.0.0.1/\"}}\n\n]", `s:4: "]" follows the end of the JSON object`},
		{`{name: x, target: {url: "http://127.0.0.1/"}}}`, "s:1: text follows the end of the scenario"},
		{"name: x\ntarget: {url: http://127.0.0.1/}\n---\nname: y\n", "s:4: the file holds more than one YAML document"},
	}
	for _, tt := range bad {
		_, err := Parse("s", []byte(tt.src), Options{})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Parse(%q): got %v, want a problem starting %q", tt.src, err, tt.want)
		}
	}
}

func TestInvalidURLKeepsItsSecret(t *testing.T) {
	src := "name: x\ntarget:\n  url: \"http://127.0.0.1:8080/v1 ?key=${KEY}\"\n"
	_, err := Parse("s.yaml", []byte(src), Options{LookupEnv: env(map[string]string{"KEY": "key-456"})})
	if err == nil || strings.Contains(err.Error(), "key-456") || !strings.Contains(err.Error(), "${KEY}") {
		t.Errorf("got %v, want a problem that names ${KEY} and not its value", err)
	}
	src = "name: x\ntarget:\n  url: http://127.0.0.1/\n  headers: {X-Tenant: \"${TENANT}\"}\n"
	_, err = Parse("s.yaml", []byte(src), Options{LookupEnv: env(map[string]string{"TENANT": "t1\r\nX-Admin: yes"})})
	if err == nil || !strings.Contains(err.Error(), "s.yaml:4: target.headers.X-Tenant: the value holds a line break") || strings.Contains(err.Error(), "X-Admin") {
		t.Errorf("got %v, want a problem at the header that does not show its value", err)
	}
}

func TestThrottleStatusAndRedirects(t *testing.T) {
	sc := mustParse(t, "name: x\ntarget:\n  url: http://127.0.0.1/\n  throttle_status: [429, 200, 403]\n  throttle_body: rate limit\n  redirects: 3\n", Options{})
	if got := sc.Target.ThrottleStatus; len(got) != 3 || got[1] != 200 || sc.Target.Redirects != 3 {
		t.Errorf("got statuses %v, redirects %d; want [429 200 403] and 3", got, sc.Target.Redirects)
	}
	if sc := mustParse(t, "name: x\ntarget: {url: http://127.0.0.1/}\n", Options{}); sc.Target.Redirects != 0 {
		t.Errorf("redirects default %d, want 0 (none followed)", sc.Target.Redirects)
	}
	for _, tt := range []struct{ src, want string }{
		{"  throttle_status: [200]\n", "s:4: target.throttle_status: 200 is a success or redirect status; it means throttled only with a throttle_body"},
		{"  throttle_status: [600]\n", `s:4: target.throttle_status: "600" is not an HTTP status`},
		{"  redirects: 21\n", "s:4: target.redirects: 21 redirects is a loop; write at most 20"},
		{"  redirects: -1\n", "s:4: target.redirects: -1 is below 0"},
	} {
		_, err := Parse("s", []byte("name: x\ntarget:\n  url: http://127.0.0.1/\n"+tt.src), Options{})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("got %v, want a problem starting %q", err, tt.want)
		}
	}
}

func TestNetworkKeys(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	// A self-signed certificate; only its PEM form matters here.
	const pemCert = `-----BEGIN CERTIFICATE-----
MIIBhTCCASugAwIBAgIQIRi6zePL6mKjOipn+dNuaTAKBggqhkjOPQQDAjASMRAw
DgYDVQQKEwdBY21lIENvMB4XDTE3MTAyMDE5NDMwNloXDTE4MTAyMDE5NDMwNlow
EjEQMA4GA1UEChMHQWNtZSBDbzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABD0d
7VNhbWvZLWPuj/RtHFjvtJBEwOkhbN/BnnE8rnZR8+sbwnc/KhCk3FhnpHZnQz7B
5aETbbIgmuvewdjvSBSjYzBhMA4GA1UdDwEB/wQEAwICpDATBgNVHSUEDDAKBggr
BgEFBQcDATAPBgNVHRMBAf8EBTADAQH/MCkGA1UdEQQiMCCCDmxvY2FsaG9zdDo1
NDUzgg4xMjcuMC4wLjE6NTQ1MzAKBggqhkjOPQQDAgNIADBFAiEA2zpJEPQyz6/l
Wf86aX6PepsntZv2GYlA5UpabfT2EZICICpJ5h/iI+i341gBmLiAFQOyTDT+/wQc
6MF9+Yw1Yy0t
-----END CERTIFICATE-----
`
	if err := os.WriteFile(ca, []byte(pemCert), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "not.pem"), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "name: x\ntarget:\n  url: https://api.example.com/\n  proxy: http://u:${PROXY_PW}@proxy.example.com:3128\n  cacert: ca.pem\n  insecure: true\n  http: 1.1\n"
	path := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := Load(path, Options{LookupEnv: env(map[string]string{"PROXY_PW": "proxy-secret"})})
	if err != nil {
		t.Fatal(err)
	}
	n := sc.Target.Network
	if n.Proxy != "http://u:proxy-secret@proxy.example.com:3128" || n.CACert != "ca.pem" || string(n.CAPEM) != pemCert || !n.Insecure || n.HTTP != HTTP1 {
		t.Errorf("got network %+v", n)
	}
	if got := sc.Redact("proxyconnect tcp: http://u:proxy-secret@proxy.example.com:3128"); strings.Contains(got, "proxy-secret") {
		t.Errorf("Redact left the proxy's password in %q", got)
	}
	for _, tt := range []struct{ src, want string }{
		{"  proxy: ftp://proxy/\n", `s:4: target.proxy: "ftp://proxy/" is not a proxy URL`},
		{"  cacert: not.pem\n", `holds no PEM certificate; write the path of a CA certificate in PEM`},
		{"  cacert: missing.pem\n", `cannot read`},
		{"  insecure: yes please\n", `s:4: target.insecure: want true or false`},
		{"  http: 3\n", `s:4: target.http: "3" is not an HTTP version limitprobe can use; write 1.1 or 2`},
	} {
		_, err := Parse(filepath.Join(dir, "s"), []byte("name: x\ntarget:\n  url: https://127.0.0.1/\n"+tt.src), Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v, want a problem saying %q", err, tt.want)
		}
	}
	// The flags override the file, and name themselves.
	probs := NetworkFlags{Proxy: "gopher://x", CACert: filepath.Join(dir, "not.pem"), HTTP1: true, HTTP2: true}.Apply(&sc.Target)
	if len(probs) != 3 || probs[0].Key != "--proxy" || probs[1].Key != "--cacert" || probs[2].Key != "--http1 --http2" {
		t.Errorf("got problems %v, want --proxy, --cacert and --http1 --http2", probs)
	}
	if probs := (NetworkFlags{Proxy: "none", HTTP2: true}).Apply(&sc.Target); len(probs) != 0 || sc.Target.Network.Proxy != ProxyNone || sc.Target.Network.HTTP != HTTP2 {
		t.Errorf("got %v, %+v; want proxy none and HTTP/2", probs, sc.Target.Network)
	}
}
