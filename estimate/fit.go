package estimate

import (
	"math"
	"slices"
	"time"

	"limitprobe/limiter"
)

// A fit replays one limiter model over what the server saw and counts the
// requests whose outcome it gets wrong. The model is driven by the
// outcomes the real limiter chose (its meter is told, request by request,
// whether each was admitted), so one wrong prediction does not derail the
// rest, and its capacity (burst, limit, cap) is read off the levels the
// requests met: the capacity that best splits admitted from refused.

// capacityOffset is where cfg's capacity C sits against its meter's
// level: a request is admitted when level < C + offset.
func capacityOffset(cfg limiter.Config) float64 {
	return limiter.Capacity(withCapacity(cfg, 1)) - 1
}

// minCapacity is the smallest capacity a kind can have.
func minCapacity(k limiter.Kind) int {
	if k == limiter.Queue {
		return 0 // nginx's burst 0: nothing waits
	}
	return 1
}

// scan is one model's replay: its best capacity, how many requests it
// gets wrong, and the log-likelihood of the outcomes under it.
type scan struct {
	cfg  limiter.Config // with its capacity set
	miss int            // requests predicted wrong
	ll   float64        // log-likelihood (see scanner.loglik)
	// blunt is the log-likelihood with a full count's refusals a coin
	// toss (see scanner.likelihoods).
	blunt    float64
	tieLo    int // capacities that predict as few wrong, lowest
	tieHi    int // and highest
	capacity int
	// early is, for a cap in flight, how long before the view's departure
	// the server freed each slot (see fitFamily).
	early time.Duration
}

// scanner replays models over one view, reusing its buffers.
type scanner struct {
	v      *view
	maxCap int
	level  []float64 // per request: the meter's level when it arrived
	// signed is, for a bucket, the level without its floor (see levels).
	signed   []float64
	adm, ref []int32 // per capacity: admitted and refused requests that need just it
	// edges and shifts hold what a fixed window's boundaries make
	// uncertain (see boundaries); nil for other kinds.
	edges  []edgeAlt
	shifts []shift
	// timing is how far, in seconds, a request's moment at the limiter may
	// lie from where the view puts it: the spread of one-way delays.
	timing float64
	// service is the mean time at the server, for a cap's rate.
	service time.Duration
	// early moves a cap's departures earlier (see scan.early).
	early time.Duration
	// bestMiss and bestLL are the fewest outcomes a replay of the family
	// being fitted got wrong so far, and its highest log-likelihood (see
	// weigh).
	bestMiss int
	bestLL   float64
}

func newScanner(v *view) *scanner {
	// A capacity above every admission explains nothing more: cap the
	// bins there.
	maxCap := v.admitted + 2
	return &scanner{v: v, maxCap: maxCap, level: make([]float64, len(v.arrive)), signed: make([]float64, len(v.arrive)),
		adm: make([]int32, maxCap+2), ref: make([]int32, maxCap+2),
		timing: v.timing, service: v.meanService()}
}

