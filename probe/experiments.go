package probe

import (
	"context"
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/limiter"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// The experiments auto chooses from after its ramp.
const (
	expSaturate = "saturate" // hold 1.3× the limit: the steady rate, windows coming round
	expWorkers  = "workers"  // closed-loop workers around a cap: a cap on requests in flight against a rate
	expIdle     = "idle"     // a pause as long as a window, then a burst: a window against a bucket
	expPoisson  = "poisson"  // random arrivals: a limiter without burst
	expCreep    = "creep"    // a slow rise from a clean start: a lockout
	expRelock   = "relock"   // after the creep, idle for two windows, then a burst: a lockout's count
	expPulse    = "pulse"    // pulses sent at once, far apart: a cap on requests in flight against a rate, through timing noise
	expCalm     = "calm"     // paced at half the rate: a queue against a bucket, behind a slow backend
)

// experiments is auto's choice of steps after its ramp.
type experiments struct {
	e         *engine
	next      func() int
	hot, cold evidence.Step // the ramp's first throttled step; the burst from idle
	done      map[string]int
	saturated time.Duration // time spent in saturation experiments that held
	held      int           // saturation experiments refused in their second half: that saturated
	passed    float64       // highest rate of a saturation that did not hold, requests per second
	// reopened is set when the creep's hold passed requests (a window
	// reopened, or the lock rate was no limit): the lockout it tested is
	// unconfirmed until a saturation after it, the first of which is
	// saturate's count at the time, creepSat.
	reopened bool
	creepSat int
	// shut is set when the creep's hold stayed shut, as only a lockout's
	// does; auto stops after it, unless the lockout's count and window are
	// still traded (see relock).
	shut bool
}

// covered reports whether saturation has held long enough for the lead's
// window, if it has one, to come round twice: fewer windows let its length
// trade against where its boundaries fall. A lockout needs its creep (a
// client shut out says how much it sent, not over how long), and a
// saturation after it when the creep's hold passed requests; a limiter
// without burst its Poisson arrivals (see noBurst).
func (x *experiments) covered(a estimate.Assessment) bool {
	if x.noBurst(a.Lead(), a.OneWay) && x.done[expPoisson] == 0 {
		return false
	}
	w := a.Lead().Config.Window
	switch a.Lead().Config.Kind {
	case limiter.Lockout:
		return x.done[expCreep] > 0 && (!x.reopened || x.done[expSaturate] > x.creepSat)
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter:
		return x.saturated >= 2*w || x.saturated >= 4*x.e.sc.Probe.Step
	}
	return true
}

// exhausted reports whether a lead that the timing noise blurs (see
// estimate.Candidate) has met every experiment that could tell it from
// its rivals: more saturation does not sharpen what the network blurs.
func (x *experiments) exhausted(a estimate.Assessment) bool {
	lead := a.Lead()
	if !lead.Blurred {
		return false
	}
	_, cap := capOf(a)
	_, bucket := a.Has(estimate.AlgorithmTokenBucket)
	window := x.window(a) > 0
	rival := bucket || window || lead.Algorithm == estimate.AlgorithmQueue
	return !(cap && rival && x.done[expWorkers] < 2) && !(window && bucket && x.done[expIdle] == 0) &&
		!(x.capRival(a) && x.done[expPulse] == 0)
}

// capRival reports whether a cap on requests in flight is in question
// behind another lead.
func (x *experiments) capRival(a estimate.Assessment) bool {
	_, cap := capOf(a)
	return cap && a.Lead().Algorithm != estimate.AlgorithmConcurrency
}

// capOf is the cap on requests in flight in question: the lead's or a
// rival's, or, behind a blurred lead of another kind, the cap's best fit
// however far behind when it admits within half again the lead's rate.
// There the likelihoods rule out less than they claim and only the
// workers and the pulses tell a cap from a rate: behind 50±20 ms each way
// a cap of 8 at 50 ms read, after one saturation, as a bucket of 4 at
// 134/s, the cap's fit (8 at 154/s) getting 37% more outcomes wrong, and
// auto stopped there (two test runs of seven).
func capOf(a estimate.Assessment) (estimate.Candidate, bool) {
	if c, ok := a.Has(estimate.AlgorithmConcurrency); ok {
		return c, true
	}
	lead := a.Lead()
	if !lead.Blurred {
		return estimate.Candidate{}, false
	}
	for _, c := range a.Candidates {
		if c.Algorithm == estimate.AlgorithmConcurrency && c.Config.MaxInFlight > 0 &&
			c.RateRPS > 0 && lead.RateRPS > 0 && math.Abs(math.Log(c.RateRPS/lead.RateRPS)) < math.Log(1.5) {
			return c, true
		}
	}
	return estimate.Candidate{}, false
}

// run sends the experiment choose picks, and reports whether another may
// follow.
func (x *experiments) run(ctx context.Context, a estimate.Assessment) (bool, error) {
	switch x.choose(a) {
	case expRelock:
		return false, x.relock(ctx, a.Lead())
	case expPoisson:
		x.done[expPoisson]++
		return true, x.e.saturateRandom(ctx, x.next, x.hot)
	case expWorkers:
		return x.workers(ctx, a)
	case expPulse:
		return x.pulse(ctx, a)
	case expCreep:
		x.done[expCreep]++
		x.creepSat = x.done[expSaturate]
		var err error
		x.reopened, x.shut, err = x.e.creep(ctx, x.next, x.hot, float64(x.cold.OK))
		return x.reopened || x.shut, err
	case expIdle:
		return x.idle(ctx, a)
	case expCalm:
		return x.calm(ctx, a.Lead())
	case expSaturate:
		return x.saturate(ctx, a)
	}
	return false, nil
}

// choose picks the experiment that best tells apart the explanations a
// still admits; "" when none is left to send.
//
//   - A lead without burst (a bucket of one, nginx without burst) whose
//     burst from idle passed little more than one round trip refills
//     (noBurst): Poisson arrivals, since evenly paced steps measure their
//     own timing jitter.
//   - A cap on requests in flight against a rate or a window: closed-loop
//     workers just above and below the cap seen from the client (the
//     server's cap grown by the round trip, Little's law). A cap throttles
//     by what is in flight, a rate by how fast it comes. When the cap
//     still trails another lead after them and timing noise blurs the
//     lead: pulses (see pulse). Without that noise the workers tell
//     them apart; against nginx's queue of 20 at 10/s on loopback the
//     pulses took 19.4 s and added nothing to the estimate.
//   - A lockout that still leads after a saturation (which a window
//     would have reopened during): the creep, which finds the highest rate
//     that does not lock out. When its hold passes requests, the lockout
//     is unconfirmed and the choice goes on with the creep's steps in the
//     evidence, at least one saturation more (a cap of 128 in flight
//     behind jitter led as a lockout once; the creep used to follow such a
//     hold with a saturation of four step lengths, 8,384 requests at
//     419/s). When the hold stays shut, auto stops, unless the lockout
//     does not yet explain the run alone within precision: then relock,
//     which passes the count whole.
//   - A window against a bucket: idle for a window, then a burst. A bucket
//     refills steadily; a window reopens whole at its boundary.
//   - A bucket whose admitted requests may have waited their turn (a
//     queue) or not, the backend's own latency hiding which (see
//     estimate.Candidate.Waits): calm, paced at half its rate, so that
//     none waits; against the saturations' full queue that tells them
//     apart (the ramp's few requests below the rate left a queue of 10 at
//     50/s behind a slow backend read as a bucket at 0.50).
//   - Otherwise, or when the band is still wide: saturate at 1.3× the
//     lead's rate, long enough for windows to come round.
func (x *experiments) choose(a estimate.Assessment) string {
	lead := a.Lead()
	_, cap := capOf(a)
	_, bucket := a.Has(estimate.AlgorithmTokenBucket)
	window := x.window(a) > 0
	rival := bucket || window || lead.Algorithm == estimate.AlgorithmQueue
	switch {
	case x.shut && lead.Algorithm == estimate.AlgorithmLockout && x.done[expRelock] == 0:
		return expRelock
	case x.shut:
		return ""
	case x.noBurst(lead, a.OneWay) && x.done[expPoisson] == 0:
		return expPoisson
	case cap && rival && x.done[expWorkers] < 2:
		return expWorkers
	case x.capRival(a) && lead.Blurred && x.done[expPulse] == 0:
		return expPulse
	case lead.Algorithm == estimate.AlgorithmLockout && x.held > 0 && x.done[expCreep] == 0:
		return expCreep
	case window && bucket && x.done[expIdle] == 0:
		return expIdle
	case lead.Waits && x.done[expCalm] == 0:
		return expCalm
	case x.done[expSaturate] < 3:
		return expSaturate
	}
	return ""
}

// noBurst reports whether the lead lets one or two requests through at a
// time (a bucket of one, or a window of one or two) and hardly more passed
// from idle than that and what refills in the round trip before the first
// refusal came back (a bucket of one at 50/s behind 50 ms each way lets
// about six through). Such a limiter is measured with Poisson arrivals,
// whose goodput no timing jitter changes, before auto stops.
func (x *experiments) noBurst(lead estimate.Candidate, oneWay time.Duration) bool {
	var c int
	switch cfg := lead.Config; cfg.Kind {
	case limiter.TokenBucket, limiter.GCRA:
		c = cfg.Burst
	case limiter.SlidingLog, limiter.SlidingCounter, limiter.FixedWindow:
		c = cfg.Limit
	default:
		return false
	}
	// The lead's rate may be off by half behind jitter: twice its refill.
	refill := 2 * lead.RateRPS * 2 * oneWay.Seconds()
	return c <= 2 && x.cold.Throttled > 0 && float64(x.cold.OK) <= 3+refill
}

// satRate is 1.3× the lead's rate (or the hot step's goodput), within max.
func (x *experiments) satRate(lead estimate.Candidate) float64 {
	r := lead.RateRPS
	if r <= 0 {
		r = x.hot.GoodputRPS
	}
	return min(float64(x.e.sc.Probe.Max), max(1.3*r, r+2))
}

// window is the longest window of the window explanations in play,
// seconds; 0 when none is.
func (x *experiments) window(a estimate.Assessment) float64 {
	var w float64
	for _, c := range append([]estimate.Candidate{a.Lead()}, a.Rivals()...) {
		switch c.Config.Kind {
		case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter:
			w = max(w, c.Config.Window.Seconds())
		}
	}
	return w
}

// saturate holds 1.3× the lead's rate straight after the last step, long
// enough for about 60 admissions and for a window in play to come round
// two and a half times (at most four step lengths). Against a lead with a
// burst (a bucket, a queue) it goes fast enough for the excess to spend
// the burst in the step's first half: the fits between steps take a
// second or two, in which the burst refills. (OpenAI's preset, a bucket
// of 100 at 50/s, behind a slow backend: a bench run read a sliding window
// at 127/s, confidence 1.00; in four runs after it three saturations of
// 2 s at 65, 75 and 86/s passed unrefused, and the rate, read from the
// ramp's 11 refusals, came out 48.9–52.1/s.)
//
// After a saturation that a bucket's or queue's burst absorbed (see
// absorbed) it goes 15% above that one, so the excess outgrows the
// burst: then it refuses, or the lead is refuted. (nginx's queue of 20
// at 10/s behind a slow backend let three saturations at 11.3/s of 6.9 s
// through, each drained in the gap while the step's slowest answers came
// back, and the run read a bucket of 22 at 8.7/s.) It stays as long as
// before: longer saturations moved a sliding counter's fit when its lead
// had been read at a quarter of its rate.
//
// It ends early once refused, from its first request or its last success,
// for longer than every window in play and the lead need to admit again
// (see giveUp).
func (x *experiments) saturate(ctx context.Context, a estimate.Assessment) (bool, error) {
	x.done[expSaturate]++
	pr := x.e.sc.Probe
	lead := a.Lead()
	r := lead.RateRPS
	if r <= 0 {
		r = x.hot.GoodputRPS
	}
	d := scenarios.SaturateStep(units.Rate(r), pr.Step)
	w := x.window(a)
	if w > 0 {
		d = max(d, min(4*pr.Step, time.Duration(2.5*w*float64(time.Second))))
	}
	rate := x.saturation(lead, d)
	st, ok, err := x.e.send(ctx, stepSpec{index: x.next(), phase: evidence.PhaseSaturate, rate: rate, duration: d,
		watch: shutOut(giveUp(lead, w))})
	if x.lateRefusals(st) > 0 {
		x.held++
		x.saturated += time.Duration(st.DurationS * float64(time.Second))
	} else if st.Requests > 0 {
		// Unrefused, or refused only while it spent what the step before
		// left (a window a burst had filled), the step was under the
		// limit: it says the lead is too low, not that the limit held.
		x.passed = max(x.passed, rate)
	}
	return ok, err
}

// giveUp is how long a saturation goes on without a single success: long
// enough for every window in play to have reopened and for the lead to
// have admitted five, and at least 2 s. By then the run refutes them all;
// holding on only spends refusals, and a lockout, which counts them, keeps
// the client shut out the longer. (A lockout of 100 per 5 s, locked by the
// ramp, refused all 737 requests of a 19 s saturation sized for a rival
// sliding window of 7.6 s.)
func giveUp(lead estimate.Candidate, window float64) time.Duration {
	s := max(2, 1.2*window+0.5)
	if lead.RateRPS > 0 {
		s = max(s, 5/lead.RateRPS)
	}
	return time.Duration(s * float64(time.Second))
}

// shutOut watches a step: true, ending it, once its requests have been
// refused for after since its first request or its last success (sent
// times: a success answered late still counts from when it was sent).
func shutOut(after time.Duration) func(*vegeta.Result, evidence.Outcome) bool {
	var last time.Time
	return func(res *vegeta.Result, out evidence.Outcome) bool {
		if last.IsZero() || out == evidence.OK && res.Timestamp.After(last) {
			last = res.Timestamp
		}
		return res.Timestamp.Sub(last) >= after
	}
}

// lateRefusals counts the refusals of requests st sent in its second half.
// (A sliding counter of 50 per 5 s whose window a burst had filled refused
// a saturation at 3.9/s for its first 3 s, then passed the rest; counted
// as held, it ended auto with a window of 4.4 s.)
func (x *experiments) lateRefusals(st evidence.Step) int64 {
	if st.Throttled == 0 {
		return 0
	}
	tl := x.e.rec.timeline(time.Now())
	from, to := st.StartS+st.DurationS/2, st.StartS+st.DurationS
	var n int64
	for i, b := range tl.Buckets {
		if at := float64(i) * tl.ResolutionS; at >= from && at < to {
			n += b.Throttled
		}
	}
	return n
}

// saturation is the rate of a saturation of length d (see saturate).
//
// A bucket of a few tokens that the timing noise covers half of or more
// (see estimate.Candidate.Blur) is saturated at twice its lead's rate:
// jitter bunches arrivals, and a bucket that a bunch finds full wastes
// what refills meanwhile, so just above its rate it admits less than its
// rate. Behind 50±20 ms each way a bucket of 3 at 200/s, led as a bucket
// of 5 or so at 155/s, was saturated at 202/s, admitted 179/s, and read
// 186/s (−7%); three runs of six read 182–192/s. In the simulator the same
// run read −6% to −10% on three seeds, and with 400/s in place of 202/s
// 199–200/s on two of them. A blurred lead of another kind that holds a
// few at once goes at twice its rate too: the same bucket, led at 234/s
// as something other than a bucket of three or more, was saturated at
// 304/s in CI, admitted 195/s and read 193/s.
func (x *experiments) saturation(lead estimate.Candidate, d time.Duration) float64 {
	top := float64(x.e.sc.Probe.Max)
	rate := x.satRate(lead)
	if b := burstOf(lead.Config); b > 0 && lead.RateRPS > 0 {
		rate = min(top, max(rate, lead.RateRPS+2*float64(b)/d.Seconds()))
	}
	if lead.Blur >= 0.5 && heldOf(lead.Config) > 2 && lead.RateRPS > 0 {
		rate = min(top, max(rate, 2*lead.RateRPS))
	}
	if x.absorbed(lead) {
		rate = min(top, max(rate, 1.15*x.passed))
	}
	return rate
}

// heldOf is what a rate limiter of cfg admits at once: a bucket's or
// queue's burst, a window's limit; 0 for a lockout or a cap, which
// saturate otherwise.
func heldOf(cfg limiter.Config) int {
	switch cfg.Kind {
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter:
		return cfg.Limit
	}
	return burstOf(cfg)
}

// burstOf is the burst of a bucket or queue, 0 for other limiters.
func burstOf(cfg limiter.Config) int {
	switch cfg.Kind {
	case limiter.TokenBucket, limiter.GCRA, limiter.Queue:
		return cfg.Burst
	}
	return 0
}

// absorbed reports whether an earlier saturation above the lead's rate
// passed unrefused while the lead is a bucket or queue with a burst: the
// burst took the excess, and holding the same rate again only spends the
// same share of it.
func (x *experiments) absorbed(lead estimate.Candidate) bool {
	switch lead.Config.Kind {
	case limiter.TokenBucket, limiter.GCRA, limiter.Queue:
		return lead.Config.Burst > 0 && x.passed > lead.RateRPS
	}
	return false
}

// workers runs closed-loop workers above, then below, the cap seen from
// the client: the server's cap N holds N × service ÷ (service + round
// trip) of the client's requests.
func (x *experiments) workers(ctx context.Context, a estimate.Assessment) (bool, error) {
	c, _ := capOf(a)
	x.done[expWorkers]++
	s := a.Service.Seconds()
	rtt := 2 * a.OneWay.Seconds()
	n := float64(c.Config.MaxInFlight)
	if s <= 0 || n <= 0 {
		return true, nil
	}
	client := n * (s + rtt) / s
	k := int(math.Ceil(1.3 * client))
	if x.done[expWorkers] == 2 {
		k = max(1, int(math.Floor(0.8*client)))
	}
	sp := x.e.concurrencyStep(x.next(), k)
	sp.duration = scenarios.ClampDuration(time.Duration(15*(s+rtt)*float64(time.Second)), 2*time.Second, x.e.sc.Probe.Step)
	if !x.e.pause(ctx, time.Duration(2*(s+rtt)*float64(time.Second)), sp) {
		return false, nil
	}
	_, ok, err := x.e.send(ctx, sp)
	return ok, err
}

// pulse sends ten pulses of half again as many requests as the cap in
// flight, each at the probe's max rate, two round trips and service times
// apart. A cap admits the same number of each, as long as a pulse reaches
// it within a service time, however the network spreads it; a bucket
// admits its burst and what refills while the pulse arrives, which the
// spread changes. Behind 50±20 ms each way, a cap of 8 at 50 ms read as a
// bucket of 4 at 141–144/s in four runs of five (the workers' steady
// loads admit alike through that noise); five runs with ten pulses of 12
// read the cap of 8 at 155–163/s. A pulse that takes longer to send than
// a service time is none to the cap, and is not sent; the step stays
// within four step lengths, as plan shows it (fewer pulses behind a slow
// backend), and is not sent for fewer than three.
func (x *experiments) pulse(ctx context.Context, a estimate.Assessment) (bool, error) {
	x.done[expPulse]++
	pr := x.e.sc.Probe
	c, _ := capOf(a)
	n := c.Config.MaxInFlight
	top := float64(pr.Max)
	size := max(n+2, int(math.Ceil(1.5*float64(n))))
	if n <= 0 || float64(size)/top >= a.Service.Seconds() {
		return true, nil
	}
	gap := 2*(a.Service.Seconds()+2*a.OneWay.Seconds()) + float64(size)/top
	gap = max(gap, 0.1)
	pulses := uint64(min(10, (4*pr.Step).Seconds()/gap))
	if pulses < 3 {
		return true, nil
	}
	due := func(k uint64) float64 {
		i, j := (k-1)/uint64(size), (k-1)%uint64(size)
		if i >= pulses {
			return math.Inf(1)
		}
		return float64(i)*gap + float64(j)/top
	}
	sp := stepSpec{index: x.next(), phase: evidence.PhasePulse, rate: float64(size) / gap, due: due,
		duration: time.Duration(float64(pulses) * gap * float64(time.Second))}
	if !x.e.pause(ctx, time.Duration(gap*float64(time.Second)), sp) {
		return false, nil
	}
	_, ok, err := x.e.send(ctx, sp)
	return ok, err
}

// idle pauses for the longest window in play, then bursts from idle: a
// window reopens whole, a bucket only as far as it refilled.
func (x *experiments) idle(ctx context.Context, a estimate.Assessment) (bool, error) {
	x.done[expIdle]++
	pr := x.e.sc.Probe
	w := time.Duration(1.05 * x.window(a) * float64(time.Second))
	sp := stepSpec{index: x.next(), phase: evidence.PhaseBurst, rate: float64(pr.Max), duration: scenarios.BurstStep(pr.Step), stopOnThrottle: true}
	if !x.e.rest(ctx, scenarios.ClampDuration(w, time.Second, scenarios.MaxCooldown), sp) {
		return false, nil
	}
	_, ok, err := x.e.send(ctx, sp)
	return ok, err
}

// calm waits for the lead's bucket to drain, then sends about 100
// requests paced at half its rate: a queue's admitted requests then do not
// wait, which the saturations' do.
func (x *experiments) calm(ctx context.Context, lead estimate.Candidate) (bool, error) {
	x.done[expCalm]++
	pr := x.e.sc.Probe
	r := min(float64(pr.Max), lead.RateRPS/2)
	if r <= 0 {
		return true, nil
	}
	sp := stepSpec{index: x.next(), phase: evidence.PhaseCalm, rate: r,
		duration: scenarios.ClampDuration(time.Duration(100/r*float64(time.Second)), 2*time.Second, 4*pr.Step)}
	drain := time.Duration(2 * float64(burstOf(lead.Config)) / lead.RateRPS * float64(time.Second))
	if !x.e.rest(ctx, scenarios.ClampDuration(drain, 500*time.Millisecond, scenarios.MaxCooldown), sp) {
		return false, nil
	}
	_, ok, err := x.e.send(ctx, sp)
	return ok, err
}

// relock idles for two of the lockout's windows, which empties its
// counter, then bursts until refused and polls until it admits again. The
// burst passes the count whole, which the creep, reading the rate at which
// the count locks, leaves traded against the window: a creep, its hold and
// its poll read 110 per 6.19 s against 100 per 5 s, with a fixed window
// of 131 per 21.6 s explaining them as well.
func (x *experiments) relock(ctx context.Context, lead estimate.Candidate) error {
	x.done[expRelock]++
	pr := x.e.sc.Probe
	sp := stepSpec{index: x.next(), phase: evidence.PhaseBurst, rate: float64(pr.Max), duration: scenarios.BurstStep(pr.Step), stopOnThrottle: true}
	if !x.e.rest(ctx, scenarios.ClampDuration(2*lead.Config.Window+lead.Config.Window/10, time.Second, scenarios.MaxCooldown), sp) {
		return nil
	}
	st, ok, err := x.e.send(ctx, sp)
	if ok && err == nil && st.Throttled > 0 {
		_, _, err = x.e.recover(ctx, x.next)
	}
	return err
}

// concurrencyStep is one closed-loop step of workers: short, since a cap
// on requests in flight shows within a few round trips, and never offered
// faster than the probe's max, however fast refusals come back.
func (e *engine) concurrencyStep(index, workers int) stepSpec {
	return stepSpec{index: index, phase: evidence.PhaseConcurrency, concurrency: workers, rate: float64(e.sc.Probe.Max),
		duration: scenarios.ClampDuration(e.sc.Probe.Step/3, time.Second, 2*time.Second)}
}
