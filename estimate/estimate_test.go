package estimate

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"limitprobe/evidence"
	"limitprobe/headers"
	"limitprobe/limiter"
	"limitprobe/units"
)

// The simulator below turns a limiter model and an offered schedule into
// Steps and a Timeline the way the engine's recorder does (record.go), with
// no network and no clock: requests are sent on the pacer's schedule (or by
// closed-loop workers), reach the limiter after a small random network
// delay, and are admitted, delayed or throttled by the model at that
// instant. Randomness comes from a seeded generator, so every run is the
// same.

// The limiters the simulator runs, from package limiter: windows in
// seconds, rates per second.
func simBucket(r float64, b int) limiter.Limiter {
	return limiter.New(limiter.Config{Kind: limiter.TokenBucket, Rate: r, Burst: b})
}
func simGCRA(r float64, b int) limiter.Limiter {
	return limiter.New(limiter.Config{Kind: limiter.GCRA, Rate: r, Burst: b})
}
func simQueue(r float64, b int) limiter.Limiter {
	return limiter.New(limiter.Config{Kind: limiter.Queue, Rate: r, Burst: b})
}
func simWindow(kind limiter.Kind, l int, w float64) limiter.Limiter {
	return limiter.New(limiter.Config{Kind: kind, Limit: l, Window: simDur(w)})
}
func simInFlight(n int) limiter.Limiter {
	return limiter.New(limiter.Config{Kind: limiter.Concurrency, MaxInFlight: n})
}
func simNone() limiter.Limiter { return limiter.New(limiter.Config{Kind: limiter.None}) }

