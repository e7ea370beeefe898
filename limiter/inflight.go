package limiter

import "time"

// InFlight caps the requests in flight, as text-generation-inference's
// router does with a semaphore taken by a non-blocking try: with max in
// flight, the next request is rejected at once.
type InFlight struct {
	max int
	n   int
}

// Level is the number of requests in flight.
func (c *InFlight) Level(time.Duration) float64 { return float64(c.n) }

// Record counts an admitted request in.
func (c *InFlight) Record(_ time.Duration, admitted bool) {
	if admitted {
		c.n++
	}
}

// Done counts a request out.
func (c *InFlight) Done(time.Duration) {
	if c.n > 0 {
		c.n--
	}
}

// Admit decides about a request at t.
func (c *InFlight) Admit(t time.Duration) Decision {
	d := c.Peek(t)
	c.Record(t, d.OK)
	return d
}

// Peek returns the decision Admit would make about a request at t,
// without counting it in.
func (c *InFlight) Peek(time.Duration) Decision {
	if c.n >= c.max {
		return Decision{}
	}
	return Decision{OK: true, Remaining: c.max - c.n - 1}
}
