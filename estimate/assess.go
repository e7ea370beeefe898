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
	a := Assessment{OneWay: m.v.oneWay, Service: m.v.meanService(), Admitted: m.v.admitted, Refused: m.v.refused}
	for _, f := range m.fits {
		if f.kind == limiter.None {
			continue
		}
		c := Candidate{Algorithm: algorithmOf(f.kind), Config: f.best.cfg, RateRPS: rateOf(f.best.cfg, a.Service),
			Behind: f.bic - m.fits[0].bic}
		c.Share = m.share[c.Algorithm]
		lo, hi := c.RateRPS, c.RateRPS
		for _, n := range f.near {
			for _, cap := range []int{n.capacity, n.tieLo, n.tieHi} {
				if f.kind == limiter.Concurrency || cap == n.capacity {
					r := rateOf(withCapacity(n.cfg, cap), a.Service)
					lo, hi = math.Min(lo, r), math.Max(hi, r)
				}
			}
		}
		if f.kind == limiter.Concurrency && len(m.v.service) > 1 {
			// The mean service time is known to its standard error.
			rel := serviceSpread(m.v) / math.Sqrt(float64(len(m.v.service)))
			lo, hi = math.Min(lo, c.RateRPS*(1-2*rel)), math.Max(hi, c.RateRPS*(1+2*rel))
		}
		c.Band = Band{Low: lo, High: hi}
		a.Candidates = append(a.Candidates, c)
	}
	return a, len(a.Candidates) > 0
}

// Lead is the most likely candidate.
func (a Assessment) Lead() Candidate { return a.Candidates[0] }

// Rivals are the candidates of other algorithms than the lead's that are
// not ruled out. A sliding log whose window is the service time is no
// rival to a cap on requests in flight of the same size: with even
// service times the two admit alike (see models.canonical).
func (a Assessment) Rivals() []Candidate {
	var out []Candidate
	lead := a.Lead()
	seen := map[string]bool{lead.Algorithm: true}
	for _, c := range a.Candidates[1:] {
		if lead.Config.Kind == limiter.Concurrency && sameAsCap(c.Config, lead.Config.MaxInFlight, a.Service) {
			continue
		}
		if c.Behind < Ruled && !seen[c.Algorithm] {
			seen[c.Algorithm] = true
			out = append(out, c)
		}
	}
	return out
}

// Decided reports whether the lead explains the run alone, with its band
// within precision (a relative half-width) of its rate.
func (a Assessment) Decided(precision float64) bool {
	lead := a.Lead()
	if len(a.Rivals()) > 0 || lead.RateRPS <= 0 {
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
