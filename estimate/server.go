package estimate

import (
	"math"
	"slices"
	"time"

	"limitprobe/evidence"
)

// view is a run as the limiter saw it. A request reaches the server one
// way-delay after it was sent and its response leaves one way-delay before
// it is back; refusals at an edge are near-instant, so their round trips
// give the delay. Only requests the limiter decided about count: failures
// and requests cut off by the probe are left out.
type view struct {
	arrive []time.Duration // in order of arrival
	ok     []bool          // admitted
	step   []int           // index of the step that sent it
	// depart is, for each admitted request, when the server was done with
	// it; sorted, for a cap on requests in flight.
	depart []time.Duration
	// oneWay is the estimated delay each way; spread the half-width of
	// the middle half of refusals' round trips, halved: how far an
	// arrival may lie from where the view puts it.
	oneWay, spread time.Duration
	// service holds the time admitted requests spent at the server.
	service []time.Duration
	// timing is the standard deviation, seconds, of a request's moment at
	// the limiter about where the view puts it.
	timing float64
	// reorder is, per request, the variance of the number of admissions
	// that reached the limiter before it: admissions close to it in the
	// view may have arrived in the other order.
	reorder []float64
	// weight is how many refusals a request stands for: 1, or more in a
	// thinned view (see thin).
	weight []int32
	// admitted and refused count ok and !ok.
	admitted, refused int
}

// newView builds the limiter's view of reqs; pulses are the steps that
// sent pulses (see orderPulses). ok is false when no request was refused:
// there is nothing to fit.
func newView(reqs *evidence.Requests, pulses map[int]bool) (view, bool) {
	var v view
	if reqs == nil || reqs.Len() == 0 {
		return v, false
	}
	var rs []sentReq
	var thr []time.Duration
	for i := range reqs.Len() {
		q := reqs.At(i)
		switch q.Outcome {
		case evidence.OK:
			rs = append(rs, sentReq{q.Sent, q.Latency, true, q.Step})
		case evidence.Throttled:
			rs = append(rs, sentReq{q.Sent, q.Latency, false, q.Step})
			thr = append(thr, q.Latency)
		}
	}
	if len(thr) == 0 {
		return v, false
	}
	slices.Sort(thr)
	q := func(p float64) time.Duration { return thr[min(len(thr)-1, int(p*float64(len(thr))))] }
	v.oneWay = q(0.5) / 2
	v.spread = (q(0.75) - q(0.25)) / 2
	// The spread of a one-way delay: refusals' round trips hold two, and
	// their interquartile range is 1.35 standard deviations. The
	// generator's own timing adds some 50 µs.
	sd := 2 * v.spread.Seconds() / 1.349 / math.Sqrt2
	v.timing = math.Hypot(sd, 50e-6)
	slices.SortStableFunc(rs, func(a, b sentReq) int { return int(a.sent - b.sent) })
	orderPulses(rs, pulses, v.timing*math.Sqrt2)
	for _, r := range rs {
		at := r.sent + v.oneWay
		v.arrive = append(v.arrive, at)
		v.weight = append(v.weight, 1)
		v.ok = append(v.ok, r.ok)
		v.step = append(v.step, r.step)
		if r.ok {
			v.admitted++
			s := max(0, r.lat-2*v.oneWay)
			v.service = append(v.service, s)
			v.depart = append(v.depart, at+s)
		} else {
			v.refused++
		}
	}
	v.shrinkService(q(0.75) - q(0.25))
	slices.Sort(v.depart)
	v.reorder = reorderings(v.arrive, v.ok, v.timing*math.Sqrt2)
	return v, true
}

// shrinkService takes the network's noise out of the times at the server.
// Each is a round trip less the two mean one-way delays, so it carries the
// round trip's variance, which refusals show (iqr, the interquartile range
// of their round trips). Of the services' variance only the excess over it
// is the server's: each service is moved toward the mean by that share,
// the best linear guess of it, and its departure with it. A backend that
// takes 200 ms every time behind ±20 ms of jitter then holds each request
// 200 ms, as it did, not 200 ± 16 ms; a backend whose own times vary far
// more than the network's keeps them.
func (v *view) shrinkService(iqr time.Duration) {
	noise := iqr.Seconds() / 1.349
	noise *= noise
	n := float64(len(v.service))
	if n < 2 || noise <= 0 {
		return
	}
	mean := v.meanService().Seconds()
	var ss float64
	for _, s := range v.service {
		d := s.Seconds() - mean
		ss += d * d
	}
	total := ss / (n - 1)
	if total <= 0 {
		return
	}
	k := max(0, total-noise) / total
	v.depart = v.depart[:0]
	j := 0
	for i, at := range v.arrive {
		if !v.ok[i] {
			continue
		}
		s := mean + k*(v.service[j].Seconds()-mean)
		v.service[j] = dur(max(0, s))
		v.depart = append(v.depart, at+v.service[j])
		j++
	}
}

// reorderings is, for each arrival, the variance of how many admissions
// arrived before it: each admission within a few pair spreads of it came
// first with the chance the two delays allow, Φ(Δ/pair).
func reorderings(arrive []time.Duration, ok []bool, pair float64) []float64 {
	out := make([]float64, len(arrive))
	if pair <= 0 {
		return out
	}
	reach := time.Duration(4 * pair * float64(time.Second))
	lo := 0
	for i, at := range arrive {
		for arrive[lo] < at-reach {
			lo++
		}
		var v float64
		for j := lo; j < len(arrive) && arrive[j] <= at+reach; j++ {
			if j == i || !ok[j] {
				continue
			}
			p := 0.5 * math.Erfc(math.Abs((arrive[j]-at).Seconds())/pair/math.Sqrt2)
			v += p * (1 - p)
		}
		out[i] = v
	}
	return out
}

