package estimate

import (
	"cmp"
	"math"
	"slices"
	"time"

	"limitprobe/limiter"
)

// earlyShares are the shares of the mean service time by which a cap's
// fit tries its departures earlier (later, when negative), least first.
var earlyShares = []float64{0, 1. / 512, -1. / 512, 1. / 256, -1. / 256, 1. / 128, -1. / 128, 1. / 64, -1. / 64, 1. / 32, -1. / 32, 1. / 16, -1. / 16}

// family is one explanation of what the server saw: a kind of limiter and
// the number of parameters it fits (for the penalty that keeps a flexible
// model from winning on noise).
type family struct {
	kind   limiter.Kind
	params int
}

// The families compared. A queue admits exactly as a bucket with one more
// token does; it is told apart afterwards by the waits of what it admitted.
var families = []family{
	{limiter.None, 1},
	{limiter.Concurrency, 1},
	{limiter.TokenBucket, 2},
	{limiter.SlidingLog, 2},
	{limiter.FixedWindow, 3},
	{limiter.SlidingCounter, 3},
	{limiter.Lockout, 3},
}

// penalty is BIC's for cfg among n requests: the log of n for each
// parameter fitted. A window counted from first use (a fixed window, a
// sliding counter or a lockout) has one fewer than the family's, the
// phase, which its first request sets; so has a lockout kept as a log. A
// counter that rounds has one more.
func (f family) penalty(cfg limiter.Config, n float64) float64 {
	k := f.params
	if cfg.FirstUse || cfg.Log {
		k--
	}
	if cfg.Round {
		k++
	}
	return float64(k) * math.Log(n)
}

// familyFit is the best fit of one family and the fits close to it.
type familyFit struct {
	family
	best scan
	// near are the scans whose score (log-likelihood less half the
	// penalty) is within 2 of the best's: the parameters the evidence
	// cannot tell apart from it.
	near []scan
	bic  float64
	// weight is the fit's share of the evidence (see models.share).
	weight float64
	// read is the cap in flight or the window's count the fit itself
	// found, when timing noise made it read another (see deblurCap,
	// deblurWindow); 0 otherwise.
	read int
	// noise is how many outcomes a true cap's best fit gets wrong through
	// the run's timing noise (see deblurCap); 0 for other families.
	noise float64
	// lead is what the run's mean service time lacks, for a cap read
	// through timing noise, and open the caps or counts its readings
	// cannot tell apart (see deblurred); zero otherwise.
	lead time.Duration
	open [2]int
}

// seeds are where the parameter search starts: a rate and a window from
// simple statistics of the run.
type seeds struct {
	rate    float64   // requests per second
	rates   []float64 // other likely rates: steady goodputs of saturated steps
	windows []float64 // likely windows, seconds
	// lockout is the window a lockout's creep read, seconds; 0 without.
	lockout float64
	// allowances are the windows in which what passed from idle is spent
	// at the likely rates, seconds: where a lockout's window lies when the
	// coarse search leads elsewhere.
	allowances []float64
	// cold is the index of the step that burst from idle; -1 without.
	cold int
}

