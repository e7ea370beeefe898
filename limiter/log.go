package limiter

import "time"

// Log is a sliding log: it keeps the times of admitted requests and admits
// a request while fewer than Limit were admitted in (t−Window, t], so each
// slot comes back exactly one window after it was used. Its ring grows as
// needed, up to Limit entries as a limiter (Admit), without bound as a
// meter (Record). As a lockout (Config.Log) it keeps every request's time,
// refused ones too: a client that keeps sending faster than Limit per
// Window stays shut out.
type Log struct {
	cfg  Config
	buf  []time.Duration // ring of admission times
	head int             // index of the oldest entry
	n    int             // entries
}

// NewLog returns an empty sliding log for c.
func NewLog(c Config) *Log {
	return &Log{cfg: c, buf: make([]time.Duration, max(1, min(c.Limit, 16)))}
}

func (l *Log) expire(t time.Duration) {
	for l.n > 0 && l.buf[l.head] <= t-l.cfg.Window {
		l.head = (l.head + 1) % len(l.buf)
		l.n--
	}
}

// Level is the count of admissions in (t−Window, t].
func (l *Log) Level(t time.Duration) float64 {
	l.expire(t)
	return float64(l.n)
}

// Record logs an admitted request, and a refused one as a lockout.
func (l *Log) Record(t time.Duration, admitted bool) {
	every := l.cfg.Kind == Lockout
	if !admitted && !every {
		return
	}
	if l.n == len(l.buf) {
		size := 2 * len(l.buf)
		if lim := l.cfg.Limit; !every && lim > l.n && size > lim {
			size = lim // a limiter never holds more than Limit
		}
		grown := make([]time.Duration, size)
		for i := range l.n {
			grown[i] = l.buf[(l.head+i)%len(l.buf)]
		}
		l.buf, l.head = grown, 0
	}
	l.buf[(l.head+l.n)%len(l.buf)] = t
	l.n++
}

// Done does nothing: a log does not count requests in flight.
func (l *Log) Done(time.Duration) {}

// Admit decides about a request at t. A lockout's log, as a limiter,
// keeps only the newest Limit times: they decide whether Limit fell in the
// window, and a client hammering a long window does not grow it.
func (l *Log) Admit(t time.Duration) Decision {
	d := l.Peek(t)
	if l.cfg.Kind == Lockout && l.n >= l.cfg.Limit {
		l.head = (l.head + 1) % len(l.buf)
		l.n--
	}
	l.Record(t, d.OK)
	return d
}

// Peek returns the decision Admit would make about a request at t,
// without logging it.
func (l *Log) Peek(t time.Duration) Decision {
	l.expire(t)
	if l.n >= l.cfg.Limit {
		// A slot comes back when all but Limit−1 of the logged have left.
		oldest := l.buf[(l.head+l.n-l.cfg.Limit)%len(l.buf)]
		newest := l.buf[(l.head+l.n-1)%len(l.buf)]
		return Decision{RetryAfter: oldest + l.cfg.Window - t, Reset: newest + l.cfg.Window - t}
	}
	return Decision{OK: true, Remaining: l.cfg.Limit - l.n - 1, Reset: l.cfg.Window}
}
