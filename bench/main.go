// Command bench measures limitprobe side by side with its peers, on one
// machine in one run, and prints a Markdown table for each measurement:
//
//  1. accuracy and cost of finding a limit: limitprobe's auto strategy
//     against a breakpoint ramp built on vegeta's library (accuracy.go);
//  2. generator headroom: the highest rate limitprobe's attack path sustains
//     against raw vegeta at the same schedule, with wrk as the machine's
//     ceiling (headroom.go);
//  3. mock throughput with limiting on against nginx limit_req, both driven
//     by wrk (throughput.go);
//  4. peak memory of a probe of 100k, 300k and 1M requests, against a vegeta
//     library program that aggregates the same requests (memory.go);
//  5. Go micro-benchmarks of the hot paths, with allocations (gobench.go);
//  6. limitprobe simulate replaying a day of 1M and 10M timestamps offline:
//     seconds and peak memory (simulate.go).
//
// `make bench` runs it after bench/setup.sh has installed nginx and wrk;
// BENCH_QUICK=1 (or -quick) runs a subset in a few minutes. Everything runs
// on loopback, is bounded in requests and time, and stops by itself.
//
// This program imports vegeta directly (the rest of limitprobe leaves that
// to package probe) because its baselines are, by definition, plain vegeta.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command line of bench.
type options struct {
	quick  bool
	only   string
	tables []int
	write  string // file to write the Markdown to; "" for none
	keep   string // directory for the evidence of table 1's wrong readings; "" for none
}

func main() {
	// The memory table runs this same binary as its vegeta baseline.
	if len(os.Args) > 1 && os.Args[1] == vegetaChildCmd {
		os.Exit(vegetaChild(os.Args[2:], os.Stdout, os.Stderr))
	}
	var o options
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	fs.BoolVar(&o.quick, "quick", os.Getenv("BENCH_QUICK") != "", "run the quick subset (also BENCH_QUICK=1)")
	fs.StringVar(&o.only, "only", "", "table 1: run only cases whose name contains this, or one of these comma-separated parts (alone, it selects table 1 only)")
	fs.StringVar(&o.keep, "keep", os.Getenv("BENCH_KEEP"), "table 1: write the evidence of each reading auto gets wrong to this directory, as estimate's recorded runs (also BENCH_KEEP)")
	tables := fs.String("tables", os.Getenv("BENCH_TABLES"), "comma-separated tables to run, e.g. 2,3 (default all; also BENCH_TABLES)")
	write := fs.Bool("write", os.Getenv("BENCH_WRITE") != "", "also write the Markdown to bench/RESULTS.md (also BENCH_WRITE=1)")
	fs.Parse(os.Args[1:])
	if *tables == "" && o.only != "" {
		*tables = "1"
	}
	var err error
	if o.tables, err = parseTables(*tables); err != nil {
		fmt.Fprintf(os.Stderr, "bench: -tables: %v\n", err)
		os.Exit(2)
	}
	if *write {
		root, err := moduleRoot()
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			os.Exit(2)
		}
		o.write = filepath.Join(root, "bench", "RESULTS.md")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Stdout, os.Stderr, o))
}

// nTables is how many tables bench measures.
const nTables = 6

// allTables is 1 … nTables.
func allTables() []int {
	ts := make([]int, nTables)
	for i := range ts {
		ts[i] = i + 1
	}
	return ts
}

func parseTables(s string) ([]int, error) {
	if s == "" {
		return allTables(), nil
	}
	var ts []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > nTables {
			return nil, fmt.Errorf("%q is not a table; write numbers from 1 to %d such as 2,3", f, nTables)
		}
		ts = append(ts, n)
	}
	return ts, nil
}

// env is what every table needs: where to write, where progress goes, the
// machine, and the limitprobe binary the process-level tables run.
type env struct {
	w, log  io.Writer
	quick   bool
	mode    string // the command that runs these tables, for the headings
	machine string
	tmp     string            // scratch directory, removed at the end
	root    string            // module root
	bin     string            // built limitprobe binary; "" until built
	tests   map[string]string // package ("./probe") → its compiled test binary
	// sustained is the highest rate both generators sustained in table 2,
	// requests per second; 0 when table 2 did not run.
	sustained float64
}

