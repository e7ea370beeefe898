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
// cap from the fit up whose reading matches the fit is the estimate (the
// drift lowers a reading), and the caps, from one below the fit, whose
// readings cannot be told from the fit's are its band.

// blurSeeds is how many blurred replays average each cap's reading.
const blurSeeds = 4

// deblurred is what a cap's blurred replays say of a fitted cap.
type deblurred struct {
	// cap is the cap, fitted or above, that, blurred as v's arrivals
	// were, reads as v does; lo and hi the least and most caps, from one
	// below the fit, whose readings the run's cannot be told from (within
	// half a cap and two of their replays' standard deviations).
	cap, lo, hi int
	// noise is how many outcomes the cap's blurred replays' own best fits
	// got wrong: what the noise costs a true cap.
	noise float64
	// lead is how much earlier than the refused ones its admitted requests
	// reached the limiter, against where the view puts them (see
	// capView): what the run's mean service time lacks.
	lead time.Duration
}

// deblurCap reads a cap fitted to v through v's timing noise. It returns
// the fitted cap alone when the timing is sharp enough that no cap reads
// as another: when fewer than a tenth of an admission or departure falls,
// at saturation, within the spread of a pair of moments (a loopback's
// tens of microseconds), which spares the 25 fits.
func deblurCap(v *view, fitted int, early time.Duration) deblurred {
	d := deblurred{cap: fitted, lo: fitted, hi: fitted}
	if fitted < 1 || v.timing <= 0 || len(v.service) == 0 {
		return d
	}
	if events := 2 * float64(fitted) / v.meanService().Seconds(); events*v.timing*math.Sqrt2 < 0.1 {
		return d
	}
	read, _ := capReading(v, early)
	ch := newChoice(read, fitted)
	for c := max(1, fitted-1); c <= fitted+4; c++ {
		b := blurredReading(v, c, early)
		if ch.weigh(c, b.read, b.sd, c >= fitted) {
			d.noise, d.lead = b.miss, b.lead
		}
	}
	d.cap, d.lo, d.hi = ch.result()
	return d
}

// choice keeps, over the capacities tried, the one whose blurred replays
// read nearest the run's reading, and the range of those whose readings
// cannot be told from it (within half a capacity and two of their
// replays' standard deviations).
type choice struct {
	read, bestGap float64
	best, lo, hi  int
}

func newChoice(read float64, fitted int) choice {
	return choice{read: read, bestGap: math.Inf(1), best: fitted, lo: math.MaxInt}
}

// weigh considers capacity c, whose replays read mean ± sd; it may become
// the best only when eligible, and only by reading closer than the best so
// far by more than the replays' rounding. It reports whether c did.
func (ch *choice) weigh(c int, mean, sd float64, eligible bool) bool {
	gap := math.Abs(mean - ch.read)
	if gap <= 0.5+2*sd {
		ch.lo, ch.hi = min(ch.lo, c), max(ch.hi, c)
	}
	if !eligible || gap >= ch.bestGap-0.05 {
		return false
	}
	ch.bestGap, ch.best = gap, c
	return true
}

// result is the capacity chosen and the range left open, which holds it.
func (ch choice) result() (best, lo, hi int) {
	return ch.best, min(ch.lo, ch.best), max(ch.hi, ch.best)
}

// reading is a cap's blurred replays (see blurredReading).
type reading struct {
	read, sd, miss float64
	lead           time.Duration
}

// blurredReading is the mean cap fitted, over blurSeeds replays, to v's
// arrivals admitted by a cap of c and seen through v's timing noise, its
// standard deviation, the mean count of outcomes those fits got wrong and
// the replays' mean lead (see capView).
func blurredReading(v *view, c int, early time.Duration) reading {
	var out reading
	var rs []float64
	for seed := range blurSeeds {
		b, lead := blurred(v, c, early, uint64(seed))
		r, m := capReading(b, early)
		rs = append(rs, r)
		out.miss += float64(m) / blurSeeds
		out.lead += lead / blurSeeds
	}
	out.read, out.sd = meanSD(rs)
	return out
}

// capReading is the cap in flight v reads as and the outcomes the most
// likely cap gets wrong (see reads).
func capReading(v *view, early time.Duration) (float64, int) {
	return reads(v, limiter.Config{Kind: limiter.Concurrency}, early)
}

// reads is the capacity of cfg's kind and shape (its window and phase, its
// rate) that v reads as, between whole numbers (the top of the parabola
// through the log-likelihoods of the most likely capacity and its
// neighbours), and the outcomes the most likely capacity gets wrong.
func reads(v *view, cfg limiter.Config, early time.Duration) (float64, int) {
	sc := newScanner(v)
	sc.early = early
	sc.bestMiss, sc.bestLL = math.MaxInt, math.Inf(-1)
	s := sc.weigh(cfg)
	c := s.capacity
	if c <= minCapacity(cfg.Kind) || c >= sc.maxCap {
		return float64(c), s.miss
	}
	lo, mid, hi := sc.loglik(cfg, c-1), sc.loglik(cfg, c), sc.loglik(cfg, c+1)
	curve := lo - 2*mid + hi
	if curve >= 0 {
		return float64(c), s.miss
	}
	return float64(c) + max(-0.5, min(0.5, 0.5*(lo-hi)/curve)), s.miss
}

