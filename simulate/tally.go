package simulate

import (
	"math"
	"time"

	"limitprobe/evidence"
)

// tally counts what became of the requests of one lane.
type tally struct {
	light bool // counts only: no minutes, streaks, delays or timeline

	requests, refused   int64 // as the limiter saw them (batches when batched)
	units, unitsRefused int64 // the traffic's requests in them
	shed                int64 // units the client shed

	minute   time.Duration // the clock minute being counted
	inMinute Minute
	worst    []Minute
	streak   run // refusals in a row, the current one and the longest
	longest  run

	delays histogram
	tl     *laneline
}

// run is requests refused in a row: how many, the first and last times.
type run struct {
	n           int64
	first, last time.Duration
}

// worstMinutes is how many minutes a prediction lists.
const worstMinutes = 5

// add counts a request that arrived at arrived and that the limiter saw at
// at (refused unless ok); a batch carries the units that arrived at
// arrivals (nil: one unit, arrived).
func (t *tally) add(arrived, at time.Duration, ok bool, arrivals []time.Duration) {
	n := int64(max(len(arrivals), 1))
	t.requests++
	t.units += n
	if !ok {
		t.refused++
		t.unitsRefused += n
	}
	if t.light {
		return
	}
	if m := at / time.Minute * time.Minute; m != t.minute || t.inMinute.Requests == 0 {
		t.closeMinute()
		t.minute, t.inMinute = m, Minute{Start: unixTime(m)}
	}
	t.inMinute.Requests += n
	if ok {
		t.streak = run{}
	} else {
		t.inMinute.Refused += n
		if t.streak.n == 0 {
			t.streak.first = at
		}
		t.streak.n += n
		t.streak.last = at
		if t.streak.n > t.longest.n {
			t.longest = t.streak
		}
	}
	if t.tl != nil {
		t.tl.add(at, n, ok)
	}
	if arrivals == nil {
		t.delay(arrived, at)
		return
	}
	for _, a := range arrivals {
		t.delay(a, at)
	}
}

// delay counts how long a unit that arrived at arrived waited to leave at
// at.
func (t *tally) delay(arrived, at time.Duration) {
	t.delays.add(at - arrived)
	if t.tl != nil {
		t.tl.delay(arrived, at-arrived)
	}
}

// dropped counts units the client shed, which arrived at arrived.
func (t *tally) dropped(arrived time.Duration, units int) {
	t.shed += int64(units)
	if t.tl != nil {
		t.tl.shed(arrived, int64(units))
	}
}

// closeMinute enters the minute being counted among the worst.
func (t *tally) closeMinute() {
	m := t.inMinute
	if m.Refused == 0 {
		return
	}
	i := len(t.worst)
	for i > 0 && t.worst[i-1].Refused < m.Refused {
		i--
	}
	if i >= worstMinutes {
		return
	}
	t.worst = append(t.worst, Minute{})
	copy(t.worst[i+1:], t.worst[i:])
	t.worst[i] = m
	if len(t.worst) > worstMinutes {
		t.worst = t.worst[:worstMinutes]
	}
}

// prediction is the tally as a Prediction.
func (t *tally) prediction() Prediction {
	t.closeMinute()
	t.inMinute = Minute{}
	p := Prediction{Requests: t.requests, Refused: t.refused, WorstMinutes: t.worst}
	if l := t.longest; l.n > 0 {
		p.LongestRefusalRun = &Streak{Requests: l.n, Start: unixTime(l.first), DurationS: (l.last - l.first).Seconds()}
	}
	if p.WorstMinutes == nil {
		p.WorstMinutes = []Minute{}
	}
	if t.requests > 0 {
		p.RefusedShare = float64(t.refused) / float64(t.requests)
	}
	return p
}

// smoothed is the tally as a Smoothed, with the client's peak queue.
func (t *tally) smoothed(peak int) Smoothed {
	s := Smoothed{Sent: t.requests, Refused: t.refused, Shed: t.shed, PeakQueue: peak, DelayMS: t.delays.latency()}
	if t.requests > 0 {
		s.RefusedShare = float64(t.refused) / float64(t.requests)
	}
	if all := t.units + t.shed; all > 0 {
		s.ShedShare = float64(t.shed) / float64(all)
	}
	return s
}

// histogram counts durations in buckets 1% wide from a microsecond up, so
// that its quantiles are within 1% with bounded memory.
type histogram struct {
	zero   int64 // below a microsecond
	counts []int64
	n      int64
	max    time.Duration
}

const histGrowth = 1.01

var logGrowth = math.Log(histGrowth)

func (h *histogram) add(d time.Duration) {
	h.n++
	h.max = max(h.max, d)
	if d < time.Microsecond {
		h.zero++
		return
	}
	i := int(math.Log(float64(d)/float64(time.Microsecond)) / logGrowth)
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]int64, i+1-len(h.counts))...)
	}
	h.counts[i]++
}

// quantile is the q-quantile, milliseconds: the middle of its bucket.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	seen := h.zero
	if seen >= rank {
		return 0
	}
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			mid := math.Pow(histGrowth, float64(i)+0.5) * float64(time.Microsecond)
			return min(mid, float64(h.max)) / float64(time.Millisecond)
		}
	}
	return float64(h.max) / float64(time.Millisecond)
}

// latency is the histogram's p50, p95, p99 and max, milliseconds.
func (h *histogram) latency() evidence.Latency {
	return evidence.Latency{P50: h.quantile(0.5), P95: h.quantile(0.95), P99: h.quantile(0.99),
		Max: float64(h.max) / float64(time.Millisecond)}
}

// unixTime is the Unix instant d as a time, in UTC.
func unixTime(d time.Duration) time.Time { return time.Unix(0, int64(d)).UTC() }
