package estimate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"limitprobe/limiter"
	"limitprobe/units"
)

// models is every family fitted to one run, best first.
type models struct {
	v    *view
	fits []familyFit
	// share is each reported algorithm's share of the evidence: the
	// families' weights from their penalised likelihoods, summed by the
	// name the report gives them.
	share map[string]float64
	// alike is the fixed window of a cap's size that canonical read as the
	// cap, which admits nearly as the cap does (see sameAsCap); zero
	// otherwise.
	alike limiter.Config
}

// fitModels fits every family to the view and weighs them. Each family's
// log-likelihood treats its wrong predictions as independent errors at the
// rate it makes them; the penalty for parameters is BIC's.
func fitModels(v *view, sd seeds) models {
	thin := v.thin(thinned)
	n := float64(len(v.arrive))
	m := models{v: v, share: map[string]float64{}, fits: make([]familyFit, len(families))}
	// The families fit at once, each with its own scanner: a fit is pure
	// arithmetic on the view, which they only read.
	var wg sync.WaitGroup
	for i, f := range families {
		wg.Go(func() {
			ff := fitFamily(newScanner(thin), f, sd)
			ff.bic = -2*ff.best.ll + f.penalty(ff.best.cfg, n)
			m.fits[i] = ff
		})
	}
	wg.Wait()
	slices.SortStableFunc(m.fits, func(a, b familyFit) int { return cmp.Compare(a.bic, b.bic) })
	var total float64
	w := make([]float64, len(m.fits))
	for i, f := range m.fits {
		w[i] = math.Exp(-(f.bic - m.fits[0].bic) / 2)
		total += w[i]
	}
	for i, f := range m.fits {
		m.fits[i].weight = w[i] / total
		m.share[algorithmOf(f.kind)] += w[i] / total
	}
	m.canonical()
	return m
}

// algorithmOf is the name a report gives a family.
func algorithmOf(k limiter.Kind) string {
	switch k {
	case limiter.TokenBucket, limiter.GCRA:
		return AlgorithmTokenBucket
	case limiter.Queue:
		return AlgorithmQueue
	case limiter.FixedWindow:
		return AlgorithmFixedWindow
	case limiter.SlidingLog, limiter.SlidingCounter:
		return AlgorithmSlidingWindow
	case limiter.Lockout:
		return AlgorithmLockout
	case limiter.Concurrency:
		return AlgorithmConcurrency
	}
	return AlgorithmUnknown
}

// describe names a fitted configuration in words: "a token bucket of 10 at
// 50/s".
func describe(cfg limiter.Config) string {
	switch cfg.Kind {
	case limiter.TokenBucket, limiter.GCRA:
		return fmt.Sprintf("a token bucket of %d at %s", cfg.Burst, units.Rate(cfg.Rate))
	case limiter.Queue:
		return fmt.Sprintf("a queue of %d at %s", cfg.Burst, units.Rate(cfg.Rate))
	case limiter.Concurrency:
		return fmt.Sprintf("a cap of %d in flight", cfg.MaxInFlight)
	case limiter.None:
		return "no limiter"
	}
	what := map[limiter.Kind]string{limiter.FixedWindow: "a fixed window", limiter.SlidingLog: "a sliding log",
		limiter.SlidingCounter: "a sliding counter", limiter.Lockout: "a lockout"}[cfg.Kind]
	from := ""
	switch {
	case cfg.FirstUse:
		from = ", its windows counted from a request rather than the clock"
	case cfg.Log:
		from = ", every request's time kept in a sliding log"
	}
	if cfg.Round {
		from += ", its count rounded (admitting below " + units.Exact(float64(cfg.Limit)-0.5) + ")"
	}
	return fmt.Sprintf("%s of %d per %s%s", what, cfg.Limit, units.Seconds(cfg.Window.Seconds()), from)
}

