package limiter

import (
	"math"
	"time"
)

// Bucket is a token bucket in GCRA form: a theoretical arrival time tat
// that every admitted request moves one interval 1/Rate later. The tokens
// in use at t are Rate·(tat−t), at least zero. As a token bucket (and
// GCRA) it admits while a token is free: from idle Burst at once, then one
// per interval. As nginx's queue (limit_req without nodelay) it admits
// while at most Burst requests wait, and an admitted request waits until
// its turn, tokens-in-use/Rate.
type Bucket struct {
	queue    bool
	rate     float64
	burst    int
	interval float64       // ns per token
	tat      time.Duration // 0 and idle when new
	started  bool
}

// NewBucket returns an idle bucket for c (token-bucket, gcra or queue).
func NewBucket(c Config) *Bucket {
	return &Bucket{queue: c.Kind == Queue, rate: c.Rate, burst: c.Burst, interval: 1e9 / c.Rate}
}

// Level is the tokens in use just before a request at t.
func (b *Bucket) Level(t time.Duration) float64 {
	if !b.started || b.tat <= t {
		return 0
	}
	return float64(b.tat-t) / b.interval
}

// Signed is Level without its floor at zero: below zero, minus the
// intervals since the bucket emptied; −Inf before its first admission.
// A fit weighs a request by how far its level lay from the edge, and on
// the admitting side that distance is this.
func (b *Bucket) Signed(t time.Duration) float64 {
	if !b.started {
		return math.Inf(-1)
	}
	return float64(b.tat-t) / b.interval
}

// Record takes a token for an admitted request.
func (b *Bucket) Record(t time.Duration, admitted bool) {
	if !admitted {
		return
	}
	if !b.started || b.tat < t {
		b.tat, b.started = t, true
	}
	b.tat += time.Duration(math.Round(b.interval))
}

// Done does nothing: a bucket does not count requests in flight.
func (b *Bucket) Done(time.Duration) {}

// Admit decides about a request at t.
func (b *Bucket) Admit(t time.Duration) Decision {
	d := b.Peek(t)
	b.Record(t, d.OK)
	return d
}

// Peek returns the decision Admit would make about a request at t,
// without taking a token.
func (b *Bucket) Peek(t time.Duration) Decision {
	used := b.Level(t)
	if b.queue {
		return b.peekQueue(t, used)
	}
	burst := float64(max(b.burst, 1))
	tokens := burst - used
	d := Decision{OK: used < Capacity(Config{Kind: TokenBucket, Burst: b.burst})}
	if d.OK {
		tokens--
	} else {
		d.RetryAfter = seconds((1 - tokens) / b.rate)
	}
	d.Remaining = max(0, int(math.Floor(tokens+1e-9)))
	d.Reset = seconds((burst - tokens) / b.rate)
	return d
}

// peekQueue is nginx's limit_req without nodelay: a request is served at
// most one interval after the last; one that would wait up to Burst
// intervals waits, one that would wait longer is rejected at once.
func (b *Bucket) peekQueue(t time.Duration, waiting float64) Decision {
	wait := seconds(waiting / b.rate)
	if waiting >= Capacity(Config{Kind: Queue, Burst: b.burst}) {
		over := (waiting - float64(b.burst)) / b.rate
		return Decision{RetryAfter: seconds(over), Reset: wait}
	}
	tat := b.tat
	if !b.started || tat < t {
		tat = t
	}
	tat += time.Duration(math.Round(b.interval)) // as Record will
	free := int(math.Floor(float64(b.burst) - waiting + 1e-9))
	return Decision{OK: true, Delay: wait, Remaining: max(0, free), Reset: tat - t}
}
