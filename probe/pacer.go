package probe

import (
	"math"
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
}

// Pace implements vegeta.Pacer: the wait until the next request, and
// whether to stop.
func (p pacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if p.Max > 0 && hits >= p.Max {
		return 0, true
	}
	if p.Start <= 0 && p.Slope <= 0 {
		return 0, false
	}
	// Request n goes out one slot in (at (n+1)/rate), so a step that follows
	// another without a pause never sends two requests closer than a slot.
	due := p.due(float64(hits + 1))
	if math.IsInf(due, 1) {
		return 0, true
	}
	wait := time.Duration(due*float64(time.Second)) - elapsed
	if wait < 0 {
		return 0, false
	}
	return wait, false
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
