package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestPlanGolden keeps the dry run of every example scenario as people
// read it, in testdata/plan/NAME.golden; -update rewrites them.
func TestPlanGolden(t *testing.T) {
	t.Setenv("HF_TOKEN", "hf_test_secret_value")
	t.Setenv("API_TOKEN", "api_test_secret_value")
	files, _ := filepath.Glob("scenarios/examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no example scenarios")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "plan", f)
			if code != exitOK {
				t.Fatalf("plan %s: exit %d, stderr: %s", f, code, stderr)
			}
			path := filepath.Join("testdata", "plan", name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test . -run TestPlanGolden -update to create it)", err)
			}
			if stdout != string(want) {
				t.Errorf("plan %s differs from %s:\ngot:\n%s\nwant:\n%s", f, path, stdout, want)
			}
		})
	}
}