// simDur is s seconds as a duration.
func simDur(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// simStep is one step of a schedule: rate requests per second open loop, or
// workers back to back, for dur seconds after a pause of idle seconds.
type simStep struct {
	rate    float64
	workers int
	dur     float64
	idle    float64
	// poisson: a saturation step with exponential gaps, as auto sends to
	// a limiter without burst.
	poisson bool
	// slope makes the rate grow linearly from rate, per second (auto's
	// creep); phase names the step when not "ramp".
	slope float64
	phase string
	// untilOK ends the step at its first success, as auto's recovery.
	untilOK bool
	// gap is the least time between two requests of one worker: the
	// engine paces closed-loop workers at twice what they could do if
	// every request succeeded, so a worker refused at once waits.
	gap float64
}

// simRun is a limiter and how it is probed.
type simRun struct {
	lim    limiter.Limiter
	clock0 float64 // the limiter's clock at the run's start, seconds
	// service is the time a success takes, seconds, from the limiter's
	// decision; thrS the time a throttled response takes.
	service func(r *rand.Rand) float64
	thrS    float64
	// afterS is how long a success's response takes to leave after the
	// limiter freed its slot (Go's server flushes after the handler).
	afterS float64
	// netS is the one-way network delay: fixed plus uniform jitter.
	netS, jitterS float64
	// stallP is the chance that a request reaches the limiter up to stallS
	// late, seconds, on top: a paused process (a collection, another
	// program on the core) on either side.
	stallP, stallS float64
	steps          []simStep
	// poisson sends open-loop requests at random (exponential) intervals
	// instead of the pacer's even ones.
	poisson   bool
	threshold float64 // default 0.01
	stopAfter int     // steps over the threshold in a row that end the ramp; 0 runs them all
	// bisect adds steps after the ramp, each halfway between the highest
	// rate not over the threshold and the lowest over it, as an adaptive
	// strategy narrowing the onset would.
	bisect int
	seed   uint64
	// record, when set, receives every request as the engine's recorder
	// keeps them for the estimator.
	record *evidence.Requests
}

type simReq struct {
	send, lat float64 // run seconds; latency seconds
	ok        bool
}

type simEvent struct {
	t       float64
	release bool
	worker  int
	send    float64
}

type simHeap []simEvent

func (h simHeap) Len() int { return len(h) }
func (h simHeap) Less(i, j int) bool {
	if h[i].t != h[j].t {
		return h[i].t < h[j].t
	}
	return h[i].release && !h[j].release
}
func (h simHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *simHeap) Push(x any)   { *h = append(*h, x.(simEvent)) }
func (h *simHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

const simResolution = 0.1

// simulate runs the schedule and returns what the engine would have
// recorded.
func simulate(sr simRun) ([]evidence.Step, evidence.Timeline) {
	rng := rand.New(rand.NewPCG(sr.seed, 0x5eed))
	if sr.threshold == 0 {
		sr.threshold = 0.01
	}
	if sr.service == nil {
		sr.service = func(r *rand.Rand) float64 { return 0.0002 + 0.0002*r.Float64() }
	}
	if sr.thrS == 0 {
		sr.thrS = 0.0001
	}
	if sr.netS == 0 && sr.jitterS == 0 {
		sr.netS, sr.jitterS = 0.0001, 0.0005
	}
	net := func() float64 { return sr.netS + sr.jitterS*rng.Float64() }
	in := func() float64 {
		d := net()
		if sr.stallP > 0 && rng.Float64() < sr.stallP {
			d += sr.stallS * rng.Float64()
		}
		return d
	}
	var steps []evidence.Step
	var all []simReq
	// carry holds the releases of requests still in service when their
	// step ended: the next step meets them.
	var carry []simEvent
	now, over := 0.0, 0
	stopped, bisected := false, 0
	for i := 0; ; i++ {
		var sp simStep
		switch {
		case i < len(sr.steps) && !stopped:
			sp = sr.steps[i]
		case bisected < sr.bisect && len(steps) > 0:
			bisected++
			lo, hi := 0.0, math.Inf(1)
			for _, st := range steps {
				if st.ThrottledRatio > sr.threshold {
					hi = min(hi, st.OfferedRPS)
				} else {
					lo = max(lo, st.OfferedRPS)
				}
			}
			if math.IsInf(hi, 1) || hi <= lo {
				return steps, simTimeline(all, now)
			}
			last := sr.steps[min(len(sr.steps)-1, len(steps)-1)]
			sp = simStep{rate: (lo + hi) / 2, dur: last.dur, idle: last.idle}
		default:
			return steps, simTimeline(all, now)
		}
		if i > 0 {
			now += sp.idle
		}
		start := now
		var reqs []simReq
		h := &simHeap{}
		for _, ev := range carry {
			heap.Push(h, ev)
		}
		carry = nil
		if sp.workers == 0 {
			send := 0.0
			for n := 0; ; n++ {
				if sp.slope != 0 {
					send = rampDue(sp.rate, sp.slope, float64(n+1))
				} else if !sr.poisson && !sp.poisson {
					send = float64(n) / sp.rate
				} else if n > 0 {
					send += rng.ExpFloat64() / sp.rate
				}
				if send >= sp.dur {
					break
				}
				heap.Push(h, simEvent{t: start + send + in(), send: start + send})
			}
		} else {
			for w := range sp.workers {
				heap.Push(h, simEvent{t: start + in(), worker: w, send: start})
			}
		}
		for h.Len() > 0 {
			ev := heap.Pop(h).(simEvent)
			if ev.release && ev.t > start+sp.dur {
				carry = append(carry, ev)
				continue
			}
			if ev.release {
				sr.lim.Done(simDur(sr.clock0 + ev.t))
				continue
			}
			d := sr.lim.Admit(simDur(sr.clock0 + ev.t))
			ok, delay := d.OK, d.Delay.Seconds()
			var done float64
			if ok {
				srv := delay + sr.service(rng)
				heap.Push(h, simEvent{t: ev.t + srv, release: true})
				done = ev.t + srv + sr.afterS + net()
			} else {
				done = ev.t + sr.thrS + net()
			}
			reqs = append(reqs, simReq{send: ev.send, lat: done - ev.send, ok: ok})
			if ok && sp.untilOK {
				// auto's recovery: the step ends with its first success.
				sp.dur = ev.send - start + 0.001
				break
			}
			if next := max(done, ev.send+sp.gap); sp.workers > 0 && next < start+sp.dur {
				heap.Push(h, simEvent{t: next + in(), worker: ev.worker, send: next})
			}
		}
		for h.Len() > 0 { // a step that ended at its first success
			if ev := heap.Pop(h).(simEvent); ev.release {
				carry = append(carry, ev)
			}
		}
		st := simRecord(i, sp, start, reqs)
		steps = append(steps, st)
		if sr.record != nil {
			for _, r := range reqs {
				out := evidence.Throttled
				if r.ok {
					out = evidence.OK
				}
				sr.record.Add(evidence.Request{Sent: simDur(r.send), Latency: simDur(r.lat), Outcome: out, Step: i})
			}
		}
		all = append(all, reqs...)
		now = start + sp.dur
		if st.ThrottledRatio > sr.threshold {
			over++
		} else {
			over = 0
		}
		if sr.stopAfter > 0 && over >= sr.stopAfter {
			stopped = true
		}
	}
}

// simRecord builds a Step from the requests of one step the way the
// engine's recorder does: fine bins of max(1 ms, duration/50000) for the
// successes before the first throttle and for requests in flight.
func simRecord(i int, sp simStep, start float64, reqs []simReq) evidence.Step {
	st := evidence.Step{Index: i, Phase: "ramp", OfferedRPS: sp.rate, Concurrency: sp.workers, StartS: start, DurationS: sp.dur}
	if sp.workers > 0 {
		st.Phase = "concurrency"
	}
	if sp.poisson {
		st.Phase, st.Arrivals = "saturate", evidence.ArrivalsPoisson
	}
	if sp.phase != "" {
		st.Phase = sp.phase
	}
	if sp.slope != 0 {
		st.StartRPS, st.SlopeRPS = sp.rate, sp.slope
		st.OfferedRPS = sp.rate + sp.slope*sp.dur/2
	}
	binW := max(0.001, sp.dur/50000)
	okBins := make([]int, int(sp.dur/binW)+1)
	inflight := make([]int, int((sp.dur+10)/binW)+2)
	first := -1.0
	var okLat, thrLat []float64
	var latSum float64
	for _, r := range reqs {
		off := r.send - start
		st.Requests++
		if r.ok {
			st.OK++
			okLat = append(okLat, r.lat*1000)
			okBins[min(len(okBins)-1, int(off/binW))]++
		} else {
			st.Throttled++
			thrLat = append(thrLat, r.lat*1000)
			if first < 0 || off < first {
				first = off
			}
		}
		latSum += r.lat
		last := len(inflight) - 1
		inflight[min(last, int(off/binW))]++
		inflight[min(last, int((off+r.lat)/binW))]--
	}
	st.GoodputRPS = float64(st.OK) / sp.dur
	st.MeanInFlight = latSum / sp.dur
	if sp.workers > 0 {
		st.OfferedRPS = float64(st.Requests) / sp.dur
	}
	if st.Requests > 0 {
		st.ThrottledRatio = float64(st.Throttled) / float64(st.Requests)
	}
	st.LatencyMS = simQuantiles(okLat)
	st.ThrottleMS = simQuantiles(thrLat)
	cur := 0
	for _, d := range inflight {
		cur += d
		st.MaxInFlight = max(st.MaxInFlight, cur)
	}
	st.FirstThrottleS = -1
	if first >= 0 {
		st.FirstThrottleS = first
		for _, n := range okBins[:min(int(first/binW), len(okBins))] {
			st.OKBeforeThrottle += int64(n)
		}
		if after := sp.dur - first; after > 0 {
			st.SteadyRPS = float64(st.OK-st.OKBeforeThrottle) / after
		}
	}
	if sp.poisson {
		slots := make([]SlotSample, len(reqs))
		for k, r := range reqs {
			slots[k] = SlotSample{At: time.Duration((r.send - start) * 1e9), OK: r.ok}
		}
		ReadSlot(&st, slots)
	}
	return st
}

func simQuantiles(ms []float64) evidence.Latency {
	if len(ms) == 0 {
		return evidence.Latency{}
	}
	slices.Sort(ms)
	q := func(p float64) float64 { return ms[min(len(ms)-1, int(p*float64(len(ms))))] }
	return evidence.Latency{P50: q(0.5), P95: q(0.95), P99: q(0.99), Max: ms[len(ms)-1]}
}

func simTimeline(reqs []simReq, end float64) evidence.Timeline {
	n := int(end/simResolution) + 1
	tl := evidence.Timeline{ResolutionS: simResolution, Buckets: make([]evidence.Bucket, n)}
	lats := make([][]float64, n)
	for _, r := range reqs {
		i := min(n-1, int(r.send/simResolution))
		b := &tl.Buckets[i]
		b.Sent++
		if r.ok {
			b.OK++
			lats[i] = append(lats[i], r.lat*1000)
		} else {
			b.Throttled++
		}
	}
	for i := range tl.Buckets {
		tl.Buckets[i].LatencyMSP50 = simQuantiles(lats[i]).P50
	}
	return tl
}

// ramp is the engine's steps strategy: from start, times factor, up to max,
// steps of dur seconds with idle seconds between them.
func ramp(start, maxRate, factor, dur, idle float64) []simStep {
	var out []simStep
	for r := start; ; r *= factor {
		r = min(r, maxRate)
		out = append(out, simStep{rate: r, dur: dur, idle: idle})
		if r >= maxRate {
			return out
		}
	}
}

// autoLike is auto's schedule up to its saturation step: a burst from idle
// at top for half a second, polls at 2/s until a success, a doubling ramp
// from 5/s in 1-second steps up to the hot rate, and a saturation step at
// sat for satDur seconds.
func autoLike(top, hot, sat, satDur float64) []simStep {
	steps := []simStep{{rate: top, dur: 0.5, phase: "burst"}, {rate: 2, dur: 30, idle: 0.01, phase: "recover", untilOK: true}}
	for r := 5.0; r <= hot; r *= 2 {
		steps = append(steps, simStep{rate: r, dur: 1})
	}
	return append(steps, simStep{rate: sat, dur: satDur, phase: "saturate"})
}

// workers is the concurrency strategy: worker counts doubling from 1.
func workers(maxW int, dur, idle float64) []simStep {
	var out []simStep
	for w := 1; w <= maxW; w *= 2 {
		out = append(out, simStep{workers: w, dur: dur, idle: idle})
	}
	return out
}

// rates is an explicit list of open-loop steps.
func rates(dur, idle float64, rs ...float64) []simStep {
	out := make([]simStep, len(rs))
	for i, r := range rs {
		out[i] = simStep{rate: r, dur: dur, idle: idle}
	}
	return out
}

func fixedLatency(s float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return s * (1 + 0.01*r.Float64()) }
}

// truth is what a simulated limiter really is.
type truth struct {
	rate     float64 // effective limit, requests per second
	burst    int     // -1: not checked
	alg      string
	windowS  float64 // 0: not checked
	inFlight int     // 0: not checked
	// round is a sliding counter that rounds its count: where the timing
	// tells half a request, its model must say so.
	round bool
}

// estimateSim simulates sr and estimates from what it recorded.
func estimateSim(sr simRun, adv *headers.Advertised) (Summary, []evidence.Step) {
	if sr.seed == 0 {
		sr.seed = 1
	}
	steps, tl := simulate(sr)
	return Estimate(Input{Steps: steps, Timeline: tl, Advertised: adv, Threshold: 0.01, MaxOfferedRPS: 400}), steps
}

func within(got, want, rel float64) bool { return math.Abs(got-want) <= rel*want }

// TestEstimateAccuracy is the accuracy matrix: every limiter model, probed
// as the engine would, must come out within 3% of its rate, its burst
// within 10% or 2 requests, named right with confidence of at least 0.6.
func TestEstimateAccuracy(t *testing.T) {
	type tc struct {
		name string
		sr   simRun
		adv  *headers.Advertised
		want truth
	}
	var cases []tc
	for _, r := range []float64{5, 50, 500, 2000} {
		for _, b := range []float64{r, 3 * r} {
			cases = append(cases, tc{
				name: "token-bucket r=" + ftoa(r) + " b=" + ftoa(b),
				sr:   simRun{lim: simBucket(r, int(b)), steps: ramp(5, 16*r, 2, 5, 1), stopAfter: 2},
				want: truth{rate: r, burst: int(b), alg: AlgorithmTokenBucket},
			})
		}
	}
	latency := func(s float64) func(*rand.Rand) float64 {
		return func(r *rand.Rand) float64 { return s * (1 + 0.01*r.Float64()) }
	}
	cases = append(cases,
		tc{name: "gcra r=50 b=50", sr: simRun{lim: simGCRA(50, 50), steps: ramp(5, 800, 2, 5, 1), stopAfter: 2},
			want: truth{rate: 50, burst: 50, alg: AlgorithmTokenBucket}},
		tc{name: "gcra r=2000 b=6000", sr: simRun{lim: simGCRA(2000, 6000), steps: ramp(5, 32000, 2, 5, 1), stopAfter: 2},
			want: truth{rate: 2000, burst: 6000, alg: AlgorithmTokenBucket}},
		tc{name: "fixed window 20 per 2 s", sr: simRun{lim: simWindow(limiter.FixedWindow, 20, 2), clock0: 1000.37, steps: ramp(5, 80, 2, 5, 2.5), stopAfter: 2},
			want: truth{rate: 10, burst: 20, alg: AlgorithmFixedWindow, windowS: 2}},
		tc{name: "fixed window 100 per 10 s, steps longer than the window", sr: simRun{lim: simWindow(limiter.FixedWindow, 100, 10), clock0: 1000.37, steps: ramp(5, 80, 2, 25, 1), stopAfter: 2},
			want: truth{rate: 10, burst: 100, alg: AlgorithmFixedWindow, windowS: 10}},
		tc{name: "fixed window 100 per 10 s, short steps, advertised window", sr: simRun{lim: simWindow(limiter.FixedWindow, 100, 10), clock0: 1000.37, steps: ramp(5, 80, 2, 5, 1), stopAfter: 2},
			adv:  &headers.Advertised{Limit: 100, WindowS: 10, Source: headers.SourceIETF},
			want: truth{rate: 10, burst: 100, alg: AlgorithmFixedWindow, windowS: 10}},
		tc{name: "sliding log 20 per 2 s", sr: simRun{lim: simWindow(limiter.SlidingLog, 20, 2), clock0: 1000.37, steps: ramp(5, 80, 2, 5, 2.5), stopAfter: 2},
			want: truth{rate: 10, burst: 20, alg: AlgorithmSlidingWindow, windowS: 2}},
		tc{name: "sliding counter 50 per 1 s", sr: simRun{lim: simWindow(limiter.SlidingCounter, 50, 1), clock0: 1000.8, steps: ramp(5, 400, 2, 5, 2.3), stopAfter: 2},
			want: truth{rate: 50, burst: 50, alg: AlgorithmSlidingWindow, windowS: 1}},
		tc{name: "concurrency 8 at 50 ms", sr: simRun{lim: simInFlight(8), service: latency(0.05), steps: ramp(5, 1280, 2, 5, 1), stopAfter: 2},
			want: truth{rate: 8 / 0.05025, burst: 8, alg: AlgorithmConcurrency, inFlight: 8}},
		tc{name: "concurrency 32 at 50 ms", sr: simRun{lim: simInFlight(32), service: latency(0.05), steps: ramp(5, 5120, 2, 5, 1), stopAfter: 2},
			want: truth{rate: 32 / 0.05025, burst: 32, alg: AlgorithmConcurrency, inFlight: 32}},
		tc{name: "concurrency 8 at 200 ms", sr: simRun{lim: simInFlight(8), service: latency(0.2), steps: ramp(5, 1280, 2, 5, 1), stopAfter: 2},
			want: truth{rate: 8 / 0.201, burst: 8, alg: AlgorithmConcurrency, inFlight: 8}},
		tc{name: "concurrency 32 at 200 ms", sr: simRun{lim: simInFlight(32), service: latency(0.2), steps: ramp(5, 1280, 2, 5, 1), stopAfter: 2},
			want: truth{rate: 32 / 0.201, burst: 32, alg: AlgorithmConcurrency, inFlight: 32}},
		tc{name: "concurrency 8 at 50 ms, worker sweep", sr: simRun{lim: simInFlight(8), service: latency(0.05), steps: workers(64, 5, 1), stopAfter: 2},
			want: truth{rate: 8 / 0.05025, burst: 8, alg: AlgorithmConcurrency, inFlight: 8}},
		tc{name: "concurrency 32 at 200 ms, worker sweep", sr: simRun{lim: simInFlight(32), service: latency(0.2), steps: workers(128, 5, 1), stopAfter: 2},
			want: truth{rate: 32 / 0.201, burst: 32, alg: AlgorithmConcurrency, inFlight: 32}},
		tc{name: "queue 10/s with 20 waiting", sr: simRun{lim: simQueue(10, 20), service: latency(0.001), steps: ramp(5, 80, 2, 5, 3), stopAfter: 2},
			want: truth{rate: 10, burst: 20, alg: AlgorithmQueue}},
		tc{name: "queue 50/s with 10 waiting", sr: simRun{lim: simQueue(50, 10), service: latency(0.001), steps: ramp(5, 800, 2, 5, 3), stopAfter: 2},
			want: truth{rate: 50, burst: 10, alg: AlgorithmQueue}},
		tc{name: "sliding log 50 per 5 s, auto's schedule", sr: simRun{lim: simWindow(limiter.SlidingLog, 50, 5), clock0: 1000.37, steps: autoLike(200, 20, 13, 11)},
			want: truth{rate: 10, burst: 50, alg: AlgorithmSlidingWindow, windowS: 5}},
		tc{name: "sliding counter 50 per 5 s, auto's schedule", sr: simRun{lim: simWindow(limiter.SlidingCounter, 50, 5), clock0: 1000.37, steps: autoLike(200, 20, 13, 11)},
			want: truth{rate: 10, burst: 50, alg: AlgorithmSlidingWindow, windowS: 5}},
		// The burst lands 1.1 s before a boundary: the polls see the window
		// reopen well before a period has passed. (Within a poll of a
		// period, it could be either.)
		tc{name: "fixed window 20 per 2 s, auto's schedule", sr: simRun{lim: simWindow(limiter.FixedWindow, 20, 2), clock0: 1000.9, steps: autoLike(100, 20, 13, 5)},
			want: truth{rate: 10, burst: 20, alg: AlgorithmFixedWindow, windowS: 2}},
		tc{name: "fixed window 100 per 10 s, auto's schedule", sr: simRun{lim: simWindow(limiter.FixedWindow, 100, 10), clock0: 1000.37, steps: autoLike(100, 20, 13, 20)},
			want: truth{rate: 10, burst: 100, alg: AlgorithmFixedWindow, windowS: 10}},
		// A saturation step too short to reach the next boundary looks
		// like a lockout; the creep's hold sees the window reopen, and a
		// long saturation step measures it.
		tc{name: "fixed window 100 per 10 s, auto's creep then saturation", sr: simRun{lim: simWindow(limiter.FixedWindow, 100, 10), clock0: 1000.37, steps: append(autoLike(100, 40, 52, 3),
			simStep{rate: 6, slope: 1, dur: 5, idle: 5, phase: "creep"}, simStep{rate: 11, dur: 6, phase: "creep"}, simStep{rate: 52, dur: 20, phase: "saturate"})},
			want: truth{rate: 10, burst: 100, alg: AlgorithmFixedWindow, windowS: 10}},
		tc{name: "token bucket 10/s burst 50, auto's schedule", sr: simRun{lim: simBucket(10, 50), clock0: 1000.37, steps: autoLike(200, 20, 13, 11)},
			want: truth{rate: 10, burst: 50, alg: AlgorithmTokenBucket}},
		tc{name: "lockout 100 per 5 s, auto's creep", sr: simRun{lim: simWindow(limiter.Lockout, 100, 5), clock0: 1000.37, steps: []simStep{
			{rate: 200, dur: 0.51, phase: "burst"}, {rate: 2, dur: 6, idle: 0.01, phase: "recover"},
			{rate: 5, dur: 2.4}, {rate: 10, dur: 1.2}, {rate: 20, dur: 1}, {rate: 40, dur: 1}, {rate: 80, dur: 1}, {rate: 104, dur: 6, phase: "saturate"},
			{rate: 14, slope: (46.6 - 14) / 26.0, dur: 10.7, idle: 10, phase: "creep"}, {rate: 27.4, dur: 6.5, phase: "creep"}}},
			want: truth{rate: 20, burst: 100, alg: AlgorithmLockout, windowS: 5}},
		tc{name: "lockout 50 per 1 s", sr: simRun{lim: simWindow(limiter.Lockout, 50, 1), clock0: 1000.37, steps: ramp(10, 400, 2, 5, 3), stopAfter: 2, bisect: 4},
			want: truth{rate: 50, burst: 50, alg: AlgorithmLockout}},
	)
	// Where the windows' boundaries fall against auto's schedule moves the
	// goodput of a saturation step; replaying the run finds the window
	// whatever the phase.
	for i, phase := range []float64{0.2, 1.4, 2.6, 3.8, 4.9} {
		for j, satDur := range []float64{6.25, 12.5} {
			if raceDetector && i+j != 0 {
				continue // -race: one of the ten
			}
			at := fmt.Sprintf(" at phase %g s, saturated %g s", phase, satDur)
			cases = append(cases,
				tc{name: "sliding counter 50 per 5 s" + at, sr: simRun{lim: simWindow(limiter.SlidingCounter, 50, 5), clock0: 1000 + phase, steps: autoLike(200, 40, 19.5, satDur)},
					want: truth{rate: 10, burst: 50, alg: AlgorithmSlidingWindow, windowS: 5}},
				tc{name: "sliding log 50 per 5 s" + at, sr: simRun{lim: simWindow(limiter.SlidingLog, 50, 5), clock0: 1000 + phase, steps: autoLike(200, 40, 19.5, satDur)},
					want: truth{rate: 10, burst: 50, alg: AlgorithmSlidingWindow, windowS: 5}},
				tc{name: "fixed window 50 per 5 s" + at, sr: simRun{lim: simWindow(limiter.FixedWindow, 50, 5), clock0: 1000 + phase, steps: autoLike(200, 40, 19.5, satDur)},
					want: truth{rate: 10, burst: 50, alg: AlgorithmFixedWindow, windowS: 5}},
			)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := estimateSim(c.sr, c.adv)
			w := c.want
			t.Logf("%s: %g/s (%+.2f%%) band %g–%g, burst %d, window %g s, %s at %g", c.name, s.EffectiveLimitRPS, (s.EffectiveLimitRPS/w.rate-1)*100,
				s.EffectiveLimitBand.Low, s.EffectiveLimitBand.High, s.Burst, s.WindowS, s.Algorithm, s.Confidence)
			if !within(s.EffectiveLimitRPS, w.rate, 0.03) {
				t.Errorf("effective limit: got %g/s, want %.4g/s ±3%%\n%s", s.EffectiveLimitRPS, w.rate, strings.Join(s.Reasons, "\n"))
			}
			if b := s.EffectiveLimitBand; b.Low > w.rate*1.03 || b.High < w.rate*0.97 {
				t.Errorf("band: got %g–%g, want it to reach %.4g", b.Low, b.High, w.rate)
			}
			if w.burst >= 0 && math.Abs(float64(s.Burst-w.burst)) > max(2, 0.1*float64(w.burst)) {
				t.Errorf("burst: got %d, want %d ±max(2, 10%%)", s.Burst, w.burst)
			}
			// Above what a wrong name may claim (0.5); a band wider than
			// ±3% rightly lowers it toward that.
			if s.Algorithm != w.alg || s.Confidence <= 0.5 {
				t.Errorf("algorithm: got %s at confidence %g, want %s above 0.5\n%s", s.Algorithm, s.Confidence, w.alg, strings.Join(s.Reasons, "\n"))
			}
			if w.windowS > 0 && !within(s.WindowS, w.windowS, 0.05) {
				t.Errorf("window: got %g s, want %g s", s.WindowS, w.windowS)
			}
			if w.inFlight > 0 && s.MaxInFlight != w.inFlight {
				t.Errorf("max in flight: got %d, want %d", s.MaxInFlight, w.inFlight)
			}
			if !s.Limited || s.LowerBoundOnly || s.OnsetRPS <= 0 || len(s.Reasons) == 0 {
				t.Errorf("got limited=%v lower_bound_only=%v onset=%g and %d reasons, want limited, an onset and reasons", s.Limited, s.LowerBoundOnly, s.OnsetRPS, len(s.Reasons))
			}
		})
	}
}

