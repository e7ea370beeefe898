package advise

import (
	"bytes"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/headers"
	"limitprobe/units"

	"go.yaml.in/yaml/v3"
)

// snippetCase is a recommendation and the estimate it was made from.
type snippetCase struct {
	s   estimate.Summary
	rec Recommendation
}

// snippetCases covers every shape of snippet: rate and Retry-After,
// concurrency without Retry-After, lower bound.
func snippetCases() map[string]snippetCase {
	m := map[string]snippetCase{}
	for name, in := range map[string]struct {
		s     estimate.Summary
		steps []evidence.Step
		adv   *headers.Advertised
	}{
		"tokenbucket": {estimate.Summary{Limited: true, EffectiveLimitRPS: 50.2, OnsetRPS: 60, Burst: 10, Algorithm: estimate.AlgorithmTokenBucket, Confidence: 0.86},
			steps(4, 1, 10, 20, 40, 60, 80, 100), &headers.Advertised{Limit: 50, WindowS: 1, ResetS: 1, RetryAfterS: 1, Source: headers.SourceIETF}},
		"concurrency": {estimate.Summary{Limited: true, EffectiveLimitRPS: 40, OnsetRPS: 120, MaxInFlight: 8, Algorithm: estimate.AlgorithmConcurrency, Confidence: 0.92},
			steps(200, 0, 5, 10, 20, 40, 120, 280), nil},
		"noneobserved": {estimate.Summary{EffectiveLimitRPS: 40, Algorithm: estimate.AlgorithmNoneObserved, LowerBoundOnly: true},
			steps(12, 0, 10, 20, 40), nil},
	} {
		m[name] = snippetCase{s: in.s, rec: Recommend(in.s, in.steps, in.adv, DefaultMargin)}
	}
	return m
}

func snippet(c snippetCase, lang string) string {
	for _, s := range Snippets(c.rec, c.s, "mock-token-bucket", "limitprobe.report/v1") {
		if s.Lang == lang {
			return s.Code
		}
	}
	return ""
}

func TestGoSnippetIsGofmtedGo(t *testing.T) {
	for name, c := range snippetCases() {
		code := snippet(c, "go")
		if _, err := parser.ParseFile(token.NewFileSet(), "client.go", code, parser.ParseComments); err != nil {
			t.Errorf("%s: the Go snippet does not parse: %v\n%s", name, err, code)
			continue
		}
		formatted, err := format.Source([]byte(code))
		if err != nil || string(formatted) != code {
			t.Errorf("%s: the Go snippet is not gofmt'd (err %v)", name, err)
		}
		rec := c.rec
		for want, needed := range map[string]bool{
			"rate.NewLimiter(":    rec.ClientRateRPS > 0,
			"inFlight":            rec.MaxConcurrency > 0,
			"Retry-After":         rec.Retry.HonorRetryAfter,
			"rand.N(d + 1)":       true,
			"budget.allowRetry()": true,
			"maxRetries  = " + strconv.Itoa(rec.Retry.MaxRetries): true,
		} {
			if strings.Contains(code, want) != needed {
				t.Errorf("%s: snippet contains %q: got %t, want %t", name, want, !needed, needed)
			}
		}
	}
}

// TestGoSnippetCompiles vets the Go snippets as a module of their own,
// offline, against the golang.org/x/time in the module cache.
func TestGoSnippetCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	sums, err := os.ReadFile(filepath.Join("..", "go.sum"))
	if err != nil {
		t.Skip("no go.sum beside the package")
	}
	var xtime []string
	for _, l := range strings.Split(string(sums), "\n") {
		if strings.HasPrefix(l, "golang.org/x/time v0.16.0") {
			xtime = append(xtime, l)
		}
	}
	if len(xtime) == 0 {
		t.Skip("golang.org/x/time v0.16.0 is not in go.sum")
	}
	for name, c := range snippetCases() {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(file, s string) {
				if err := os.WriteFile(filepath.Join(dir, file), []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("go.mod", "module snippet\n\ngo 1.26\n\nrequire golang.org/x/time v0.16.0\n")
			write("go.sum", strings.Join(xtime, "\n")+"\n")
			write("client.go", snippet(c, "go"))
			cmd := exec.Command(goBin, "vet", "./...")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				if bytes.Contains(out, []byte("module lookup disabled")) || bytes.Contains(out, []byte("cannot find module")) {
					t.Skipf("golang.org/x/time is not in the module cache: %s", out)
				}
				t.Errorf("go vet of the snippet failed: %v\n%s\n%s", err, out, snippet(c, "go"))
			}
		})
	}
}

func TestPythonSnippetParses(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	for name, c := range snippetCases() {
		code := snippet(c, "python")
		cmd := exec.Command(py, "-c", "import ast, sys; ast.parse(sys.stdin.read())")
		cmd.Stdin = strings.NewReader(code)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: the Python snippet does not parse: %v\n%s\n%s", name, err, out, code)
		}
		r := c.rec.Retry
		for _, want := range []string{"MAX_RETRIES = " + strconv.Itoa(r.MaxRetries), "wait_random_exponential", "stop_after_attempt"} {
			if !strings.Contains(code, want) {
				t.Errorf("%s: the Python snippet lacks %q", name, want)
			}
		}
	}
}

func TestYAMLSnippetMatchesRecommendation(t *testing.T) {
	for name, c := range snippetCases() {
		var got struct {
			Client struct {
				Rate           string `yaml:"rate"`
				Burst          int    `yaml:"burst"`
				MaxConcurrency int    `yaml:"max_concurrency"`
			} `yaml:"client"`
			Retry struct {
				HonorRetryAfter bool    `yaml:"honor_retry_after"`
				BaseDelay       string  `yaml:"base_delay"`
				Multiplier      float64 `yaml:"multiplier"`
				MaxDelay        string  `yaml:"max_delay"`
				Jitter          string  `yaml:"jitter"`
				MaxRetries      int     `yaml:"max_retries"`
				BudgetRatio     float64 `yaml:"budget_ratio"`
			} `yaml:"retry"`
		}
		if err := yaml.Unmarshal([]byte(snippet(c, "yaml")), &got); err != nil {
			t.Errorf("%s: the YAML snippet does not parse: %v", name, err)
			continue
		}
		rec := c.rec
		r := rec.Retry
		if got.Client.Burst != rec.ClientBurst || got.Client.MaxConcurrency != rec.MaxConcurrency ||
			got.Retry.HonorRetryAfter != r.HonorRetryAfter || got.Retry.Multiplier != r.Multiplier || got.Retry.Jitter != r.Jitter ||
			got.Retry.MaxRetries != r.MaxRetries || got.Retry.BudgetRatio != r.BudgetRatio ||
			got.Retry.BaseDelay != goDurationString(r.BaseDelayMS) || got.Retry.MaxDelay != goDurationString(r.MaxDelayMS) {
			t.Errorf("%s: got %+v, want the numbers of %+v", name, got, rec)
		}
		if rec.ClientRateRPS > 0 && got.Client.Rate != units.RateOrDash(rec.ClientRateRPS) {
			t.Errorf("%s: rate: got %q, want %q", name, got.Client.Rate, units.RateOrDash(rec.ClientRateRPS))
		}
	}
}