// replay drives a meter of cfg through the view, keeps each request's
// level, and returns the capacity that predicts fewest outcomes wrong (the
// middle of a tie). Its ll is not set: see weigh.
func (s *scanner) replay(cfg limiter.Config) scan {
	v := s.v
	m := limiter.NewMeter(cfg)
	off := capacityOffset(cfg)
	cmin := minCapacity(cfg.Kind)
	top := int32(cmin) // the highest bin used
	d := 0             // next departure
	inFlight := cfg.Kind == limiter.Concurrency
	signed, _ := m.(interface{ Signed(time.Duration) float64 })
	for i, at := range v.arrive {
		if inFlight {
			for d < len(v.depart) && v.depart[d]-s.early <= at {
				m.Done(v.depart[d] - s.early)
				d++
			}
		}
		level := m.Level(at)
		s.level[i] = level
		if signed != nil {
			s.signed[i] = signed.Signed(at)
		}
		m.Record(at, v.ok[i])
		if !v.ok[i] && cfg.Kind == limiter.Lockout {
			for range v.w(i) - 1 { // the refusals this one stands for
				m.Record(at, false)
			}
		}
		// The least whole C with level < C + off.
		b := math.Floor(level-off) + 1
		bin := int32(s.maxCap + 1)
		if b < float64(s.maxCap+1) {
			bin = int32(max(b, float64(cmin)))
		}
		if v.ok[i] {
			s.adm[bin]++
		} else {
			s.ref[bin] += v.w(i)
		}
		top = max(top, bin)
	}
	// Capacity C admits the requests whose bin ≤ C: it gets wrong the
	// admitted ones above C and the refused ones at or below it. Above the
	// top bin nothing changes.
	var above int32
	for c := cmin; c <= int(top); c++ {
		above += s.adm[c]
	}
	best := scan{cfg: cfg, miss: math.MaxInt, ll: math.Inf(-1), blunt: math.Inf(-1), early: s.early}
	var refBelow int32
	for c := cmin; c <= min(s.maxCap, int(top)); c++ {
		above -= s.adm[c]
		refBelow += s.ref[c]
		miss := int(above + refBelow)
		switch {
		case miss < best.miss:
			best.miss, best.tieLo, best.tieHi = miss, c, c
		case miss == best.miss && c == best.tieHi+1:
			best.tieHi = c
		}
	}
	if int(top) < s.maxCap {
		// Every capacity from the top bin up predicts the same.
		if best.tieHi == int(top) {
			best.tieHi = s.maxCap
		}
	}
	clear(s.adm[cmin : top+1])
	clear(s.ref[cmin : top+1])
	best.capacity = (best.tieLo + best.tieHi) / 2
	best.cfg = withCapacity(cfg, best.capacity)
	return best
}

// edgeAlt is what a fixed window's boundary makes uncertain about one
// request: the level on the other side of the boundary and the chance
// that it arrived there, and the window the view puts it in.
type edgeAlt struct {
	level, chance float64
	window        int32 // index into scanner.shift
}

// shift is the chance that a fixed window's count is one more (up) or one
// less (down) than the view counts: an admission near its boundaries may
// belong to the window beside it.
type shift struct{ up, down float64 }

// weigh replays cfg and returns its most likely capacity among those
// that predict fewest outcomes wrong and their neighbours, with its
// log-likelihood.
func (s *scanner) weigh(cfg limiter.Config) scan {
	sc := s.replay(cfg)
	// A replay that gets far more wrong than the best so far cannot be
	// the most likely: its likelihood is not worth computing.
	s.bestMiss = min(s.bestMiss, sc.miss)
	if 2*sc.miss > 3*s.bestMiss+len(s.v.arrive)/20 {
		sc.ll, sc.blunt = math.Inf(-1), math.Inf(-1)
		return sc
	}
	s.edges = s.edges[:0]
	switch {
	case cfg.Kind == limiter.FixedWindow && cfg.FirstUse:
		s.firstUseEnds(cfg)
	case cfg.Kind == limiter.FixedWindow:
		s.boundaries(cfg)
	}
	cmin := minCapacity(cfg.Kind)
	tried := map[int]bool{}
	// The capacity that gets fewest wrong first: when even it is far less
	// likely than the family's best so far, its neighbours will not be
	// the best either.
	for i, c := range []int{(sc.tieLo + sc.tieHi) / 2, sc.tieLo - 1, sc.tieLo, sc.tieLo + 1, sc.tieHi, sc.tieHi + 1} {
		if c < cmin || c > s.maxCap || tried[c] {
			continue
		}
		tried[c] = true
		if ll, blunt := s.likelihoods(cfg, c); ll > sc.ll {
			sc.ll, sc.blunt, sc.capacity = ll, blunt, c
		}
		if i == 0 && sc.ll < s.bestLL-30 {
			break
		}
	}
	s.bestLL = max(s.bestLL, sc.ll)
	sc.cfg = withCapacity(cfg, sc.capacity)
	return sc
}

// missFloor is the least probability a model gives any outcome: a request
// now and then goes its own way (another client's traffic, a reordered
// packet) without the model being wrong.
const missFloor = 0.002

