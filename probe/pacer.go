package probe

import (
	"math"
	"math/rand/v2"
	"time"
)

// pacer sends requests at a rate that starts at Start requests per second
// and grows by Slope requests per second every second (0 for a constant
// rate), and stops after Max requests (0 for no cap). Unlike vegeta's
// ConstantPacer it takes fractional rates (22.5/s) exactly. Zero Start with
// zero Slope means as fast as the workers allow: the closed loop of the
// concurrency strategy.
type pacer struct {
	Start, Slope float64
	Max          uint64
	// Random, when set, spaces a constant rate with exponential gaps
	// (Poisson arrivals) instead of evenly.
	Random *randomGaps
	// Due, when set, replaces the rate: hit n (from 1) is due Due(n)
	// seconds in; +Inf stops.
	Due func(n uint64) float64
}

// randomGaps draws the due times of Poisson arrivals, reproducibly from a
// seed. vegeta asks for hits in order from one goroutine.
type randomGaps struct {
	rng  *rand.Rand
	n    uint64  // hits drawn so far
	last float64 // due time of hit n, seconds
}

func newRandomGaps(seed uint64) *randomGaps {
	return &randomGaps{rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
}

// due is the time, in seconds, at which hit n (from 1) is due at rate.
func (g *randomGaps) due(n uint64, rate float64) float64 {
	for g.n < n {
		g.last += g.rng.ExpFloat64() / rate
		g.n++
	}
	return g.last
}

// Pace implements vegeta.Pacer: the wait until the next request, and
// whether to stop.
func (p pacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if p.Max > 0 && hits >= p.Max {
		return 0, true
	}
	if p.Start <= 0 && p.Slope <= 0 && p.Due == nil {
		return 0, false
	}
	// Request n goes out one slot in (at (n+1)/rate), so a step that follows
	// another without a pause never sends two requests closer than a slot.
	var due float64
	switch {
	case p.Due != nil:
		due = p.Due(hits + 1)
	case p.Random != nil && p.Slope == 0:
		due = p.Random.due(hits+1, p.Start)
	default:
		due = p.due(float64(hits + 1))
	}
	if math.IsInf(due, 1) {
		return 0, true
	}
	wait := time.Duration(due*float64(time.Second)) - elapsed
	if wait < 0 {
		return 0, false
	}
	return wait, false
}

// precise is a pacer as an attack uses it. It waits a gap of longWait or
// more itself, so that an interrupt (done closing) ends the wait and stops
// the attack, and leaves shorter gaps to vegeta, whose sleep uses the
// runtime's timers: the cheapest way to keep a fast schedule.
//
// Fine, it also sleeps every gap itself to within tens of microseconds,
// the last two milliseconds with the kernel's sleep (a system call per
// request). The runtime's timers wake up to a millisecond late when the
// process is idle, so fast rates leave in clumps, one per wake-up, and a
// limiter that spaces requests (a bucket of one) refuses all but one of a
// clump. Only a schedule that must measure such a limiter needs it: the
// probe uses it for steps with Poisson arrivals.
type precise struct {
	pacer
	done <-chan struct{}
	fine bool
}

// longWait is the shortest gap precise waits itself when not fine.
const longWait = 10 * time.Millisecond

// fineRate is the highest rate, requests per second, at which the engine
// paces every step finely. Above it the system call per request starts to
// bound the generator (at 5000/s and more on two shared cores), and only
// steps with Poisson arrivals are paced finely.
const fineRate = 4000

func (p precise) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	wait, stop := p.pacer.Pace(elapsed, hits)
	if stop || wait <= 0 {
		return 0, stop
	}
	if !p.fine && wait < longWait {
		return wait, false
	}
	return 0, !sleepUntil(time.Now().Add(wait), p.done, p.fine)
}

// sleepUntil waits until t, and returns false, early, when done closes
// first. Fine, it waits to within tens of microseconds: the runtime's
// sleep for all but the last two milliseconds, then sleepFine.
func sleepUntil(t time.Time, done <-chan struct{}, fine bool) bool {
	coarse := time.Until(t)
	if fine {
		coarse -= 2 * time.Millisecond
	}
	if coarse > 0 {
		tm := time.NewTimer(coarse)
		defer tm.Stop()
		select {
		case <-tm.C:
		case <-done:
			return false
		}
	}
	if fine {
		sleepFine(t)
	}
	return true
}

// Rate is the offered rate, requests per second, at elapsed.
func (p pacer) Rate(elapsed time.Duration) float64 {
	return p.Start + p.Slope*elapsed.Seconds()
}

// due is the time, in seconds, by which n requests are due: the first t
// with Start·t + Slope·t²/2 ≥ n.
func (p pacer) due(n float64) float64 {
	if p.Slope == 0 {
		return n / p.Start
	}
	// Solve Slope/2·t² + Start·t − n = 0 for t ≥ 0.
	a, b := p.Slope/2, p.Start
	disc := b*b + 4*a*n
	if disc < 0 {
		return math.Inf(1)
	}
	return (-b + math.Sqrt(disc)) / (2 * a)
}
