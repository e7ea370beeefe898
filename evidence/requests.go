package evidence

import (
	"math"
	"time"
)

// Outcome is what one response meant for the probe.
type Outcome uint8

// Outcomes.
const (
	OK        Outcome = iota // the target served the request
	Throttled                // the target said "slow down"
	Failed                   // anything else that failed; never throttling
	Canceled                 // cut off by the probe itself (an interrupt); not a measurement
)

// Request is one request of a run.
type Request struct {
	Sent    time.Duration // when it was sent, from the run's start
	Latency time.Duration // until its response was back
	Outcome Outcome
	Step    int // index of the step that sent it
}

// Requests holds every request of a run compactly, 15 bytes each, in the
// order they were added (the order responses came back). The zero value is
// empty and ready to use.
type Requests struct {
	sent    []int64  // nanoseconds from the run's start
	latency []uint32 // microseconds, saturated at about 71 minutes
	outcome []Outcome
	step    []uint16 // saturated at 65535
}

// Add appends a request.
func (r *Requests) Add(q Request) {
	r.sent = append(r.sent, int64(q.Sent))
	us := q.Latency / time.Microsecond
	r.latency = append(r.latency, uint32(min(max(us, 0), math.MaxUint32)))
	r.outcome = append(r.outcome, q.Outcome)
	r.step = append(r.step, uint16(min(max(q.Step, 0), math.MaxUint16)))
}

// Len is the number of requests.
func (r *Requests) Len() int { return len(r.sent) }

// At returns request i, 0 ≤ i < Len.
func (r *Requests) At(i int) Request {
	return Request{
		Sent:    time.Duration(r.sent[i]),
		Latency: time.Duration(r.latency[i]) * time.Microsecond,
		Outcome: r.outcome[i],
		Step:    int(r.step[i]),
	}
}
