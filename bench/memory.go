package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// vegetaChildCmd is the hidden first argument that makes this binary the
// vegeta baseline of table 4 instead of the bench.
const vegetaChildCmd = "vegeta-attack"

// vegetaChild attacks -url at -rate for at most -n requests and -dur,
// aggregating every result into vegeta.Metrics as a vegeta script would,
// and prints {"requests":N,"success":S} on stdout. It runs in its own
// process so its peak RSS is its own.
func vegetaChild(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(vegetaChildCmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "target")
	rate := fs.Int("rate", 0, "requests per second")
	n := fs.Uint64("n", 0, "requests")
	dur := fs.Duration("dur", 0, "longest attack")
	if err := fs.Parse(args); err != nil || *url == "" || *rate <= 0 || *n == 0 || *dur <= 0 {
		fmt.Fprintln(stderr, "usage: bench vegeta-attack -url URL -rate R -n N -dur D")
		return 2
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: vegeta.DefaultConnections,
	}
	atk := vegeta.NewAttacker(vegeta.Client(&http.Client{Timeout: vegeta.DefaultTimeout, Transport: tr}))
	p := cappedPacer{ConstantPacer: vegeta.ConstantPacer{Freq: *rate, Per: time.Second}, max: *n}
	var m vegeta.Metrics
	for res := range atk.Attack(vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: *url}), p, *dur, "memory") {
		m.Add(res)
	}
	m.Close()
	json.NewEncoder(stdout).Encode(map[string]any{"requests": m.Requests, "success": m.Success})
	return 0
}

// cappedPacer is vegeta's ConstantPacer that stops after max requests, as
// limitprobe's --max-requests does.
type cappedPacer struct {
	vegeta.ConstantPacer
	max uint64
}

func (p cappedPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.max {
		return 0, true
	}
	return p.ConstantPacer.Pace(elapsed, hits)
}

// memRun is one measured process.
type memRun struct {
	requests int64
	u        usage
	err      error
}