// loglik is the log-likelihood of the outcomes under cfg with capacity c,
// from the levels of the last replay. A request's level is known only as
// well as its moment at the limiter: it is admitted with probability
// Φ((edge − level) / scale) (see soft), never below missFloor. A fixed
// window's count may be off by one admission that the view put in the
// window beside it: each window's requests are weighed under the three
// counts, by their chances (see boundaries).
func (s *scanner) loglik(cfg limiter.Config, c int) float64 {
	ll, _ := s.likelihoods(cfg, c)
	return ll
}

// likelihoods is loglik and a blunt log-likelihood beside it. A sliding
// counter's or a lockout's level mixes in the window before by the time
// into the window, which the timing blurs, so its edge sits at the
// capacity itself; but a level that is a whole number has none of the
// window before in it (a first window, a burst from idle) and is as sure
// as its count, so its edge lies half-way between the last count admitted
// and the first refused. At the capacity, each refusal at a full count
// would be a coin toss: a counter of 50 per 5 s from first use behind
// 50±20 ms read 49 per 4.93 s: the truth got fewer outcomes wrong but lost
// 150 in likelihood on its burst from idle, the fit 12. Blunt keeps that
// edge; it leans to one less, but the coarse window search ranks by it
// (see searchWindow).
func (s *scanner) likelihoods(cfg limiter.Config, c int) (ll, blunt float64) {
	edge, scale := s.soft(withCapacity(cfg, c))
	whole := cfg.Kind == limiter.SlidingCounter || cfg.Kind == limiter.Lockout
	logp := func(i int, l, edge float64) float64 {
		sc := scale
		if r := s.v.reorder[i]; r > 0 {
			sc = math.Sqrt(scale*scale + r)
		}
		x := (edge - l) / sc
		w := float64(s.v.w(i))
		if len(s.edges) == 0 || s.edges[i].chance == 0 {
			if !s.v.ok[i] {
				x = -x
			}
			return w * logAdmit(x)
		}
		p := sigmoid(x)
		if len(s.edges) > 0 {
			if e := s.edges[i]; e.chance > 0 {
				p = (1-e.chance)*p + e.chance*sigmoid((edge-e.level)/scale)
			}
		}
		p = missFloor + (1-2*missFloor)*p
		if !s.v.ok[i] {
			p = 1 - p
		}
		return w * math.Log(p)
	}
	if len(s.edges) == 0 {
		for i, l := range s.levels(cfg, c) {
			p := logp(i, l, edge)
			blunt += p
			if whole && l == math.Trunc(l) {
				p = logp(i, l, float64(c)-0.5)
			}
			ll += p
		}
		return ll, blunt
	}
	var by [3]float64 // the window's log-likelihood with its count one less, as seen, one more
	win := int32(-1)
	flush := func() {
		if win < 0 {
			return
		}
		sh := s.shifts[win]
		ll += logSumExp(math.Log(sh.down)+by[0], math.Log(1-sh.up-sh.down)+by[1], math.Log(sh.up)+by[2])
		by = [3]float64{}
	}
	for i, l := range s.level {
		if w := s.edges[i].window; w != win {
			flush()
			win = w
		}
		if sh := s.shifts[win]; sh.up == 0 && sh.down == 0 {
			by[1] += logp(i, l, edge) // no admission near its boundaries: the count is sure
			continue
		}
		for o := range by {
			by[o] += logp(i, l+float64(o-1), edge)
		}
	}
	flush()
	return ll, ll
}

// levels are the requests' levels for capacity c of cfg. A bucket of one
// (a queue of none) admits only at the floor of its level, zero: there the
// floor would give an admission a long time after the bucket emptied the
// same even chance as one at the edge, and a refusal just after it emptied
// the same as one deep inside its slot, which leans the fitted slot long
// (a bucket of one at 5/s behind 50±20 ms read 4.72–5.06/s, mean 4.91).
// Its levels are the signed ones. A larger bucket's edge lies a token or
// more above the floor and keeps the floored levels: behind that jitter,
// signed ones let a bucket of 4 at 141/s out-fit the cap of 8 at 50 ms
// that admits alike (the recorded runs).
func (s *scanner) levels(cfg limiter.Config, c int) []float64 {
	switch {
	case (cfg.Kind == limiter.TokenBucket || cfg.Kind == limiter.GCRA) && c == 1, cfg.Kind == limiter.Queue && c == 0:
		return s.signed
	}
	return s.level
}

