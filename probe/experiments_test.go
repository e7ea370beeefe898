package probe

import (
	"math"

	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/limiter"
	"limitprobe/scenarios"
)

// A saturation holds only when refused in its second half: refusals at
// its start spend what the step before left.
func TestSaturationHoldsOnlyWhenRefusedLate(t *testing.T) {
	start := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		refusedS []float64 // when refused requests were sent, from the step's start
		want     int64
	}{
		{"unrefused", nil, 0},
		{"refused only at its start", []float64{0.1, 0.5, 1.2, 2.9}, 0},
		{"refused late too", []float64{0.1, 3.1, 5.5}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(start, 100*time.Millisecond, NewClassifier([]int{429}, ""))
			begin := start.Add(2 * time.Second)
			w := r.open(evidence.Step{Phase: evidence.PhaseSaturate, OfferedRPS: 10}, begin, begin.Add(6*time.Second), 10*time.Second)
			for i := range 60 {
				r.add(&vegeta.Result{Code: 200, Timestamp: begin.Add(time.Duration(i) * 100 * time.Millisecond), Latency: time.Millisecond})
			}
			for _, s := range tt.refusedS {
				r.add(&vegeta.Result{Code: 429, Timestamp: begin.Add(time.Duration(s * float64(time.Second))), Latency: time.Millisecond})
			}
			st := w.step
			st.DurationS = 6
			x := &experiments{e: &engine{rec: r}}
			if got := x.lateRefusals(st); got != tt.want {
				t.Errorf("lateRefusals = %d, want %d", got, tt.want)
			}
		})
	}
}

// Only a bucket's or queue's burst absorbs a saturation above its rate.
func TestAbsorbedOnlyByABurstBelowThePassedRate(t *testing.T) {
	for _, tt := range []struct {
		name   string
		kind   limiter.Kind
		burst  int
		rate   float64
		passed float64
		want   bool
	}{
		{"queue with burst, passed above its rate", limiter.Queue, 20, 10, 11.3, true},
		{"bucket with burst, passed above its rate", limiter.TokenBucket, 22, 8.7, 11.3, true},
		{"nothing passed", limiter.Queue, 20, 10, 0, false},
		{"passed below the lead's rate", limiter.TokenBucket, 22, 12, 11.3, false},
		{"queue without burst", limiter.Queue, 0, 10, 11.3, false},
		{"a window read too low", limiter.SlidingCounter, 0, 2.8, 3.6, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := &experiments{passed: tt.passed}
			lead := estimate.Candidate{Config: limiter.Config{Kind: tt.kind, Burst: tt.burst, Limit: 50}, RateRPS: tt.rate}
			if got := x.absorbed(lead); got != tt.want {
				t.Errorf("absorbed = %v, want %v", got, tt.want)
			}
		})
	}
}

// A lockout is covered by its creep when the creep's hold stayed shut; a
// hold that passed requests leaves it unconfirmed until a saturation after
// the creep.
func TestLockoutCoveredByItsCreep(t *testing.T) {
	a := estimate.Assessment{Candidates: []estimate.Candidate{{Algorithm: estimate.AlgorithmLockout,
		Config: limiter.Config{Kind: limiter.Lockout, Limit: 122, Window: 385 * time.Millisecond}, RateRPS: 317}}}
	for _, tt := range []struct {
		name         string
		creeps, sats int
		reopened     bool
		creepSat     int
		want         bool
	}{
		{"no creep yet", 0, 1, false, 0, false},
		{"the hold stayed shut", 1, 1, false, 1, true},
		{"the hold passed requests", 1, 1, true, 1, false},
		{"and a saturation followed", 1, 2, true, 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := &experiments{done: map[string]int{expCreep: tt.creeps, expSaturate: tt.sats}, reopened: tt.reopened, creepSat: tt.creepSat}
			if got := x.covered(a); got != tt.want {
				t.Errorf("covered = %v, want %v", got, tt.want)
			}
		})
	}
}

// After a creep whose hold stayed shut auto sends nothing more, except one
// relock while a lockout leads (runAuto stops before choosing once the
// lead explains the run alone).
func TestShutCreepEndsInOneRelock(t *testing.T) {
	lockout := estimate.Candidate{Algorithm: estimate.AlgorithmLockout,
		Config: limiter.Config{Kind: limiter.Lockout, Limit: 110, Window: 6190 * time.Millisecond}, RateRPS: 17.8}
	window := estimate.Candidate{Algorithm: estimate.AlgorithmFixedWindow,
		Config: limiter.Config{Kind: limiter.FixedWindow, Limit: 131, Window: 21600 * time.Millisecond}, RateRPS: 6.1}
	for _, tt := range []struct {
		name    string
		cands   []estimate.Candidate
		shut    bool
		relocks int
		want    string
	}{
		{"a lockout beside a window", []estimate.Candidate{lockout, window}, true, 0, expRelock},
		{"and after its relock", []estimate.Candidate{lockout, window}, true, 1, ""},
		{"a window leads now", []estimate.Candidate{window, lockout}, true, 0, ""},
		{"the hold passed requests", []estimate.Candidate{lockout, window}, false, 0, expSaturate},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := &experiments{done: map[string]int{expCreep: 1, expSaturate: 1, expRelock: tt.relocks}, held: 1, shut: tt.shut, reopened: !tt.shut}
			if got := x.choose(estimate.Assessment{Candidates: tt.cands}); got != tt.want {
				t.Errorf("choose = %q, want %q", got, tt.want)
			}
		})
	}
}

