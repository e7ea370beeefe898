package estimate

import (
	"cmp"
	"math"
	"slices"
	"time"

	"limitprobe/evidence"
)

// SlotSample is one request of a step with Poisson arrivals: when it was
// sent, from the step's start, and whether it passed.
type SlotSample struct {
	At time.Duration
	OK bool
}

// MaxSlotSamples bounds what one step keeps for ReadSlot (16 bytes each).
const MaxSlotSamples = 1 << 15

// fitSlot reads the slot of a limiter that keeps no burst: after an
// accepted request it refuses every request for 1/r, then accepts the
// next. Ordered by send time, each request after an accepted one has a gap
// since it; the pass share jumps from near 0 to most at the slot. Delivery
// jitter blurs the edge and reorders a few requests, so the fit is the
// split of the gaps that best explains passes by two shares, one below and
// one above (maximum likelihood). ok is false when no clear edge shows: a
// limiter with a burst passes requests soon after another. tick is the
// limiter's clock step, in seconds, when its edge spans one whole
// millisecond (see clockTick), and then slot is the end of that millisecond;
// 0 otherwise.
//
// The goodput of Poisson arrivals, G = 1/(1/r + 1/R), counts every
// microsecond the target and the generator add between an acceptance and
// the next arrival as slot (−4% at 2000/s on two shared cores); this reads
// the slot from the requests' own timing. estimator.spacing weighs both.
func fitSlot(samples []SlotSample) (slot, tick float64, ok bool) {
	s := slices.Clone(samples)
	slices.SortStableFunc(s, func(a, b SlotSample) int { return cmp.Compare(a.At, b.At) })
	var gs []slotGap
	last, seen := time.Duration(0), false
	for _, x := range s {
		if seen {
			gs = append(gs, slotGap{x.At - last, x.OK})
		}
		if x.OK {
			last, seen = x.At, true
		}
	}
	slices.SortFunc(gs, func(a, b slotGap) int { return cmp.Compare(a.d, b.d) })
	n := len(gs)
	passes := 0
	for _, g := range gs {
		if g.ok {
			passes++
		}
	}
	if n < 50 || passes < 20 || n-passes < 20 {
		return 0, 0, false
	}
	bestK, bestLL := -1, math.Inf(-1)
	below := 0 // passes among gs[:k]
	for k := 1; k < n; k++ {
		if gs[k-1].ok {
			below++
		}
		if gs[k-1].d == gs[k].d {
			continue
		}
		a := float64(below) / float64(k)
		b := float64(passes-below) / float64(n-k)
		if a >= b {
			continue
		}
		if ll := float64(k)*bernoulliLL(a) + float64(n-k)*bernoulliLL(b); ll > bestLL {
			bestK, bestLL = k, ll
		}
	}
	if bestK < 0 {
		return 0, 0, false
	}
	edge := (gs[bestK-1].d + gs[bestK].d) / 2
	pass := func(lo, hi time.Duration) (ok, all int) { return slotShare(gs, lo, hi) }
	// A sharp edge: just below it (3% to 15%) passes are rare, just above
	// they are the rule. A bucket with a burst, saturated, carries part of
	// a token from one acceptance to the next and passes a quarter or more
	// of the gaps just below; 100 µs of jitter on a 0.5 ms slot, a sixth.
	// Too few gaps there (arrivals on a coarse timer) place no edge.
	lowOK, low := pass(edge*85/100, edge*97/100)
	highOK, high := pass(edge*103/100, edge*115/100)
	if low < 10 || high < 10 {
		return 0, 0, false
	}
	shareLow, shareHigh := float64(lowOK)/float64(low), float64(highOK)/float64(high)
	if shareHigh < 0.5 || shareLow > 0.25*shareHigh {
		return 0, 0, false
	}
	if m, ok := clockTick(gs, edge); ok {
		return (m + time.Millisecond).Seconds(), time.Millisecond.Seconds(), true
	}
	return edge.Seconds(), 0, true
}