// memoryTable is table 4: the peak RSS of a limitprobe probe process as
// its request count grows, beside a vegeta library program doing the same.
func memoryTable(ctx context.Context, e *env, o options) int {
	w := e.w
	heading(e, 4, "Memory: peak RSS of a probe of 100k, 300k and 1M requests")
	sizes, vegetaSizes := []int{100_000, 300_000, 1_000_000}, []int{100_000}
	if e.quick {
		sizes, vegetaSizes = []int{100_000}, nil
	}
	// Well under the short-term maximum of table 2: near it, an open-loop
	// generator on a shared machine tips over within tens of seconds, and
	// its goroutines and buffers, not its aggregation, would fill memory.
	rate := 10000.0
	if e.sustained > 0 {
		rate = math.Max(1000, math.Min(rate, math.Floor(0.6*e.sustained/1000)*1000))
	}
	bin, err := e.timedBinary(ctx)
	if err != nil {
		fmt.Fprintf(w, "\nerror: %v\n", err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(w, "\nerror: %v\n", err)
		return 1
	}
	timeOut := filepath.Join(e.tmp, "time.out")
	m, err := e.mock(ctx, "--algorithm", "none")
	if err != nil {
		fmt.Fprintf(w, "\nerror: %v\n", err)
		return 1
	}
	defer m.Stop()
	url := m.URL + "/"
	fmt.Fprintf(w, "Each probe is its own process, measured by GNU time (`/usr/bin/time`: peak RSS is its \"Maximum resident set size\"; CPU is user + system). "+
		"Target: `limitprobe mock --algorithm none` in another process, so only the prober is counted. Open loop at %s/s until N requests (at most 60%% of the rate sustained in table 2: closer to it, an open-loop generator sharing 2 cores with its target tips over within a minute, and its piled-up goroutines, not its aggregation, fill memory); one run each. "+
		"%s\n\n", kilo(rate), vegetaScope(vegetaSizes))
	fmt.Fprintf(w, "- limitprobe: `limitprobe probe URL --strategy steps --start %[1]g/s --max %[1]g/s --max-rate %[1]g/s --step ⌈1.3·N/rate⌉s --max-requests N --quiet --format json` (the whole command: probe, estimate, report).\n", rate)
	fmt.Fprintf(w, "- vegeta: a Go program on vegeta's library (`NewAttacker` defaults, `ConstantPacer` stopped at N, every result added to `vegeta.Metrics`), as a vegeta script would be.\n\n")

	lp := map[int]memRun{}
	vg := map[int]memRun{}
	inFlight := map[int]int{} // limitprobe's most requests outstanding
	for _, n := range sizes {
		if ctx.Err() != nil {
			break
		}
		step := time.Duration(math.Ceil(1.3*float64(n)/rate)) * time.Second
		r := fmt.Sprintf("%g/s", rate)
		cctx, cancel := context.WithTimeout(ctx, step+time.Minute)
		cmd := measured(cctx, timeOut, bin, "probe", url, "--strategy", "steps", "--start", r, "--max", r, "--max-rate", r,
			"--step", step.String(), "--max-requests", strconv.Itoa(n), "--max-duration", (step + 30*time.Second).String(), "--quiet", "--format", "json")
		lp[n] = measureProbe(cmd, timeOut, func(b []byte) (int64, error) {
			var rep struct {
				RequestsSent int64 `json:"requests_sent"`
				Steps        []struct {
					MaxInFlight int `json:"max_in_flight"`
				} `json:"steps"`
			}
			err := json.Unmarshal(b, &rep)
			for _, st := range rep.Steps {
				inFlight[n] = max(inFlight[n], st.MaxInFlight)
			}
			return rep.RequestsSent, err
		})
		cancel()
		fmt.Fprintf(e.log, "bench: memory limitprobe %d: %d KB, %s\n", n, lp[n].u.maxRSSKB, lp[n].u.wall.Round(time.Millisecond))
		if !slices.Contains(vegetaSizes, n) || ctx.Err() != nil {
			continue
		}
		cctx, cancel = context.WithTimeout(ctx, step+time.Minute)
		cmd = measured(cctx, timeOut, self, vegetaChildCmd, "-url", url, "-rate", strconv.Itoa(int(rate)), "-n", strconv.Itoa(n), "-dur", step.String())
		vg[n] = measureProbe(cmd, timeOut, func(b []byte) (int64, error) {
			var rep struct {
				Requests int64 `json:"requests"`
			}
			err := json.Unmarshal(b, &rep)
			return rep.Requests, err
		})
		cancel()
		fmt.Fprintf(e.log, "bench: memory vegeta %d: %d KB, %s\n", n, vg[n].u.maxRSSKB, vg[n].u.wall.Round(time.Millisecond))
	}

	fmt.Fprintln(w, "| requests | limitprobe peak RSS | seconds | CPU s | max in flight | vegeta peak RSS | seconds | CPU s | RSS ratio | CPU ratio |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	code := 0
	cells := func(r memRun, ok bool) string {
		switch {
		case !ok:
			return "— | — | —"
		case r.err != nil:
			return fmt.Sprintf("error: %v | | ", r.err)
		}
		return fmt.Sprintf("%s | %.1f | %.1f", mb(r.u.maxRSSKB), r.u.wall.Seconds(), r.u.cpu.Seconds())
	}
	for _, n := range sizes {
		l, lok := lp[n]
		v, vok := vg[n]
		if !lok {
			continue
		}
		if l.err != nil || vok && v.err != nil {
			code = 1
		}
		ratio := "— | —"
		if lok && vok && l.err == nil && v.err == nil && v.u.maxRSSKB > 0 && v.u.cpu > 0 {
			ratio = fmt.Sprintf("%.2f× | %.2f×", float64(l.u.maxRSSKB)/float64(v.u.maxRSSKB), l.u.cpu.Seconds()/v.u.cpu.Seconds())
		}
		label := count(n)
		if l.err == nil && l.requests != int64(n) {
			label += fmt.Sprintf(" (sent %d)", l.requests)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s |\n", label, cells(l, true), inFlight[n], cells(v, vok), ratio)
	}
	small, big := lp[sizes[0]], lp[sizes[len(sizes)-1]]
	if len(sizes) > 1 && small.err == nil && big.err == nil && small.u.maxRSSKB > 0 {
		verdict := "meets"
		if float64(big.u.maxRSSKB)*1024 >= 100e6 {
			verdict = "misses"
		}
		fmt.Fprintf(w, "\nlimitprobe's peak RSS grows %.2f× from %s to %s requests (flat is 1.0×); at %s it is %s, which %s the goal of < 100 MB.\n",
			float64(big.u.maxRSSKB)/float64(small.u.maxRSSKB), count(sizes[0]), count(sizes[len(sizes)-1]),
			count(sizes[len(sizes)-1]), mb(big.u.maxRSSKB), verdict)
	}
	return code
}

// measureProbe runs cmd, reads the requests it sent from its stdout, and
// returns them with its resource usage.
func measureProbe(cmd *exec.Cmd, timeOut string, sent func([]byte) (int64, error)) memRun {
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	u, err := runMeasured(cmd, timeOut)
	if err != nil {
		return memRun{u: u, err: fmt.Errorf("%v: %s", err, lastLine(errb.String()))}
	}
	n, err := sent([]byte(out.String()))
	if err != nil {
		return memRun{u: u, err: fmt.Errorf("reading its output: %w", err)}
	}
	return memRun{requests: n, u: u}
}

func vegetaScope(sizes []int) string {
	if len(sizes) == 0 {
		return "The quick mode leaves vegeta out."
	}
	return fmt.Sprintf("vegeta runs only at %s, for the ratio, to keep make bench within its time budget.", count(sizes[len(sizes)-1]))
}

// count renders a request count: 100k, 1M.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%100_000 == 0:
		return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + "M"
	case n >= 1000 && n%100 == 0:
		return strconv.FormatFloat(float64(n)/1e3, 'f', -1, 64) + "k"
	}
	return strconv.Itoa(n)
}

// mb renders kibibytes (what the kernel reports) in megabytes of 10⁶ bytes.
func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)*1024/1e6) }

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// timedBinary is the limitprobe binary, for a table that measures it with
// GNU time, which it checks is there.
func (e *env) timedBinary(ctx context.Context) (string, error) {
	if _, err := os.Stat(timeBin); err != nil {
		return "", fmt.Errorf("%s is missing; run bench/setup.sh (Debian package time)", timeBin)
	}
	return e.binary(ctx)
}
