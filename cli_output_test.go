package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// failingWriter fails every write, as a closed pipe or a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// quickProbe is a short probe of the embedded mock.
var quickProbe = []string{"probe", "--mock", "algorithm=token-bucket,rate=40/s,burst=5", "--quiet",
	"--strategy", "steps", "--start", "20/s", "--max", "20/s", "--step", "500ms"}

// A report that could not be written fails the command with exit 4, so a
// CI gate never passes without its report.
func TestRunFailedWritesExit4(t *testing.T) {
	t.Run("report file", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "report.json"), 0o755); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCLI(t, append(quickProbe, "--out", dir)...)
		if code != exitOutput || !strings.Contains(stderr, "report.json") {
			t.Errorf("exit %d, stderr %q; want 4 naming report.json", code, stderr)
		}
	})
	t.Run("results.bin", func(t *testing.T) {
		if _, err := os.Stat("/dev/full"); err != nil {
			t.Skip("no /dev/full")
		}
		dir := t.TempDir()
		if err := os.Symlink("/dev/full", filepath.Join(dir, "results.bin")); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCLI(t, append(quickProbe, "--out", dir)...)
		if code != exitOutput || !strings.Contains(stderr, "results.bin") {
			t.Errorf("exit %d, stderr %q; want 4 naming results.bin", code, stderr)
		}
	})
	t.Run("stdout", func(t *testing.T) {
		var errb bytes.Buffer
		if code := run(context.Background(), quickProbe, failingWriter{}, &errb); code != exitOutput {
			t.Errorf("exit %d, stderr %q; want 4", code, errb.String())
		}
	})
}

func TestReadersFailedStdoutExit4(t *testing.T) {
	dir := t.TempDir()
	a := writeReport(t, dir, "a", 30)
	b := writeReport(t, dir, "b", 60)
	for _, args := range [][]string{
		{"report", a},
		{"compare", a, b},
		{"compare", a, b, "--format", "json"},
		{"plan", "scenarios/examples/mock-token-bucket.yaml"},
	} {
		var errb bytes.Buffer
		if code := run(context.Background(), args, failingWriter{}, &errb); code != exitOutput {
			t.Errorf("%v: exit %d, stderr %q; want 4", args, code, errb.String())
		}
	}
	if code, _, stderr := runCLI(t, "compare", a, b, "--format", "html"); code != exitUsage || !strings.Contains(stderr, "unknown format") {
		t.Errorf("compare --format html: exit %d, stderr %q; want 2", code, stderr)
	}
}
