package limiter

import (
	"math"
	"time"
)

// Window counts requests in windows: a fixed window admits Limit per
// window; a sliding counter (Cloudflare's, HAProxy's) weighs the previous
// window by the share of it still in view, prev·(1−f) + curr, and admits
// while that count is below Limit, so from idle it admits Limit at once
// and under overload Limit per window. As a lockout it counts every
// request, admitted or not, as HAProxy's http_req_rate does when a deny
// rule tests it: a client that keeps sending above the limit stays denied
// until it idles.
//
// Windows are aligned to the clock, except with Config.FirstUse: a fixed
// window then starts at the first request admitted after the last window
// ended (an hour from a client's first call, say); a sliding counter's
// windows follow one another from the first request it counted, and one
// counted after a whole window with none starts them anew (HAProxy's
// stick-table rates).
type Window struct {
	cfg         Config
	sliding     bool
	countDenied bool
	start       time.Duration // start of the current window
	started     bool
	prev, curr  int
}

// firstUse reports whether the window starts at its first request.
func (w *Window) firstUse() bool { return w.cfg.FirstUse && !w.sliding }

// anchored reports whether sliding windows start at a request counted
// rather than on the clock.
func (w *Window) anchored() bool { return w.cfg.FirstUse && w.sliding }

// roll moves a clock-aligned or anchored window to the one holding t and
// returns the elapsed share f of it.
func (w *Window) roll(t time.Duration) float64 {
	win := w.cfg.Window
	if w.started && t >= w.start && t-w.start < win {
		return float64(t-w.start) / float64(win) // the common case: no division
	}
	if w.anchored() {
		switch {
		case !w.started || t < w.start: // nothing counted yet; or out of order
			return 0
		case t-w.start < 2*win:
			w.prev, w.curr, w.start = w.curr, 0, w.start+win
			return float64(t-w.start) / float64(win)
		}
		// A whole window went by with nothing counted: the next request
		// counted starts the windows again.
		w.prev, w.curr, w.started = 0, 0, false
		return 0
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

// over reports whether a window counted from first use has ended by t (or
// never began): the next admitted request starts a new one.
func (w *Window) over(t time.Duration) bool {
	return !w.started || t-w.start >= w.cfg.Window
}

// Level is the count just before a request at t.
func (w *Window) Level(t time.Duration) float64 {
	if w.firstUse() {
		if w.over(t) {
			return 0
		}
		return float64(w.curr)
	}
	f := w.roll(t)
	if !w.sliding {
		return float64(w.curr)
	}
	return float64(w.prev)*(1-f) + float64(w.curr)
}

// Record counts the request at t (Level must have been read at t).
func (w *Window) Record(t time.Duration, admitted bool) {
	if !admitted && !w.countDenied {
		return
	}
	if w.firstUse() && w.over(t) || w.anchored() && !w.started {
		w.start, w.started, w.curr = t, true, 0
	}
	w.curr++
}

// Done does nothing: windows do not count requests in flight.
func (w *Window) Done(time.Duration) {}

// Admit decides about a request at t.
func (w *Window) Admit(t time.Duration) Decision {
	d := w.Peek(t)
	w.Record(t, d.OK)
	return d
}

// Peek returns the decision Admit would make about a request at t,
// without counting it.
func (w *Window) Peek(t time.Duration) Decision {
	level := w.Level(t)
	ok := level < Capacity(w.cfg)
	curr := int(level) // a fixed window's level is its count
	rest := w.start + w.cfg.Window - t
	if w.firstUse() && w.over(t) || w.anchored() && !w.started {
		curr, rest = 0, w.cfg.Window // an admitted request starts the window
	}
	counted := ok || w.countDenied
	if !w.sliding {
		if counted {
			curr++
		}
		d := Decision{OK: ok, Remaining: w.cfg.Limit - curr, Reset: rest}
		if !ok {
			d.RetryAfter = rest
		}
		return d
	}
	curr = w.curr
	if counted {
		level++
		curr++
	}
	const eps = 1e-9
	d := Decision{OK: ok, Remaining: max(0, int(math.Ceil(w.edge()-level-eps)))}
	// Back to idle when the current window's count has faded too, at the
	// end of the next window; the previous window's fades by the end of
	// this one.
	d.Reset = rest
	if curr > 0 {
		d.Reset += w.cfg.Window
	}
	if !ok {
		d.RetryAfter = w.untilAdmitted(t-w.start, curr)
	}
	return d
}

// edge is the count a sliding window admits below: Limit, or half a
// request less for a counter that rounds (see Capacity).
func (w *Window) edge() float64 {
	if w.cfg.Round && w.cfg.Kind == SlidingCounter {
		return float64(w.cfg.Limit) - 0.5
	}
	return float64(w.cfg.Limit)
}

// untilAdmitted is how long, with no further requests, until a sliding
// window would admit a request (the count falls below its edge), elapsed
// into the current window whose count is curr.
func (w *Window) untilAdmitted(elapsed time.Duration, curr int) time.Duration {
	l := w.edge()
	win := w.cfg.Window
	if curr < w.cfg.Limit && w.prev > 0 {
		// prev·(1−f) + curr < limit  ⇔  f > 1 − (limit−curr)/prev.
		f := 1 - (l-float64(curr))/float64(w.prev)
		at := time.Duration(math.Floor(f*float64(win))) + 1
		if at < win {
			return max(at-elapsed, 1)
		}
	}
	// In the next window curr becomes prev: curr·(1−f) < limit.
	rest := win - elapsed
	if curr < w.cfg.Limit { // a whole count below the edge
		return rest
	}
	f := 1 - l/float64(curr)
	return rest + time.Duration(math.Floor(f*float64(win))) + 1
}