// fromModels sets the summary from the best family. ok is false when no
// limiter explains the refusals better than refusing at random would.
func (e *estimator) fromModels(m models) bool {
	best := m.fits[0]
	if best.kind == limiter.None {
		return false
	}

	s := &e.sum
	v := m.v
	cfg := best.best.cfg
	service := v.meanService() + best.lead
	alg := algorithmOf(best.kind)
	unsure := false
	if best.kind == limiter.TokenBucket {
		switch q, verdict, _ := queueOf(v, cfg); verdict {
		case isQueue:
			cfg, alg = q, AlgorithmQueue
			m.share[alg] = m.share[AlgorithmTokenBucket]
		case undecided:
			unsure = true
		}
	}
	hold := best.hold(v) // a cap's slot, freed early
	rate := rateOf(cfg, hold)
	lo, hi := m.band(best)
	if best.kind == limiter.Lockout {
		// Every window in the band has a phase that locks the client out
		// when it was: the best of them is chance. Its middle is the
		// estimate, each end a few per cent off it at most.
		rate = math.Sqrt(lo * hi)
		cfg.Window = dur(float64(cfg.Limit) / rate)
		lo, hi = min(lo, rate/1.015), max(hi, rate*1.015)
	}
	// Timing noise the fit only approximates: when requests move through
	// the capacity faster than the timing resolves (rate × timing against
	// the capacity), the fit's own band is too narrow. A cap's band holds
	// what the noise leaves open (see band).
	if u := blur(cfg, rate, v.timing); u > 0 && best.kind != limiter.Concurrency {
		lo, hi = min(lo, rate*(1-u/2)), max(hi, rate*(1+u/2))
	}
	s.Algorithm = alg
	s.EffectiveLimitRPS = units.Sig(rate, 3)
	s.EffectiveLimitBand = bandOf(lo, hi)
	s.Burst = capacityOf(cfg)
	s.WindowS = 0
	s.MaxInFlight = 0
	switch cfg.Kind {
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter, limiter.Lockout:
		s.WindowS = units.Sig(windowOf(cfg), 3)
	case limiter.Concurrency:
		s.MaxInFlight = cfg.MaxInFlight
		if sv := service.Seconds(); sv > 0 {
			s.ClientInFlight = int(math.Ceil(float64(cfg.MaxInFlight) * (sv + 2*v.oneWay.Seconds()) / sv))
		}
	}
	s.Model = modelOf(cfg, hold)
	e.satOK = float64(v.admitted)
	rel := (hi - lo) / 2 / max(rate, 1e-9)
	// What a bucket itself gets wrong through the timing noise is not
	// held against it.
	noise := best.noise
	if best.kind == limiter.TokenBucket {
		noise = noiseCost(v, best.best.cfg)
	}
	e.base = m.share[alg] * fitQuality(best.best.miss-int(math.Round(noise)), v.refused) * e.withinPrecision(rel)
	if m.alike.Kind != "" {
		// With even service times the two admit alike but for a few
		// outcomes, workers or not (see TestFixedWindowOfItsServiceTime).
		e.base = min(e.base, 0.5)
		e.reason("%s admits nearly as this cap does and fits the run as well or better: the cap, the more common limiter, is named, but the run does not tell the two apart",
			describe(m.alike))
	}
	if unsure {
		// A queue admits as the bucket does; only its waits tell it apart.
		e.base = min(e.base, 0.5)
		e.reason("a queue of %d would admit the same requests; the time at the server is too noisy to tell whether admitted requests waited their turn", max(0, cfg.Burst-1))
	}
	e.reason("replayed on the %d requests the limiter decided about, as it saw them (each arriving %s after it was sent, give or take %s), %s predicts all but %d outcomes: %s",
		len(v.arrive), units.Seconds(v.oneWay.Seconds()), units.Seconds(v.spread.Seconds()), describe(cfg), best.best.miss, units.Rate(rate))
	if noise >= 1 {
		e.reason("%s deciding these arrivals, blurred as they were, gets %s wrong itself: the timing noise's share of the %d",
			describe(cfg), units.Num(math.Round(noise)), best.best.miss)
	}
	if best.read > 0 && best.kind != limiter.Concurrency {
		e.reason("the replay's best count is %d, which is what %s reads as through this timing noise (its arrivals, decided by it and blurred alike, fitted again)",
			best.read, describe(cfg))
	}
	if best.kind == limiter.Concurrency {
		if best.read > 0 {
			e.reason("the replay's best cap is %d, which is what a cap of %d reads as through this timing noise (its arrivals, admitted by such a cap and blurred alike, fitted again)",
				best.read, cfg.MaxInFlight)
		}
		if best.lead >= 100*time.Microsecond {
			e.reason("the first requests to arrive take the slots, so the admitted ones are more often those the network carried fast: replayed through this timing noise, they reached the server %s earlier than the refused ones, which a round trip less the refusals' does not see; the time at the server is that much longer",
				units.Seconds(best.lead.Seconds()))
		}
		if early := best.best.early; early != 0 {
			e.reason("the server freed each slot about %s %s its response left (tried: up to a sixteenth of the service time either way)",
				units.Seconds(math.Abs(early.Seconds())), map[bool]string{true: "before", false: "after"}[early > 0])
		}
		e.reason("effective limit %d in flight ÷ %s mean time holding a slot = %s; slower requests lower it, so cap concurrency rather than rate",
			cfg.MaxInFlight, units.Seconds(hold.Seconds()), units.Rate(rate))
		if s.ClientInFlight > cfg.MaxInFlight {
			e.reason("this client fills the cap with %d in flight: each request is in flight here for the %s at the server plus the %s round trip",
				s.ClientInFlight, units.Seconds(service.Seconds()), units.Seconds(2*v.oneWay.Seconds()))
		}
	}
	var others []string
	for _, f := range m.fits[1:min(4, len(m.fits))] {
		others = append(others, fmt.Sprintf("%s gets %d wrong", describe(f.best.cfg), f.best.miss))
	}
	e.reason("the next explanations: %s; %s holds %s of the evidence", strings.Join(others, ", "), alg, units.Percent(m.share[alg]))
	return true
}

