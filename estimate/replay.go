package estimate

import (
	"cmp"
	"math"
	"slices"
	"time"

	"limitprobe/evidence"
	"limitprobe/limiter"
	"limitprobe/units"
)

// Replay: a window limiter is deterministic, so given the requests a run
// sent it predicts which succeeded. Replaying candidate limiters with the
// allowance seen from idle on the run's timeline, and keeping the window
// (and the clock phase of its boundaries) whose successes over time
// match best, reads the window from every step at once: the phase a
// saturation step started in no longer biases its goodput.

// Kinds of window limiter replayed.
const (
	replayFixed   = string(limiter.FixedWindow)
	replayLog     = string(limiter.SlidingLog)
	replayCounter = string(limiter.SlidingCounter)
	replayLockout = string(limiter.Lockout)     // a sliding counter that counts refused requests too
	replayBucket  = string(limiter.TokenBucket) // l tokens refilling l per window
)

// replayFit is the best match of one kind of limiter.
type replayFit struct {
	kind        string
	allowance   int
	windowS     float64
	miss        float64 // see replayTraffic.miss
	lowW, highW float64 // windows that match within the tolerance
	w0          float64 // the middle of the windows searched
}

// replayTraffic is the run's requests, spread evenly over their buckets,
// and its successes per bucket.
type replayTraffic struct {
	at    []time.Duration // arrival times from the run's start
	first []int32         // index in at of each bucket's first arrival, and the end
	ok    []float64       // observed successes per bucket
	okSum float64
	res   float64
}

func newReplayTraffic(tl evidence.Timeline) (*replayTraffic, bool) {
	if tl.ResolutionS <= 0 || len(tl.Buckets) == 0 {
		return nil, false
	}
	rt := &replayTraffic{res: tl.ResolutionS, ok: make([]float64, len(tl.Buckets)), first: make([]int32, len(tl.Buckets)+1)}
	for k, b := range tl.Buckets {
		n := b.Sent - b.Errors
		rt.ok[k] = float64(b.OK)
		rt.okSum += float64(b.OK)
		rt.first[k] = int32(len(rt.at))
		for j := int64(0); j < n; j++ {
			rt.at = append(rt.at, seconds((float64(k)+(float64(j)+0.5)/float64(n))*rt.res))
		}
	}
	rt.first[len(tl.Buckets)] = int32(len(rt.at))
	return rt, len(rt.at) > 0
}

// miss replays kind with allowance l, window w and boundaries at phase
// (mod w) and returns the gap between the predicted and the observed
// cumulative successes, summed over the buckets: a success predicted a
// bucket early costs one, a rate that is off costs more every bucket. It
// stops counting once the sum passes bound.
func (rt *replayTraffic) miss(kind string, l int, w, phase, bound float64) float64 {
	cfg := limiter.Config{Kind: limiter.Kind(kind), Limit: l, Window: seconds(w), Phase: seconds(phase)}
	if kind == replayBucket {
		cfg = limiter.Config{Kind: limiter.TokenBucket, Rate: float64(l) / w, Burst: l}
	}
	meter, capacity := limiter.NewMeter(cfg), limiter.Capacity(cfg)
	var m, d float64
	for k := range rt.ok {
		var pred float64
		for _, at := range rt.at[rt.first[k]:rt.first[k+1]] {
			ok := meter.Level(at) < capacity
			meter.Record(at, ok)
			if ok {
				pred++
			}
		}
		d += pred - rt.ok[k]
		if m += math.Abs(d); m > bound {
			return m
		}
	}
	return m
}

// seconds is s seconds as a duration.
func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// replayMaxArrivals bounds the work of a replay (up to about 0.8 s per
// thousand requests): longer runs keep the estimate from their saturation
// steps.
const replayMaxArrivals = 2500

// margin is how close to the best a match must come to count as as good:
// a request or two, and 2% of the successes.
func (rt *replayTraffic) margin() float64 { return max(2, 0.02*rt.okSum) }

// fit finds the window (and phase) of kind that best reproduces the
// successes, searching windows from w0/4 to 4·w0.
func (rt *replayTraffic) fit(kind string, l int, w0 float64) replayFit {
	best := replayFit{kind: kind, allowance: l, miss: math.Inf(1)}
	margin := rt.margin()
	// try returns the best match at window w over phases from p0 to p1,
	// not counting past slack times the best so far plus the margin.
	try := func(w, p0, p1, step, slack float64) (float64, float64) {
		bound := slack * (best.miss + margin)
		if kind == replayLog || kind == replayBucket {
			return rt.miss(kind, l, w, 0, bound), 0
		}
		bm, bp := math.Inf(1), 0.0
		for p := p0; p < p1; p += step {
			pm := math.Mod(p+w, w)
			if m := rt.miss(kind, l, w, pm, min(bound, bm)); m < bm {
				bm, bp = m, pm
			}
		}
		return bm, bp
	}
	type point struct{ w, m, p float64 }
	var pts []point
	add := func(w, m, p float64) {
		pts = append(pts, point{w, m, p})
		if m < best.miss {
			best.miss, best.windowS = m, w
		}
	}
	// Coarse: windows 2% apart, phases half a bucket apart (a match can
	// hinge on where one boundary falls); then finer around the eight best.
	pstep := func(w float64) float64 { return max(rt.res/2, w/200) }
	for w := w0 / 4; w <= 4*w0; w *= 1.02 {
		m, p := try(w, 0, w, pstep(w), 3)
		add(w, m, p)
	}
	coarse := slices.Clone(pts)
	slices.SortFunc(coarse, func(a, b point) int { return cmp.Compare(a.m, b.m) })
	for _, c := range coarse[:min(8, len(coarse))] {
		for w := c.w / 1.03; w <= c.w*1.03; w *= 1.0025 {
			m, p := try(w, c.p-3*pstep(w), c.p+3*pstep(w), pstep(w)/5, 1)
			add(w, m, p)
		}
	}
	// The band: windows that match within the margin. A tie for the best
	// is read at its middle.
	best.lowW, best.highW = best.windowS, best.windowS
	tieLo, tieHi := best.windowS, best.windowS
	for _, p := range pts {
		if p.m <= best.miss+margin {
			best.lowW, best.highW = min(best.lowW, p.w), max(best.highW, p.w)
		}
		if p.m <= best.miss+0.5 {
			tieLo, tieHi = min(tieLo, p.w), max(tieHi, p.w)
		}
	}
	best.windowS = math.Sqrt(tieLo * tieHi)
	return best
}