// fitFamily searches a family's parameters around the seeds for the most
// likely, and keeps those nearly as likely (within 2 of log-likelihood).
func fitFamily(sc *scanner, f family, sd seeds) familyFit {
	var all []scan
	try := func(cfg limiter.Config) scan {
		s := sc.weigh(cfg)
		all = append(all, s)
		return s
	}
	ff := familyFit{family: f}
	sc.bestMiss, sc.bestLL = math.MaxInt, math.Inf(-1)
	switch f.kind {
	case limiter.None:
		// Refusals at random, at the share seen: another tenant's load,
		// not a limit on this client.
		n, k := float64(sc.v.admitted+sc.v.refused), float64(sc.v.refused)
		p := k / n
		ff.best = scan{cfg: limiter.Config{Kind: limiter.None}, miss: sc.v.refused, ll: k*math.Log(p) + (n-k)*math.Log(1-p)}
		ff.near = []scan{ff.best}
		return ff
	case limiter.Concurrency:
		// A server frees a slot when it is done with a request, which
		// need not be when the response leaves it: Go's server flushes
		// after the handler returns, and under load (or -race) the
		// success's way back is slower than a refusal's. A slot freed a
		// millisecond before the view's departure admits a request the
		// view calls refused; a cap of 8 at 200 ms read as a sliding log
		// of 8 per 190 ms that way, its own fit getting 33 outcomes wrong
		// against 6. The departures are tried moved by up to a sixteenth
		// of the service time either way (see moved for the one kept),
		// each at least two spreads of a pair of moments: within the
		// timing noise a move trades against the cap's drift through it
		// (see deblurCap), and behind 50±20 ms caps of 32 read 29 to 31.
		for _, f := range earlyShares {
			sc.early = dur(f * sc.service.Seconds())
			if f != 0 && math.Abs(sc.early.Seconds()) < 2*math.Sqrt2*sc.timing {
				continue
			}
			try(limiter.Config{Kind: limiter.Concurrency})
		}
		sc.early = 0
	case limiter.TokenBucket:
		searchRate(try, sd)
	case limiter.SlidingLog:
		searchWindow(try, f.kind, sd.windows, nil, false, len(sc.v.arrive))
		spanLog(try, all)
	default:
		searchWindow(try, f.kind, sd.windows, sc.v.resumptions(24), true, len(sc.v.arrive))
		if f.kind == limiter.SlidingCounter {
			searchSplit(try, sd.allowances, sc.v.gaps(sd.cold, 32), len(sc.v.arrive))
		}
		if (f.kind == limiter.SlidingCounter || f.kind == limiter.FixedWindow) && len(all) > 0 {
			// A counter's fit on the clock can be twice the window off;
			// a fixed window's, the gaps between its windows.
			ws := sd.windows
			if f.kind == limiter.FixedWindow {
				ws = nil
			}
			searchFirstUse(try, f.kind, ws, windowOf(mostLikely(all).cfg))
		}
		if f.kind == limiter.SlidingCounter {
			// Half a request is told from the timing's blur only when
			// that moves a level by far less (see scanner.soft).
			rounds := sd.rate*sc.timing*math.Sqrt2 < 0.125
			searchRound(try, all, sd.windows, len(sc.v.arrive), rounds)
		}
		if f.kind == limiter.FixedWindow {
			if fu := bestWhere(all, func(c limiter.Config) bool { return c.FirstUse }); fu != nil {
				searchOpenings(try, sc.v, fu.cfg.Window)
			}
			searchAnchored(try, sc.v, bestWhere(all, func(c limiter.Config) bool { return !c.FirstUse }))
		}
		if f.kind == limiter.Lockout && len(all) > 0 {
			// Within 30% of the creep's window, or else within a factor
			// of 2.5 of the best found so far: without the creep's, the
			// coarse search can miss the window by more than half (a
			// lockout of 100 per 5 s read 205 per 12.1 s).
			w, f := sd.lockout, 1.3
			if w <= 0 {
				w, f = windowOf(mostLikely(all).cfg), 2.5
			}
			searched := [][2]float64{{w / f, w * f}}
			searchLockout(try, w, f, len(sc.v.arrive), sc.v.lastRefusal())
			// The coarse search can lead to a window three times too long
			// (a lockout of 100 per 5 s read 245 per 17.6 s): around each
			// allowance's window outside the ranges searched too.
			for _, g := range sd.allowances {
				if g <= 0 || slices.ContainsFunc(searched, func(r [2]float64) bool { return g >= r[0] && g <= r[1] }) {
					continue
				}
				searched = append(searched, [2]float64{g / 1.3, g * 1.3})
				searchLockout(try, g, 1.3, len(sc.v.arrive), sc.v.lastRefusal())
			}
			if l := bestWhere(all, func(c limiter.Config) bool { return c.Log }); l != nil {
				searchLogSpans(try, sc.v, l.capacity, windowOf(l.cfg)/1.3, windowOf(l.cfg)*1.3)
			}
		}
	}
	// A window counted from first use, or a log, has no phase to fit: it
	// must beat one on the clock only by what that parameter is worth,
	// and the fits near the best are near by the same score.
	n := float64(len(sc.v.arrive))
	score := func(s scan) float64 { return s.ll - f.penalty(s.cfg, n)/2 }
	ff.best = slices.MaxFunc(all, func(a, b scan) int { return cmp.Compare(score(a), score(b)) })
	for _, s := range all {
		if score(s) >= score(ff.best)-2 {
			ff.near = append(ff.near, s)
		}
	}
	switch f.kind {
	case limiter.Concurrency:
		ff.best, ff.near = moved(all, ff.best, ff.near, len(sc.v.arrive))
	case limiter.SlidingLog:
		ff.best = middle(try, all, ff.best)
	case limiter.FixedWindow, limiter.SlidingCounter:
		if ff.best.cfg.FirstUse {
			ff.best = middle(try, all, ff.best)
		}
	}
	ff.deblur(sc.v)
	return ff
}

// moved picks among a cap's fits, in earlyShares' order (the unmoved
// first), the one to keep, and its near ones. A move of the departures
// must pay for itself as a parameter would, half the log of the n
// requests in likelihood. One that pays is kept at its least that
// explains the run about as well as the best: past the slots the run
// shows freed early, little may bound it (a pacer whose period divides
// the service time sends nothing just before a departure), and the near
// ones keep in the band what it leaves open.
func moved(all []scan, best scan, near []scan, n int) (scan, []scan) {
	if best.ll <= all[0].ll+math.Log(float64(n))/2 {
		return all[0], all[:1]
	}
	return all[slices.IndexFunc(all, func(s scan) bool { return s.ll >= best.ll-1 })], near
}