// TestEstimateNoBurst: a limiter with no burst (token bucket of 1, nginx
// limit_req without burst) admits one request per 1/r and wastes the wait
// for the next arrival, so what a probe measures depends on how requests
// arrive. Whatever the schedule and the jitter, the estimate must never be
// confidently wrong: the truth lies in the band, and a confident estimate
// is within 5%.
func TestEstimateNoBurst(t *testing.T) {
	for _, r := range []float64{5, 50, 500, 2000} {
		for _, jitter := range []float64{0.00005, 0.0005} {
			for _, bisect := range []int{0, 5} {
				name := "r=" + ftoa(r) + " jitter=" + ftoa(jitter*1000) + "ms bisect=" + ftoa(float64(bisect))
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					sr := simRun{lim: simBucket(r, 1), netS: 0.0001, jitterS: jitter, steps: ramp(r/8, 16*r, 2, 5, 1), stopAfter: 2, bisect: bisect}
					s, _ := estimateSim(sr, nil)
					b := s.EffectiveLimitBand
					t.Logf("%s: %g/s (%+.1f%%) band %g–%g, burst %d, confidence %g", name, s.EffectiveLimitRPS, (s.EffectiveLimitRPS/r-1)*100, b.Low, b.High, s.Burst, s.Confidence)
					if b.Low > r*1.01 || b.High < r*0.99 {
						t.Errorf("band: got %g–%g at confidence %g, want it to hold %g\n%s", b.Low, b.High, s.Confidence, r, strings.Join(s.Reasons, "\n"))
					}
					if s.Confidence >= 0.6 && !within(s.EffectiveLimitRPS, r, 0.05) {
						t.Errorf("got %g/s at confidence %g, want %g/s ±5%% when confident", s.EffectiveLimitRPS, s.Confidence, r)
					}
					if s.Burst > 3 {
						t.Errorf("burst: got %d, want at most 3", s.Burst)
					}
				})
			}
		}
	}
	// Evenly paced and ramped by doubling only, nginx without burst reads
	// a multiple of its spacing: the measured goodput is reported, with why.
	s, _ := estimateSim(simRun{lim: simQueue(50, 0), service: fixedLatency(0.001), steps: ramp(5, 400, 2, 5, 1), stopAfter: 2}, nil)
	if s.EffectiveLimitRPS > 50 || s.EffectiveLimitBand.High < 50 || !strings.Contains(strings.Join(s.Reasons, " "), "no burst") {
		t.Errorf("nginx without burst: got %g/s (band %g–%g), reasons %q; want at most 50/s, a band reaching 50/s and a reason naming the missing burst",
			s.EffectiveLimitRPS, s.EffectiveLimitBand.Low, s.EffectiveLimitBand.High, s.Reasons)
	}
}

