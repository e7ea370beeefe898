package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestInvalidScenarioSendsNothing(t *testing.T) {
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer ts.Close()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	src := "name: bad\ntarget:\n  url: " + ts.URL + "/\nprobe:\n  max: 20/x\n"
	if err := os.WriteFile(bad, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "run", "--quiet", bad)
	if code != exitUsage || stdout != "" || !strings.Contains(stderr, bad+":5: probe.max") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 naming %s:5", code, stdout, stderr, bad)
	}
	code, _, stderr = runCLI(t, "probe", ts.URL+"/", "--max", "20/x")
	if code != exitUsage || !strings.Contains(stderr, "--max") {
		t.Fatalf("probe with a bad rate: exit %d, stderr %q", code, stderr)
	}
	for _, tt := range []struct {
		args []string
		say  string
	}{
		{[]string{ts.URL + "/a b"}, "has a space; write %20 in its place"},
		{[]string{ts.URL + "/", "-X", "BAD METHOD"}, `-X: "BAD METHOD" is not an HTTP method`},
		{[]string{ts.URL + "/", "-H", "X-Tenant: a\r\nX-Injected: 1"}, "the value holds a line break"},
		{[]string{ts.URL + "/", "--max-duration", "5s", "--timeout", "6s"}, "lower --timeout or raise --max-duration"},
	} {
		code, stdout, stderr := runCLI(t, append([]string{"probe", "--quiet"}, tt.args...)...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tt.say) {
			t.Errorf("probe %q: exit %d, stdout %q, stderr %q; want exit 2 saying %q", tt.args, code, stdout, stderr, tt.say)
		}
	}
	for i, src := range []string{
		`{"name": "brace", "target": {"url": "` + ts.URL + `/"}}}`,
		`{"name": "one", "target": {"url": "` + ts.URL + `/"}}{"name": "two"}`,
		`{"name": "garbage", "target": {"url": "` + ts.URL + `/"}} garbage`,
	} {
		f := filepath.Join(dir, fmt.Sprintf("bad%d.json", i))
		if err := os.WriteFile(f, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := runCLI(t, "run", "--quiet", f); code != exitUsage || !strings.Contains(stderr, "follows the end of the JSON object") {
			t.Errorf("run %s: exit %d, stderr %q; want exit 2 about what follows the object", src, code, stderr)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the target received %d requests from bad input, want 0", n)
	}
}

func TestRunMockWritesReportAndResults(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "probe", "--mock", "algorithm=token-bucket,rate=40/s,burst=5", "--quiet",
		"--strategy", "steps", "--start", "20/s", "--max", "80/s", "--step", "2s", "--out", dir, "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout)
	}
	if rep["schema"] != "limitprobe.report/v1" {
		t.Errorf("schema = %v", rep["schema"])
	}
	target := rep["scenario"].(map[string]any)["target"].(map[string]any)
	if got, want := target["mock"], "algorithm=token-bucket,rate=40/s,burst=5"; got != want {
		t.Errorf("scenario.target.mock = %v, want %q (verify replays it)", got, want)
	}
	sum := rep["summary"].(map[string]any)
	if lim := sum["effective_limit_rps"].(float64); lim < 36 || lim > 44 {
		t.Errorf("effective_limit_rps = %.1f, want 40 ±10%%", lim)
	}
	for _, f := range []string{"report.json", "report.md", "report.html", "results.bin"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	f, err := os.Open(filepath.Join(dir, "results.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var n int
	for {
		var r vegeta.Result
		if dec.Decode(&r) != nil {
			break
		}
		n++
	}
	if sent := int(rep["requests_sent"].(float64)); n != sent {
		t.Errorf("results.bin holds %d results, report says %d sent", n, sent)
	}
}

// TestInterruptWritesPartialReport runs the real binary, sends SIGINT
// mid-run, and checks exit 130 and a valid partial report.
func TestInterruptWritesPartialReport(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "limitprobe")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "probe", "--mock", "algorithm=token-bucket,rate=100/s,burst=10", "--quiet",
		"--strategy", "steps", "--start", "20/s", "--max", "40/s", "--step", "1500ms", "--out", dir)
	cmd.Stdout, cmd.Stderr = new(strings.Builder), new(strings.Builder)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // the first step has finished
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want code %d; stderr %s", err, exitInterrupted, cmd.Stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Interrupted bool `json:"interrupted"`
		Steps       []struct {
			Requests int `json:"requests"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report.json is not valid JSON: %v", err)
	}
	if !rep.Interrupted || len(rep.Steps) < 1 || rep.Steps[0].Requests < 20 {
		t.Errorf("interrupted %v, steps %+v; want true with the finished first step", rep.Interrupted, rep.Steps)
	}
}