// logSumExp is log(Σ e^x) without overflow; −Inf terms add nothing.
func logSumExp(xs ...float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = max(m, x)
	}
	if math.IsInf(m, -1) {
		return m
	}
	var sum float64
	for _, x := range xs {
		sum += math.Exp(x - m)
	}
	return m + math.Log(sum)
}

// soft is where a configuration's admissions turn to refusals on its
// meter's level, and how far a request's level may be off given the
// uncertainty of its arrival (timing). A bucket's level falls steadily, at
// its rate: off by rate × timing. A count that moves in whole requests as
// they come and go (in flight, in a log or a window) is off by about the
// square root of the moves within the timing (a fixed window's count is
// sure inside a window), and its edge lies half-way between the last level
// admitted and the first refused.
func (s *scanner) soft(cfg limiter.Config) (edge, scale float64) {
	c := float64(capacityOf(cfg))
	pair := s.timing * math.Sqrt2 // the arrival and the event it races
	moves := rateOf(cfg, s.service) * pair
	switch cfg.Kind {
	case limiter.TokenBucket, limiter.GCRA:
		return c - 1 + 1e-9, max(0.02, moves)
	case limiter.Queue:
		return c + 1e-9, max(0.02, moves)
	case limiter.SlidingCounter, limiter.Lockout:
		if !cfg.Log { // a log's count moves in whole requests (below)
			return limiter.Capacity(cfg), max(0.02, moves)
		}
	case limiter.FixedWindow:
		// Within a window the count moves only by admissions, which the
		// view sees; its uncertainty is at the boundaries (boundaries).
		return c - 0.5, 0.15
	}
	return c - 0.5, max(0.15, math.Sqrt(moves*1.13))
}

// boundaries finds what a fixed window's boundaries make uncertain (see
// edgeAlt and shift). A request within three timing spreads after a
// boundary may have been the last of the window before, which had admitted
// all it did; one as close before may have been the first of the next,
// which had admitted none. An admission that close may have been counted
// in the wrong window, moving the count of its window by one (first
// order: the chances add up, at most a half each way).
func (s *scanner) boundaries(cfg limiter.Config) {
	s.edges = slices.Grow(s.edges[:0], len(s.v.arrive))[:len(s.v.arrive)]
	s.shifts = s.shifts[:0]
	w := cfg.Window.Seconds()
	pair := s.timing * math.Sqrt2
	reach := 3 * pair
	if pair <= 0 || w <= 2*reach {
		reach = 0 // boundaries too close together to weigh; no spread
	}
	var cur, prev int // admissions in the current window and the one before
	var carry float64 // chances that admissions at the end of the window before belong here
	win := int64(math.MinInt64)
	for i, at := range s.v.arrive {
		x := (at - cfg.Phase).Seconds() / w
		k := int64(math.Floor(x))
		if k != win {
			if k == win+1 {
				prev = cur
			} else {
				prev, carry = 0, 0
			}
			s.shifts = append(s.shifts, shift{up: min(0.45, carry)})
			cur, win, carry = 0, k, 0
		}
		sh := &s.shifts[len(s.shifts)-1]
		e := edgeAlt{window: int32(len(s.shifts) - 1)}
		into := (x - float64(k)) * w
		switch {
		case into < reach:
			e.chance, e.level = 1-phiApprox(into/pair), float64(prev)
			if s.v.ok[i] {
				sh.down = min(0.45, sh.down+e.chance)
			}
		case w-into < reach:
			e.chance = 1 - phiApprox((w-into)/pair)
			if s.v.ok[i] {
				carry += e.chance
			}
		}
		s.edges[i] = e
		if s.v.ok[i] {
			cur++
		}
	}
}