// A window's count fitted through timing noise reads low too: behind
// 50±20 ms each way a fixed window of 100 per 10 s reads 99, as the run's
// blurred replays do. deblurWindow reads it as deblurCap reads a cap, at
// the fit's window and phase moved off the edge of the span that fits (see
// centred; the fit keeps its own): the count whose replays, decided by it
// where the network may have moved the requests and fitted again, read as
// the run does, and the counts whose readings cannot be told from the
// run's (within half a count and two of their replays' standard
// deviations).
// A thinned view's arrivals are not all there to decide: the fit stands.
func deblurWindow(v *view, cfg limiter.Config) deblurred {
	fitted := cfg.Limit
	d := deblurred{cap: fitted, lo: fitted, hi: fitted}
	if v.timing <= 0 || slices.ContainsFunc(v.weight, func(w int32) bool { return w > 1 }) {
		return d
	}
	cfg = centred(v, cfg)
	read, _ := reads(v, cfg, 0)
	ch := newChoice(read, fitted)
	// The fit first: another count must read closer by more than the
	// replays' rounding to be taken.
	for _, c := range []int{fitted, fitted + 1, fitted - 1, fitted + 2} {
		if c < minCapacity(cfg.Kind) {
			continue
		}
		var rs []float64
		for seed := range blurSeeds {
			r, _ := reads(decided(v, withCapacity(cfg, c), uint64(seed)), cfg, 0)
			rs = append(rs, r)
		}
		mean, sd := meanSD(rs)
		ch.weigh(c, mean, sd, true)
	}
	d.cap, d.lo, d.hi = ch.result()
	return d
}

// centred moves cfg's free edge (the length of a window counted from a
// request, the phase of one on the clock) to the middle of the span, within
// 1% of the fit, where cfg's count gets no more of the run's outcomes
// wrong. A fit may lie at that span's edge (a phase on the clock; a window
// counted from a request is the middle of its likelihood's tie, see
// middle, which need not be this span's), where any blur at all moves a
// request across in a replay: behind a slow backend, 0.1 ms of timing
// noise, a window of 30 per 3 s counted from a request, fitted to end on a
// request, read 29.6 in the run and 28.7 in every replay of 30, and was
// raised to 31. A sliding log's window is in the middle already.
func centred(v *view, cfg limiter.Config) limiter.Config {
	step := cfg.Window / 10000
	if step <= 0 || cfg.Kind == limiter.SlidingLog {
		return cfg
	}
	move := func(k int) limiter.Config {
		c := cfg
		if cfg.FirstUse {
			c.Window += time.Duration(k) * step
		} else {
			c.Phase += time.Duration(k) * step
		}
		return c
	}
	base := missAt(v, cfg)
	lo, hi := 0, 0
	for lo > -100 && missAt(v, move(lo-1)) <= base {
		lo--
	}
	for hi < 100 && missAt(v, move(hi+1)) <= base {
		hi++
	}
	return move((lo + hi) / 2)
}

// missAt is how many of v's outcomes cfg, count and all, gets wrong, each
// request decided on the outcomes seen before it.
func missAt(v *view, cfg limiter.Config) int {
	m := limiter.NewMeter(cfg)
	edge := limiter.Capacity(cfg)
	miss := 0
	for i, at := range v.arrive {
		if (m.Level(at) < edge) != v.ok[i] {
			miss++
		}
		m.Record(at, v.ok[i])
	}
	return miss
}

// meanSD is the mean of xs and their standard deviation.
func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x / float64(len(xs))
	}
	for _, x := range xs {
		sd += (x - mean) * (x - mean) / float64(max(1, len(xs)-1))
	}
	return mean, math.Sqrt(sd)
}

// blurred is v's requests as a cap of c would have decided them, each
// holding a service time of v's in turn (its slot freed early before its
// departure), seen through v's timing noise.
func blurred(v *view, c int, early time.Duration, seed uint64) (*view, time.Duration) {
	b, lead := capView(v.arrive, func(i int) time.Duration { return v.service[i%len(v.service)] }, c, early, v.timing, rand.New(rand.NewPCG(seed, uint64(c))))
	b.oneWay, b.spread = v.oneWay, v.spread
	return b, lead
}

// capView is the view of requests seen arriving at arrive (in order) that
// a cap of c decided where they really arrived, each a normal error of
// timing seconds away, request i departing service(i) after that when
// admitted (freeing its slot early before) and seen departing with an
// error of its own. Deciding the seen arrivals and moving them after read
// a cap of 32 at 200 ms behind 50±20 ms about 0.7 higher than the run's
// own reading, so that the cap whose reading matched was 31; deciding
// them where they arrived reads it 0.25 higher. It returns the view and
// its lead: how much earlier, against where they were seen, the admitted
// requests arrived than the refused ones. The first to arrive take the
// slots, so admitted requests are more often those the network carried
// fast: behind 50±20 ms each way, in closed-loop steps at a cap of 32,
// simulated admissions took about 4 ms less on the way in than refusals
// (in paced steps no less), and times at the server, read as round trips
// less the refusals', read 1–3 ms short.
func capView(arrive []time.Duration, service func(int) time.Duration, c int, early time.Duration, timing float64, rng *rand.Rand) (*view, time.Duration) {
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
	if b.admitted == 0 || b.refused == 0 {
		return b, 0
	}
	var admitted, refused time.Duration // sums of at − seen
	for _, r := range rs {
		if r.ok {
			admitted += r.at - r.seen
		} else {
			refused += r.at - r.seen
		}
	}
	return b, refused/time.Duration(b.refused) - admitted/time.Duration(b.admitted)
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
	var miss float64
	for seed := range blurSeeds {
		miss += float64(newScanner(decided(v, cfg, uint64(seed))).replay(cfg).miss)
	}
	return miss / blurSeeds
}

// decided is v's requests as cfg decided them where they really arrived,
// each a normal error of v.timing away from where v saw them.
func decided(v *view, cfg limiter.Config, seed uint64) *view {
	d := *v
	d.ok = make([]bool, len(v.ok))
	at, order := arrivals(v.arrive, v.timing, rand.New(rand.NewPCG(seed, 11)))
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
	return &d
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
