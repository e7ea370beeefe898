package simulate

import (
	"time"

	"limitprobe/estimate"
	"limitprobe/limiter"
	"limitprobe/traffic"
)

// lane replays the traffic through one chain: batching (optional), the
// client limiter (optional), then a limiter standing for the measured one.
// Lanes share nothing, so that a pass feeds them in parallel.
type lane struct {
	server  server
	client  *smoother
	batch   *batcher
	fl      flight
	track   bool // departures are counted: the server or the client caps requests in flight
	latency latencies
	t       tally
	// stopAtFirst ends the lane at the first refusal or shed request: a
	// candidate of the smallest-limit search has failed by then.
	stopAtFirst bool
	failed      bool
	sendFn      sendFunc // l.send, made once
}

// latencies gives each request its time in flight: its own when the
// traffic has it, else def; then times scale (a band end of a cap).
type latencies struct {
	def   time.Duration
	scale float64
}

func (l latencies) of(d time.Duration) time.Duration {
	if d <= 0 {
		d = l.def
	}
	if l.scale == 1 {
		return d
	}
	return time.Duration(float64(d) * l.scale)
}

// newLane returns a lane against model m with client c in front (nil for
// none) and batching b (nil for none).
func newLane(m estimate.Model, lat latencies, c *smoother, b *batcher) *lane {
	l := &lane{server: newServer(m.Config()), client: c, batch: b, latency: lat}
	l.sendFn = l.send
	l.track = m.Kind == limiter.Concurrency || c != nil && c.sem != nil
	l.fl.leave = append(l.fl.leave, l.server.done)
	if c != nil && c.sem != nil {
		l.fl.leave = append(l.fl.leave, c.sem.Done)
	}
	return l
}

// feed replays reqs, in time order; a request of cost n is n requests.
func (l *lane) feed(reqs []traffic.Request) {
	for _, q := range reqs {
		lat := l.latency.of(q.Latency)
		for range q.Cost {
			if l.failed {
				return
			}
			if l.batch != nil {
				l.batch.add(q.At, lat, l.sendFn)
			} else {
				l.send(q.At, lat, nil)
			}
		}
	}
}

// finish sends what batching still holds.
func (l *lane) finish() {
	if l.batch != nil && !l.failed {
		l.batch.flush(l.sendFn)
	}
}

// send passes one request (a batch when arrivals is set) that is ready at
// ready through the client, if any, to the limiter.
func (l *lane) send(ready, lat time.Duration, arrivals []time.Duration) {
	at := ready
	if l.client != nil {
		since := ready
		if arrivals != nil {
			since = arrivals[0]
		}
		var ok bool
		if at, ok = l.client.release(ready, since, &l.fl); !ok {
			if arrivals == nil {
				l.t.dropped(ready, 1)
			} else {
				for _, a := range arrivals {
					l.t.dropped(a, 1)
				}
			}
			l.failed = l.stopAtFirst
			return
		}
	} else if l.track {
		l.fl.advance(at)
	}
	ok, delay := l.server.admit(at)
	switch {
	case ok && l.track:
		l.fl.push(at + delay + lat)
	case !ok && l.client != nil:
		l.client.done(at)
	}
	l.t.add(ready, at, ok, arrivals)
	l.failed = !ok && l.stopAtFirst
}

// server is the limiter standing for the measured one. It admits a
// request while its meter's level is below its capacity, package
// limiter's contract for Admit without the rest of Admit's decision,
// which a replay of millions of requests does not read. A queue keeps
// Admit: its admitted requests wait, and the wait is in the decision.
type server struct {
	meter    limiter.Meter
	capacity float64
	queue    limiter.Limiter // a queue's limiter; nil for the others
}

func newServer(c limiter.Config) server {
	if c.Kind == limiter.Queue {
		return server{queue: limiter.New(c)}
	}
	return server{meter: limiter.NewMeter(c), capacity: limiter.Capacity(c)}
}

// admit decides about a request at t and records it; an admitted request
// of a queue waits delay before it is served.
func (s server) admit(t time.Duration) (ok bool, delay time.Duration) {
	if s.queue != nil {
		d := s.queue.Admit(t)
		return d.OK, d.Delay
	}
	ok = s.meter.Level(t) < s.capacity
	s.meter.Record(t, ok)
	return ok, 0
}

// done counts out an admitted request that left at t.
func (s server) done(t time.Duration) {
	if s.queue != nil {
		s.queue.Done(t)
		return
	}
	s.meter.Done(t)
}

// batcher merges requests size to one, as an API's batch inputs allow: a
// batch leaves when it is full, or when its first request has waited wait.
type batcher struct {
	size     int
	wait     time.Duration
	arrivals []time.Duration
	lat      time.Duration // the longest latency in the batch
}

type sendFunc func(ready, lat time.Duration, arrivals []time.Duration)

func (b *batcher) add(t, lat time.Duration, send sendFunc) {
	if len(b.arrivals) > 0 && t > b.arrivals[0]+b.wait {
		b.flush(send)
	}
	b.arrivals = append(b.arrivals, t)
	b.lat = max(b.lat, lat)
	if len(b.arrivals) >= b.size {
		send(t, b.lat, b.arrivals)
		b.arrivals, b.lat = b.arrivals[:0], 0
	}
}

// flush sends a batch that is not full, once its first request has waited.
func (b *batcher) flush(send sendFunc) {
	if len(b.arrivals) == 0 {
		return
	}
	send(b.arrivals[0]+b.wait, b.lat, b.arrivals)
	b.arrivals, b.lat = b.arrivals[:0], 0
}
