package simulate

import (
	"context"
	"errors"
	"io"
	"time"

	"limitprobe/estimate"
	"limitprobe/limiter"
	"limitprobe/traffic"
)

// trafficStats is what the first pass learns of the traffic.
type trafficStats struct {
	units        int64
	first, last  time.Duration
	sec, secN    time.Duration
	peakSec      int64
	minute, minN time.Duration
	peakMin      int64
	inFlight     *flight // for a cap: the traffic's own requests in flight
}

// readTraffic reads r to the end into spill, learning what it holds.
func readTraffic(ctx context.Context, r *traffic.Reader, spill *traffic.Spill, m estimate.Model, lat latencies) (*trafficStats, error) {
	st := &trafficStats{sec: -1, minute: -1}
	if m.Kind == limiter.Concurrency {
		st.inFlight = &flight{}
	}
	buf := make([]traffic.Request, chunk)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(buf)
		if n > 0 {
			if werr := spill.Write(buf[:n]); werr != nil {
				return nil, werr
			}
			st.add(buf[:n], lat)
		}
		if errors.Is(err, io.EOF) {
			return st, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (st *trafficStats) add(reqs []traffic.Request, lat latencies) {
	for _, q := range reqs {
		if st.units == 0 {
			st.first = q.At
		}
		st.last = q.At
		n := time.Duration(q.Cost)
		st.units += int64(n)
		if s := q.At / time.Second; s != st.sec {
			st.sec, st.secN = s, 0
		}
		if m := q.At / time.Minute; m != st.minute {
			st.minute, st.minN = m, 0
		}
		st.secN += n
		st.minN += n
		st.peakSec = max(st.peakSec, int64(st.secN))
		st.peakMin = max(st.peakMin, int64(st.minN))
		if st.inFlight != nil {
			st.inFlight.advance(q.At)
			for range q.Cost {
				st.inFlight.push(q.At + lat.of(q.Latency))
			}
		}
	}
}

// traffic describes the traffic for the result.
func (st *trafficStats) traffic(file string, r *traffic.Reader) Traffic {
	rs := r.Stats()
	t := Traffic{File: file, Format: string(r.Format()), Lines: rs.Lines, Requests: st.units,
		Start: unixTime(st.first), End: unixTime(st.last), DurationS: (st.last - st.first).Seconds(),
		PeakRPS: float64(st.peakSec), PeakMinuteRPS: float64(st.peakMin) / 60,
		WithLatency: rs.Latencies, Spread: rs.Spread, Late: rs.Late, MaxLateS: rs.MaxLate.Seconds()}
	if t.DurationS > 0 {
		t.MeanRPS = float64(st.units) / t.DurationS
	}
	if st.inFlight != nil {
		t.MaxInFlight = st.inFlight.most
	}
	return t
}

// plan is the lanes of the main pass.
type plan struct {
	ends   []*endLanes
	batch  *endLanes // at the measured end
	search *search
}

// endLanes replay one end: the traffic as it came, and behind the client.
type endLanes struct {
	name   string
	rps    float64
	model  estimate.Model
	asIs   *lane
	smooth *lane // nil without a client limiter
}

// newPlan lays out the lanes: each end of the band as it came and behind
// the client, the measured end batched, and the first candidates of the
// smallest-limit search.
func newPlan(m Measured, model estimate.Model, c *Client, lat latencies, st *trafficStats, opt Options) *plan {
	p := &plan{}
	slack := opt.Deadline
	if opt.Batch > 1 {
		slack += opt.BatchWait
	}
	r := rateOf(model)
	band := m.Summary.EffectiveLimitBand
	add := func(name string, rps float64) *endLanes {
		mdl, scale := atRate(model, rps)
		el := &endLanes{name: name, rps: rateOf(mdl), model: mdl}
		l := latencies{def: lat.def, scale: scale}
		el.asIs = newLane(mdl, l, nil, nil)
		if c != nil {
			el.smooth = newLane(mdl, l, newSmoother(*c, opt.Deadline), nil)
		}
		p.ends = append(p.ends, el)
		return el
	}
	if band.High > r*(1+1e-6) {
		add(EndOptimistic, band.High)
	}
	mid := add(EndMeasured, r)
	mid.asIs.t.tl = newLaneline(st.first, st.last, slack)
	if mid.smooth != nil {
		mid.smooth.t.tl = newLaneline(st.first, st.last, slack)
	}
	if band.Low > 0 && band.Low < r*(1-1e-6) {
		add(EndPessimistic, band.Low)
	}
	if opt.Batch > 1 {
		b := &endLanes{name: EndMeasured, rps: r, model: model}
		b.asIs = newLane(model, lat, nil, &batcher{size: opt.Batch, wait: opt.BatchWait})
		if c != nil {
			b.smooth = newLane(model, lat, newSmoother(*c, opt.Deadline), &batcher{size: opt.Batch, wait: opt.BatchWait})
		}
		p.batch = b
	}
	if c != nil {
		p.search = newSearch(m, model, lat, opt.Deadline)
	}
	return p
}

// lanes are every lane of the main pass.
func (p *plan) lanes() []*lane {
	var ls []*lane
	for _, e := range append(p.ends, p.batch) {
		if e == nil {
			continue
		}
		ls = append(ls, e.asIs)
		if e.smooth != nil {
			ls = append(ls, e.smooth)
		}
	}
	if p.search != nil {
		ls = append(ls, p.search.start()...)
	}
	return ls
}

// collect puts what the main pass found into sim.
func (p *plan) collect(sim *Simulation) {
	var mid *endLanes
	for _, e := range p.ends {
		sim.Ends = append(sim.Ends, End{Name: e.name, LimitRPS: e.rps, Model: e.model, Prediction: e.asIs.prediction(), Smoothed: e.smoothed()})
		if e.name == EndMeasured {
			mid = e
		}
	}
	var smooth *laneline
	if mid.smooth != nil {
		smooth = mid.smooth.t.tl
	}
	sim.Timeline = merge(mid.asIs.t.tl, smooth)
	if b := p.batch; b != nil {
		sim.Batch = &Batched{Size: b.asIs.batch.size, WaitS: b.asIs.batch.wait.Seconds(), Prediction: b.asIs.prediction(),
			RefusedRequests: b.asIs.t.unitsRefused, Smoothed: b.smoothed()}
	}
	if p.search != nil {
		p.search.settle()
	}
}

// prediction is the lane's tally as a Prediction.
func (l *lane) prediction() Prediction {
	p := l.t.prediction()
	if l.track {
		p.MaxInFlight = l.fl.most
	}
	return p
}

// smoothed is the client lane's tally; nil without a client.
func (e *endLanes) smoothed() *Smoothed {
	if e.smooth == nil {
		return nil
	}
	s := e.smooth.t.smoothed(e.smooth.client.peak)
	return &s
}