func ftoa(f float64) string { return units.Num(f) }

// TestEstimateSpacing: auto's Poisson steps at two rates after an evenly
// paced ramp. A bucket of one reads its rate from G·R/(R−G) whatever the
// jitter; a bucket of 2 or 3 gives a smaller r at the higher rate and reads
// its goodput there instead.
func TestEstimateSpacing(t *testing.T) {
	for _, b := range []float64{1, 2, 3} {
		for _, r := range []float64{5, 50, 500, 2000} {
			for _, jitter := range []float64{0.00005, 0.0005} {
				name := "b=" + ftoa(b) + " r=" + ftoa(r) + " jitter=" + ftoa(jitter*1000) + "ms"
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					n := 300 / r // seconds for about 300 admissions
					steps := append(ramp(r/4, 2*r, 2, 1, 0), simStep{rate: 4 * r, dur: n, poisson: true}, simStep{rate: 2 * r, dur: n, poisson: true})
					s, _ := estimateSim(simRun{lim: simBucket(r, int(b)), netS: 0.0001, jitterS: jitter, steps: steps}, nil)
					t.Logf("%s: %g/s (%+.1f%%) band %g–%g, burst %d, confidence %g", name, s.EffectiveLimitRPS, (s.EffectiveLimitRPS/r-1)*100, s.EffectiveLimitBand.Low, s.EffectiveLimitBand.High, s.Burst, s.Confidence)
					if !within(s.EffectiveLimitRPS, r, 0.03) {
						t.Errorf("got %g/s, want %g/s ±3%%\n%s", s.EffectiveLimitRPS, r, strings.Join(s.Reasons, "\n"))
					}
					if s.Algorithm != AlgorithmTokenBucket {
						t.Errorf("algorithm %q, want %q", s.Algorithm, AlgorithmTokenBucket)
					}
					if b == 1 && s.Burst != 1 || b > 1 && (s.Burst < 2 || s.Burst > int(b)+2) {
						t.Errorf("burst %d, want %g", s.Burst, b)
					}
				})
			}
		}
	}
}