// band is the range of rates that explain the run about as well as a
// family's best fit: those of its near fits (every capacity in a tie, for
// a cap on requests in flight), and the caps or window counts its blurred
// replays leave open (see deblurred). A cap's band holds, too, the mean
// service time's uncertainty: two standard errors (see holdError) and the
// lead it was corrected by (see capView), which a model of the noise
// gives, not the run. More of the same evidence narrows it (see blur for
// what does not).
func (m models) band(f familyFit) (lo, hi float64) {
	v := m.v
	hold := f.hold(v)
	rate := rateOf(f.best.cfg, hold)
	lo, hi = rate, rate
	for _, n := range f.near {
		h := hold + f.best.early - n.early
		r := rateOf(n.cfg, h)
		if f.kind == limiter.Concurrency {
			r = rateOf(withCapacity(n.cfg, n.tieLo), h)
			lo = min(lo, r)
			r = rateOf(withCapacity(n.cfg, n.tieHi), h)
		}
		lo, hi = min(lo, r), max(hi, r)
	}
	if f.open[1] > 0 && (f.kind != limiter.Concurrency || hold > 0) {
		lo = min(lo, rateOf(withCapacity(f.best.cfg, f.open[0]), hold))
		hi = max(hi, rateOf(withCapacity(f.best.cfg, f.open[1]), hold))
	}
	if f.kind != limiter.Concurrency || len(v.service) < 2 || hold <= 0 {
		return lo, hi
	}
	h, se, lead := hold.Seconds(), holdError(v), f.lead.Seconds()
	short, long := h-max(0, lead)-2*se, h+max(0, -lead)+2*se
	return lo * h / long, hi * h / max(short, h/2)
}