// deblur moves a cap's or a window's fit, and its near ones, to the
// capacity that reads as it through v's timing noise. How well it explains
// the run is the fit's.
func (ff *familyFit) deblur(v *view) {
	var db deblurred
	switch ff.kind {
	case limiter.Concurrency:
		db = deblurCap(v, ff.best.capacity, ff.best.early)
		ff.noise, ff.lead = db.noise, db.lead
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter:
		db = deblurWindow(v, ff.best.cfg)
	default:
		return
	}
	ff.open = [2]int{db.lo, db.hi}
	d := db.cap - ff.best.capacity
	if d == 0 {
		return
	}
	ff.read = ff.best.capacity
	move := func(s *scan) {
		s.capacity, s.tieLo, s.tieHi = s.capacity+d, s.tieLo+d, s.tieHi+d
		s.cfg = withCapacity(s.cfg, s.capacity)
	}
	move(&ff.best)
	for i := range ff.near {
		move(&ff.near[i])
	}
}

// spanLog finds how far either side of the best the windows of a sliding
// log reach that explain the run about as well (within 2 of
// log-likelihood, as near ones do), bisecting from the nearest window
// tried beyond. Evenly paced requests are admitted alike by every window
// between two multiples of their spacing (a saturation at 8/s, against a
// log of 6 per 1 s, by every window from 875 ms to 1 s), wider than the
// search's grid, which refines around its best and left such a span's
// far end out of the band: a log of 15 per 1 s saturated at 19.9/s read
// 15.7/s with a band of 15.1–15.8/s.
func spanLog(try func(limiter.Config) scan, all []scan) {
	if len(all) == 0 {
		return
	}
	best := mostLikely(all)
	if math.IsInf(best.ll, -1) {
		return
	}
	w := windowOf(best.cfg)
	good := func(s scan) bool { return s.ll >= best.ll-2 }
	for _, up := range []bool{false, true} {
		out := 0.0 // the nearest window tried beyond, on this side, that is not near
		for _, s := range all {
			x := windowOf(s.cfg)
			if !good(s) && (up && x > w || !up && x < w) && (out == 0 || math.Abs(x-w) < math.Abs(out-w)) {
				out = x
			}
		}
		reach(w, out, func(x float64) bool { return good(try(limiter.Config{Kind: limiter.SlidingLog, Window: dur(x)})) })
	}
}

// reach bisects from window in, where good holds, towards out, where it
// does not, to 0.05%, in 12 tries at most, and returns the farthest window
// found good; in when out is 0 (none tried beyond).
func reach(in, out float64, good func(float64) bool) float64 {
	for range 12 {
		if out == 0 || out/in < 1.0005 && in/out < 1.0005 {
			break
		}
		m := math.Sqrt(in * out)
		if good(m) {
			in = m
		} else {
			out = m
		}
	}
	return in
}

// middle is the fit of best's kind whose window lies in the middle of
// those next to it that explain the run as well as best (its count, within
// a twentieth of its log-likelihood), for a sliding log and a window
// counted from first use, whose window is their one parameter. Like a
// capacity's tie (see replay), a tie of windows is broken at its middle,
// not where the search met it first; its ends are bisected from the
// nearest window tried beyond on each side (see reach), since the search's
// grid refines around its best, not to the tie's far end. A fixed window
// of 30 per 3 s from first use behind the slow backend, which got none
// wrong from 2.927 s to 3.000 s, read 2.94 s, 10.2/s, at the edge.
func middle(try func(limiter.Config) scan, all []scan, best scan) scan {
	if math.IsInf(best.ll, -1) {
		return best
	}
	at := func(x float64) limiter.Config {
		return limiter.Config{Kind: best.cfg.Kind, Window: dur(x), FirstUse: best.cfg.FirstUse}
	}
	kin := func(s scan) bool { return s.cfg.Kind == best.cfg.Kind && s.cfg.FirstUse == best.cfg.FirstUse }
	tied := func(s scan) bool { return kin(s) && s.capacity == best.capacity && s.ll >= best.ll-0.05 }
	var xs []scan
	for _, s := range all {
		if kin(s) {
			xs = append(xs, s)
		}
	}
	slices.SortStableFunc(xs, func(a, b scan) int { return cmp.Compare(a.cfg.Window, b.cfg.Window) })
	i := slices.IndexFunc(xs, func(s scan) bool { return s.cfg.Window == best.cfg.Window })
	if i < 0 {
		return best
	}
	var ends [2]float64
	for k, step := range []int{-1, 1} {
		j := i
		for j+step >= 0 && j+step < len(xs) && tied(xs[j+step]) {
			j += step
		}
		out := 0.0 // the nearest window tried beyond the tie on this side
		if n := j + step; n >= 0 && n < len(xs) {
			out = windowOf(xs[n].cfg)
		}
		ends[k] = reach(windowOf(xs[j].cfg), out, func(x float64) bool { return tied(try(at(x))) })
	}
	if ends[1] <= ends[0] {
		return best
	}
	if m := try(at(math.Sqrt(ends[0] * ends[1]))); tied(m) {
		return m
	}
	return best
}

