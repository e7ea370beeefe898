package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"limitprobe/report"
	"limitprobe/units"
)

// readReport reads a saved report.json; a missing file or another schema is
// the user's mistake (exit 2).
func readReport(path string) (*report.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	rep, err := report.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rep, nil
}

func cmdReport(_ context.Context, args []string, stdout, stderr io.Writer) int {
	var formats []string
	fs := newFlags("report", "REPORT.json [--format table|json|markdown|html]", `  limitprobe report out/report.json
  limitprobe report out/report.json --format html > report.html
`, stdout)
	fs.StringSliceVarP(&formats, "format", "f", []string{"table"}, "table, json, markdown or html (comma-separated)")
	if code, done := fs.parse(args, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "limitprobe report: name one saved report, e.g. limitprobe report out/report.json")
		return exitUsage
	}
	for _, f := range formats {
		if !slices.Contains(report.Formats, f) {
			fmt.Fprintf(stderr, "limitprobe report: unknown format %q; write one of %s\n", f, strings.Join(report.Formats, ", "))
			return exitUsage
		}
	}
	rep, err := readReport(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "limitprobe report: %v\n", err)
		return exitUsage
	}
	color := isTerminal(stdout) && os.Getenv("NO_COLOR") == ""
	for _, f := range formats {
		if err := report.Write(stdout, rep, f, report.RenderOptions{Color: color && f == report.FormatTable}); err != nil {
			fmt.Fprintf(stderr, "limitprobe report: %v\n", err)
			return exitOutput
		}
	}
	return exitOK
}

func cmdCompare(_ context.Context, args []string, stdout, stderr io.Writer) int {
	var demand, format string
	var names []string
	fs := newFlags("compare", "A.json B.json... [--demand RATE]", `  limitprobe compare free/report.json pro/report.json --demand 40/s
  limitprobe compare a.json b.json --names small,large --format markdown
`, stdout)
	fs.StringVar(&demand, "demand", "", "the rate the service needs, such as 40/s (default: the reports' own demand)")
	fs.StringSliceVar(&names, "names", nil, "column names, comma-separated (default: the scenario names)")
	fs.StringVarP(&format, "format", "f", "table", "table, markdown or json")
	if code, done := fs.parse(args, stderr); done {
		return code
	}
	if fs.NArg() < 2 {
		fmt.Fprintln(stderr, "limitprobe compare: name at least two saved reports, e.g. limitprobe compare a/report.json b/report.json")
		return exitUsage
	}
	if len(names) > 0 && len(names) != fs.NArg() {
		fmt.Fprintf(stderr, "limitprobe compare: --names gives %d names for %d reports; give one per report, in their order, such as --names free,pro\n", len(names), fs.NArg())
		return exitUsage
	}
	var d units.Rate
	if demand != "" {
		var err error
		if d, err = units.ParseRate(demand); err != nil {
			fmt.Fprintf(stderr, "limitprobe compare: --demand: %v\n", err)
			return exitUsage
		}
	}
	var reps []*report.Report
	for _, p := range fs.Args() {
		rep, err := readReport(p)
		if err != nil {
			fmt.Fprintf(stderr, "limitprobe compare: %v\n", err)
			return exitUsage
		}
		reps = append(reps, rep)
	}
	if len(names) == 0 {
		names = defaultNames(fs.Args(), reps)
	}
	verdict, err := report.Compare(stdout, reps, names, d, format)
	if err == nil && format != report.FormatJSON {
		_, err = fmt.Fprintln(stdout, verdict)
	}
	if err != nil {
		fmt.Fprintf(stderr, "limitprobe compare: %v\n", err)
		if errors.Is(err, report.ErrUnknownFormat) {
			return exitUsage
		}
		return exitOutput
	}
	return exitOK
}

// defaultNames labels reports by scenario name, or by their directory when
// two share a name (free/report.json, pro/report.json).
func defaultNames(paths []string, reps []*report.Report) []string {
	seen := map[string]int{}
	for _, r := range reps {
		seen[r.Scenario.Name]++
	}
	names := make([]string, len(reps))
	for i, r := range reps {
		names[i] = r.Scenario.Name
		if seen[r.Scenario.Name] > 1 {
			names[i] = filepath.Base(filepath.Dir(paths[i]))
		}
	}
	return names
}
