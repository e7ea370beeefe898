package limiter

import (
	"math"
	"time"
)

// Window counts requests in clock-aligned windows: a fixed window admits
// Limit per window; a sliding counter (Cloudflare's, HAProxy's) weighs the
// previous window by the share of it still in view, prev·(1−f) + curr, and
// admits while that count is below Limit, so from idle it admits Limit at
// once and under overload Limit per window. As a lockout it counts every
// request, admitted or not, as HAProxy's http_req_rate does when a deny
// rule tests it: a client that keeps sending above the limit stays denied
// until it idles.
type Window struct {
	cfg         Config
	sliding     bool
	countDenied bool
	start       time.Duration // start of the current window
	started     bool
	prev, curr  int
}

// roll moves the window to the one holding t and returns the elapsed
// share f of it.
func (w *Window) roll(t time.Duration) float64 {
	win := w.cfg.Window
	if w.started && t >= w.start && t-w.start < win {
		return float64(t-w.start) / float64(win) // the common case: no division
	}
	start := t - mod(t-w.cfg.Phase, win)
	switch {
	case w.started && start == w.start:
	case w.started && start == w.start+win:
		w.prev, w.curr = w.curr, 0
	default:
		w.prev, w.curr = 0, 0
	}
	w.start, w.started = start, true
	return float64(t-start) / float64(win)
}

// Level is the count just before a request at t.
func (w *Window) Level(t time.Duration) float64 {
	f := w.roll(t)
	if !w.sliding {
		return float64(w.curr)
	}
	return float64(w.prev)*(1-f) + float64(w.curr)
}

// Record counts the request at t (Level must have been read at t).
func (w *Window) Record(_ time.Duration, admitted bool) {
	if admitted || w.countDenied {
		w.curr++
	}
}

// Done does nothing: windows do not count requests in flight.
func (w *Window) Done(time.Duration) {}

// Admit decides about a request at t.
func (w *Window) Admit(t time.Duration) Decision {
	level := w.Level(t)
	limit := float64(w.cfg.Limit)
	ok := level < Capacity(w.cfg)
	w.Record(t, ok)
	if ok || w.countDenied {
		level++
	}
	rest := w.start + w.cfg.Window - t
	d := Decision{OK: ok}
	if !w.sliding {
		d.Remaining, d.Reset = w.cfg.Limit-w.curr, rest
		if !ok {
			d.RetryAfter = rest
		}
		return d
	}
	const eps = 1e-9
	d.Remaining = max(0, int(math.Ceil(limit-level-eps)))
	// Back to idle when the current window's count has faded too, at the
	// end of the next window; the previous window's fades by the end of
	// this one.
	d.Reset = rest
	if w.curr > 0 {
		d.Reset += w.cfg.Window
	}
	if !ok {
		d.RetryAfter = w.untilAdmitted(t - w.start)
	}
	return d
}

// untilAdmitted is how long, with no further requests, until a request
// would be admitted (the count falls below Limit), elapsed into the
// current window.
func (w *Window) untilAdmitted(elapsed time.Duration) time.Duration {
	l := float64(w.cfg.Limit)
	win := w.cfg.Window
	if w.curr < w.cfg.Limit && w.prev > 0 {
		// prev·(1−f) + curr < limit  ⇔  f > 1 − (limit−curr)/prev.
		f := 1 - (l-float64(w.curr))/float64(w.prev)
		at := time.Duration(math.Floor(f*float64(win))) + 1
		if at < win {
			return max(at-elapsed, 1)
		}
	}
	// In the next window curr becomes prev: curr·(1−f) < limit.
	rest := win - elapsed
	if w.curr < w.cfg.Limit {
		return rest
	}
	f := 1 - l/float64(w.curr)
	return rest + time.Duration(math.Floor(f*float64(win))) + 1
}