// searchRate scans bucket rates: 3% apart from a quarter to four times the
// seed, 0.15% apart near the seeds, and 0.02% apart around the best. A
// bucket replayed at a rate a little off drifts a token per admission it
// miscounts, so the best fit is sharp and needs the fine steps.
func searchRate(try func(limiter.Config) scan, sd seeds) {
	cfg := func(r float64) limiter.Config { return limiter.Config{Kind: limiter.TokenBucket, Rate: r} }
	best, bestR := math.Inf(-1), sd.rate
	scanRates := func(rs []float64) {
		for _, r := range rs {
			if s := try(cfg(r)); s.ll > best {
				best, bestR = s.ll, r
			}
		}
	}
	scanRates(geometric(sd.rate/4, 4*sd.rate, 95))
	var near []float64 // seeds, each a few per cent from the others
	for _, r := range append([]float64{sd.rate}, sd.rates...) {
		if !slices.ContainsFunc(near, func(x float64) bool { return math.Abs(x-r) < 0.03*r }) {
			near = append(near, r)
		}
	}
	for _, r := range near {
		scanRates(geometric(r/1.15, r*1.15, 190))
	}
	scanRates(geometric(bestR/1.01, bestR*1.01, 100))
}

// searchWindow scans windows from a quarter of the shortest seed to four
// times the longest, 4% apart (fewer for a long run), then narrows around
// the best few in three rounds (1%, 0.25% and 0.06% apart): a window a
// little off drifts against the boundaries over a run of many windows, so
// the best fit is sharp. The grid is ranked by the blunt likelihood (see
// scanner.likelihoods) and the rounds by the likelihood itself: with the
// grid ranked by that too, a counter of 50 per 5 s on loopback read 32 per
// 3.2 s, its truth's needle (5 ms of phase wide, where the truth gets
// none wrong) lying between the grid's points. A clock-aligned window's
// phase is tried at even fractions of the window, just before moments
// admissions resumed after refusals (marks, where boundaries tend to lie),
// and, in the later rounds, around the best phase so far.
func searchWindow(try func(limiter.Config) scan, kind limiter.Kind, seeds []float64, marks []time.Duration, phased bool, n int) {
	type pt struct {
		w  float64
		p  time.Duration
		ll float64
	}
	run := func(w float64, ps []time.Duration, blunt bool) pt {
		best := pt{w: w, ll: math.Inf(-1)}
		if !phased {
			ps = []time.Duration{0}
		}
		for _, p := range ps {
			s := try(limiter.Config{Kind: kind, Window: dur(w), Phase: p})
			if blunt {
				s.ll = s.blunt
			}
			if s.ll > best.ll {
				best.p, best.ll = p, s.ll
			}
		}
		return best
	}
	// A long run gets fewer candidates: the replays cost n each.
	f := min(1, float64(thinned)/float64(max(1, n)))
	even := func(w float64, k, m int) []time.Duration {
		W := dur(w)
		ps := make([]time.Duration, 0, k+m)
		for i := range k {
			ps = append(ps, time.Duration(i)*W/time.Duration(k))
		}
		for i := range min(m, len(marks)) {
			mk := marks[i*len(marks)/min(m, len(marks))]
			ps = append(ps, ((mk-time.Microsecond)%W+W)%W)
		}
		return ps
	}
	lo, hi := math.Inf(1), 0.0
	for _, w := range seeds {
		if w > 0 {
			lo, hi = min(lo, w/4), max(hi, 4*w)
		}
	}
	if hi <= 0 {
		return
	}
	coarse := min(int(math.Ceil(math.Log(hi/lo)/math.Log(1.04)))+1, int(120*f)+16)
	var pts []pt
	for _, w := range geometric(lo, hi, coarse) {
		pts = append(pts, run(w, even(w, 4, int(8*f)+2), true))
	}
	best := func(k int) []pt {
		slices.SortStableFunc(pts, func(a, b pt) int { return cmp.Compare(b.ll, a.ll) })
		return slices.Clone(pts[:min(k, len(pts))])
	}
	for round, step := range []float64{0.01, 0.0025, 0.0006} {
		cs := best(4 - min(round, 1))
		if round == 0 {
			pts = nil // ranked bluntly; the rounds rank by the likelihood
		}
		for _, c := range cs {
			for _, w := range geometric(c.w*(1-4*step), c.w*(1+4*step), 9) {
				ps := even(w, int(8*f)+2, int(8*f)+2)
				W := dur(w)
				for k := -4; k <= 4; k++ {
					ps = append(ps, (c.p+time.Duration(k)*W/time.Duration(200<<round))%W)
				}
				pts = append(pts, run(w, ps, false))
			}
		}
	}
}

