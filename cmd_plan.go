package main

import (
	"context"
	"fmt"
	"io"

	"limitprobe/report"
	"limitprobe/scenarios"
)

func cmdPlan(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("plan", "SCENARIO.yaml...", `  limitprobe plan scenarios/examples/nginx-limit-req.yaml
`, stdout)
	if code, done := fs.parse(args, stderr); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "limitprobe plan: name at least one scenario file, e.g. limitprobe plan scenarios/examples/mock-token-bucket.yaml")
		return exitUsage
	}
	loaded, code := loadScenarios(fs.Args(), stderr)
	if code != exitOK {
		return code
	}
	for i, sc := range loaded {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := report.WritePlan(stdout, sc, scenarios.MakePlan(sc)); err != nil {
			fmt.Fprintf(stderr, "limitprobe plan: %v\n", err)
			return exitOutput
		}
	}
	return exitOK
}

// loadScenarios reads every file, reporting every problem of every file
// before giving up, so a user fixes them in one pass.
func loadScenarios(paths []string, stderr io.Writer) ([]*scenarios.Scenario, int) {
	var out []*scenarios.Scenario
	code := exitOK
	for _, p := range paths {
		sc, err := scenarios.Load(p, scenarioOptions())
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = exitUsage
			continue
		}
		out = append(out, sc)
	}
	return out, code
}

// scenarioOptions are the options every command reads scenarios with.
func scenarioOptions() scenarios.Options {
	return scenarios.Options{}
}