// meanService is the mean time an admitted request spent at the server.
func (v *view) meanService() time.Duration {
	if len(v.service) == 0 {
		return 0
	}
	var sum time.Duration
	for _, s := range v.service {
		sum += s
	}
	return sum / time.Duration(len(v.service))
}

// saturatedRate is the rate admissions came at while the limiter was
// refusing some of what it saw: over the tenths of a second with at least
// one refusal in them and the ones either side, once the first refusal has
// spent any burst. 0 when there were too few.
func (v *view) saturatedRate() float64 {
	const slot = 100 * time.Millisecond
	if len(v.arrive) == 0 {
		return 0
	}
	start := v.arrive[0]
	n := int((v.arrive[len(v.arrive)-1]-start)/slot) + 1
	adm := make([]int, n)
	ref := make([]int, n)
	first := -1
	for i, at := range v.arrive {
		k := int((at - start) / slot)
		if v.ok[i] {
			adm[k]++
		} else {
			ref[k]++
			if first < 0 {
				first = k
			}
		}
	}
	var admitted, slots int
	for k := max(first+1, 1); k < n-1; k++ {
		if ref[k-1]+ref[k]+ref[k+1] > 0 && ref[k] > 0 {
			admitted += adm[k]
			slots++
		}
	}
	if slots < 10 || admitted < 20 {
		return 0
	}
	return float64(admitted) / (float64(slots) * slot.Seconds())
}

// thinned is the most requests a fit replays: beyond it, refusals are
// thinned (see thin).
const thinned = 12000

// thin returns v with its refusals thinned so that about limit requests
// remain: every admission stays (a limiter's state moves with them), and
// each kept refusal stands for the k that it replaces, so that likelihoods
// summed with weights estimate the whole run's. v itself when it is small.
// When the admissions alone fill limit, a quarter of it still goes to
// refusals: admissions alone do not say where the limit lies (a bucket of
// 2000/s behind toxiproxy, 49,720 admitted, kept one refusal standing for
// all 9,526, and a fixed window that explained it read 1670/s at 1.00).
func (v *view) thin(limit int) *view {
	if len(v.arrive) <= limit || v.refused == 0 {
		return v
	}
	kept := max(limit-v.admitted, limit/4)
	k := (v.refused + kept - 1) / kept
	if k <= 1 {
		return v
	}
	t := *v
	t.arrive, t.ok, t.step, t.reorder, t.weight = nil, nil, nil, nil, nil
	pending := 0
	for i := range v.arrive {
		keep := v.ok[i]
		w := int32(1)
		if !keep {
			pending++
			if pending == k {
				keep, w, pending = true, int32(k), 0
			}
		}
		if keep {
			t.arrive = append(t.arrive, v.arrive[i])
			t.ok = append(t.ok, v.ok[i])
			t.step = append(t.step, v.step[i])
			t.reorder = append(t.reorder, v.reorder[i])
			t.weight = append(t.weight, w)
		}
	}
	return &t
}

// w is the weight of request i.
func (v *view) w(i int) int32 { return v.weight[i] }

// sentReq is a request as sent: when, its round trip, and whether it was
// admitted.
type sentReq struct {
	sent, lat time.Duration
	ok        bool
	step      int
}

// orderPulses puts the admitted requests of each pulse (see
// probe's pulse experiment) first, in send order, and its refused ones
// after: the order their outcomes say they reached the limiter in. A
// pulse leaves within a few milliseconds and the network's noise chooses
// the order it arrives in; every limiter compared admits the first to
// arrive of a burst on a limiter at rest. Without it the replay scores
// which requests passed, which the noise chose, rather than how many,
// which the limiter did: of ten pulses of 12, of which 80 passed, a cap
// of 8 (which predicts 80) got 60 wrong and a bucket of 4 at 142/s (40)
// got 70. rs is in send order; a pulse is a run of a pulse step's
// requests sent closer together than three times the step's median gap
// (at least a millisecond), and is reordered only when it left within
// pair, the spread of two requests' moments at the limiter: on a sharp
// network the order is the one seen.
func orderPulses(rs []sentReq, pulses map[int]bool, pair float64) {
	for i := 0; i < len(rs); {
		j := i + 1
		for j < len(rs) && rs[j].step == rs[i].step {
			j++
		}
		if pulses[rs[i].step] {
			orderBlock(rs[i:j], pair)
		}
		i = j
	}
}

// orderBlock reorders the pulses of one step's requests, in send order.
func orderBlock(rs []sentReq, pair float64) {
	if len(rs) < 2 {
		return
	}
	gaps := make([]time.Duration, len(rs)-1)
	for k := range gaps {
		gaps[k] = rs[k+1].sent - rs[k].sent
	}
	slices.Sort(gaps)
	split := max(3*gaps[len(gaps)/2], time.Millisecond)
	for a := 0; a < len(rs); {
		b := a + 1
		for b < len(rs) && rs[b].sent-rs[b-1].sent <= split {
			b++
		}
		if p := rs[a:b]; (p[len(p)-1].sent - p[0].sent).Seconds() <= pair {
			sent := make([]time.Duration, len(p))
			for k := range p {
				sent[k] = p[k].sent
			}
			slices.SortStableFunc(p, func(x, y sentReq) int {
				switch {
				case x.ok == y.ok:
					return 0
				case x.ok:
					return -1
				}
				return 1
			})
			for k := range p {
				p[k].sent = sent[k]
			}
		}
		a = b
	}
}
