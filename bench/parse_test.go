package main

import (
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	out := `Running 5s test @ http://127.0.0.1:44507/api
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms    1.62ms  17.79ms   87.62%
    Req/Sec    58.08k     6.41k   72.10k    66.00%
  578038 requests in 5.00s, 66.15MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 573001
Requests/sec: 115555.25
Transfer/sec:     13.22MB
`
	got, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{rps: 115555.25, requests: 578038, non2xx: 573001, errors: 3}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused"); err == nil {
		t.Error("got no error for output without Requests/sec")
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
pkg: limitprobe/probe
BenchmarkRecorderAdd/ok-2         	 2040492	       118.6 ns/op	       1 B/op	       0 allocs/op
BenchmarkRecorderAdd/ok-2         	 2040492	       120.0 ns/op	       1 B/op	       0 allocs/op
BenchmarkRecorderAdd/ok-2         	 2040492	       500.0 ns/op	       3 B/op	       0 allocs/op
BenchmarkEstimate-2                       	   26442	      8914 ns/op	   17722 B/op	      80 allocs/op
PASS
pkg: limitprobe/mock
BenchmarkAdmit/none-2                    	12460518	        18.90 ns/op	       0 B/op	       0 allocs/op
`
	rows := parseGoBench(out)
	if len(rows) != 3 {
		t.Fatalf("got %d benchmarks, want 3", len(rows))
	}
	tests := []struct {
		pkg, name     string
		ns, b, allocs float64
	}{
		{"probe", "BenchmarkRecorderAdd/ok-2", 120, 1, 0},
		{"probe", "BenchmarkEstimate-2", 8914, 17722, 80},
		{"mock", "BenchmarkAdmit/none-2", 18.9, 0, 0},
	}
	for i, tt := range tests {
		r := rows[i]
		if r.pkg != tt.pkg || r.name != tt.name || median(r.ns) != tt.ns || median(r.bytes) != tt.b || median(r.allocs) != tt.allocs {
			t.Errorf("row %d: got %s %s %v %v %v, want %+v", i, r.pkg, r.name, median(r.ns), median(r.bytes), median(r.allocs), tt)
		}
	}
}

func TestMedianAndBracket(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v): got %v, want %v", tt.xs, got, tt.want)
		}
	}
	ps := []point{{rate: 2000, ok: true}, {rate: 20000, ok: true}, {rate: 40000}, {rate: 28300}, {rate: 23800, ok: true}}
	if lo, hi := bracket(ps); lo != 23800 || hi != 28300 {
		t.Errorf("bracket: got %v..%v, want 23800..28300", lo, hi)
	}
	if lo, hi := bracket([]point{{rate: 5000, ok: true}}); lo != 5000 || hi != 0 {
		t.Errorf("bracket of an all-sustained ladder: got %v..%v, want 5000..0", lo, hi)
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{100_000: "100k", 300_000: "300k", 1_000_000: "1M", 1_500_000: "1.5M", 999: "999"} {
		if got := count(n); got != want {
			t.Errorf("count(%d): got %q, want %q", n, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	got, err := parseTime("Command exited with non-zero status 1\n36420 5.00 3.10 1.20\n")
	if err != nil {
		t.Fatal(err)
	}
	want := usage{wall: 5 * time.Second, cpu: 4300 * time.Millisecond, maxRSSKB: 36420}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseTime("garbage"); err == nil {
		t.Error("got no error for output that is not four numbers")
	}
}

func TestMergeResults(t *testing.T) {
	old := "# limitprobe benchmarks\n\nold header.\n\n## 1. Accuracy\n\nold one.\n\n## 2. Headroom\n\nold two.\n\nAll tables took 18m.\n"
	header := "# limitprobe benchmarks\n\nnew header.\n"
	tests := []struct {
		name  string
		old   string
		fresh map[int]string
		want  string
	}{
		{"refresh one table", old, map[int]string{1: "\n## 1. Accuracy\n\nnew one.\n"},
			header + "\n## 1. Accuracy\n\nnew one.\n\n## 2. Headroom\n\nold two.\n"},
		{"add a table the file lacked", old, map[int]string{3: "\n## 3. Throughput\n\nthree.\n"},
			header + "\n## 1. Accuracy\n\nold one.\n\n## 2. Headroom\n\nold two.\n\n## 3. Throughput\n\nthree.\n"},
		{"no file yet", "", map[int]string{2: "\n## 2. Headroom\n\ntwo.\n"},
			header + "\n## 2. Headroom\n\ntwo.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mergeResults(tt.old, header, tt.fresh); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestSpliceTable1(t *testing.T) {
	results := "# limitprobe benchmarks\n\n## 1. Accuracy\n\nwhen\n\n| a |\n|---|\n\nTable 1 took 1s.\n\n## 2. Generator\n\nother\n"
	readme := "intro\n" + readmeBegin + "\nstale\n" + readmeEnd + "\nafter\n"
	got, err := spliceTable1(readme, results)
	if err != nil {
		t.Fatal(err)
	}
	want := "intro\n" + readmeBegin + "\nwhen\n\n| a |\n|---|\n\nTable 1 took 1s.\n" + readmeEnd + "\nafter\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := spliceTable1("no markers", results); err == nil {
		t.Error("a README without markers was written")
	}
	if _, err := spliceTable1(readme, "## 2. Generator\n"); err == nil {
		t.Error("results without table 1 were written")
	}
}