// A cap on requests in flight in question behind a bucket gets the
// workers and, while it still trails a blurred lead after them, pulses,
// once; a cap that leads, or one behind a sharp lead, no pulses. Behind a
// blurred lead a cap the likelihoods rule out stays in question while it
// admits near the lead's rate; behind a sharp lead, or far from that
// rate, not, unless it gets about as many outcomes wrong as the lead.
func TestCapInQuestion(t *testing.T) {
	bucket := estimate.Candidate{Algorithm: estimate.AlgorithmTokenBucket,
		Config: limiter.Config{Kind: limiter.TokenBucket, Rate: 142, Burst: 4}, RateRPS: 142, Blurred: true}
	cap := estimate.Candidate{Algorithm: estimate.AlgorithmConcurrency,
		Config: limiter.Config{Kind: limiter.Concurrency, MaxInFlight: 8}, RateRPS: 160, Blurred: true}
	sharp := bucket
	sharp.Blurred = false
	// As one run read after a saturation: the cap 183 behind in BIC,
	// getting 37% more outcomes wrong.
	trailing, far := cap, cap
	trailing.Behind, trailing.Miss, trailing.RateRPS = 183, 215, 154
	far.Behind, far.Miss, far.RateRPS = 183, 215, 10000
	lead := bucket
	lead.Miss, lead.RateRPS = 157, 134
	// A cap that the likelihood rules out behind a sharp lead but that
	// gets no more outcomes wrong (see estimate.Assessment.Rivals: about
	// as many would do).
	sharp3, tied := sharp, cap
	sharp3.Miss = 3
	tied.Behind, tied.Miss, tied.Blurred = 11, 3, false
	for _, tt := range []struct {
		name    string
		cands   []estimate.Candidate
		workers int
		pulses  int
		want    string
	}{
		{"before the workers", []estimate.Candidate{bucket, cap}, 0, 0, expWorkers},
		{"after them", []estimate.Candidate{bucket, cap}, 2, 0, expPulse},
		{"after the pulses", []estimate.Candidate{bucket, cap}, 2, 1, expSaturate},
		{"the cap leads", []estimate.Candidate{cap, bucket}, 2, 0, expSaturate},
		{"a sharp lead", []estimate.Candidate{sharp, cap}, 2, 0, expSaturate},
		{"ruled out, behind a blurred lead", []estimate.Candidate{lead, trailing}, 0, 0, expWorkers},
		{"and after the workers", []estimate.Candidate{lead, trailing}, 2, 0, expPulse},
		{"and after the pulses", []estimate.Candidate{lead, trailing}, 2, 1, expSaturate},
		{"ruled out, behind a sharp lead", []estimate.Candidate{sharp, trailing}, 0, 0, expSaturate},
		{"tied in outcomes, behind a sharp lead", []estimate.Candidate{sharp3, tied}, 0, 0, expWorkers},
		{"ruled out, far from the lead's rate", []estimate.Candidate{lead, far}, 0, 0, expSaturate},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := &experiments{done: map[string]int{expWorkers: tt.workers, expPulse: tt.pulses}, held: 1}
			a := estimate.Assessment{Candidates: tt.cands}
			if got := x.choose(a); got != tt.want {
				t.Errorf("choose = %q, want %q", got, tt.want)
			}
			// Only a blurred lead runs out of experiments (see exhausted).
			if ex, want := x.exhausted(a), tt.want == expSaturate; a.Lead().Blurred && ex != want {
				t.Errorf("exhausted = %v, want %v", ex, want)
			}
		})
	}
}

// A bucket whose admitted requests may or may not have waited their turn
// is undecided, however narrow its band, and gets one calm step; then
// saturations.
func TestCalmForWaits(t *testing.T) {
	bucket := estimate.Candidate{Algorithm: estimate.AlgorithmTokenBucket,
		Config: limiter.Config{Kind: limiter.TokenBucket, Rate: 50, Burst: 11}, RateRPS: 50, Band: estimate.Band{Low: 50, High: 50}}
	unsure := bucket
	unsure.Waits = true
	for _, tt := range []struct {
		name    string
		lead    estimate.Candidate
		calm    int
		decided bool
		want    string
	}{
		{"waits told", bucket, 0, true, expSaturate},
		{"waits unsure", unsure, 0, false, expCalm},
		{"after the calm step", unsure, 1, false, expSaturate},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := &experiments{done: map[string]int{expCalm: tt.calm}, held: 1}
			a := estimate.Assessment{Candidates: []estimate.Candidate{tt.lead}}
			if got := a.Decided(0.03); got != tt.decided {
				t.Errorf("Decided = %v, want %v", got, tt.decided)
			}
			if got := x.choose(a); got != tt.want {
				t.Errorf("choose = %q, want %q", got, tt.want)
			}
		})
	}
}

