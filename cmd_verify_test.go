package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/probe"
	"limitprobe/report"
	"limitprobe/verify"
)

// tokenBucketSpec is the mock the verify tests replay demand against.
const tokenBucketSpec = "algorithm=token-bucket,rate=50/s,burst=10,retry_after=seconds"

// verifyFixture writes the report a probe of tokenBucketSpec would produce
// (built with report.New from the mock's truth), targeting url, and
// returns its path. clientRate overrides the recommended rate when > 0.
func verifyFixture(t *testing.T, url string, clientRate float64) string {
	t.Helper()
	return verifyFixtureOf(t, probe.TargetRef{URL: url, Method: "GET"}, clientRate)
}

// verifyFixtureOf is verifyFixture with the report's target as given.
func verifyFixtureOf(t *testing.T, target probe.TargetRef, clientRate float64) string {
	t.Helper()
	run := probe.Run{
		Scenario: probe.ScenarioRef{Name: "mock-token-bucket", Target: target},
		Steps: []evidence.Step{{Index: 0, Phase: "ramp", OfferedRPS: 100, DurationS: 3, Requests: 300, OK: 160, Throttled: 140,
			LatencyMS: evidence.Latency{P50: 0.3, P99: 1}, RetryAfterS: 1}},
		Summary: estimate.Summary{Limited: true, EffectiveLimitRPS: 50, Burst: 10, Algorithm: "token-bucket", Confidence: 0.9},
	}
	rep := report.New(run, report.Options{ToolVersion: toolVersion})
	if clientRate > 0 {
		rep.Recommendation.ClientRateRPS, rep.Recommendation.SustainableRPS = clientRate, clientRate
	}
	path := filepath.Join(t.TempDir(), "report.json")
	var b bytes.Buffer
	if err := report.Write(&b, rep, report.FormatJSON, report.RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runVerify(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cmdVerify(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVerifyMockWritesTableAndReports(t *testing.T) {
	rep := verifyFixture(t, "http://127.0.0.1:1/", 0)
	dir := t.TempDir()
	code, stdout, stderr := runVerify(t, context.Background(), rep, "--mock", tokenBucketSpec, "--demand", "75/s",
		"--duration", "2s", "--deadline", "1500ms", "--clients", "4", "--policy", "recommended,naive,none", "--parallel", "--out", dir)
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"Verification · mock algorithm=token-bucket", "demand 75/s (150% of the 50/s limit) from 4 clients",
		"│ recommended │", "│ naive       │", "│ none        │", "throttled", "PASS: the demand of 75/s exceeds what the recommended settings send (45/s)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "│ seed") || !strings.Contains(stderr, "a fresh mock per policy, all at once") {
		t.Errorf("ran policies not asked for, or did not say how:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	for _, line := range strings.Split(stdout, "\n") {
		if n := len([]rune(line)); n > 100 {
			t.Errorf("line of %d columns, want at most 100: %s", n, line)
		}
	}

	b, err := os.ReadFile(filepath.Join(dir, "verify.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v verify.Verification
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("verify.json: %v", err)
	}
	if v.Schema != verify.Schema || len(v.Policies) != 3 || !v.Verdict.Judged || !v.Verdict.Pass || v.Verdict.Regime != verify.RegimeOver {
		t.Errorf("verify.json: schema %q, %d policies, verdict %+v", v.Schema, len(v.Policies), v.Verdict)
	}
	f, err := os.Open(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back, err := report.Read(f)
	if err != nil || back.Verification == nil || len(back.Verification.Policies) != 3 {
		t.Fatalf("report.json with the verification: %v, %+v", err, back)
	}
	for name, want := range map[string]string{"report.md": "### Verification", "report.html": "<h2>Verification</h2>"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s lacks %q (%v)", name, want, err)
		}
	}
}

func TestVerifyFailingRecommendationExits1(t *testing.T) {
	// Pacing at 200/s against a 50/s bucket: the recommendation claims a
	// 75/s demand fits, and it does not.
	rep := verifyFixture(t, "http://127.0.0.1:1/", 200)
	code, stdout, stderr := runVerify(t, context.Background(), rep, "--mock", tokenBucketSpec, "--demand", "75/s",
		"--duration", "1500ms", "--deadline", "1s", "--policy", "recommended", "--quiet")
	if code != exitExpectation {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "FAIL: the recommended settings did not hold up") || !strings.Contains(stdout, "FAIL eventual success") {
		t.Errorf("stdout does not say what failed:\n%s", stdout)
	}
}

func TestVerifyBadUsageSendsNothing(t *testing.T) {
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer ts.Close()
	rep := verifyFixture(t, ts.URL+"/", 0)
	redacted := verifyFixture(t, ts.URL+"/v1?api_key=***", 0)
	negative := filepath.Join(t.TempDir(), "negative.json")
	if b, err := os.ReadFile(rep); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(negative, bytes.Replace(b, []byte(`"client_rate_rps": 45`), []byte(`"client_rate_rps": -45`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	notReport := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(notReport, []byte(`{"hello": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		say  string
	}{
		{[]string{}, "name one saved report"},
		{[]string{notReport}, "not a limitprobe report"},
		{[]string{rep, "--demand", "40/x"}, "--demand"},
		{[]string{rep, "--policy", "exponential"}, "unknown policy \"exponential\""},
		{[]string{rep, "--target", ts.URL, "--mock", tokenBucketSpec}, "give one of --target, --mock and --scenario"},
		{[]string{rep, "--parallel"}, "--parallel needs a mock"},
		{[]string{rep, "--mock", "algorithm=token-bucket,rate=fast"}, "mock:"},
		{[]string{rep, "--clients", "0"}, "--clients 0"},
		{[]string{rep, "--format", "html"}, "unknown format"},
		{[]string{rep, "--target", "https://api.example.com/v1", "--demand", "500/s"}, "exceeds the safety cap"},
		{[]string{rep, "--target", "https://api.example.com/v1", "--demand", "1/s"}, "could take up to"},
		{[]string{rep, "--target", "https://api.example.com/v1", "--demand", "45/s"}, "over the safety cap of 5000"},
		{[]string{rep, "-H", "no colon"}, "-H"},
		{[]string{redacted}, "had its secrets removed; give --scenario FILE"},
		{[]string{negative}, "recommendation.client_rate_rps is -45"},
		{[]string{rep, "-H", "X-Tenant: a\r\nX-Injected: 1"}, "the value holds a line break"},
		{[]string{rep, "-X", "BAD METHOD"}, `-X: "BAD METHOD" is not an HTTP method`},
		{[]string{rep, "--target", ts.URL + "/a b"}, "--target: "},
		{[]string{rep, "--target", "http://127.0.0.1:99999/"}, "has port 99999, out of range"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runVerify(t, context.Background(), tt.args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tt.say) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 saying %q", tt.args, code, stdout, stderr, tt.say)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the target received %d requests from bad input, want 0", n)
	}
}

func TestVerifyDeadReportTargetExits3(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/"
	ln.Close()
	rep := verifyFixture(t, dead, 0)
	code, _, stderr := runVerify(t, context.Background(), rep, "--demand", "20/s", "--duration", "500ms", "--deadline", "500ms", "--quiet")
	if code != exitTarget || !strings.Contains(stderr, "target could not be probed") || !strings.Contains(stderr, "--mock SPEC") {
		t.Errorf("exit %d, stderr %q; want 3, saying the target is unusable and how to give another", code, stderr)
	}
}

func TestVerifyInterruptedExits130(t *testing.T) {
	rep := verifyFixture(t, "http://127.0.0.1:1/", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	start := time.Now()
	code, stdout, stderr := runVerify(t, ctx, rep, "--mock", tokenBucketSpec, "--demand", "20/s", "--duration", "10s", "--quiet")
	if code != exitInterrupted || !strings.Contains(stdout, "interrupted") {
		t.Errorf("exit %d, want 130 with the partial table\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v to stop", took)
	}
}

// A report made against the embedded mock is verified against the same
// mock when no target is given: from scenario.target.mock, or, in a report
// written before that field, from its "mock SPEC" URL.
func TestVerifyReplaysTheReportsMock(t *testing.T) {
	for name, target := range map[string]probe.TargetRef{
		"mock field":   {URL: "mock " + tokenBucketSpec, Method: "GET", Mock: tokenBucketSpec},
		"older report": {URL: "mock " + tokenBucketSpec, Method: "GET"},
	} {
		t.Run(name, func(t *testing.T) {
			rep := verifyFixtureOf(t, target, 0)
			code, stdout, stderr := runVerify(t, context.Background(), rep, "--demand", "20/s", "--duration", "1s", "--deadline", "1s",
				"--policy", "recommended,none", "--parallel")
			if code != exitOK {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if !strings.Contains(stdout, "Verification · mock "+tokenBucketSpec) || !strings.Contains(stderr, "a fresh mock per policy") {
				t.Errorf("did not replay against the report's mock:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
			}
		})
	}
}

func TestVerifyFailedWritesExit4(t *testing.T) {
	rep := verifyFixture(t, "http://127.0.0.1:1/", 0)
	args := []string{rep, "--mock", tokenBucketSpec, "--demand", "20/s", "--duration", "500ms", "--deadline", "500ms",
		"--policy", "recommended", "--quiet"}

	// verify.json cannot be created: it is a directory.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "verify.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runVerify(t, context.Background(), append(args, "--out", dir)...)
	if code != exitOutput || !strings.Contains(stderr, "verify.json") {
		t.Errorf("unwritable verify.json: exit %d, stderr %q; want 4 naming the file", code, stderr)
	}

	// stdout fails.
	var errb bytes.Buffer
	if code := cmdVerify(context.Background(), args, failingWriter{}, &errb); code != exitOutput {
		t.Errorf("failing stdout: exit %d, stderr %q; want 4", code, errb.String())
	}
}