// binary builds limitprobe once, into the scratch directory.
func (e *env) binary(ctx context.Context) (string, error) {
	if e.bin != "" {
		return e.bin, nil
	}
	out := filepath.Join(e.tmp, "limitprobe")
	if err := command(ctx, e.root, "go", "build", "-o", out, ".").Run(); err != nil {
		return "", fmt.Errorf("building limitprobe: %w", err)
	}
	e.bin = out
	return out, nil
}

func run(ctx context.Context, stdout, stderr io.Writer, o options) int {
	began := time.Now()
	var header bytes.Buffer
	w := io.MultiWriter(stdout, &header)
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	tmp, err := os.MkdirTemp("", "limitprobe-bench")
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	defer os.RemoveAll(tmp)
	e := &env{w: w, log: stderr, quick: o.quick, machine: machineSummary(), tmp: tmp, root: root}

	mode := "make bench"
	if o.only != "" {
		mode = fmt.Sprintf("go run ./bench -only %q", o.only)
	} else if len(o.tables) < nTables {
		mode = "BENCH_TABLES=" + strings.Trim(strings.Join(strings.Fields(fmt.Sprint(o.tables)), ","), "[]") + " " + mode
	}
	if o.quick {
		mode = "BENCH_QUICK=1 " + mode
	}
	e.mode = mode
	fmt.Fprintf(w, "# limitprobe benchmarks\n\nMeasured by `make bench` (bench/main.go) on one machine: %s. Each table says when and by which command it was last measured.\n", e.machine)

	// Build everything first, so that every table measures the same code
	// even while the tree changes during a 20-minute run.
	if slices.ContainsFunc(o.tables, func(n int) bool { return n >= 2 && n <= 4 || n == 6 }) {
		if _, err := e.binary(ctx); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
	}
	if slices.Contains(o.tables, 5) {
		if err := e.buildTests(ctx); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
	}

	code := 0
	sections := map[int]string{} // table → its Markdown
	for _, t := range []struct {
		n   int
		run func(context.Context, *env, options) int
	}{{1, accuracyTable}, {2, headroomTable}, {3, throughputTable}, {4, memoryTable}, {5, goBenchTable}, {6, simulateTable}} {
		if !slices.Contains(o.tables, t.n) || ctx.Err() != nil {
			continue
		}
		t0 := time.Now()
		fmt.Fprintf(stderr, "bench: table %d...\n", t.n)
		var sec bytes.Buffer
		e.w = io.MultiWriter(stdout, &sec)
		fmt.Fprintln(e.w)
		code = max(code, t.run(ctx, e, o))
		fmt.Fprintf(e.w, "\nTable %d took %s.\n", t.n, time.Since(t0).Round(time.Second))
		sections[t.n] = sec.String()
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "bench: interrupted")
		return 130
	}
	trailer := fmt.Sprintf("\n%s took %s.\n", allOrSome(o.tables), time.Since(began).Round(time.Second))
	fmt.Fprint(stdout, trailer)
	if o.write != "" {
		old, err := os.ReadFile(o.write)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return max(code, 1)
		}
		md := mergeResults(string(old), header.String(), sections)
		if len(sections) == nTables {
			md += trailer
		}
		if err := os.WriteFile(o.write, []byte(md), 0o644); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return max(code, 1)
		}
		fmt.Fprintf(stderr, "bench: wrote %s\n", o.write)
		readme := filepath.Join(filepath.Dir(filepath.Dir(o.write)), "README.md")
		if err := writeReadme(readme, md); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return max(code, 1)
		}
		fmt.Fprintf(stderr, "bench: wrote table 1 into %s\n", readme)
	}
	return code
}

func allOrSome(tables []int) string {
	if len(tables) == nTables {
		return "All tables"
	}
	return "The tables"
}