// searchFirstUse scans windows counted from first use 0.5% apart, within
// 40% of w, the best window on the clock, and from a quarter of the
// shortest seed to four times the longest; then 0.05% apart within 1% of
// the best three. HAProxy's stick counters count so: a period starts at a
// request, the next where it ends, and anew at a request after a whole
// period with none, as after auto's burst from idle (see searchLockout for
// the lockout's). On the clock, a counter of 50 per 5 s counted so read 29
// per 2.9 s, getting 29 outcomes wrong.
func searchFirstUse(try func(limiter.Config) scan, kind limiter.Kind, seeds []float64, w float64) {
	lo, hi := w/1.4, w*1.4
	for _, s := range seeds {
		if s > 0 {
			lo, hi = min(lo, s/4), max(hi, 4*s)
		}
	}
	if lo <= 0 {
		return
	}
	cfg := func(x float64) limiter.Config { return limiter.Config{Kind: kind, Window: dur(x), FirstUse: true} }
	var grid []scan
	for _, x := range geometric(lo, hi, int(math.Ceil(math.Log(hi/lo)/0.005))+1) {
		grid = append(grid, try(cfg(x)))
	}
	slices.SortFunc(grid, moreLikely)
	for _, c := range grid[:min(3, len(grid))] {
		if math.IsInf(c.ll, -1) {
			break
		}
		for _, x := range geometric(windowOf(c.cfg)/1.01, windowOf(c.cfg)*1.01, 41) {
			try(cfg(x))
		}
	}
}

// searchRound scans the round windows (see roundWindows) within 30% of
// the best window so far or of a seed at every phase, as plain counters
// and, when rounds, as ones that round (limiter.Config.Round), and refines
// the best three phases of each. A window configured in whole seconds and started
// on the limiter's own clock (go-chi/httprate's, at its creation) is a
// needle in phase that the grid steps past, and a counter that rounds
// fits a longer window best when its edge is put half a request high:
// httprate's 30 per 3 s read 35 per 3.62 s. The phases lie a 2000th of
// the window apart, or fewer for a long run (the replays cost n each).
func searchRound(try func(limiter.Config) scan, all []scan, seeds []float64, n int, rounds bool) {
	if len(all) == 0 {
		return
	}
	centres := []float64{windowOf(mostLikely(all).cfg)}
	for _, s := range seeds {
		if s > 0 {
			centres = append(centres, s)
		}
	}
	var ws []time.Duration
	for _, w := range centres {
		for _, W := range roundWindows(w/1.3, w*1.3) {
			if !slices.Contains(ws, W) {
				ws = append(ws, W)
			}
		}
	}
	for _, W := range ws {
		step := max(time.Millisecond/2, W/2000, time.Duration(float64(W)*float64(n)/3e6))
		for _, round := range []bool{false, true} {
			if round && !rounds {
				break
			}
			cfg := limiter.Config{Kind: limiter.SlidingCounter, Window: W, Round: round}
			var pts []scan
			for p := time.Duration(0); p < W; p += step {
				cfg.Phase = p
				pts = append(pts, try(cfg))
			}
			slices.SortFunc(pts, moreLikely)
			for _, c := range pts[:min(3, len(pts))] {
				if math.IsInf(c.ll, -1) {
					break
				}
				for k := -9; k <= 9; k++ {
					cfg.Phase = ((c.cfg.Phase+time.Duration(k)*step/10)%W + W) % W
					try(cfg)
				}
			}
		}
	}
}