// A saturation against a lead with a burst goes fast enough to spend the
// burst in its first half; one the timing noise blurs that holds more
// than two at once goes at twice its rate; others hold 1.3× the lead's
// rate; none above the probe's max.
func TestSaturationSpendsTheBurst(t *testing.T) {
	for _, tt := range []struct {
		name   string
		cfg    limiter.Config
		rate   float64
		d      time.Duration
		passed float64
		blur   float64
		want   float64
	}{
		{"OpenAI's bucket of 100 at 50/s", limiter.Config{Kind: limiter.TokenBucket, Burst: 100}, 50, 2 * time.Second, 0, 0, 150},
		{"a bucket of one", limiter.Config{Kind: limiter.TokenBucket, Burst: 1}, 50, 2 * time.Second, 0, 0, 65},
		{"nginx's queue of 20 at 10/s", limiter.Config{Kind: limiter.Queue, Burst: 20}, 10, 8 * time.Second, 0, 0, 15},
		{"and a saturation at 20/s it absorbed", limiter.Config{Kind: limiter.Queue, Burst: 20}, 10, 8 * time.Second, 20, 0, 23},
		{"a sliding window of 50 per 5 s", limiter.Config{Kind: limiter.SlidingLog, Limit: 50}, 10, 15 * time.Second, 0, 0, 13},
		{"a burst the max cuts", limiter.Config{Kind: limiter.TokenBucket, Burst: 500}, 400, 2 * time.Second, 0, 0, 500},
		{"a blurred bucket of 3 at 200/s", limiter.Config{Kind: limiter.TokenBucket, Burst: 3}, 200, 2 * time.Second, 0, 1, 400},
		{"a blurred bucket of 2", limiter.Config{Kind: limiter.TokenBucket, Burst: 2}, 200, 2 * time.Second, 0, 1, 260},
		{"a blurred sliding counter of 8", limiter.Config{Kind: limiter.SlidingCounter, Limit: 8}, 234, 2 * time.Second, 0, 1, 468},
		{"a blurred lockout of 8", limiter.Config{Kind: limiter.Lockout, Limit: 8}, 234, 2 * time.Second, 0, 1, 304.2},
		{"a sliding counter of 8 half blurred", limiter.Config{Kind: limiter.SlidingCounter, Limit: 8}, 234, 2 * time.Second, 0, 0.4, 304.2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := &experiments{e: &engine{sc: &scenarios.Scenario{Probe: scenarios.Probe{Max: 500}}}, passed: tt.passed}
			lead := estimate.Candidate{Config: tt.cfg, RateRPS: tt.rate, Blur: tt.blur}
			if got := x.saturation(lead, tt.d); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("saturation = %g/s, want %g/s", got, tt.want)
			}
		})
	}
}

// A saturation refused whole ends once every window in play would have
// reopened, counted from its first request or its last success.
func TestSaturationShutOutEnds(t *testing.T) {
	start := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		lead   estimate.Candidate
		window float64 // longest window in play, seconds
		okAtS  float64 // when a request passed; <0 for none
		want   float64 // when the step ends, seconds; <0 for not in 30 s
	}{
		{"a lockout beside a window of 7.6 s", estimate.Candidate{RateRPS: 27}, 7.6, -1, 9.7},
		{"no window in play: 2 s", estimate.Candidate{RateRPS: 27}, 0, -1, 2},
		{"a slow lead: five of its admissions", estimate.Candidate{RateRPS: 0.5}, 2, -1, 10},
		{"a success at the start", estimate.Candidate{RateRPS: 27}, 7.6, 0.1, 9.8},
		{"a success late in the wait", estimate.Candidate{RateRPS: 27}, 7.6, 9.5, 19.2},
		{"a slow lead that admitted one", estimate.Candidate{RateRPS: 0.5}, 2, 8, 18},
	} {
		t.Run(tt.name, func(t *testing.T) {
			watch := shutOut(giveUp(tt.lead, tt.window))
			ended := -1.0
			for i := range 300 { // 30 s, one each 100 ms
				at := float64(i) / 10
				out := evidence.Throttled
				if tt.okAtS >= 0 && math.Abs(at-tt.okAtS) < 0.05 {
					out = evidence.OK
				}
				if watch(&vegeta.Result{Timestamp: start.Add(time.Duration(at * float64(time.Second)))}, out) {
					ended = at
					break
				}
			}
			if math.Abs(ended-tt.want) > 0.051 {
				t.Errorf("ended at %.1f s, want %.1f s", ended, tt.want)
			}
		})
	}
}