func TestEstimateNoneObserved(t *testing.T) {
	for _, c := range []struct {
		name string
		lim  limiter.Limiter
	}{
		{"no limiter", simNone()},
		{"a limit above the highest rate", simBucket(1000, 1000)},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := estimateSim(simRun{lim: c.lim, steps: ramp(5, 400, 2, 5, 1), stopAfter: 2}, nil)
			if s.Algorithm != AlgorithmNoneObserved || s.Limited || !s.LowerBoundOnly {
				t.Errorf("got %s limited=%v lower_bound_only=%v, want none-observed, not limited, lower bound only", s.Algorithm, s.Limited, s.LowerBoundOnly)
			}
			if !within(s.EffectiveLimitRPS, 400, 0.01) || s.OnsetRPS != 0 {
				t.Errorf("got effective %g/s onset %g, want 400/s (the highest goodput) and no onset", s.EffectiveLimitRPS, s.OnsetRPS)
			}
			if s.Confidence < 0.6 {
				t.Errorf("confidence: got %g, want ≥ 0.6 after thousands of unthrottled requests", s.Confidence)
			}
			if !strings.Contains(s.Reasons[0], "scenario's max") {
				t.Errorf("reason: got %q, want it to say the scenario's max was reached", s.Reasons[0])
			}
		})
	}
}

// TestEstimateThinEvidence: too little data must not read as a confident
// estimate.
func TestEstimateThinEvidence(t *testing.T) {
	for _, c := range []struct {
		name string
		sr   simRun
	}{
		{"one step of 20 requests", simRun{lim: simBucket(5, 5), steps: rates(2, 1, 10)}},
		{"one step of 20 requests into a window", simRun{lim: simWindow(limiter.FixedWindow, 8, 10), steps: rates(2, 1, 10)}},
		{"one short saturated step", simRun{lim: simBucket(5, 15), steps: rates(3.5, 1, 10)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := estimateSim(c.sr, nil)
			if s.Confidence >= 0.4 {
				t.Errorf("got %s %g/s at confidence %g, want confidence below 0.4\n%s", s.Algorithm, s.EffectiveLimitRPS, s.Confidence, strings.Join(s.Reasons, "\n"))
			}
		})
	}
	s := Estimate(Input{Threshold: 0.01})
	if s.Algorithm != AlgorithmUnknown || s.Confidence != 0 || s.Limited {
		t.Errorf("nothing measured: got %s at %g limited=%v, want unknown at 0, not limited", s.Algorithm, s.Confidence, s.Limited)
	}
}

