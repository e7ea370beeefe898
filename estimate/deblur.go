package estimate

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"limitprobe/limiter"
)

// A cap on requests in flight fitted through timing noise reads low. A
// refusal meets a full server, which an admission filled just before it
// and a departure will free just after; noise moves some of those across
// it, so its count falls. An admission meets a slot just freed and its
// count rises. Both drift toward each other, and the capacity that best
// splits them lies below the cap: behind 50±20 ms each way a cap of 32 at
// 200 ms reads 30 or 31. The drift depends on the noise and on how the
// requests came, which the run itself shows: letting caps near the fit
// decide the run's requests where the network may have moved them, and
// fitting again where the run saw them, gives what each cap reads as; the
// cap whose reading matches the fit is the estimate. Only caps from the fit up are tried: the drift
// lowers a reading.

// blurSeeds is how many blurred replays average each cap's reading.
const blurSeeds = 4

// deblurCap returns the cap in flight, fitted or above, that, blurred as
// v's arrivals were, reads as v does, and how many outcomes its blurred
// replays' own best fits got wrong: what the noise costs a true cap. It
// returns the fitted cap and no such cost when the timing is sharp enough
// that no cap reads as another: when fewer than a tenth of an admission or
// departure falls, at saturation, within the spread of a pair of moments
// (a loopback's tens of microseconds), which spares the 24 fits.
func deblurCap(v *view, fitted int, early time.Duration) (int, float64) {
	if fitted < 1 || v.timing <= 0 || len(v.service) == 0 {
		return fitted, 0
	}
	if events := 2 * float64(fitted) / v.meanService().Seconds(); events*v.timing*math.Sqrt2 < 0.1 {
		return fitted, 0
	}
	read, _ := capReading(v, early)
	best, bestGap, bestMiss := fitted, math.Inf(1), 0.0
	for c := fitted; c <= fitted+4; c++ {
		r, miss := blurredReading(v, c, early)
		if gap := math.Abs(r - read); gap < bestGap-0.05 {
			best, bestGap, bestMiss = c, gap, miss
		}
	}
	return best, bestMiss
}

// blurredReading is the mean cap fitted, over blurSeeds replays, to v's
// arrivals admitted by a cap of c and seen through v's timing noise, and
// the mean count of outcomes those fits got wrong.
func blurredReading(v *view, c int, early time.Duration) (read, miss float64) {
	for seed := range blurSeeds {
		r, m := capReading(blurred(v, c, early, uint64(seed)), early)
		read += r
		miss += float64(m)
	}
	return read / blurSeeds, miss / blurSeeds
}

// capReading is the cap in flight v reads as, between whole numbers (the
// top of the parabola through the log-likelihoods of the most likely cap
// and its neighbours), and the outcomes the most likely cap gets wrong.
func capReading(v *view, early time.Duration) (float64, int) {
	sc := newScanner(v)
	sc.early = early
	sc.bestMiss, sc.bestLL = math.MaxInt, math.Inf(-1)
	cfg := limiter.Config{Kind: limiter.Concurrency}
	s := sc.weigh(cfg)
	c := s.capacity
	if c <= 1 || c >= sc.maxCap {
		return float64(c), s.miss
	}
	lo, mid, hi := sc.loglik(cfg, c-1), sc.loglik(cfg, c), sc.loglik(cfg, c+1)
	curve := lo - 2*mid + hi
	if curve >= 0 {
		return float64(c), s.miss
	}
	return float64(c) + max(-0.5, min(0.5, 0.5*(lo-hi)/curve)), s.miss
}

// blurred is v's requests as a cap of c would have decided them, each
// holding a service time of v's in turn (its slot freed early before its
// departure), seen through v's timing noise.
func blurred(v *view, c int, early time.Duration, seed uint64) *view {
	b := capView(v.arrive, func(i int) time.Duration { return v.service[i%len(v.service)] }, c, early, v.timing, rand.New(rand.NewPCG(seed, uint64(c))))
	b.oneWay, b.spread = v.oneWay, v.spread
	return b
}