// firstUseEnds finds what the ends of fixed windows counted from first
// use make uncertain (see edgeAlt). A window ends its length after the
// request that opened it, and a request within three pair spreads of that
// end may have arrived on its other side: one just before it, in a new
// window that had admitted none; one just after it, before a new window
// opened, in the old one at its count. The windows' counts are sure (no
// shifts): the replay follows the admissions as the limiter made them.
// Without this, auto's paced steps, which send on round moments, put a
// request on the end of a window of 30 per 3 s to within the network's
// noise, and the truth got it wrong where a window on the clock 1% longer
// did not.
func (s *scanner) firstUseEnds(cfg limiter.Config) {
	s.edges = slices.Grow(s.edges[:0], len(s.v.arrive))[:len(s.v.arrive)]
	s.shifts = append(s.shifts[:0], shift{})
	pair := s.timing * math.Sqrt2
	reach := time.Duration(3 * pair * float64(time.Second))
	if pair <= 0 || cfg.Window <= 2*reach {
		reach = 0
	}
	open := false // a window is counting
	var start time.Duration
	count := 0
	for i, at := range s.v.arrive {
		e := edgeAlt{}
		if open && at >= start+cfg.Window {
			open = false
		}
		end := start + cfg.Window
		switch {
		case open && end-at < reach:
			e.chance = 1 - phiApprox((end-at).Seconds()/pair)
		case !open && count > 0 && at-end < reach:
			e.chance, e.level = 1-phiApprox((at-end).Seconds()/pair), float64(count)
		}
		s.edges[i] = e
		if s.v.ok[i] {
			if !open {
				open, start, count = true, at, 0
			}
			count++
		}
	}
}

// phiApprox is Φ(x) by the logistic approximation.
func phiApprox(x float64) float64 { return sigmoid(x) }

// logAdmit is log(missFloor + (1−2·missFloor)·sigmoid(x)), the
// log-likelihood of an outcome the model gives x standard units of room
// (negative when it predicts the other outcome), from a table: a fit
// evaluates it millions of times.
func logAdmit(x float64) float64 {
	const span = 8.0
	switch {
	case x >= span:
		return admitTable[len(admitTable)-1]
	case x <= -span:
		return admitTable[0]
	}
	f := (x + span) / (2 * span) * float64(len(admitTable)-1)
	i := int(f)
	return admitTable[i] + (f-float64(i))*(admitTable[i+1]-admitTable[i])
}

var admitTable = func() [4097]float64 {
	var t [4097]float64
	for i := range t {
		x := -8 + 16*float64(i)/float64(len(t)-1)
		t[i] = math.Log(missFloor + (1-2*missFloor)*sigmoid(x))
	}
	return t
}()

// sigmoid is the logistic approximation of the standard normal
// distribution function, Φ(x) ≈ 1/(1+e^(−1.702x)), within 0.01.
func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-1.702*x)) }

// withCapacity sets the capacity parameter of cfg's kind.
func withCapacity(cfg limiter.Config, c int) limiter.Config {
	switch cfg.Kind {
	case limiter.TokenBucket, limiter.GCRA, limiter.Queue:
		cfg.Burst = c
	case limiter.Concurrency:
		cfg.MaxInFlight = c
	default:
		cfg.Limit = c
	}
	return cfg
}

// capacityOf reads the capacity parameter of cfg's kind.
func capacityOf(cfg limiter.Config) int {
	switch cfg.Kind {
	case limiter.TokenBucket, limiter.GCRA, limiter.Queue:
		return cfg.Burst
	case limiter.Concurrency:
		return cfg.MaxInFlight
	}
	return cfg.Limit
}

// geometric returns n values from lo to hi, evenly spaced on a log scale.
func geometric(lo, hi float64, n int) []float64 {
	if n < 2 || lo <= 0 || hi <= lo {
		return []float64{lo}
	}
	out := make([]float64, n)
	f := math.Pow(hi/lo, 1/float64(n-1))
	x := lo
	for i := range out {
		out[i] = x
		x *= f
	}
	return out
}

// dur is s seconds as a duration.
func dur(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }
