package estimate

import (
	"math"
	"time"

	"limitprobe/limiter"
)

// Assessment is where an estimate stands while a probe runs: the
// explanations still in the running, so that auto can choose the step
// that tells them apart.
type Assessment struct {
	// Candidates are the fitted families, most likely first.
	Candidates []Candidate
	// OneWay is the estimated delay to the limiter; Service the mean time
	// an admitted request spent at the server.
	OneWay, Service time.Duration
	// Timing is the spread, seconds, of a request's moment at the limiter
	// about where the fit puts it.
	Timing float64
	// Admitted and Refused count the requests the limiter decided about.
	Admitted, Refused int
}

// Candidate is one fitted explanation.
type Candidate struct {
	Algorithm string         // as Summary.Algorithm names it
	Config    limiter.Config // its best parameters
	RateRPS   float64        // the long-run rate it admits
	Band      Band           // rates whose fits are as good
	// Behind is how much less likely it is than the best, in BIC units:
	// 0 for the best, above about 10 ruled out.
	Behind float64
	// Share is its algorithm's share of the evidence.
	Share float64
	// Miss counts the outcomes its best fit gets wrong; Blurred is set
	// when a network's timing noise (a millisecond or more; a loopback's
	// is the generator's tens of microseconds) covers a tenth of its
	// capacity or more (see blur): there likelihoods rule out less than
	// they claim.
	Miss    int
	Blurred bool
	// Blur is how much of its capacity the timing noise covers, 0 to 1
	// (see blur): a bucket of 3 at 200/s behind 50±20 ms each way, 1.
	Blur float64
	// Waits is set on a bucket with a burst while the time its admitted
	// requests spent at the server does not yet tell whether they waited
	// their turn (a queue: nginx's limit_req without nodelay) or not: the
	// backend's own latency hides the waits so far (see queueOf).
	Waits bool
}

// Ruled is where a candidate counts as ruled out, in BIC units behind the
// best: a likelihood ratio of e⁵, about 150 to 1.
const Ruled = 10

// Assess fits the limiter families to what a run has measured so far. ok
// is false when there is nothing to fit: no request was refused, or the
// run kept no requests.
func Assess(in Input) (Assessment, bool) {
	e := prepare(in)
	e.heuristics()
	m, ok := e.models()
	if !ok {
		return Assessment{}, false
	}
	a := Assessment{OneWay: m.v.oneWay, Service: m.v.meanService(), Timing: m.v.timing, Admitted: m.v.admitted, Refused: m.v.refused}
	for _, f := range m.fits {
		if f.kind == limiter.None {
			continue
		}
		c := Candidate{Algorithm: algorithmOf(f.kind), Config: f.best.cfg, RateRPS: rateOf(f.best.cfg, f.hold(m.v)),
			Behind: f.bic - m.fits[0].bic}
		c.Share = m.share[c.Algorithm]
		c.Miss = f.best.miss
		if m.v.timing >= 1e-3 {
			c.Blur = blur(f.best.cfg, c.RateRPS, m.v.timing)
		}
		c.Blurred = c.Blur >= 0.1
		if f.kind == limiter.TokenBucket {
			_, verdict, _ := queueOf(m.v, f.best.cfg)
			c.Waits = verdict == undecided
		}
		lo, hi := m.band(f)
		c.Band = Band{Low: lo, High: hi}
		a.Candidates = append(a.Candidates, c)
	}
	return a, len(a.Candidates) > 0
}

// Lead is the most likely candidate.
func (a Assessment) Lead() Candidate { return a.Candidates[0] }

// Rivals are the candidates of other algorithms than the lead's that are
// not ruled out. Behind a blurred lead the likelihoods rule out less than
// they claim: a candidate that gets at most a third more outcomes wrong
// stays a rival (a cap of 32 behind 50±20 ms of jitter got 300 wrong, a
// fixed window of its service time 260). A sliding window whose window is
// the service time is no rival to a cap on requests in flight of the same
// size: with even service times the two admit alike (see
// models.canonical). A fixed window of that size is, so that auto runs
// its workers, the closed-loop evidence a cap's advice rests on; the two
// admit nearly alike, a few outcomes apart, and the cap read over such a
// window claims 0.5 at most. Nor is a sliding log of one to a bucket of
// one: a log of one per W is a bucket of one at 1/W, and no step tells them
// apart (a bucket of one at 5/s on loopback, a log of one per 200 ms
// within Ruled, sent auto to idle and burst and saturate again, 75 s in
// place of 48). Nor does the likelihood alone rule out a cap on
// requests in flight that gets about as many outcomes wrong as the lead
// (see chanceMore): on a short run it weighs how sure each fit was of its
// few misses (a cap of 8 at 200 ms and a fixed window of 8 per 200 ms each
// got 3 of 188 wrong, the window 11 ahead in BIC; a cap of 8 at 50 ms got
// 11 of 752 wrong, a fixed window of 8 per 50.1 ms from first use 9, 37
// ahead; both now read as the cap, the window its rival).
func (a Assessment) Rivals() []Candidate {
	var out []Candidate
	lead := a.Lead()
	seen := map[string]bool{lead.Algorithm: true}
	for _, c := range a.Candidates[1:] {
		if lead.Config.Kind == limiter.Concurrency && c.Config.Kind != limiter.FixedWindow &&
			sameAsCap(c.Config, lead.Config.MaxInFlight, a.Service, a.Timing) {
			continue
		}
		if bucketOfOne(lead.Config) && c.Config.Kind == limiter.SlidingLog && c.Config.Limit <= 1 {
			continue
		}
		near := lead.Blurred && fewMore(c.Miss, lead.Miss) ||
			c.Config.Kind == limiter.Concurrency && chanceMore(c.Miss, lead.Miss)
		if (c.Behind < Ruled || near) && !seen[c.Algorithm] {
			seen[c.Algorithm] = true
			out = append(out, c)
		}
	}
	return out
}

// Decided reports whether the lead explains the run alone, with its band
// within precision (a relative half-width) of its rate, and, for a bucket,
// whether its admitted requests waited their turn.
func (a Assessment) Decided(precision float64) bool {
	lead := a.Lead()
	if len(a.Rivals()) > 0 || lead.RateRPS <= 0 || lead.Waits {
		return false
	}
	return (lead.Band.High-lead.Band.Low)/2 <= precision*lead.RateRPS
}

// Has reports whether algorithm is the lead's or a rival's.
func (a Assessment) Has(algorithm string) (Candidate, bool) {
	if a.Lead().Algorithm == algorithm {
		return a.Lead(), true
	}
	for _, c := range a.Rivals() {
		if c.Algorithm == algorithm {
			return c, true
		}
	}
	return Candidate{}, false
}

// bucketOfOne reports whether cfg is a token bucket or GCRA that keeps no
// burst.
func bucketOfOne(cfg limiter.Config) bool {
	return (cfg.Kind == limiter.TokenBucket || cfg.Kind == limiter.GCRA) && cfg.Burst <= 1
}

// fewMore reports whether a fit that gets miss outcomes wrong is near one
// that gets best wrong: at most a third more, and 15 to spare on few.
func fewMore(miss, best int) bool { return 3*miss <= 4*best+15 }

// chanceMore reports whether a fit that gets miss outcomes wrong gets no
// more wrong than one that gets best, or more by at most two standard
// deviations of McNemar's difference: the root of the misses only one fit
// makes, at most the root of miss+best (none shared).
func chanceMore(miss, best int) bool {
	return miss <= best || float64(miss-best) <= 2*math.Sqrt(float64(miss+best))
}