// replayCheck replays window limiters with the allowance auto's burst from
// idle found on the run's traffic. When one reproduces the successes
// clearly better than a token bucket, its window sets the limit: a
// saturation step that began partway through a window (a sliding counter
// still weighing the window before) reads a goodput below the rate the
// limiter keeps up.
func (e *estimator) replayCheck() {
	s := &e.sum
	switch s.Algorithm {
	case AlgorithmSlidingWindow, AlgorithmFixedWindow, AlgorithmUnknown, AlgorithmTokenBucket, AlgorithmLockout:
	default:
		return
	}
	cold, ok := e.coldBurst()
	if !ok || cold < 5 || e.all[0].Throttled == 0 {
		return
	}
	rt, ok := newReplayTraffic(e.in.Timeline)
	if !ok || len(rt.at) > replayMaxArrivals {
		return
	}
	// The allowance: what passed from idle. A burst that straddled a
	// boundary got a little more from a counter (one or two here) and up
	// to two windows' worth from a fixed window (the estimate's burst).
	ls := []int{int(cold)}
	if s.Burst >= 5 && s.Burst < int(cold)-2 {
		ls = append(ls, s.Burst)
	}
	straddled := []int{int(cold) - 1, int(cold) - 2}
	// Windows are searched around allowance ÷ the estimate, and around
	// allowance ÷ the run's mean goodput when the estimate is missing or
	// nothing matched near it.
	var best, bucket replayFit
	search := func(l int, w0 float64, kinds ...string) {
		for _, kind := range kinds {
			f := rt.fit(kind, l, w0)
			f.w0 = w0
			switch {
			case kind == replayBucket:
				if bucket.kind == "" || f.miss < bucket.miss {
					bucket = f
				}
			case best.kind == "" || f.miss < best.miss:
				best = f
			}
		}
	}
	all := []string{replayFixed, replayLog, replayCounter, replayLockout, replayBucket}
	counters := []string{replayCounter, replayLockout}
	around := func(w0 func(l int) float64) {
		for _, l := range ls {
			search(l, w0(l), all...)
		}
		for _, l := range straddled {
			search(l, w0(l), counters...)
		}
	}
	if s.Algorithm != AlgorithmUnknown && s.EffectiveLimitRPS > 0 {
		around(func(l int) float64 { return float64(l) / s.EffectiveLimitRPS })
	}
	if best.kind == "" || best.miss/float64(len(rt.ok)) > 1 {
		span := rt.at[len(rt.at)-1].Seconds()
		around(func(l int) float64 { return float64(l) * span / rt.okSum })
	}
	if s.Algorithm == AlgorithmTokenBucket && !slices.Contains(ls, s.Burst) && s.Burst > 0 {
		if f := rt.fit(replayBucket, s.Burst, float64(s.Burst)/s.EffectiveLimitRPS); f.miss < bucket.miss {
			bucket = f
		}
	}
	l, w0 := best.allowance, best.w0
	nb := float64(len(rt.ok))
	gap := best.miss / nb // mean gap between the cumulative curves, requests
	atEdge := best.windowS < w0/4*1.03 || best.windowS > 4*w0/1.03
	// Only a clear answer: the model matches within about a request, twice
	// as well as a bucket and by more than the margin of a tie, and pins the
	// window within 10%.
	decisive := best.miss <= 0.5*bucket.miss && best.miss+rt.margin() <= bucket.miss
	// A window of a few buckets cannot be told from the timeline: a cap of
	// 8 in flight at 200 ms replays like 8 per 0.2 s.
	short := best.windowS < 8*rt.res
	if atEdge || short || gap > max(1, 0.02*float64(l)) || !decisive || best.highW > 1.1*best.lowW {
		return
	}
	rate := float64(l) / best.windowS
	s.EffectiveLimitRPS = units.Sig(rate, 3)
	s.EffectiveLimitBand = bandOf(float64(l)/best.highW*0.99, float64(l)/best.lowW*1.01)
	s.WindowS = units.Sig(best.windowS, 3)
	s.Burst = l
	switch best.kind {
	case replayFixed:
		s.Algorithm = AlgorithmFixedWindow
	case replayLockout:
		// Sent steadily at L/W, a counter of every request stays at L.
		s.Algorithm = AlgorithmLockout
	default:
		s.Algorithm = AlgorithmSlidingWindow
	}
	e.reason("replayed on the %d requests the run sent, a %s of %d per %s predicts successes that stay within %s requests of those seen, on average over the run (a token bucket of %d: %s): %s",
		len(rt.at), best.kind, l, units.Seconds(best.windowS), units.Num(round2(gap)), bucket.allowance, units.Num(round2(bucket.miss/nb)), units.Rate(rate))
	e.base = 0.9
	e.satOK = max(e.satOK, rt.okSum)
}
