package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"limitprobe/advise"
	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/limiter"
	"limitprobe/traffic"
)

// chunk is how many requests a pass hands the lanes at once.
const chunk = 8192

// Run replays the traffic r reads (named file in the result) against the
// limiter of m and returns what it found. It reads r once; the replays
// read a spill of it in opt.TempDir. A malformed line is a
// *traffic.LineError; a report with no limiter, ErrNoLimiter. It stops
// with ctx's error when ctx ends.
func Run(ctx context.Context, r *traffic.Reader, file string, m Measured, opt Options) (*Simulation, error) {
	model, ok := estimate.ModelOf(m.Summary)
	if !ok || model.Kind == limiter.None {
		return nil, fmt.Errorf("%w (its algorithm is %q): probe until the target throttles, with a higher probe.max", ErrNoLimiter, m.Summary.Algorithm)
	}
	if err := model.Config().Check(); err != nil {
		return nil, fmt.Errorf("the report's model: %w", err)
	}
	opt = withDefaults(opt)
	sim := &Simulation{Schema: Schema, ToolVersion: opt.ToolVersion, DeadlineS: opt.Deadline.Seconds(), Notes: []string{},
		Report: ReportRef{Name: m.Name, Target: m.Target, Algorithm: m.Summary.Algorithm,
			EffectiveLimitRPS: m.Summary.EffectiveLimitRPS, Band: m.Summary.EffectiveLimitBand, Model: model}}
	client := clientOf(m.Recommendation, opt.Client)
	sim.Client = client
	lat := latencies{def: defaultLatency(model, m.Steps), scale: 1}

	spill, err := traffic.NewSpill(opt.TempDir)
	if err != nil {
		return nil, err
	}
	defer spill.Close()
	st, err := readTraffic(ctx, r, spill, model, lat)
	if err != nil {
		return nil, err
	}
	sim.Traffic = st.traffic(file, r)
	if sim.Traffic.Requests == 0 {
		return nil, fmt.Errorf("%s: no requests in it", file)
	}

	p := newPlan(m, model, client, lat, st, opt)
	if err := replay(ctx, spill, p.lanes()); err != nil {
		return nil, err
	}
	p.collect(sim)
	if p.search != nil {
		if err := p.search.run(ctx, spill); err != nil {
			return nil, err
		}
		sim.SmallestLimit = p.search.result()
	}
	if opt.MaxThrottled != nil {
		got := sim.MeasuredEnd().Prediction.RefusedShare
		sim.Gate = &Gate{MaxThrottled: *opt.MaxThrottled, Got: got, Pass: got <= *opt.MaxThrottled}
	}
	sim.Notes = append(sim.Notes, notes(sim, model, lat, opt)...)
	return sim, nil
}

// MeasuredEnd is the replay against the measured limiter itself.
func (s *Simulation) MeasuredEnd() End {
	for _, e := range s.Ends {
		if e.Name == EndMeasured {
			return e
		}
	}
	return End{}
}

func withDefaults(o Options) Options {
	if o.Deadline <= 0 {
		o.Deadline = DefaultDeadline
	}
	if o.BatchWait <= 0 {
		o.BatchWait = DefaultBatchWait
	}
	return o
}

// clientOf is the recommendation's client limiter with over's non-zero
// fields in its place; nil when it limits nothing.
func clientOf(rec advise.Recommendation, over Client) *Client {
	c := Client{RateRPS: rec.ClientRateRPS, Burst: rec.ClientBurst, MaxConcurrency: rec.MaxConcurrency, From: "recommendation"}
	overridden := false
	if over.RateRPS > 0 {
		c.RateRPS, overridden = over.RateRPS, true
	}
	if over.Burst > 0 {
		c.Burst, overridden = over.Burst, true
	}
	if over.MaxConcurrency > 0 {
		c.MaxConcurrency, overridden = over.MaxConcurrency, true
	}
	switch {
	case overridden && rec.ClientRateRPS <= 0 && rec.MaxConcurrency <= 0:
		c.From = "flags"
	case overridden:
		c.From = "recommendation and flags"
	}
	if c.RateRPS > 0 {
		c.Burst = max(c.Burst, 1)
	}
	if c.RateRPS <= 0 && c.MaxConcurrency <= 0 {
		return nil
	}
	return &c
}

// defaultLatency is the time in flight of a request the traffic gives no
// latency: a cap's service time, else the report's median latency.
func defaultLatency(m estimate.Model, steps []evidence.Step) time.Duration {
	if m.Kind == limiter.Concurrency && m.ServiceS > 0 {
		return time.Duration(m.ServiceS * float64(time.Second))
	}
	return time.Duration(advise.MedianLatencyMS(steps) * float64(time.Millisecond))
}

// replay feeds everything src holds to lanes, a chunk at a time, the lanes
// of a chunk in parallel.
func replay(ctx context.Context, spill *traffic.Spill, lanes []*lane) error {
	src, err := spill.Reader()
	if err != nil {
		return err
	}
	workers := min(runtime.GOMAXPROCS(0), len(lanes))
	read := make(chan []traffic.Request, 2)
	free := make(chan []traffic.Request, 3)
	for range 3 {
		free <- make([]traffic.Request, chunk)
	}
	var readErr error
	go func() {
		defer close(read)
		for buf := range free {
			n, err := src.Read(buf)
			if n > 0 {
				read <- buf[:n]
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				return
			}
		}
	}()
	defer func() {
		for range read { // let the reader finish
		}
	}()
	for reqs := range read {
		if err := ctx.Err(); err != nil {
			close(free)
			return err
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < int64(len(lanes)); i = next.Add(1) - 1 {
					lanes[i].feed(reqs)
				}
			})
		}
		wg.Wait()
		free <- reqs[:cap(reqs)]
	}
	if readErr != nil {
		return readErr
	}
	for _, l := range lanes {
		l.finish()
	}
	return nil
}