// The README holds table 1 of bench/RESULTS.md between these lines,
// written there by the bench, never by hand.
const (
	readmeBegin = "<!-- table 1 of bench/RESULTS.md, written by BENCH_WRITE=1 go run ./bench -->"
	readmeEnd   = "<!-- end of table 1 -->"
)

// writeReadme puts table 1 of results (RESULTS.md's text) into the README
// at path, between readmeBegin and readmeEnd, its own heading left out.
func writeReadme(path, results string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	md, err := spliceTable1(string(old), results)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(md), 0o644)
}

// spliceTable1 is readme with table 1 of results between its markers.
func spliceTable1(readme, results string) (string, error) {
	i, j := strings.Index(readme, readmeBegin), strings.Index(readme, readmeEnd)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %q … %q lines to write table 1 between", readmeBegin, readmeEnd)
	}
	var table strings.Builder
	in := false
	for _, l := range strings.SplitAfter(results, "\n") {
		if m := sectionHead.FindStringSubmatch(l); m != nil {
			in = m[1] == "1"
			continue
		}
		if in {
			table.WriteString(l)
		}
	}
	if table.Len() == 0 {
		return "", errors.New("the results hold no table 1")
	}
	return readme[:i+len(readmeBegin)] + "\n" + strings.Trim(table.String(), "\n") + "\n" + readme[j:], nil
}

// sectionHead matches the first line of a table's section: "## 2. ...".
var sectionHead = regexp.MustCompile(`^## ([1-9])\. `)

// mergeResults is the Markdown of a results file: header, then for each
// table the section just measured, or else the one old already had, so
// that refreshing some tables (BENCH_TABLES=1) keeps the others. Each
// section carries its own date and command.
func mergeResults(old, header string, fresh map[int]string) string {
	kept := map[int]string{}
	n := 0
	var cur strings.Builder
	flush := func() {
		if n > 0 {
			kept[n] = cur.String()
		}
		cur.Reset()
	}
	for _, l := range strings.SplitAfter(old, "\n") {
		if m := sectionHead.FindStringSubmatch(l); m != nil {
			flush()
			n = int(m[1][0] - '0')
			cur.WriteString("\n")
		}
		if n > 0 && !strings.HasPrefix(l, "All tables took ") {
			cur.WriteString(l)
		}
	}
	flush()
	var b strings.Builder
	b.WriteString(header)
	for t := 1; t <= nTables; t++ {
		sec, ok := fresh[t]
		if !ok {
			sec, ok = kept[t]
		}
		if ok {
			b.WriteString("\n" + strings.Trim(sec, "\n") + "\n")
		}
	}
	return b.String()
}

// heading prints a table's title and the line that says where and when it
// was measured.
func heading(e *env, n int, title string) {
	if e.quick {
		title += " (quick subset)"
	}
	fmt.Fprintf(e.w, "## %d. %s\n\n%s, `%s`, %s.\n", n, title, time.Now().UTC().Format("2006-01-02 15:04 UTC"), e.mode, e.machine)
}

// machineSummary is "go1.26.8, Intel(R) Xeon(R) Processor, 2 cores, 23 GiB,
// Debian GNU/Linux 12 (bookworm), Linux 6.1.0".
func machineSummary() string {
	parts := []string{runtime.Version(), cpuModel(), fmt.Sprintf("%d cores", runtime.NumCPU())}
	if kb := meminfoKB("MemTotal"); kb > 0 {
		parts = append(parts, fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20)))
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				parts = append(parts, strings.Trim(v, `"`))
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		parts = append(parts, "Linux "+strings.TrimSpace(string(b)))
	}
	return strings.Join(parts, ", ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOOS + "/" + runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			return strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
		}
	}
	return runtime.GOOS + "/" + runtime.GOARCH
}

func meminfoKB(key string) int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// moduleRoot is the directory of limitprobe's go.mod.
func moduleRoot() (string, error) {
	out, err := command(context.Background(), "", "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run bench from inside the limitprobe module (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}
