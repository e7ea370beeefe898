package probe

import (
	"math"
	"sort"
	"sync/atomic"
	"time"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/headers"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// recorder turns a stream of results into steps and a timeline. Its memory
// depends on the run's length in time, never on its number of requests
// (but for up to maxSlotSamples send times of a step with Poisson arrivals).
// It is used from one goroutine.
type recorder struct {
	start time.Time
	res   time.Duration // timeline resolution
	cls   Classifier

	buckets []bucketAcc
	windows []*window // steps that can still receive results
	done    []evidence.Step

	sent, ok, throttled, errors int64
	reqs                        evidence.Requests // every request, for the estimator
	adv                         *headers.Advertised
	parsed                      int64 // responses whose headers were parsed
	causes                      map[string]*evidence.ErrorCause

	// interrupted closes when the run is interrupted; cutAt is then when,
	// in Unix nanoseconds (0 until the engine has noted it).
	interrupted <-chan struct{}
	cutAt       atomic.Int64
}

// window gathers the results sent between begin and end into one Step.
type window struct {
	step       evidence.Step
	begin, end time.Time
	timeout    time.Duration

	binW       time.Duration // width of the fine bins below
	okBins     []int32       // successes by send time
	inflight   []int32       // +1 at send, −1 at completion, by time
	okLat      vegeta.LatencyMetrics
	thrLat     vegeta.LatencyMetrics
	latSum     time.Duration
	firstThrot time.Duration // from begin; −1 when none
	errKinds   map[string]int64
	retryAfter float64
	slots      []estimate.SlotSample // of a step with Poisson arrivals, for fitSlot
}

// bucketAcc accumulates one timeline bucket.
type bucketAcc struct {
	sent, ok, throttled, errors int64
	hist                        [latBins]uint32 // successful latencies, log-spaced
	busy                        float64         // request-seconds outstanding
}

// latBins log-spaced bins from 0.1 ms growing 1.5× cover up to ~18 minutes.
const latBins = 40

func latBin(d time.Duration) int {
	ms := float64(d) / float64(time.Millisecond)
	if ms <= 0.1 {
		return 0
	}
	return min(latBins-1, int(math.Log(ms/0.1)/math.Log(1.5))+1)
}

// latBinMid is the geometric middle of a bin, in milliseconds.
func latBinMid(i int) float64 {
	if i == 0 {
		return 0.1
	}
	return 0.1 * math.Pow(1.5, float64(i)-0.5)
}

func newRecorder(start time.Time, res time.Duration, cls Classifier) *recorder {
	return &recorder{start: start, res: res, cls: cls}
}

// open starts a window for step st over [begin, end). Results sent in that
// interval belong to it.
func (r *recorder) open(st evidence.Step, begin, end time.Time, timeout time.Duration) *window {
	dur := end.Sub(begin)
	binW := max(time.Millisecond, dur/50000)
	w := &window{
		step: st, begin: begin, end: end, timeout: timeout, binW: binW,
		okBins:     make([]int32, int(dur/binW)+1),
		inflight:   make([]int32, int((dur+timeout)/binW)+2),
		firstThrot: -1,
	}
	w.step.StartS = begin.Sub(r.start).Seconds()
	r.windows = append(r.windows, w)
	return w
}

// add records one result. It returns the outcome.
func (r *recorder) add(res *vegeta.Result) evidence.Outcome {
	if r.cut(res) {
		return evidence.Canceled
	}
	out, kind := r.cls.classify(res)
	w := r.windowFor(res.Timestamp)
	r.sent++
	switch out {
	case evidence.OK:
		r.ok++
	case evidence.Throttled:
		r.throttled++
	default:
		r.errors++
		r.noteCause(res, kind)
	}
	r.addTimeline(res, out)
	step := 0
	if w != nil {
		w.add(res, out, kind)
		step = w.step.Index
	}
	r.reqs.Add(evidence.Request{Sent: max(0, res.Timestamp.Sub(r.start)), Latency: res.Latency, Outcome: out, Step: step})
	if out == evidence.Throttled || r.parsed < 16 || r.sent%64 == 0 {
		r.parseHeaders(res, w)
	}
	return out
}

// cutGrace is how long before the interrupt was noted a failure may have
// ended and still be the interrupt's doing.
const cutGrace = 10 * time.Millisecond

// cut reports whether res failed because an interrupt cut it off: an
// error that ended once the run was interrupted. It is not a measurement,
// whatever its message says.
func (r *recorder) cut(res *vegeta.Result) bool {
	if res.Code != 0 || r.interrupted == nil {
		return false
	}
	select {
	case <-r.interrupted:
	default:
		return false
	}
	at := r.cutAt.Load()
	return at == 0 || res.End().UnixNano() >= at-int64(cutGrace)
}

// noteCause counts a failure under its cause, keeping the first example.
func (r *recorder) noteCause(res *vegeta.Result, cause string) {
	if c := r.causes[cause]; c != nil {
		c.Count++
		return
	}
	if r.causes == nil {
		r.causes = map[string]*evidence.ErrorCause{}
	}
	r.causes[cause] = &evidence.ErrorCause{Cause: cause, Count: 1, Example: errorExample(res, cause)}
}

// errorCauses lists the causes of failure, most first, their examples
// passed through redact.
func (r *recorder) errorCauses(redact func(string) string) []evidence.ErrorCause {
	var cs []evidence.ErrorCause
	for _, c := range r.causes {
		x := *c
		x.Example = redact(oneLine(x.Example, 200))
		cs = append(cs, x)
	}
	sort.Slice(cs, func(i, j int) bool {
		return cs[i].Count > cs[j].Count || cs[i].Count == cs[j].Count && cs[i].Cause < cs[j].Cause
	})
	return cs
}

func (r *recorder) windowFor(ts time.Time) *window {
	for i := len(r.windows) - 1; i >= 0; i-- {
		if !ts.Before(r.windows[i].begin) {
			return r.windows[i]
		}
	}
	if len(r.windows) > 0 {
		return r.windows[0]
	}
	return nil
}

func (r *recorder) parseHeaders(res *vegeta.Result, w *window) {
	if res.Headers == nil {
		return
	}
	r.parsed++
	a, ok := headers.Parse(res.Headers, res.End())
	if !ok {
		return
	}
	if w != nil {
		w.retryAfter = max(w.retryAfter, a.RetryAfterS, a.ResetS*boolf(res.Code != 0 && r.cls.throttleStatus(int(res.Code))))
	}
	if r.adv == nil {
		first := a // copied, so a stays on the stack for every later response
		r.adv = &first
		return
	}
	// Keep what earlier responses said unless this one says more.
	if a.Limit > 0 {
		r.adv.Limit, r.adv.WindowS, r.adv.Source, r.adv.Policy = a.Limit, a.WindowS, a.Source, a.Policy
	}
	if a.Remaining != nil {
		r.adv.Remaining = a.Remaining
	}
	if a.ResetS > 0 {
		r.adv.ResetS = a.ResetS
	}
	if a.RetryAfterS > 0 {
		r.adv.RetryAfterS = a.RetryAfterS
	}
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (r *recorder) bucket(i int) *bucketAcc {
	for i >= len(r.buckets) {
		r.buckets = append(r.buckets, bucketAcc{})
	}
	return &r.buckets[i]
}

func (r *recorder) addTimeline(res *vegeta.Result, out evidence.Outcome) {
	off := res.Timestamp.Sub(r.start)
	if off < 0 {
		off = 0
	}
	i := int(off / r.res)
	b := r.bucket(i)
	b.sent++
	switch out {
	case evidence.OK:
		b.ok++
		b.hist[latBin(res.Latency)]++
	case evidence.Throttled:
		b.throttled++
	default:
		b.errors++
	}
	// Spread the request's time outstanding over the buckets it spans.
	from, to := off, off+res.Latency
	for j := i; from < to; j++ {
		edge := time.Duration(j+1) * r.res
		part := min(to, edge) - from
		r.bucket(j).busy += part.Seconds()
		from = edge
	}
}

func (w *window) add(res *vegeta.Result, out evidence.Outcome, kind string) {
	s := &w.step
	s.Requests++
	off := max(0, res.Timestamp.Sub(w.begin))
	switch out {
	case evidence.OK:
		s.OK++
		w.okLat.Add(res.Latency)
		if i := int(off / w.binW); i < len(w.okBins) {
			w.okBins[i]++
		} else {
			w.okBins[len(w.okBins)-1]++
		}
	case evidence.Throttled:
		s.Throttled++
		w.thrLat.Add(res.Latency)
		if w.firstThrot < 0 || off < w.firstThrot {
			w.firstThrot = off
		}
	default:
		s.Errors++
		if w.errKinds == nil {
			w.errKinds = map[string]int64{}
		}
		w.errKinds[kind]++
	}
	if s.Arrivals == evidence.ArrivalsPoisson && out != evidence.Failed && len(w.slots) < estimate.MaxSlotSamples {
		w.slots = append(w.slots, estimate.SlotSample{At: off, OK: out == evidence.OK})
	}
	w.latSum += res.Latency
	last := len(w.inflight) - 1
	w.inflight[min(last, int(off/w.binW))]++
	w.inflight[min(last, int((off+res.Latency)/w.binW))]--
}

// close finishes a window: its Step is final. dur is how long the step
// really sent for (shorter than planned when a cap or an interrupt cut it).
func (r *recorder) close(w *window, dur time.Duration) evidence.Step {
	for i, x := range r.windows {
		if x == w {
			r.windows = append(r.windows[:i], r.windows[i+1:]...)
			break
		}
	}
	s := w.step
	s.DurationS = dur.Seconds()
	if s.DurationS > 0 {
		s.GoodputRPS = float64(s.OK) / s.DurationS
		s.MeanInFlight = w.latSum.Seconds() / s.DurationS
		if s.Concurrency > 0 {
			s.OfferedRPS = float64(s.Requests) / s.DurationS
		}
	}
	if s.Requests > 0 {
		s.ThrottledRatio = float64(s.Throttled) / float64(s.Requests)
	}
	s.LatencyMS = quantiles(&w.okLat, s.OK)
	s.ThrottleMS = quantiles(&w.thrLat, s.Throttled)
	var cur int32
	for _, d := range w.inflight {
		cur += d
		s.MaxInFlight = max(s.MaxInFlight, int(cur))
	}
	s.FirstThrottleS = -1
	if w.firstThrot >= 0 {
		s.FirstThrottleS = w.firstThrot.Seconds()
		cut := int(w.firstThrot / w.binW)
		for _, n := range w.okBins[:min(cut, len(w.okBins))] {
			s.OKBeforeThrottle += int64(n)
		}
		if after := dur - w.firstThrot; after > 0 {
			s.SteadyRPS = float64(s.OK-s.OKBeforeThrottle) / after.Seconds()
		}
	}
	s.ErrorKinds = w.errKinds
	s.RetryAfterS = w.retryAfter
	estimate.ReadSlot(&s, w.slots)
	r.done = append(r.done, s)
	sort.SliceStable(r.done, func(i, j int) bool { return r.done[i].Index < r.done[j].Index })
	return s
}

func quantiles(l *vegeta.LatencyMetrics, n int64) evidence.Latency {
	if n == 0 {
		return evidence.Latency{}
	}
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
	return evidence.Latency{P50: ms(l.Quantile(0.5)), P95: ms(l.Quantile(0.95)), P99: ms(l.Quantile(0.99)), Max: ms(l.Max)}
}

// timeline renders the buckets up to end.
func (r *recorder) timeline(end time.Time) evidence.Timeline {
	n := int(end.Sub(r.start)/r.res) + 1
	n = min(n, len(r.buckets))
	tl := evidence.Timeline{ResolutionS: r.res.Seconds(), Buckets: make([]evidence.Bucket, n)}
	for i := range tl.Buckets {
		b := &r.buckets[i]
		tl.Buckets[i] = evidence.Bucket{Sent: b.sent, OK: b.ok, Throttled: b.throttled, Errors: b.errors,
			LatencyMSP50: histMedian(&b.hist, b.ok), InFlight: math.Round(b.busy/r.res.Seconds()*100) / 100}
	}
	return tl
}

func histMedian(h *[latBins]uint32, n int64) float64 {
	if n == 0 {
		return 0
	}
	var acc int64
	for i, c := range h {
		acc += int64(c)
		if acc*2 >= n {
			return math.Round(latBinMid(i)*100) / 100
		}
	}
	return 0
}
