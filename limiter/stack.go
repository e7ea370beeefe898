package limiter

import "time"

// Stack is several limiters on one path, as gateways put a per-second
// bucket under an hourly or daily quota. A request is admitted when every
// limiter admits it, and only then counted by all of them; a refused
// request is counted by none but the limiters that refused it and count
// refusals (a lockout). A Stack is a Limiter.
type Stack struct {
	lims []Limiter
	last []Decision
}

// NewStack returns idle limiters for cs, in order. Each must pass Check.
func NewStack(cs ...Config) *Stack {
	s := &Stack{lims: make([]Limiter, len(cs)), last: make([]Decision, len(cs))}
	for i, c := range cs {
		s.lims[i] = New(c)
	}
	return s
}

// Admit decides about a request at t: admitted when every limiter admits
// it. The combined decision has the largest delay and retry wait, the
// fewest remaining and the latest reset; Decisions has each one's.
func (s *Stack) Admit(t time.Duration) Decision {
	return s.decide(t, true)
}

// Peek returns the decision Admit would make at t without recording it.
func (s *Stack) Peek(t time.Duration) Decision {
	return s.decide(t, false)
}

func (s *Stack) decide(t time.Duration, record bool) Decision {
	ok := true
	for i, l := range s.lims {
		s.last[i] = l.Peek(t)
		ok = ok && s.last[i].OK
	}
	for i, l := range s.lims {
		switch {
		case record && (ok || !s.last[i].OK):
			// Admitted by all: every one counts it. Refused: only the
			// refusing ones see it, and a lockout counts it.
			s.last[i] = l.Admit(t)
		case !ok && s.last[i].OK:
			// Would have admitted, but does not count it: as much remains
			// as before.
			s.last[i].Remaining++
		}
	}
	d := Decision{OK: ok}
	for i, x := range s.last {
		d.Delay = max(d.Delay, x.Delay)
		if !x.OK {
			d.RetryAfter = max(d.RetryAfter, x.RetryAfter)
		}
		if i == 0 || x.Remaining < d.Remaining {
			d.Remaining = x.Remaining
		}
		d.Reset = max(d.Reset, x.Reset)
	}
	if !ok {
		d.Remaining = 0
	}
	return d
}

// Done tells every limiter that an admitted request left at t.
func (s *Stack) Done(t time.Duration) {
	for _, l := range s.lims {
		l.Done(t)
	}
}

// Decisions returns each limiter's part of the last decision, in the
// order of NewStack; when the stack refused, one that would have admitted
// the request says what remains without it. The slice is reused by the
// next call.
func (s *Stack) Decisions() []Decision { return s.last }
