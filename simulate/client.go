package simulate

import (
	"time"

	"limitprobe/limiter"
	"limitprobe/traffic"
)

// Client is the client-side limiter put in front of the measured one: a
// token bucket of RateRPS and Burst, and at most MaxConcurrency requests
// in flight. Zero fields leave that part out.
type Client struct {
	RateRPS        float64 `json:"rate_rps"`
	Burst          int     `json:"burst"`
	MaxConcurrency int     `json:"max_concurrency"`
	// From says where the settings come from: "recommendation", "flags",
	// or "recommendation and flags".
	From string `json:"from"`
}

// smoother replays a Client: requests leave in arrival order (first in,
// first out), each as soon as the bucket has a token and a slot is free,
// as golang.org/x/time/rate's Wait behind a semaphore sends them. A
// request that would wait longer than the deadline is shed, as Wait with
// a deadline refuses at once; it takes no token and no slot.
type smoother struct {
	bucket   *limiter.Bucket // nil: no rate
	full     float64         // the bucket's capacity: a token is free while its level is below
	sem      limiter.Limiter // nil: no cap on requests in flight
	deadline time.Duration
	last     time.Duration // when the last request left: first in, first out
	clock    time.Duration // how far departures have been counted
	waiting  releases      // when the requests now waiting will leave
	peak     int           // most requests waiting at once
}

// newSmoother returns the smoother of c, or nil when c limits nothing.
func newSmoother(c Client, deadline time.Duration) *smoother {
	s := &smoother{deadline: deadline}
	if c.RateRPS > 0 {
		cfg := limiter.Config{Kind: limiter.TokenBucket, Rate: c.RateRPS, Burst: max(c.Burst, 1)}
		s.bucket, s.full = limiter.NewBucket(cfg), limiter.Capacity(cfg)
	}
	if c.MaxConcurrency > 0 {
		s.sem = limiter.New(limiter.Config{Kind: limiter.Concurrency, MaxInFlight: c.MaxConcurrency})
	}
	if s.bucket == nil && s.sem == nil {
		return nil
	}
	return s
}

// release returns when a request ready at t leaves the client, or false
// when it would leave more than the deadline after since (its arrival; a
// batch's first). fl holds the requests in flight; their departures are
// counted as time passes.
func (s *smoother) release(t, since time.Duration, fl *flight) (time.Duration, bool) {
	at := max(t, s.last, s.clock)
	for {
		if at-since > s.deadline {
			return 0, false
		}
		fl.advance(at)
		s.clock = at
		if s.sem != nil && !s.sem.Admit(at).OK {
			next, ok := fl.next()
			if !ok {
				return 0, false // full with nothing in flight: cannot happen
			}
			at = max(at, next)
			continue
		}
		if s.bucket != nil {
			// The common case as a meter; Admit only for the wait.
			if s.bucket.Level(at) < s.full {
				s.bucket.Record(at, true)
			} else {
				if s.sem != nil {
					s.sem.Done(at) // the slot was not used
				}
				at += max(s.bucket.Admit(at).RetryAfter, time.Nanosecond)
				continue
			}
		}
		break
	}
	s.last = at
	s.waiting.pop(t)
	if at > t {
		s.waiting.push(at)
		s.peak = max(s.peak, s.waiting.len())
	}
	return at, true
}

// done counts out a request that left the client at t and did not stay in
// flight (the server refused it).
func (s *smoother) done(t time.Duration) {
	if s.sem != nil {
		s.sem.Done(t)
	}
}

// releases is a queue of release times in order.
type releases struct {
	buf  []time.Duration
	head int
}

func (r *releases) len() int { return len(r.buf) - r.head }

func (r *releases) push(t time.Duration) {
	if r.head > 1024 && r.head*2 > len(r.buf) {
		r.buf = r.buf[:copy(r.buf, r.buf[r.head:])]
		r.head = 0
	}
	r.buf = append(r.buf, t)
}

// pop drops the releases at or before t.
func (r *releases) pop(t time.Duration) {
	for r.head < len(r.buf) && r.buf[r.head] <= t {
		r.head++
	}
}

// flight holds the departures of requests in flight, and tells the
// limiters that count them when each leaves.
type flight struct {
	h     timeHeap
	leave []func(time.Duration) // Done of each limiter that counts
	most  int                   // most in flight at once
}

func (f *flight) push(t time.Duration) {
	f.h.push(t)
	f.most = max(f.most, len(f.h))
}

// advance counts out every request that left by t, in time order.
func (f *flight) advance(t time.Duration) {
	for len(f.h) > 0 && f.h[0] <= t {
		d := f.h.pop()
		for _, l := range f.leave {
			l(d)
		}
	}
}

// next is the earliest departure.
func (f *flight) next() (time.Duration, bool) {
	if len(f.h) == 0 {
		return 0, false
	}
	return f.h[0], true
}

// timeHeap is a min-heap of instants (container/heap would box each one).
type timeHeap []time.Duration

func (h *timeHeap) push(t time.Duration) {
	*h = append(*h, t)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p] <= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *timeHeap) pop() time.Duration {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && a[c+1] < a[c] {
			c++
		}
		if a[i] <= a[c] {
			break
		}
		a[i], a[c] = a[c], a[i]
		i = c
	}
	*h = a
	return top
}

// Schedule returns when client c sends each request of reqs, in order (a
// request of cost n is n requests): the schedule Run's replay behind the
// client sends when the limiter refuses nothing. Requests stay in flight
// for their latency, or latency when the traffic gives none; a request
// that would wait past deadline is shed and left out.
func Schedule(reqs []traffic.Request, c Client, deadline, latency time.Duration) []time.Duration {
	s := newSmoother(c, deadline)
	out := make([]time.Duration, 0, len(reqs))
	var fl flight
	if s != nil && s.sem != nil {
		fl.leave = append(fl.leave, s.sem.Done)
	}
	lat := latencies{def: latency, scale: 1}
	for _, q := range reqs {
		for range q.Cost {
			if s == nil {
				out = append(out, q.At)
				continue
			}
			at, ok := s.release(q.At, q.At, &fl)
			if !ok {
				continue
			}
			out = append(out, at)
			if s.sem != nil {
				fl.push(at + lat.of(q.Latency))
			}
		}
	}
	return out
}
