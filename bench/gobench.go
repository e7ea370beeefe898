package main

import (
	"bufio"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// goBenchPlan is what table 5 asks of go test.
type goBenchPlan struct {
	pattern   string
	count     int
	benchtime string
}

func (e *env) goBenchPlan() goBenchPlan {
	if e.quick {
		return goBenchPlan{pattern: "^(BenchmarkRecorderAdd|BenchmarkParse|BenchmarkAdmit)$", count: 1, benchtime: "100ms"}
	}
	return goBenchPlan{pattern: ".", count: 3, benchtime: "200ms"}
}

// goBenchPackages hold the hot paths: the recorder and header parsing in
// probe, admission and serving in mock.
var goBenchPackages = []string{"./probe", "./headers", "./mock"}

// buildTests compiles the test binaries of goBenchPackages.
func (e *env) buildTests(ctx context.Context) error {
	e.tests = map[string]string{}
	for _, pkg := range goBenchPackages {
		bin := filepath.Join(e.tmp, filepath.Base(pkg)+".test")
		if out, err := command(ctx, e.root, "go", "test", "-c", "-o", bin, pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("go test -c %s: %w: %s", pkg, err, out)
		}
		e.tests[pkg] = bin
	}
	return nil
}

// goBenchTable is table 5: go test -bench for the hot paths, medians over
// count runs, with allocations.
func goBenchTable(ctx context.Context, e *env, o options) int {
	w := e.w
	pl := e.goBenchPlan()
	heading(e, 5, "Go micro-benchmarks of the hot paths")
	args := []string{"-test.run", "^$", "-test.bench", pl.pattern, "-test.benchmem", "-test.benchtime", pl.benchtime,
		"-test.count", strconv.Itoa(pl.count)}
	fmt.Fprintf(w, "`go test -run '^$' -bench '%s' -benchmem -benchtime %s -count %d %s` (test binaries built before table 1); "+
		"the median of %d run(s) per benchmark. The -N suffix is GOMAXPROCS.\n\n",
		pl.pattern, pl.benchtime, pl.count, strings.Join(goBenchPackages, " "), pl.count)
	var out strings.Builder
	for _, pkg := range goBenchPackages {
		cmd := command(ctx, filepath.Join(e.root, pkg), e.tests[pkg], args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(w, "error: %s %s: %v\n\n```\n%s\n```\n", pkg, strings.Join(args, " "), err, lastLines(out.String(), 20))
			return 1
		}
	}
	rows := parseGoBench(out.String())
	fmt.Fprintln(w, "| package | benchmark | ns/op | ops/s | B/op | allocs/op |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f | %.0f |\n", r.pkg, r.name, nsop(median(r.ns)), opsPerSec(median(r.ns)), median(r.bytes), median(r.allocs))
	}
	fmt.Fprintln(w, "\nBenchmarkRecorderAdd is the per-result cost of aggregation (probe/record.go): what every response costs the prober once it is back.")
	return 0
}

// goBench is one benchmark's runs.
type goBench struct {
	pkg, name         string
	ns, bytes, allocs []float64
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+)\s+\d+\s+([0-9.]+) ns/op(?:\s+([0-9.]+) B/op)?(?:\s+([0-9.]+) allocs/op)?`)

// parseGoBench reads go test -bench output, keeping the order benchmarks
// first appear in and gathering repeated runs.
func parseGoBench(out string) []*goBench {
	var rows []*goBench
	byKey := map[string]*goBench{}
	pkg := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if p, ok := strings.CutPrefix(l, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), "limitprobe/")
			continue
		}
		m := benchLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		key := pkg + " " + m[1]
		b := byKey[key]
		if b == nil {
			b = &goBench{pkg: pkg, name: m[1]}
			byKey[key] = b
			rows = append(rows, b)
		}
		f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		b.ns = append(b.ns, f(m[2]))
		b.bytes = append(b.bytes, f(m[3]))
		b.allocs = append(b.allocs, f(m[4]))
	}
	return rows
}

func nsop(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e4:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	case ns >= 100:
		return fmt.Sprintf("%.0f ns", ns)
	}
	return fmt.Sprintf("%.1f ns", ns)
}

func opsPerSec(ns float64) string {
	if ns <= 0 {
		return "—"
	}
	ops := 1e9 / ns
	switch {
	case ops >= 1e6:
		return fmt.Sprintf("%.1fM", ops/1e6)
	case ops >= 1e3:
		return fmt.Sprintf("%.0fk", ops/1e3)
	}
	return fmt.Sprintf("%.0f", ops)
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}
