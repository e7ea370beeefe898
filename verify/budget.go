package verify

import (
	"sync"
	"time"
)

// Budget bounds retries to a share of requests, as Finagle's and Envoy's
// retry budgets do, so that retries cannot amplify an overload. It counts
// in tumbling windows: within one window, a retry is allowed while the
// retries so far are fewer than max(Min, Ratio × requests so far). This is
// the budget the report's Go and Python snippets implement.
//
// Time is passed in, so tests need no clock. A Budget is safe for
// concurrent use; the zero value allows nothing but its Min (0).
type Budget struct {
	Ratio  float64       // retries per request, e.g. 0.1
	Min    int           // retries allowed per window whatever the requests
	Window time.Duration // length of a window; 0 means the budget never rolls

	mu                sync.Mutex
	start             time.Time
	requests, retries float64
}

// NewBudget returns a budget of ratio retries per request, at least min per
// window.
func NewBudget(ratio float64, min int, window time.Duration) *Budget {
	return &Budget{Ratio: ratio, Min: min, Window: window}
}

func (b *Budget) roll(now time.Time) {
	if b.start.IsZero() || (b.Window > 0 && now.Sub(b.start) > b.Window) {
		b.start, b.requests, b.retries = now, 0, 0
	}
}

// Request records a request (its first attempt) at now.
func (b *Budget) Request(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(now)
	b.requests++
}

// AllowRetry reports whether a retry may be sent at now, and if so counts
// it.
func (b *Budget) AllowRetry(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(now)
	if b.retries >= max(float64(b.Min), b.Ratio*b.requests) {
		return false
	}
	b.retries++
	return true
}
