package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"limitprobe/estimate"
	"limitprobe/limiter"
	"limitprobe/probe"
	"limitprobe/report"
)

// simulateTable is table 6: limitprobe simulate replaying a day of
// timestamps offline, 1M and 10M of them, with its time and peak memory.
func simulateTable(ctx context.Context, e *env, _ options) int {
	w := e.w
	heading(e, 6, "Simulate: a day of traffic, 1M and 10M timestamps, replayed offline")
	sizes := []int{1_000_000, 10_000_000}
	if e.quick {
		sizes = sizes[:1]
	}
	bin, err := e.timedBinary(ctx)
	if err != nil {
		fmt.Fprintf(w, "\nerror: %v\n", err)
		return 1
	}
	rep := filepath.Join(e.tmp, "bucket-report.json")
	if err := writeBucketReport(rep); err != nil {
		fmt.Fprintf(w, "\nerror: %v\n", err)
		return 1
	}
	fmt.Fprintf(w, "`limitprobe simulate REPORT TRAFFIC --format json` against a report of a token bucket of 150/s, burst 20 (band 145–155/s), "+
		"in its own process, measured by GNU time (peak RSS, wall and CPU seconds). TRAFFIC is a file of Unix times with microseconds, "+
		"one a line, a day long: Poisson arrivals swelling over the day, 2.5× in the first 5 minutes of each hour. "+
		"The replay reads it once, then replays from a spill: three ends of the band as they come and behind the recommended client, "+
		"and the search for the smallest limit.\n\n")
	fmt.Fprintln(w, "| timestamps | file | peak RSS | seconds | CPU s | refused (measured) | smallest limit |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	code := 0
	timeOut := filepath.Join(e.tmp, "time.out")
	for _, n := range sizes {
		if ctx.Err() != nil {
			break
		}
		path := filepath.Join(e.tmp, fmt.Sprintf("day-%d.txt", n))
		size, err := writeDay(path, n)
		if err != nil {
			fmt.Fprintf(w, "| %s | error: %v | | | | | |\n", count(n), err)
			code = 1
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		cmd := measured(cctx, timeOut, bin, "simulate", rep, path, "--format", "json", "--quiet")
		var sim struct {
			Ends []struct {
				Name       string `json:"name"`
				Prediction struct {
					Refused      int64   `json:"refused"`
					RefusedShare float64 `json:"refused_share"`
				} `json:"prediction"`
			} `json:"ends"`
			SmallestLimit *struct {
				LimitRPS float64 `json:"limit_rps"`
			} `json:"smallest_limit"`
		}
		r := measureProbe(cmd, timeOut, func(b []byte) (int64, error) { return 0, json.Unmarshal(b, &sim) })
		cancel()
		os.Remove(path)
		if r.err != nil {
			fmt.Fprintf(w, "| %s | %s | error: %v | | | | |\n", count(n), mb(size/1024), r.err)
			code = 1
			continue
		}
		refused, smallest := "—", "—"
		for _, end := range sim.Ends {
			if end.Name == "measured" {
				refused = fmt.Sprintf("%d (%.1f%%)", end.Prediction.Refused, 100*end.Prediction.RefusedShare)
			}
		}
		if sim.SmallestLimit != nil {
			smallest = strconv.FormatFloat(sim.SmallestLimit.LimitRPS, 'f', 1, 64) + "/s"
		}
		fmt.Fprintf(e.log, "bench: simulate %d: %d KB, %s\n", n, r.u.maxRSSKB, r.u.wall.Round(time.Millisecond))
		fmt.Fprintf(w, "| %s | %s | %s | %.1f | %.1f | %s | %s |\n", count(n), mb(size/1024), mb(r.u.maxRSSKB), r.u.wall.Seconds(), r.u.cpu.Seconds(), refused, smallest)
	}
	return code
}

// writeBucketReport writes the report simulateTable replays against.
func writeBucketReport(path string) error {
	run := probe.Run{Scenario: probe.ScenarioRef{Name: "bench-bucket", Target: probe.TargetRef{URL: "http://127.0.0.1/", Method: "GET"}},
		Summary: estimate.Summary{Limited: true, Algorithm: estimate.AlgorithmTokenBucket, EffectiveLimitRPS: 150, Burst: 20,
			EffectiveLimitBand: estimate.Band{Low: 145, High: 155}, Model: &estimate.Model{Kind: limiter.TokenBucket, RateRPS: 150, Burst: 20}}}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	werr := report.Write(f, report.New(run, report.Options{}), report.FormatJSON, report.RenderOptions{})
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

// writeDay writes n timestamps spread over a day to path and returns the
// file's size in bytes.
func writeDay(path string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(6, uint64(n)))
	const day = 86400.0
	mean := float64(n) / day
	t := 1714521600.0 // 2024-05-01 00:00 UTC
	var size int64
	for range n {
		rate := mean * (1 + 0.5*math.Sin(2*math.Pi*math.Mod(t, day)/day))
		if math.Mod(t, 3600) < 300 {
			rate *= 2.5
		}
		t += rng.ExpFloat64() / rate
		k, _ := fmt.Fprintf(bw, "%.6f\n", t)
		size += int64(k)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	return size, f.Close()
}