// hold is how long an admitted request held the limiter, for a cap: the
// mean service time, what the admitted requests' lead hides of it, less
// what the slot was freed early.
func (f familyFit) hold(v *view) time.Duration {
	return v.meanService() + f.lead - f.best.early
}

// holdError is the standard error, seconds, of the mean service time:
// the services' spread over the root of their count, and the median round
// trip's of the refusals, which every service time is read against (1.25
// standard deviations over the root of the count; the round trips'
// interquartile range is 1.35 of them).
func holdError(v *view) float64 {
	mean := v.meanService().Seconds()
	svc := serviceSpread(v) * mean / math.Sqrt(float64(len(v.service)))
	rtt := 1.2533 * 2 * v.spread.Seconds() / 1.349 / math.Sqrt(float64(max(1, v.refused)))
	return math.Hypot(svc, rtt)
}

// canonical puts first, among explanations that admit alike, the one a
// report should name. When every admitted request spends the same time at
// the server, a cap of N in flight admits exactly as a sliding log of N per
// that time does, and a fixed window nearly (a cap of 8 at 50 ms on
// loopback fitted best as a fixed window of 8 per 50.1 ms from first use,
// 9 of 752 outcomes wrong to the cap's 11): a winning window of that size
// is read as the cap, the more common limiter (text-generation-inference's
// router, Stripe's endpoint concurrency), a fixed window's claiming 0.5 at
// most, unless the cap's own fit is far worse (Ruled behind and more than
// a third again as many wrong, see fewMore): then the
// service times were not even, or not known (a bucket of one at 50/s
// behind 50±20 ms, its service time a guess within the jitter, read as a
// counter of 1 per 42 ms, 270 outcomes wrong, then as a cap of 1 that
// got 548 wrong, and auto sent no Poisson steps). A sliding log of one
// per W admits exactly as a bucket of one at 1/W does: it is read as the
// bucket, and behind a bucket of one its share of the evidence is the
// bucket's. A queue of N (a
// bucket whose admitted requests wait their turn) holds at most N + 1 at
// the server, so a cap of about that many admits as it does, with a
// parameter less, and on timing noise a couple of outcomes better; the
// waits tell them apart: when the bucket predicts each admitted request's
// wait (see queueOf), which a cap does not, and the waits' evidence
// outweighs what the cap gains on admissions, it is read as the queue
// (nginx's limit_req with a burst and no nodelay).
func (m *models) canonical() {
	best := m.fits[0]
	if bucketOfOne(best.best.cfg) {
		for _, f := range m.fits {
			if f.kind == limiter.SlidingLog && f.best.cfg.Limit <= 1 {
				m.share[AlgorithmTokenBucket] += f.weight
				m.share[AlgorithmSlidingWindow] -= f.weight
			}
		}
		return
	}
	first := func(i int, alg, from string) {
		f := m.fits[i]
		m.fits = append([]familyFit{f}, append(m.fits[:i:i], m.fits[i+1:]...)...)
		m.share[alg] += m.share[from]
		m.share[from] = 0
	}
	if best.kind == limiter.Concurrency {
		for i, f := range m.fits {
			if f.kind != limiter.TokenBucket {
				continue
			}
			if _, verdict, waits := queueOf(m.v, f.best.cfg); verdict == isQueue && f.bic-waits <= best.bic {
				first(i, AlgorithmTokenBucket, AlgorithmConcurrency)
			}
			return
		}
	}
	for i, f := range m.fits {
		if f.kind == limiter.Concurrency && sameAsCap(best.best.cfg, f.best.capacity, m.v.meanService(), m.v.timing) &&
			(f.bic-best.bic < Ruled || fewMore(f.best.miss, best.best.miss)) {
			first(i, AlgorithmConcurrency, algorithmOf(best.kind))
			if best.kind == limiter.FixedWindow {
				m.alike = best.best.cfg
			}
			return
		}
	}
	if best.kind != limiter.SlidingLog {
		return
	}
	if cfg := best.best.cfg; cfg.Limit <= 1 && cfg.Window > 0 {
		b := limiter.Config{Kind: limiter.TokenBucket, Rate: 1 / cfg.Window.Seconds(), Burst: 1}
		m.fits[0].family = family{limiter.TokenBucket, best.params}
		m.fits[0].best.cfg = b
		for i := range m.fits[0].near {
			n := &m.fits[0].near[i]
			n.cfg = limiter.Config{Kind: limiter.TokenBucket, Rate: 1 / n.cfg.Window.Seconds(), Burst: 1}
		}
		m.share[AlgorithmTokenBucket] += m.share[AlgorithmSlidingWindow]
		m.share[AlgorithmSlidingWindow] = 0
	}
}

func abs(x int) int { return max(x, -x) }

// sameAsCap reports whether cfg is a window (a sliding log or counter, a
// fixed window) that admits as a cap of n in flight does, or nearly (a
// fixed window frees its n at once where the cap frees them one by one,
// a few outcomes apart): n per the mean service time, within 5% and one
// request, or within what the timing noise blurs (timing,
// seconds: the spread of a request's moment at the limiter): two spreads
// of a pair of moments in the window, and the requests that pass in one in
// the count. Behind
// 50±20 ms each way a cap of 32 at 200 ms fits best as 29 per 179 ms.
func sameAsCap(cfg limiter.Config, n int, service time.Duration, timing float64) bool {
	s := service.Seconds()
	switch cfg.Kind {
	case limiter.SlidingLog, limiter.SlidingCounter, limiter.FixedWindow:
	default:
		return false
	}
	if s <= 0 {
		return false
	}
	pair := timing * math.Sqrt2
	moves := int(math.Round(float64(n) / s * pair))
	return math.Abs(cfg.Window.Seconds()-s) <= max(0.05*s, 2*pair) && abs(cfg.Limit-n) <= max(1, moves)
}

// fitQuality discounts a family's share of the evidence by how much of
// the throttling its best fit leaves unexplained, beyond what the timing
// noise alone costs the family's truth (a cap of 128 behind 50±20 ms
// gets hundreds wrong however right it is): the share compares the
// families with each other, not with the truth, and a best fit that gets
// a good part of the refusals wrong is a poor explanation, however much
// worse the others are. Wrong predictions of a third of the refusals or
// more leave little confidence.
func fitQuality(miss, refused int) float64 {
	if refused <= 0 {
		return 1
	}
	return min(1, max(0.05, 1-1.5*float64(miss)/float64(refused)))
}

// blur is how much of a fitted configuration's capacity the timing noise
// (the spread of a request's moment at the limiter, seconds) covers: the
// requests that pass in two spreads at its rate, over its capacity. A
// bucket of one at 50/s behind ±20 ms of jitter is blurred through; a
// window of 100 per 10 s is not.
func blur(cfg limiter.Config, rate, timing float64) float64 {
	c := float64(max(1, capacityOf(cfg)))
	return min(1, rate*2*timing/c)
}

// serviceSpread is the relative standard deviation of service times.
func serviceSpread(v *view) float64 {
	mean := v.meanService().Seconds()
	if mean <= 0 {
		return 0
	}
	var ss float64
	for _, s := range v.service {
		d := s.Seconds() - mean
		ss += d * d
	}
	return math.Sqrt(ss/float64(len(v.service)-1)) / mean
}

// regress fits y = a + b·x and returns b and its standard error.
func regress(xs, ys []float64) (slope, se float64) {
	n := float64(len(xs))
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx float64
	for i := range xs {
		dx := xs[i] - mx
		sxy += dx * (ys[i] - my)
		sxx += dx * dx
	}
	if sxx == 0 || n < 3 {
		return 0, math.Inf(1)
	}
	slope = sxy / sxx
	var rss float64
	for i := range xs {
		r := ys[i] - my - slope*(xs[i]-mx)
		rss += r * r
	}
	return slope, math.Sqrt(rss / (n - 2) / sxx)
}
