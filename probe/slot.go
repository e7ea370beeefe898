package probe

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// slotSample is one request of a step with Poisson arrivals: when it was
// sent, from the step's start, and whether it passed.
type slotSample struct {
	at time.Duration
	ok bool
}

// maxSlotSamples bounds what one step keeps for fitSlot (16 bytes each).
const maxSlotSamples = 1 << 15

// fitSlot reads the slot of a limiter that keeps no burst: after an
// accepted request it refuses every request for 1/r, then accepts the
// next. Ordered by send time, each request after an accepted one has a gap
// since it; the pass share jumps from near 0 to most at the slot. Delivery
// jitter blurs the edge and reorders a few requests, so the fit is the
// split of the gaps that best explains passes by two shares, one below and
// one above (maximum likelihood). ok is false when no clear edge shows: a
// limiter with a burst passes requests soon after another.
//
// This reads the slot from the requests' own timing, where the goodput of
// Poisson arrivals, G = 1/(1/r + 1/R), counts every microsecond the target
// and the generator add between an acceptance and the next arrival as part
// of the slot (−4% at 2000/s on two shared cores).
func fitSlot(samples []slotSample) (slot float64, ok bool) {
	s := slices.Clone(samples)
	slices.SortStableFunc(s, func(a, b slotSample) int { return cmp.Compare(a.at, b.at) })
	type gap struct {
		d  time.Duration
		ok bool
	}
	var gs []gap
	last, seen := time.Duration(0), false
	for _, x := range s {
		if seen {
			gs = append(gs, gap{x.at - last, x.ok})
		}
		if x.ok {
			last, seen = x.at, true
		}
	}
	slices.SortFunc(gs, func(a, b gap) int { return cmp.Compare(a.d, b.d) })
	n := len(gs)
	passes := 0
	for _, g := range gs {
		if g.ok {
			passes++
		}
	}
	if n < 50 || passes < 20 || n-passes < 20 {
		return 0, false
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
		return 0, false
	}
	edge := (gs[bestK-1].d + gs[bestK].d) / 2
	pass := func(lo, hi time.Duration) (ok, all int) {
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
	// A sharp edge: just below it (3% to 15%) passes are rare, just above
	// they are the rule. A bucket with a burst, saturated, carries part of
	// a token from one acceptance to the next and passes a quarter or more
	// of the gaps just below; 100 µs of jitter on a 0.5 ms slot, a sixth.
	// Too few gaps there (arrivals on a coarse timer) place no edge.
	lowOK, low := pass(edge*85/100, edge*97/100)
	highOK, high := pass(edge*103/100, edge*115/100)
	if low < 10 || high < 10 {
		return 0, false
	}
	shareLow, shareHigh := float64(lowOK)/float64(low), float64(highOK)/float64(high)
	if shareHigh < 0.5 || shareLow > 0.25*shareHigh {
		return 0, false
	}
	return edge.Seconds(), true
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