// TestEstimateWindowLongerThanSteps: a quota whose window no step covers
// has a known quota and an unknown period: an upper bound, not a guess.
func TestEstimateWindowLongerThanSteps(t *testing.T) {
	s, _ := estimateSim(simRun{lim: simWindow(limiter.FixedWindow, 100, 10), clock0: 1000.37, steps: ramp(5, 80, 2, 5, 1), stopAfter: 2}, nil)
	if s.Confidence >= 0.3 || s.EffectiveLimitBand.High < 10 || s.Burst != 100 {
		t.Errorf("got %g/s band %g–%g burst %d at confidence %g, want a band up to at least 10/s, burst 100, confidence below 0.3",
			s.EffectiveLimitRPS, s.EffectiveLimitBand.Low, s.EffectiveLimitBand.High, s.Burst, s.Confidence)
	}
}

func TestEstimateAdvertised(t *testing.T) {
	// Limiters keep state: each case gets a fresh one.
	tb := func() simRun {
		return simRun{lim: simBucket(50, 50), steps: ramp(5, 400, 2, 5, 1), stopAfter: 2}
	}
	none := func() simRun { return simRun{lim: simNone(), steps: ramp(5, 400, 2, 5, 1), stopAfter: 2} }
	for _, c := range []struct {
		name     string
		sr       func() simRun
		adv      *headers.Advertised
		mismatch string // "" for none
	}{
		{"agrees", tb, &headers.Advertised{Limit: 50, WindowS: 1}, ""},
		{"agrees per minute", tb, &headers.Advertised{Limit: 3000, WindowS: 60}, ""},
		{"claims more", tb, &headers.Advertised{Limit: 100, WindowS: 1, Source: headers.SourceIETF}, "2× above the measured 50/s"},
		{"claims less", tb, &headers.Advertised{Limit: 600, WindowS: 60}, "5× below the measured 50/s"},
		{"names only the burst", tb, &headers.Advertised{Limit: 50}, ""},
		{"claims less than went through", none, &headers.Advertised{Limit: 10, WindowS: 1}, "yet 400/s went through without throttling"},
		{"claims more than was tested", none, &headers.Advertised{Limit: 1000, WindowS: 1}, ""},
		{"nothing advertised", tb, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := estimateSim(c.sr(), c.adv)
			switch {
			case c.mismatch == "" && s.AdvertisedMismatch != "":
				t.Errorf("mismatch: got %q, want none", s.AdvertisedMismatch)
			case c.mismatch != "" && !strings.Contains(s.AdvertisedMismatch, c.mismatch):
				t.Errorf("mismatch: got %q, want it to contain %q", s.AdvertisedMismatch, c.mismatch)
			}
		})
	}
}

func TestOnset(t *testing.T) {
	st := func(rate float64, requests, throttled int64) evidence.Step {
		s := evidence.Step{OfferedRPS: rate, Requests: requests, Throttled: throttled}
		if requests > 0 {
			s.ThrottledRatio = float64(throttled) / float64(requests)
		}
		return s
	}
	for _, c := range []struct {
		name   string
		steps  []evidence.Step
		want   float64
		wantOK bool
	}{
		{"none", nil, 0, false},
		{"never throttled", []evidence.Step{st(10, 50, 0), st(20, 100, 0)}, 0, false},
		{"under the threshold", []evidence.Step{st(10, 50, 0), st(20, 200, 2)}, 0, false},
		{"first over", []evidence.Step{st(10, 50, 0), st(20, 100, 5), st(40, 200, 100)}, 20, true},
		{"a lower rate crossed later", []evidence.Step{st(40, 200, 100), st(30, 150, 30), st(25, 125, 0)}, 30, true},
		{"exactly the threshold does not cross", []evidence.Step{st(20, 100, 1)}, 0, false},
		{"empty steps ignored", []evidence.Step{st(5, 0, 0), st(20, 100, 50)}, 20, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Onset(c.steps, 0.01)
			if got != c.want || ok != c.wantOK {
				t.Errorf("got %g, %v, want %g, %v", got, ok, c.want, c.wantOK)
			}
		})
	}
}

// simStepAt simulates rs against lim and returns step i and the timeline.
func simStepAt(lim limiter.Limiter, clock0 float64, i int, steps ...simStep) (evidence.Step, evidence.Timeline) {
	st, tl := simulate(simRun{lim: lim, clock0: clock0, steps: steps, seed: 1})
	return st[i], tl
}

func TestSteadyRate(t *testing.T) {
	for _, c := range []struct {
		name   string
		lim    limiter.Limiter
		clock0 float64
		steps  []simStep
		want   float64 // 0: want ok false
		rel    float64
	}{
		{"token bucket after its burst", simBucket(50, 100), 0, rates(5, 1, 200), 50, 0.01},
		{"token bucket, low rate", simBucket(5, 5), 0, rates(5, 1, 20), 5, 0.03},
		{"gcra at 2000/s", simGCRA(2000, 500), 0, rates(3, 1, 5000), 2000, 0.01},
		{"fixed window over whole windows", simWindow(limiter.FixedWindow, 20, 2), 1000.37, rates(7, 1, 40), 10, 0.03},
		{"sliding log over whole windows", simWindow(limiter.SlidingLog, 20, 2), 0, rates(7, 1, 40), 10, 0.03},
		{"queue", simQueue(10, 20), 0, rates(8, 1, 30), 10, 0.03},
		{"not throttled", simBucket(50, 50), 0, rates(5, 1, 40), 0, 0},
		{"exhausted quota", simWindow(limiter.FixedWindow, 100, 60), 0.5, rates(5, 1, 100), 0, 0},
		{"one clump in a short step", simWindow(limiter.FixedWindow, 20, 10), 1003, rates(5, 1, 40), 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, tl := simStepAt(c.lim, c.clock0, 0, c.steps...)
			got, band, ok := SteadyRate(st, tl)
			if c.want == 0 {
				if ok {
					t.Errorf("got %g/s, ok; want not ok", got)
				}
				return
			}
			if !ok || !within(got, c.want, c.rel) {
				t.Errorf("got %g/s, %v; want %g/s ±%g%%", got, ok, c.want, c.rel*100)
			}
			if band.Low > got || band.High < got || band.High-band.Low > 0.25*got {
				t.Errorf("band: got %g–%g, want around %g and narrower than 25%%", band.Low, band.High, got)
			}
		})
	}
	// More data, narrower band.
	short, tl1 := simStepAt(simBucket(50, 10), 0, 0, rates(2, 1, 100)...)
	long, tl2 := simStepAt(simBucket(50, 10), 0, 0, rates(20, 1, 100)...)
	_, b1, _ := SteadyRate(short, tl1)
	_, b2, _ := SteadyRate(long, tl2)
	if b2.High-b2.Low >= b1.High-b1.Low {
		t.Errorf("band: got %g wide over 20 s and %g over 2 s, want narrower with more data", b2.High-b2.Low, b1.High-b1.Low)
	}
	// Without a timeline, the step's own steady rate.
	st := evidence.Step{OfferedRPS: 100, DurationS: 5, Requests: 500, OK: 300, Throttled: 200, FirstThrottleS: 1, OKBeforeThrottle: 100, SteadyRPS: 50}
	if got, _, ok := SteadyRate(st, evidence.Timeline{}); !ok || got != 50 {
		t.Errorf("no timeline: got %g, %v, want 50, true", got, ok)
	}
}

