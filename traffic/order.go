package traffic

import (
	"math/rand/v2"
	"slices"
	"time"
)

// spreader gathers consecutive requests stamped with the same whole second
// and spreads them over it at random: sorted uniform instants, as Poisson
// arrivals within the second would be, from a seed taken from the second.
type spreader struct {
	sec    time.Duration // the second being gathered
	group  []Request
	offset []float64
}

// add passes q on to ord, after the rest of its second when spread.
func (s *spreader) add(q Request, spread bool, ord *order) {
	if len(s.group) > 0 && (!spread || q.At != s.sec) {
		s.flush(ord)
	}
	if !spread {
		ord.push(q)
		return
	}
	s.sec = q.At
	s.group = append(s.group, q)
}

// flush spreads the gathered second and passes it on.
func (s *spreader) flush(ord *order) {
	n := len(s.group)
	if n == 0 {
		return
	}
	rng := rand.New(rand.NewPCG(uint64(s.sec), uint64(n)))
	s.offset = s.offset[:0]
	for range n {
		s.offset = append(s.offset, rng.Float64())
	}
	slices.Sort(s.offset)
	for i, q := range s.group {
		q.At += time.Duration(s.offset[i] * float64(time.Second))
		ord.push(q)
	}
	s.group = s.group[:0]
}

// order puts requests back in time order within horizon of the newest one
// seen. A request older than one already passed on is moved to that one's
// time and counted late.
type order struct {
	horizon time.Duration
	buf     []Request // pending, sorted by At from head
	head    int
	newest  time.Duration
	last    time.Duration // At of the last request passed on
	started bool          // something was passed on
	late    int64
	maxLate time.Duration
}

// push adds q to the pending requests.
func (o *order) push(q Request) {
	if o.started && q.At < o.last {
		o.late++
		o.maxLate = max(o.maxLate, o.last-q.At)
		q.At = o.last
	}
	if o.head == len(o.buf) {
		o.buf, o.head = o.buf[:0], 0
	}
	o.newest = max(o.newest, q.At)
	o.buf = append(o.buf, q)
	// Insertion from the end: O(1) for a file in order.
	i := len(o.buf) - 1
	for i > o.head && o.buf[i-1].At > q.At {
		o.buf[i] = o.buf[i-1]
		i--
	}
	o.buf[i] = q
}

// pop returns the oldest pending request once no request within horizon
// can come before it, or any pending one when all returns true.
func (o *order) pop(all bool) (Request, bool) {
	if o.head == len(o.buf) {
		return Request{}, false
	}
	q := o.buf[o.head]
	if !all && q.At > o.newest-o.horizon {
		return Request{}, false
	}
	o.head++
	if o.head > 4096 && o.head*2 > len(o.buf) {
		o.buf = o.buf[:copy(o.buf, o.buf[o.head:])]
		o.head = 0
	}
	o.last, o.started = q.At, true
	return q, true
}
