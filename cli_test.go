package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"limitprobe/mock"
)

// runCLI runs limitprobe with args and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// invalidCase is one malformed scenario and where its problem must be reported.
type invalidCase struct {
	file string
	line int
	text string // the key (or words) the message must name
}

// invalidCases reads testdata/invalid: the want comment on a file's first
// line, or want.txt for files that cannot hold a comment.
func invalidCases(t *testing.T) []invalidCase {
	t.Helper()
	files, err := filepath.Glob("testdata/invalid/*.*")
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]invalidCase{}
	wf, err := os.ReadFile("testdata/invalid/want.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(wf)), "\n") {
		f := strings.SplitN(l, " ", 3)
		n, _ := strconv.Atoi(f[1])
		table[f[0]] = invalidCase{file: f[0], line: n, text: f[2]}
	}
	var cases []invalidCase
	for _, f := range files {
		base := filepath.Base(f)
		if base == "want.txt" {
			continue
		}
		c, ok := table[base]
		if !ok {
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(fh)
			sc.Scan()
			fh.Close()
			want, found := strings.CutPrefix(sc.Text(), "# want: ")
			if !found {
				t.Fatalf("%s: no '# want: LINE TEXT' comment and no entry in want.txt", f)
			}
			parts := strings.SplitN(want, " ", 2)
			n, err := strconv.Atoi(parts[0])
			if err != nil || len(parts) != 2 {
				t.Fatalf("%s: malformed want comment %q", f, want)
			}
			c = invalidCase{line: n, text: parts[1]}
		}
		c.file = f
		cases = append(cases, c)
	}
	if len(cases) < 25 {
		t.Fatalf("got %d invalid scenarios, want at least 25", len(cases))
	}
	return cases
}

func TestInvalidScenariosExit2WithLocation(t *testing.T) {
	for _, c := range invalidCases(t) {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "plan", c.file)
			if code != exitUsage {
				t.Fatalf("exit code %d, want %d\nstderr: %s", code, exitUsage, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing for a bad scenario", stdout)
			}
			prefix := c.file + ":"
			if c.line > 0 {
				prefix += strconv.Itoa(c.line) + ": "
			}
			var hit string
			for _, l := range strings.Split(stderr, "\n") {
				if strings.HasPrefix(l, prefix) && strings.Contains(l, c.text) {
					hit = l
				}
			}
			if hit == "" {
				t.Fatalf("stderr has no line starting %q and naming %q:\n%s", prefix, c.text, stderr)
			}
			if !strings.Contains(hit, ";") && !strings.Contains(hit, "?") && !strings.Contains(hit, "invalid YAML") {
				t.Errorf("message %q says what is wrong but not what to write instead", hit)
			}
		})
	}
}

func TestExamplesPlanCleanly(t *testing.T) {
	t.Setenv("HF_TOKEN", "hf_test_secret_value")
	t.Setenv("API_TOKEN", "api_test_secret_value")
	files, _ := filepath.Glob("scenarios/examples/*.yaml")
	if len(files) < 4 {
		t.Fatalf("got %d examples, want at least 4", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "plan", f)
			if code != exitOK {
				t.Fatalf("plan %s: exit %d, stderr: %s", f, code, stderr)
			}
			if !strings.Contains(stdout, "nothing was sent") || !strings.Contains(stdout, "requests:") {
				t.Errorf("plan output lacks the cost summary:\n%s", stdout)
			}
			if strings.Contains(stdout+stderr, "test_secret_value") {
				t.Errorf("a secret from the environment was printed:\n%s%s", stdout, stderr)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantText string
	}{
		{nil, exitUsage, "Commands:"},
		{[]string{"--help"}, exitOK, "Commands:"},
		{[]string{"plx"}, exitUsage, `did you mean "plan"`},
		{[]string{"plan"}, exitUsage, "name at least one scenario"},
		{[]string{"plan", "--bogus"}, exitUsage, "unknown flag: --bogus"},
		{[]string{"plan", "--help"}, exitOK, "Usage: limitprobe plan"},
		{[]string{"help", "plan"}, exitOK, "Usage: limitprobe plan"},
		{[]string{"plan", "testdata/no-such-file.yaml"}, exitUsage, "cannot read the scenario"},
		{[]string{"version"}, exitOK, "limitprobe " + toolVersion},
		{[]string{"probe", ""}, exitUsage, "name one URL"}, // an empty URL once panicked
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stdout+stderr, tt.wantText) {
				t.Errorf("output lacks %q:\n%s%s", tt.wantText, stdout, stderr)
			}
		})
	}
}

// TestMockFlagsCoverKeys: every key of the mock's vocabulary, which a
// scenario's mock and --mock take, is a flag of limitprobe mock too.
func TestMockFlagsCoverKeys(t *testing.T) {
	for _, k := range mock.Keys {
		name := strings.ReplaceAll(k, "_", "-")
		if !slices.ContainsFunc(mockFlags, func(f struct{ name, usage string }) bool { return f.name == name }) {
			t.Errorf("mock key %s has no flag --%s", k, name)
		}
	}
	code, _, stderr := runCLI(t, "mock", "--algorithm", "fixed-window", "--limit", "5", "--window", "1s", "--count", "rounded")
	if code != exitUsage || !strings.Contains(stderr, "--count") {
		t.Errorf("--count rounded on a fixed window: exit %d, %q; want %d naming --count", code, stderr, exitUsage)
	}
}