func TestColdBurst(t *testing.T) {
	for _, c := range []struct {
		name  string
		lim   limiter.Limiter
		steps []simStep
		want  int // -1: want ok false
	}{
		{"token bucket of 100", simBucket(50, 100), rates(5, 1, 200), 100},
		{"token bucket of 1", simBucket(50, 1), rates(5, 1, 200), 1},
		{"token bucket of 6000 at 2000/s", simBucket(2000, 6000), rates(5, 1, 5000), 6000},
		{"gcra of 20", simGCRA(10, 20), rates(5, 1, 40), 20},
		{"queue of 20", simQueue(10, 20), rates(5, 1, 30), 20},
		{"not throttled", simBucket(50, 100), rates(5, 1, 40), -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, tl := simStepAt(c.lim, 0, 0, c.steps...)
			got, ok := ColdBurst(st, tl)
			if c.want < 0 {
				if ok {
					t.Errorf("got %d, ok; want not ok", got)
				}
				return
			}
			if !ok || math.Abs(float64(got-c.want)) > max(2, 0.1*float64(c.want)) {
				t.Errorf("got %d, %v; want %d ±max(2, 10%%)", got, ok, c.want)
			}
		})
	}
}

func BenchmarkEstimate(b *testing.B) {
	steps, tl := simulate(simRun{lim: simBucket(500, 500), steps: ramp(5, 8000, 2, 5, 1), stopAfter: 2, seed: 1})
	in := Input{Steps: steps, Timeline: tl, Advertised: &headers.Advertised{Limit: 500, WindowS: 1}, Threshold: 0.01, MaxOfferedRPS: 8000}
	b.ReportAllocs()
	for b.Loop() {
		Estimate(in)
	}
}

// TestEstimateReplayNeverConfidentlyWrong: cut short, a lockout run matches
// lockouts over a range of windows, and a window limiter's run may match
// several windows; whatever the estimate then says, with confidence it
// must hold the truth in its band, and a window the replay settled on must
// give the rate within 5%.
func TestEstimateReplayNeverConfidentlyWrong(t *testing.T) {
	lead := []simStep{{rate: 200, dur: 0.51, phase: "burst"}, {rate: 2, dur: 6, idle: 0.01, phase: "recover", untilOK: true},
		{rate: 5, dur: 2.4}, {rate: 10, dur: 1.2}, {rate: 20, dur: 1}, {rate: 40, dur: 1}}
	tails := map[string][]simStep{
		"a short silent saturation":  {{rate: 52, dur: 2, phase: "saturate"}},
		"the creep without its hold": {{rate: 52, dur: 8, phase: "saturate"}, {rate: 14, slope: (46.6 - 14) / 26.0, dur: 10.7, idle: 10, phase: "creep"}},
		"a saturation at the limit":  {{rate: 21, dur: 6, phase: "saturate"}},
	}
	lims := map[string]func() limiter.Limiter{
		"lockout":         func() limiter.Limiter { return simWindow(limiter.Lockout, 100, 5) },
		"sliding counter": func() limiter.Limiter { return simWindow(limiter.SlidingCounter, 100, 5) },
		"fixed window":    func() limiter.Limiter { return simWindow(limiter.FixedWindow, 100, 5) },
	}
	for ln, lim := range lims {
		for tn, tail := range tails {
			for _, phase := range []float64{0.37, 1.5, 2.9, 4.1} {
				steps, tl := simulate(simRun{lim: lim(), clock0: 1000 + phase, steps: append(slices.Clone(lead), tail...)})
				s := Estimate(Input{Steps: steps, Timeline: tl, Threshold: 0.01, MaxOfferedRPS: 200})
				b := s.EffectiveLimitBand
				replayed := strings.Contains(strings.Join(s.Reasons, " "), "replayed")
				if s.Confidence >= 0.6 && (b.Low > 20*1.03 || b.High < 20*0.97) || replayed && !within(s.EffectiveLimitRPS, 20, 0.05) {
					t.Errorf("%s, %s, phase %g s: %g/s (band %g–%g) %s at confidence %g; the truth is 20/s\n%s",
						ln, tn, phase, s.EffectiveLimitRPS, b.Low, b.High, s.Algorithm, s.Confidence, strings.Join(s.Reasons, "\n"))
				}
			}
		}
	}
}

// BenchmarkEstimateReplay: a window limiter under auto's schedule, where
// Estimate replays the run to find the window.
func BenchmarkEstimateReplay(b *testing.B) {
	steps, tl := simulate(simRun{lim: simWindow(limiter.SlidingCounter, 50, 5), clock0: 1002.6, steps: autoLike(200, 40, 19.5, 12.5), seed: 1})
	in := Input{Steps: steps, Timeline: tl, Threshold: 0.01, MaxOfferedRPS: 200}
	if s := Estimate(in); s.Algorithm != AlgorithmSlidingWindow {
		b.Fatalf("algorithm %s, want the replay's sliding-window", s.Algorithm)
	}
	b.ReportAllocs()
	for b.Loop() {
		Estimate(in)
	}
}

// TestEstimateSpacingClumped: measured on the mock at 500/s with a bucket
// of one, the faster Poisson step reads a lower rate (its arrivals reached
// the limiter in clumps). With one request through from idle, or two from
// a burst long enough for a slot to refill (2 ms at 480/s), the slower step
// counts (of three rates, the slowest); with two from a burst too short
// for that, the limiter keeps a small burst and the goodput at the faster
// step is the estimate.
func TestEstimateSpacingClumped(t *testing.T) {
	poisson := func(i int, offered float64, ok int64) evidence.Step {
		req := int64(offered)
		return evidence.Step{Index: i, Phase: "saturate", Arrivals: evidence.ArrivalsPoisson, OfferedRPS: offered, StartS: float64(i), DurationS: 1,
			Requests: req, OK: ok, Throttled: req - ok, GoodputRPS: float64(ok), ThrottledRatio: float64(req-ok) / float64(req), FirstThrottleS: 0.001}
	}
	for _, tt := range []struct {
		coldOK    int64
		burstS    float64
		want      float64
		wantBurst int
		third     bool // auto's third step at about twice the rate read
	}{{1, 0.002, 480, 1, false}, {2, 0.002, 480, 1, false}, {2, 0.0005, 373, 2, false}, {1, 0.002, 494.4, 1, true}} {
		steps := []evidence.Step{
			{Index: 0, Phase: "burst", OfferedRPS: 4000, DurationS: tt.burstS, Requests: int64(4000 * tt.burstS), OK: tt.coldOK, Throttled: int64(4000*tt.burstS) - tt.coldOK, ThrottledRatio: 0.5, FirstThrottleS: 0.0005, OKBeforeThrottle: 1},
			{Index: 1, Phase: "ramp", OfferedRPS: 640, StartS: 0.5, DurationS: 1, Requests: 640, OK: 397, Throttled: 243, GoodputRPS: 397, ThrottledRatio: 0.38, FirstThrottleS: 0.004, SteadyRPS: 397},
			poisson(2, 2560, 373), poisson(3, 1280, 349),
		}
		if tt.third {
			// 324 of 940 Poisson arrivals: r = 324·940/616 = 494.4/s.
			steps = append(steps, poisson(4, 940, 324))
		}
		s := Estimate(Input{Steps: steps, Timeline: evidence.Timeline{ResolutionS: 0.1}, Threshold: 0.01})
		if !within(s.EffectiveLimitRPS, tt.want, 0.01) || s.Burst != tt.wantBurst {
			t.Errorf("cold burst %d: got %g/s, burst %d; want %g/s, burst %d\n%s", tt.coldOK, s.EffectiveLimitRPS, s.Burst, tt.want, tt.wantBurst, strings.Join(s.Reasons, "\n"))
		}
	}
}