// ReadSlot sets the step's SlotMS and SlotTickMS from its samples; its
// ThrottleMS must be set.
func ReadSlot(s *evidence.Step, samples []SlotSample) {
	if slot, tick, ok := fitSlot(samples); ok {
		s.SlotMS, s.SlotTickMS = slot*1e3, tick*1e3
		keepTick(s)
	}
}

// keepTick drops a whole-millisecond clock told by a step whose refusals
// came back with a spread of more than tickJitterMS between median and
// 95th percentile: delivery jitter of that order blurs a continuous slot
// into the same even rise. The slot is then the edge.
func keepTick(s *evidence.Step) {
	if s.SlotTickMS > 0 && s.ThrottleMS.P95-s.ThrottleMS.P50 > tickJitterMS {
		s.SlotMS -= 0.5 * s.SlotTickMS // the middle of the rise
		s.SlotTickMS = 0
	}
}

// tickJitterMS is the most latency spread under which keepTick trusts a
// whole-millisecond clock: 0.3 ms of jitter blurs a continuous slot into
// an even rise in a third of fitSlot's trials.
const tickJitterMS = 0.25

// slotGap is a request's gap since the last accepted one, and whether it
// passed.
type slotGap struct {
	d  time.Duration
	ok bool
}

// slotShare counts the passes among the gaps in [lo, hi), and the gaps.
func slotShare(gs []slotGap, lo, hi time.Duration) (ok, all int) {
	for _, g := range gs {
		if g.d >= lo && g.d < hi {
			all++
			if g.ok {
				ok++
			}
		}
	}
	return ok, all
}

// clockTick tells a limiter whose clock counts whole milliseconds (nginx's
// limit_req): it sees a gap of m+0.3 ms as m, or m+1 when the second
// request comes late in its millisecond, so passes begin at m ms, where
// m+1 is its slot, and their share rises evenly across that millisecond.
// A continuous slot rises at one point. It returns the millisecond m
// when, over the gaps from m−1 to m+2 ms, such an even rise explains the
// outcomes better than a step at the edge. Only for edges from 9 ms: in
// shorter slots a millisecond is too large a part to tell.
func clockTick(gs []slotGap, edge time.Duration) (time.Duration, bool) {
	const ms = time.Millisecond
	if edge < 9*ms {
		return 0, false
	}
	m := edge.Truncate(ms)
	okA, nA := slotShare(gs, m+ms, m+2*ms)
	_, nIn := slotShare(gs, m, m+ms)
	okLo, nLo := slotShare(gs, m-ms, edge)
	okHi, nHi := slotShare(gs, edge, m+2*ms)
	if nA < 8 || nIn < 20 || nLo == 0 || nHi == 0 {
		return 0, false
	}
	clamp := func(p float64) float64 { return min(0.99, max(0.01, p)) }
	p := float64(okA) / float64(nA)
	a, b := clamp(float64(okLo)/float64(nLo)), clamp(float64(okHi)/float64(nHi))
	var even, step float64 // log-likelihoods of the two models
	for _, g := range gs {
		if g.d < m-ms || g.d >= m+2*ms {
			continue
		}
		q := clamp(p * min(1, max(0, float64(g.d-m)/float64(ms))))
		s := a
		if g.d >= edge {
			s = b
		}
		if g.ok {
			even, step = even+math.Log(q), step+math.Log(s)
		} else {
			even, step = even+math.Log(1-q), step+math.Log(1-s)
		}
	}
	return m, even > step+3
}

// bernoulliLL is the mean log-likelihood of outcomes with pass share p.
func bernoulliLL(p float64) float64 {
	ll := 0.0
	if p > 0 {
		ll += p * math.Log(p)
	}
	if p < 1 {
		ll += (1 - p) * math.Log(1-p)
	}
	return ll
}