// capView is the view of requests seen arriving at arrive (in order) that
// a cap of c decided where they really arrived, each a normal error of
// timing seconds away, request i departing service(i) after that when
// admitted (freeing its slot early before) and seen departing with an
// error of its own. Deciding the seen arrivals and moving them after read
// a cap of 32 at 200 ms behind 50±20 ms about 0.7 higher than the run's
// own reading, so that the cap whose reading matched was 31; deciding
// them where they arrived reads it 0.25 higher.
func capView(arrive []time.Duration, service func(int) time.Duration, c int, early time.Duration, timing float64, rng *rand.Rand) *view {
	type rq struct {
		at, seen, service time.Duration
		ok                bool
	}
	at, order := arrivals(arrive, timing, rng)
	rs := make([]rq, len(arrive))
	for i, seen := range arrive {
		rs[i] = rq{at: at[i], seen: seen, service: service(i)}
	}
	lim := limiter.New(limiter.Config{Kind: limiter.Concurrency, MaxInFlight: c})
	var busy durations // departures of the admitted requests in flight
	for _, i := range order {
		r := &rs[i]
		for busy.Len() > 0 && busy[0] <= r.at {
			lim.Done(heap.Pop(&busy).(time.Duration))
		}
		if r.ok = lim.Admit(r.at).OK; r.ok {
			heap.Push(&busy, r.at+r.service-early)
		}
	}
	b := &view{timing: timing}
	for _, r := range rs {
		b.arrive = append(b.arrive, r.seen)
		b.ok = append(b.ok, r.ok)
		b.step = append(b.step, 0)
		b.weight = append(b.weight, 1)
		if r.ok {
			b.admitted++
			b.service = append(b.service, r.service)
			b.depart = append(b.depart, r.at+r.service+dur(rng.NormFloat64()*timing))
		} else {
			b.refused++
		}
	}
	slices.Sort(b.depart)
	b.reorder = reorderings(b.arrive, b.ok, timing*math.Sqrt2)
	return b
}

// durations is a min-heap of moments.
type durations []time.Duration

func (h durations) Len() int           { return len(h) }
func (h durations) Less(i, j int) bool { return h[i] < h[j] }
func (h durations) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *durations) Push(x any)        { *h = append(*h, x.(time.Duration)) }
func (h *durations) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// noiseCost is how many outcomes cfg, were it the truth, gets wrong
// through v's timing noise. The limiter decided each request where it
// really arrived, which the view knows to v.timing: cfg decides v's
// arrivals each moved by a normal error of that size, and the replay sees
// them where the view put them (the mean over blurSeeds). On simulated
// runs behind 50±20 ms this matches what the true bucket's own replay gets
// wrong to about 5%, where moving the arrivals after cfg decided them read
// 15–25% high. A thinned view's arrivals are not all there to decide: 0.
func noiseCost(v *view, cfg limiter.Config) float64 {
	if v.timing <= 0 || len(v.arrive) == 0 || slices.ContainsFunc(v.weight, func(w int32) bool { return w > 1 }) {
		return 0
	}
	d := *v
	d.ok = make([]bool, len(v.ok))
	var miss float64
	for seed := range blurSeeds {
		at, order := arrivals(v.arrive, v.timing, rand.New(rand.NewPCG(uint64(seed), 11)))
		lim := limiter.New(cfg)
		d.admitted, d.refused = 0, 0
		for _, i := range order {
			ok := lim.Admit(at[i]).OK
			d.ok[i] = ok
			if ok {
				d.admitted++
			} else {
				d.refused++
			}
		}
		miss += float64(newScanner(&d).replay(cfg).miss)
	}
	return miss / blurSeeds
}

// arrivals is where requests seen arriving at seen really reached the
// limiter, each a normal error of timing seconds away, and their indices
// in the order they reached it.
func arrivals(seen []time.Duration, timing float64, rng *rand.Rand) (at []time.Duration, order []int) {
	at, order = make([]time.Duration, len(seen)), make([]int, len(seen))
	for i, t := range seen {
		at[i], order[i] = t+dur(rng.NormFloat64()*timing), i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(at[a] - at[b]) })
	return at, order
}