// The slot read from send times and G·R/(R−G) bracket r: the estimate is
// their middle. A slot that contradicts the goodput is left out.
func TestEstimateSpacingSlot(t *testing.T) {
	poisson := func(i int, offered float64, ok int64, slotMS float64) evidence.Step {
		req := int64(offered)
		return evidence.Step{Index: i, Phase: "saturate", Arrivals: evidence.ArrivalsPoisson, OfferedRPS: offered, StartS: float64(i), DurationS: 1,
			Requests: req, OK: ok, Throttled: req - ok, GoodputRPS: float64(ok), ThrottledRatio: float64(req-ok) / float64(req), FirstThrottleS: 0.001, SlotMS: slotMS}
	}
	// 1300 of 4000 and 960 of 1920 Poisson arrivals: r = G·R/(R−G) = 1926/s and 1920/s.
	for _, tt := range []struct {
		name     string
		slotMS   float64
		want     float64
		fromSlot bool
	}{
		{"slot 0.5 ms", 0.5, 1962, true},
		{"no slot", 0, 1924, false},
		{"slot below the goodput's", 0.6, 1924, false},
		{"slot far above it", 0.4, 1924, false},
	} {
		steps := []evidence.Step{
			{Index: 0, Phase: "burst", OfferedRPS: 4000, DurationS: 0.002, Requests: 8, OK: 1, Throttled: 7, ThrottledRatio: 0.9, FirstThrottleS: 0.0005, OKBeforeThrottle: 1},
			{Index: 1, Phase: "ramp", OfferedRPS: 2560, StartS: 0.5, DurationS: 1, Requests: 2560, OK: 1290, Throttled: 1270, GoodputRPS: 1290, ThrottledRatio: 0.5, FirstThrottleS: 0.002, SteadyRPS: 1290},
			poisson(2, 4000, 1300, tt.slotMS), poisson(3, 1920, 960, tt.slotMS),
		}
		s := Estimate(Input{Steps: steps, Timeline: evidence.Timeline{ResolutionS: 0.1}, Threshold: 0.01})
		used := strings.Contains(strings.Join(s.Reasons, "\n"), "by the send times")
		if !within(s.EffectiveLimitRPS, tt.want, 0.005) || used != tt.fromSlot || s.Burst != 1 {
			t.Errorf("%s: got %g/s, burst %d, slot used %v; want %g/s, burst 1, slot used %v\n%s", tt.name, s.EffectiveLimitRPS, s.Burst, used, tt.want, tt.fromSlot, strings.Join(s.Reasons, "\n"))
		}
		if tt.fromSlot && (s.EffectiveLimitBand.Low > 1925 || s.EffectiveLimitBand.High < 2000) {
			t.Errorf("%s: band %g–%g, want it to span both readings (1924/s and 2000/s)", tt.name, s.EffectiveLimitBand.Low, s.EffectiveLimitBand.High)
		}
	}
}

// A limiter that counts whole milliseconds (nginx 50r/s without burst):
// the rate is one per whole-millisecond slot, what dense arrivals get.
func TestEstimateSpacingWholeMilliseconds(t *testing.T) {
	poisson := func(i int, offered float64, ok int64, slotMS, tickMS float64) evidence.Step {
		req := int64(offered * 2)
		return evidence.Step{Index: i, Phase: "saturate", Arrivals: evidence.ArrivalsPoisson, OfferedRPS: offered, StartS: float64(2 * i), DurationS: 2,
			Requests: req, OK: ok, Throttled: req - ok, GoodputRPS: float64(ok) / 2, ThrottledRatio: float64(req-ok) / float64(req), FirstThrottleS: 0.001,
			SlotMS: slotMS, SlotTickMS: tickMS}
	}
	for _, tt := range []struct {
		name          string
		second        evidence.Step
		want, wantMax float64
		whole         bool
	}{
		{"both steps in the 20th millisecond", poisson(3, 160, 78, 19.4, 0), 50, 50, true},
		{"the other step's edge elsewhere", poisson(3, 160, 78, 17, 0), 45, 56, false},
	} {
		steps := []evidence.Step{
			{Index: 0, Phase: "burst", OfferedRPS: 500, DurationS: 0.014, Requests: 7, OK: 1, Throttled: 6, ThrottledRatio: 0.86, FirstThrottleS: 0.002, OKBeforeThrottle: 1},
			{Index: 1, Phase: "ramp", OfferedRPS: 80, StartS: 1, DurationS: 1, Requests: 80, OK: 40, Throttled: 40, GoodputRPS: 40, ThrottledRatio: 0.5, FirstThrottleS: 0.02, SteadyRPS: 40},
			poisson(2, 320, 90, 20, 1), tt.second,
		}
		s := Estimate(Input{Steps: steps, Timeline: evidence.Timeline{ResolutionS: 0.1}, Threshold: 0.01})
		why := strings.Join(s.Reasons, "\n")
		if s.EffectiveLimitRPS < tt.want || s.EffectiveLimitRPS > tt.wantMax || strings.Contains(why, "whole milliseconds") != tt.whole || s.Burst != 1 {
			t.Errorf("%s: got %g/s, burst %d; want %g–%g/s, burst 1, whole milliseconds named: %v\n%s", tt.name, s.EffectiveLimitRPS, s.Burst, tt.want, tt.wantMax, tt.whole, why)
		}
		if tt.whole && (s.EffectiveLimitBand.Low > 50 || s.EffectiveLimitBand.High < 52.6) {
			t.Errorf("%s: band %g–%g, want it to hold 50/s and 1000/19 = 52.6/s", tt.name, s.EffectiveLimitBand.Low, s.EffectiveLimitBand.High)
		}
	}
}

// A burst from idle too short to spend a large bucket, then a doubling
// ramp without pauses up to the top rate: the steps above the rate before
// the saturation step all drained the bucket, and the burst counts them.
func TestEstimateBurstAfterContiguousRamp(t *testing.T) {
	steps := []simStep{{rate: 4000, dur: 2, phase: "burst"}}
	for r := 5.0; r < 4000; r *= 2 {
		steps = append(steps, simStep{rate: r, dur: 1})
	}
	steps = append(steps, simStep{rate: 4000, dur: 1}, simStep{rate: 4000, dur: 5, phase: "saturate"})
	s, _ := estimateSim(simRun{lim: simBucket(2000, 6000), steps: steps}, nil)
	if !within(s.EffectiveLimitRPS, 2000, 0.03) || !within(float64(s.Burst), 6000, 0.03) {
		t.Errorf("got %g/s, burst %d; want 2000/s ±3%%, burst 6000 ±3%%\n%s", s.EffectiveLimitRPS, s.Burst, strings.Join(s.Reasons, "\n"))
	}
}

// rampDue is when n requests are due on a linear ramp from start requests
// per second growing by slope per second: Start·t + Slope·t²/2 = n.
func rampDue(start, slope, n float64) float64 {
	a := slope / 2
	return (-start + math.Sqrt(start*start+4*a*n)) / (2 * a)
}