// roundWindows are the windows from lo to hi seconds that people
// configure: whole tens and hundreds of milliseconds, 1–10, 12, 15, 20,
// 30 and 45 seconds, as many minutes, and 1–4, 6, 8, 12 and 24 hours.
func roundWindows(lo, hi float64) []time.Duration {
	var out []time.Duration
	add := func(unit time.Duration, ks ...int) {
		for _, m := range ks {
			w := time.Duration(m) * unit
			if w.Seconds() >= lo && w.Seconds() <= hi && !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	add(10*time.Millisecond, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	add(100*time.Millisecond, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	add(time.Second, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 30, 45)
	add(time.Minute, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 30, 45)
	add(time.Hour, 1, 2, 3, 4, 6, 8, 12, 24)
	return out
}

// searchAnchored tries fixed windows 0.05% apart within 2% of best's, each
// with a boundary on the first request: windows that follow one another
// from a client's first request however long it stays away
// (sethvargo/go-limiter's memory store, a limiter created on first use).
// Paced requests meet those boundaries to within the network's noise, so
// the truth sits at the edge of the windows that fit: a window of 30 per
// 3 s behind a slow backend got none wrong at its best phase from 3 s to
// past 3.04 s, and two at 2.996 s; the search found the plateau from
// 3.006 s up and left 10/s out of the band (9.85–9.98/s). Phased on the
// first request, 3 s to 3.006 s get none wrong.
func searchAnchored(try func(limiter.Config) scan, v *view, best *scan) {
	if best == nil || len(v.arrive) == 0 {
		return
	}
	w := windowOf(best.cfg)
	for _, x := range geometric(w/1.02, w*1.02, 81) {
		W := dur(x)
		try(limiter.Config{Kind: limiter.FixedWindow, Window: W, Phase: v.arrive[0] % W})
	}
}

// searchOpenings tries the fixed windows counted from first use that end
// on a request: each request's time after the last window opened under w,
// within 1% of w, and a little more, so that it falls either side of
// the end. A window counted so opens on a request, and a probe paced at
// round rates sends on round moments, so requests meet the windows' ends
// to within the network's noise, a needle a grid 0.05% apart steps past: a
// window of 30 per 3 s, paced at 13/s, got two outcomes wrong at every
// window the grid tried below 3 s and six above, while a window on the
// clock 1% longer got none wrong.
func searchOpenings(try func(limiter.Config) scan, v *view, w time.Duration) {
	var ends []time.Duration
	open := false
	var start time.Duration
	for i, at := range v.arrive {
		if open && at >= start+w {
			open = false
		}
		if v.ok[i] && !open {
			open, start = true, at
		}
		if d := at - start; float64(d) >= float64(w)/1.01 && float64(d) <= float64(w)*1.01 {
			ends = append(ends, d, d+time.Microsecond)
		}
	}
	slices.Sort(ends)
	for _, e := range slices.Compact(ends) {
		try(limiter.Config{Kind: limiter.FixedWindow, Window: e, FirstUse: true})
	}
}

// searchSplit scans a sliding counter whose boundary split the burst from
// idle: windows 0.05% apart from 8% below the shortest allowance (what
// passed from idle over a rate is at least the limit over a goodput at
// most the rate) to 2% above those within a quarter of it, each with its
// boundary half-way through each gap of the burst (fewer gaps for a long
// run: the replays cost n each); then, around the best few, windows 0.01%
// apart and 21 phases across their gaps, at least 0.5 ms apart.
// Where the boundary fell says how much of the burst still weighed after
// it, and the rest of the run pins window and phase to a needle: a probe
// paced at round rates meets a round window at the same moments in each,
// and 1 ms off in phase, or in 5 s of window, gets tens of outcomes wrong
// that the truth predicts (a counter of 50 per 5 s read 56 per 5.6 s when
// its boundary fell late in the burst). The coarse search's grid does not
// land there.
func searchSplit(try func(limiter.Config) scan, allowances []float64, gaps []time.Duration, n int) {
	lo := math.Inf(1)
	for _, a := range allowances {
		if a > 0 {
			lo = min(lo, a)
		}
	}
	if len(gaps) < 2 || math.IsInf(lo, 1) {
		return
	}
	hi := lo
	for _, a := range allowances {
		if a <= 1.25*lo {
			hi = max(hi, a)
		}
	}
	lo, hi = lo/1.08, hi*1.02
	ws := geometric(lo, hi, int(math.Ceil(math.Log(hi/lo)/0.0005))+1)
	if budget := max(2000, 6_000_000/max(1, n)); len(ws)*len(gaps) > budget {
		gaps = spread(gaps, max(2, budget/len(ws)))
	}
	type pt struct {
		w float64
		g time.Duration
		s scan
	}
	var pts []pt
	for _, w := range ws {
		W := dur(w)
		for _, g := range gaps {
			pts = append(pts, pt{w, g, try(limiter.Config{Kind: limiter.SlidingCounter, Window: W, Phase: (g%W + W) % W})})
		}
	}
	slices.SortFunc(pts, func(a, b pt) int {
		return cmp.Or(cmp.Compare(b.s.ll, a.s.ll), cmp.Compare(a.s.miss, b.s.miss))
	})
	// Across half the widest gap between the phases tried each way.
	var reach time.Duration
	for i := 1; i < len(gaps); i++ {
		reach = max(reach, (gaps[i]-gaps[i-1])/2)
	}
	step := max(time.Millisecond/2, reach/10)
	for _, c := range pts[:min(4, len(pts))] {
		for _, w := range geometric(c.w/1.001, c.w*1.001, 21) {
			W := dur(w)
			for j := -reach / step; j <= reach/step; j++ {
				p := c.g + j*step
				try(limiter.Config{Kind: limiter.SlidingCounter, Window: W, Phase: (p%W + W) % W})
			}
		}
	}
}

// searchLockout scans windows from w/f to w·f (w the one a lockout's creep
// read, or the best so far), about 0.65% apart, each at phases a hundredth
// of it apart (fewer for a long run). A creep pins the moment the client
// was locked out, which a range of windows explains, each with the phase
// that puts its boundaries right: the search must find them all for the
// band to hold them (see fromModels, which reports the middle of that
// range). The likelihood is sharp in both (a lockout of 100 per 5 s behind
// a slow backend read 102 per 5.39 s on the grid alone), so around the
// best four of the grid (up to twelve when a lockout is likely, see below)
// windows 0.2% apart within 4% are tried at phases a thousandth apart;
// around its best counted from a request and its best kept as a log, which
// have no phase, 0.2% apart within 4%, then 0.05% apart within 1% of the
// best of those (a first-use window of 50 per 5 s behind jitter got none
// wrong only from 5.033 s to 5.037 s). A
// change of window moves its boundaries by as much times the windows gone
// by: each keeps the boundary nearest anchor (the last refusal, late in
// the creep's hold or in the poll after it) in place, and when a lockout
// is likely the first boundary too. Each window is tried counted from
// first use as well (HAProxy's counters: no phase on the clock fits a
// run whose holds started them anew).
func searchLockout(try func(limiter.Config) scan, w, f float64, n int, anchor time.Duration) {
	phases := max(10, int(100*min(1, float64(thinned/10)/float64(max(1, n)))))
	var grid []scan
	for _, x := range geometric(w/f, w*f, int(math.Round(math.Log(f*f)/0.0065))) {
		W := dur(x)
		for k := range phases {
			grid = append(grid, try(limiter.Config{Kind: limiter.Lockout, Window: W, Phase: W * time.Duration(k) / time.Duration(phases)}))
		}
		grid = append(grid, try(limiter.Config{Kind: limiter.Lockout, Window: W, FirstUse: true}),
			try(limiter.Config{Kind: limiter.Lockout, Window: W, Log: true}))
	}
	slices.SortFunc(grid, moreLikely)
	// The best four; and when the grid's best gets few wrong (a lockout
	// is likely), the best of each other window that gets few wrong too:
	// a plateau of windows can each get two wrong on the grid while the
	// truth, between its points, gets none (a lockout of 100 per 5 s read
	// 140 per 9.82 s when the best four were all on the plateau), and a
	// burst at 200/s crosses a boundary in 5 ms where the grid's phases
	// lie 50 ms apart (one read 112 per 5.56 s, getting 7 wrong, where
	// the truth gets none and its grid points 9 to 11).
	few := max(2, n/50)
	likely := len(grid) > 0 && grid[0].miss <= few
	most := 4
	if likely {
		most = 12
	}
	var tops []limiter.Config
	for _, s := range grid {
		if len(tops) == most || math.IsInf(s.ll, -1) {
			break
		}
		if len(tops) >= 4 && s.miss > few {
			continue
		}
		near := func(c limiter.Config) bool {
			if len(tops) < 4 {
				return sameLockout(c, s.cfg)
			}
			return math.Abs(windowOf(s.cfg)/windowOf(c)-1) < 0.04
		}
		if !slices.ContainsFunc(tops, near) {
			tops = append(tops, s.cfg)
		}
	}
	// The grid's best counted from a request and its best kept as a log
	// are refined too: with a parameter fewer, either can be the family's
	// best while phases on the clock fill the tops (see TestRecordedRuns).
	for _, b := range []*scan{bestWhere(grid, func(c limiter.Config) bool { return c.FirstUse }), bestWhere(grid, func(c limiter.Config) bool { return c.Log })} {
		if b != nil && !math.IsInf(b.ll, -1) && !slices.ContainsFunc(tops, func(c limiter.Config) bool { return sameLockout(c, b.cfg) }) {
			tops = append(tops, b.cfg)
		}
	}
	for _, c := range tops {
		if c.FirstUse || c.Log {
			at := func(x float64) limiter.Config {
				return limiter.Config{Kind: limiter.Lockout, Window: dur(x), FirstUse: c.FirstUse, Log: c.Log}
			}
			best := scan{ll: math.Inf(-1)}
			for j := -20; j <= 20; j++ {
				if s := try(at(windowOf(c) * (1 + 0.002*float64(j)))); s.ll > best.ll {
					best = s
				}
			}
			if !math.IsInf(best.ll, -1) {
				for _, x := range geometric(windowOf(best.cfg)/1.01, windowOf(best.cfg)*1.01, 41) {
					try(at(x))
				}
			}
			continue
		}
		// Windows change with one boundary kept in place: the one nearest
		// anchor; when a lockout is likely, the first (the phase) too, as
		// the grid's point may have placed the early boundaries right and
		// the late ones a window's error times the windows gone by off.
		keep := []time.Duration{c.Phase + c.Window*((anchor-c.Phase+c.Window/2)/c.Window)}
		if likely {
			keep = append(keep, c.Phase)
		}
		for _, b := range keep {
			for j := -20; j <= 20; j++ {
				W := dur(windowOf(c) * (1 + 0.002*float64(j)))
				for m := -10; m <= 10; m++ {
					p := (b + W*time.Duration(m)/1000) % W
					try(limiter.Config{Kind: limiter.Lockout, Window: W, Phase: (p + W) % W})
				}
			}
		}
	}
}

// mostLikely is the scan of all with the highest log-likelihood; all is
// not empty.
func mostLikely(all []scan) scan {
	return slices.MinFunc(all, moreLikely)
}

// moreLikely orders scans from the most likely: a sort's comparison.
func moreLikely(a, b scan) int { return cmp.Compare(b.ll, a.ll) }

// bestWhere is the most likely scan in all whose configuration keep
// accepts, or nil.
func bestWhere(all []scan, keep func(limiter.Config) bool) *scan {
	var b *scan
	for i, s := range all {
		if keep(s.cfg) && (b == nil || s.ll > b.ll) {
			b = &all[i]
		}
	}
	return b
}

// searchLogSpans tries the lockouts kept as a log whose windows get fewest
// outcomes wrong, for capacities within two of c and windows from lo to hi
// seconds. Such a log refuses request i when the C requests before it,
// refused ones too, came within the window: when the window is longer than
// their span. Each request's span is where its outcome flips, so the
// windows between two spans predict alike, and the middle of the best
// stretch is the fit. A probe paced at round rates sends on round moments
// and spans meet a round window to within the network's noise: a log of 30
// per 3 s on loopback got none wrong at 3 s and one or more at every other
// window 10 ms apart from 2.9 s to 3.2 s (another needle aside, 31 per
// 3.12 s); the grid and its refinement (0.65% and 0.2% apart) stepped
// past it, and a lockout on the clock of 30 per 3.08 s, which also got
// none wrong, left 10/s out of its band.
func searchLogSpans(try func(limiter.Config) scan, v *view, c int, lo, hi float64) {
	type flip struct {
		span time.Duration
		ok   bool
		w    int32
	}
	n := len(v.arrive)
	before := make([]int64, n+1) // before[i]: requests before i, refusals by their weight
	for i := range n {
		before[i+1] = before[i] + int64(v.w(i))
	}
	fs := make([]flip, 0, n)
	for C := max(1, c-2); C <= c+2; C++ {
		fs = fs[:0]
		j := 0 // the C-th request before i, once there are C
		for i, at := range v.arrive {
			for j+1 < i && before[i]-before[j+1] >= int64(C) {
				j++
			}
			if before[i]-before[j] >= int64(C) {
				fs = append(fs, flip{at - v.arrive[j], v.ok[i], v.w(i)})
			}
		}
		slices.SortFunc(fs, func(a, b flip) int { return cmp.Compare(a.span, b.span) })
		// Below every span all refusals are wrong; past each span its
		// admissions become wrong and its refusals right.
		var miss int64
		for _, f := range fs {
			if !f.ok {
				miss += int64(f.w)
			}
		}
		var mids []time.Duration // of the stretches that get fewest wrong
		fewest := int64(math.MaxInt64)
		for k, f := range fs {
			if f.ok {
				miss++
			} else {
				miss -= int64(f.w)
			}
			if k+1 == len(fs) || fs[k+1].span == f.span {
				continue
			}
			mid := (f.span + fs[k+1].span) / 2
			if mid.Seconds() < lo || mid.Seconds() > hi || miss > fewest {
				continue
			}
			if miss < fewest {
				mids, fewest = mids[:0], miss
			}
			mids = append(mids, mid)
		}
		for _, m := range spread(mids, 8) {
			try(limiter.Config{Kind: limiter.Lockout, Window: m, Log: true})
		}
	}
}

// lastRefusal is when the last refusal reached the limiter.
func (v *view) lastRefusal() time.Duration {
	for i := len(v.arrive) - 1; i >= 0; i-- {
		if !v.ok[i] {
			return v.arrive[i]
		}
	}
	return 0
}

// sameLockout reports whether two lockouts are close enough that refining
// around one covers the other: windows within 0.6%, phases within 1% of the
// window.
func sameLockout(a, b limiter.Config) bool {
	w := windowOf(a)
	if a.FirstUse || b.FirstUse || a.Log || b.Log {
		return a.FirstUse == b.FirstUse && a.Log == b.Log && math.Abs(windowOf(b)/w-1) < 0.006
	}
	d := math.Abs(a.Phase.Seconds() - b.Phase.Seconds())
	return math.Abs(windowOf(b)/w-1) < 0.006 && min(d, w-d) < 0.01*w
}

// resumptions are up to n arrivals, spread over the run, that were admitted
// right after a refusal: where a window's boundary may lie.
func (v *view) resumptions(n int) []time.Duration {
	var all []time.Duration
	for i := 1; i < len(v.arrive); i++ {
		if v.ok[i] && !v.ok[i-1] {
			all = append(all, v.arrive[i])
		}
	}
	return spread(all, n)
}

// gaps are the moments half-way between consecutive arrivals of step
// (up to n, spread over it): where a boundary may have split it.
func (v *view) gaps(step, n int) []time.Duration {
	var all []time.Duration
	for i := 1; i < len(v.arrive); i++ {
		if v.step[i] == step && v.step[i-1] == step {
			all = append(all, (v.arrive[i-1]+v.arrive[i])/2)
		}
	}
	return spread(all, n)
}

// spread is up to n of xs, evenly spread over them.
func spread(xs []time.Duration, n int) []time.Duration {
	if len(xs) <= n {
		return xs
	}
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = xs[i*len(xs)/n]
	}
	return out
}

// windowOf is the window of a scan's configuration, seconds.
func windowOf(cfg limiter.Config) float64 { return cfg.Window.Seconds() }

// rateOf is the long-run rate a fitted configuration admits, requests per
// second; for a cap on requests in flight it needs the mean service time.
func rateOf(cfg limiter.Config, service time.Duration) float64 {
	switch cfg.Kind {
	case limiter.TokenBucket, limiter.GCRA, limiter.Queue:
		return cfg.Rate
	case limiter.Concurrency:
		if service <= 0 {
			return 0
		}
		return float64(cfg.MaxInFlight) / service.Seconds()
	case limiter.None:
		return 0
	}
	if cfg.Window <= 0 {
		return 0
	}
	return float64(cfg.Limit) / cfg.Window.Seconds()
}
