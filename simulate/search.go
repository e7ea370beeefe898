package simulate

import (
	"context"
	"math"
	"time"

	"limitprobe/advise"
	"limitprobe/estimate"
	"limitprobe/traffic"
)

// search finds the smallest capacity, as a multiple k of the measured,
// whose recommended client carries the traffic: nothing refused, nothing
// shed. A first pass tries k = 1/16, 1/8, … 256; each further pass tries
// refine points between the largest k that failed and the smallest that
// passed, until they are within 1% or whole requests apart.
type search struct {
	m        Measured
	model    estimate.Model
	lat      latencies
	deadline time.Duration

	tried    []*candidate // of the pass under way
	lo, hi   *candidate   // largest failure below the smallest success
	smallest bool         // the smallest k tried passed
}

// candidate is one capacity tried.
type candidate struct {
	k      float64
	model  estimate.Model
	client Client
	lane   *lane
}

// Search bounds.
const (
	coarseFrom = -4 // 2^−4 of the measured capacity
	coarseTo   = 8  // 2^8
	refine     = 8  // candidates a refining pass tries
	precision  = 1.01
)

func newSearch(m Measured, model estimate.Model, lat latencies, deadline time.Duration) *search {
	return &search{m: m, model: model, lat: lat, deadline: deadline}
}

// start returns the lanes of the first pass.
func (s *search) start() []*lane {
	var ks []float64
	for i := coarseFrom; i <= coarseTo; i++ {
		ks = append(ks, math.Ldexp(1, i))
	}
	return s.try(ks)
}

// try makes a lane for each k whose model differs from the one before.
func (s *search) try(ks []float64) []*lane {
	s.tried = s.tried[:0]
	var lanes []*lane
	for _, k := range ks {
		mdl := withCapacity(s.model, k)
		if n := len(s.tried); n > 0 && s.tried[n-1].model == mdl || s.lo != nil && s.lo.model == mdl || s.hi != nil && s.hi.model == mdl {
			continue
		}
		rec := advise.Recommend(scaledSummary(s.m.Summary, s.model, mdl), s.m.Steps, s.m.Advertised, s.m.Recommendation.Margin)
		c := Client{RateRPS: rec.ClientRateRPS, Burst: rec.ClientBurst, MaxConcurrency: rec.MaxConcurrency, From: "recommendation"}
		cand := &candidate{k: k, model: mdl, client: c}
		if sm := newSmoother(c, s.deadline); sm != nil {
			cand.lane = newLane(mdl, s.lat, sm, nil)
		} else {
			cand.lane = newLane(mdl, s.lat, nil, nil)
		}
		cand.lane.stopAtFirst, cand.lane.t.light = true, true
		s.tried = append(s.tried, cand)
		lanes = append(lanes, cand.lane)
	}
	return lanes
}

// settle reads the pass: the smallest k that passed, the largest below it
// that failed.
func (s *search) settle() {
	for _, c := range s.tried {
		if !c.lane.failed && (s.hi == nil || c.k < s.hi.k) {
			s.hi = c
		}
	}
	for _, c := range s.tried {
		if c.lane.failed && (s.hi == nil || c.k < s.hi.k) && (s.lo == nil || c.k > s.lo.k) {
			s.lo = c
		}
	}
	if s.lo == nil && s.hi != nil && s.hi.k <= math.Ldexp(1, coarseFrom) {
		s.smallest = true
	}
}

// run refines until done.
func (s *search) run(ctx context.Context, spill *traffic.Spill) error {
	for {
		ks := s.next()
		if len(ks) == 0 {
			return nil
		}
		lanes := s.try(ks)
		if len(lanes) == 0 {
			return nil
		}
		if err := replay(ctx, spill, lanes); err != nil {
			return err
		}
		s.settle()
	}
}

// next is the k of the next pass; none when the search is done.
func (s *search) next() []float64 {
	if s.hi == nil || s.lo == nil || s.hi.k/s.lo.k <= precision {
		return nil
	}
	var ks []float64
	step := math.Pow(s.hi.k/s.lo.k, 1/float64(refine+1))
	for i := 1; i <= refine; i++ {
		ks = append(ks, s.lo.k*math.Pow(step, float64(i)))
	}
	return ks
}

// result is the answer.
func (s *search) result() *Sizing {
	if s.hi == nil {
		top := withCapacity(s.model, math.Ldexp(1, coarseTo))
		return &Sizing{Model: top, LimitRPS: rateOf(top), Ratio: math.Ldexp(1, coarseTo)}
	}
	z := &Sizing{Found: true, LimitRPS: rateOf(s.hi.model), Model: s.hi.model, Client: s.hi.client, AtMost: s.smallest}
	if r := rateOf(s.model); r > 0 {
		z.Ratio = z.LimitRPS / r
	}
	return z
}
