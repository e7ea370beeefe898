package estimate

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"limitprobe/evidence"
	"limitprobe/limiter"
)

// TestDeblurCap: requests arrive at random at twice what a cap of 32 at
// 200 ms admits, and each moment at the server is seen 12 ms off, give or
// take. The fit alone reads below the cap; the cap that reads as the run
// does is the cap, over several seeds, and its blurred replays get about
// as many outcomes wrong as the fit does: the noise's share of its misses.
func TestDeblurCap(t *testing.T) {
	const capacity = 32
	service := 200 * time.Millisecond
	rate := 2 * capacity / service.Seconds()
	low := 0
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var arrive []time.Duration
		for at := time.Duration(0); at < 4*time.Second; at += dur(rng.ExpFloat64() / rate) {
			arrive = append(arrive, at)
		}
		v, _ := capView(arrive, func(int) time.Duration { return service }, capacity, 0, 0.012, rng)
		sc := newScanner(v)
		sc.bestMiss, sc.bestLL = math.MaxInt, math.Inf(-1)
		fit := sc.weigh(limiter.Config{Kind: limiter.Concurrency})
		fitted := fit.capacity
		if fitted < capacity {
			low++
		}
		d := deblurCap(v, fitted, 0)
		got, noise := d.cap, d.noise
		if got != capacity {
			t.Errorf("seed %d: fitted %d, moved to %d, want %d", seed, fitted, got, capacity)
		}
		if d.lo > capacity || d.hi < capacity {
			t.Errorf("seed %d: the caps left open are %d–%d, want them to hold %d", seed, d.lo, d.hi, capacity)
		}
		t.Logf("seed %d: fit misses %d of %d refusals, noise %.1f", seed, fit.miss, v.refused, noise)
		if noise < 0.8*float64(fit.miss) || noise > 1.25*float64(fit.miss) {
			t.Errorf("seed %d: a true cap's blurred replays miss %.1f, want about the %d its fit misses", seed, noise, fit.miss)
		}
	}
	if low == 0 {
		t.Errorf("no seed's fit read below the cap: the run is not blurred as a network blurs")
	}
}

// TestNoiseCost: buckets probed through the simulator behind 50±20 ms each
// way, as auto would (a burst, a doubling ramp, saturations at 1.6× and
// 2×). What the true bucket's replay gets wrong on the run's view is what
// the noise cost it; noiseCost, which knows the truth's configuration but
// not where each request really arrived, must find about as many (±10%,
// in the mean over the cases): moving the arrivals after the bucket
// decided them read 15–25% high in every case.
func TestNoiseCost(t *testing.T) {
	cond := conditionNamed("50±20 ms away")
	var sumTrue, sumCost float64
	for _, rate := range []float64{100, 300} {
		for _, burst := range []int{3, 10} {
			for seed := uint64(1); seed <= 2; seed++ {
				steps := []simStep{{rate: 10 * rate, dur: 0.085, phase: "burst"}, {rate: 2, dur: 0.5, idle: 0.01, phase: "recover", untilOK: true}}
				for r := 5.0; r < rate; r *= 2 {
					steps = append(steps, simStep{rate: r, dur: 1, idle: 0.3})
				}
				steps = append(steps, simStep{rate: 1.6 * rate, dur: 2, phase: "saturate", idle: 0.3}, simStep{rate: 2 * rate, dur: 2, phase: "saturate", idle: 0.3})
				cfg := limiter.Config{Kind: limiter.TokenBucket, Rate: rate, Burst: burst}
				v := simulatedView(t, limiter.New(cfg), steps, cond.service, cond, seed)
				truth := newScanner(&v).replay(cfg).miss
				cost := noiseCost(&v, cfg)
				t.Logf("%s, seed %d: the truth gets %d of %d outcomes wrong (%d refused), noiseCost %.1f", describe(cfg), seed, truth, len(v.arrive), v.refused, cost)
				if truth < v.refused/4 {
					t.Errorf("%s, seed %d: the truth gets only %d wrong: the run is not blurred as a network blurs", describe(cfg), seed, truth)
				}
				sumTrue += float64(truth)
				sumCost += cost
			}
		}
	}
	if sumCost < 0.9*sumTrue || sumCost > 1.1*sumTrue {
		t.Errorf("noiseCost finds %.0f outcomes wrong in all, the true buckets' replays %.0f: want within 10%%", sumCost, sumTrue)
	}
}

// TestDeblurCapThroughTheNetwork: caps of 8 at 50 ms, 32 at 200 ms and 128
// at a log-normal service time, probed through the simulator behind
// 50±20 ms each way (the network moves where each request really arrived,
// which the view cannot see), two seeds each. The cap deblurCap moves the
// fit to is the truth in five of the six at least: when its replays let
// the cap decide the seen arrivals and moved them after, two (both caps of
// 32 stayed at 31, one of 128 at 127; the cap of 8 of seed 1 stays at 7).
func TestDeblurCapThroughTheNetwork(t *testing.T) {
	cond := conditionNamed("50±20 ms away")
	right, runs := 0, 0
	for _, name := range []string{"concurrency 8 @ 50ms", "concurrency 32 @ 200ms", "TGI 128 in flight"} {
		c := fitCaseNamed(name)
		for seed := uint64(1); seed <= 2; seed++ {
			svc, schedule := c.under(cond, seed)
			v := simulatedView(t, c.lim(), schedule, svc, cond, seed)
			sc := newScanner(&v)
			sc.bestMiss, sc.bestLL = math.MaxInt, math.Inf(-1)
			fit := sc.weigh(limiter.Config{Kind: limiter.Concurrency})
			d := deblurCap(&v, fit.capacity, 0)
			got, noise := d.cap, d.noise
			t.Logf("%s, seed %d: fitted %d (%d of %d refusals wrong), moved to %d (noise %.0f)", name, seed, fit.capacity, fit.miss, v.refused, got, noise)
			runs++
			if got == c.want.inFlight {
				right++
			}
		}
	}
	if right < runs-1 {
		t.Errorf("deblurCap found the cap in %d runs of %d, want %d at least", right, runs, runs-1)
	}
}

// TestLeadLengthensTheHold: a cap of 32 at 200 ms probed through the
// simulator behind 50±20 ms each way, four seeds. Its admitted requests
// are more often those the network carried fast, so each time at the
// server, a round trip less the refusals' median, reads short: the mean
// read 0.7–1.5% short of the truth (1.1% in the mean over the seeds). With
// the lead the cap's blurred replays measure, it must be within 0.5% in the
// mean, and the caps the replays leave open must hold 32 in every seed.
func TestLeadLengthensTheHold(t *testing.T) {
	cond := conditionNamed("50±20 ms away")
	c := fitCaseNamed("concurrency 32 @ 200ms")
	var sumErr float64
	const seeds = 4
	for seed := uint64(1); seed <= seeds; seed++ {
		svc, schedule := c.under(cond, seed)
		truth := meanOf(svc, seed)
		v := simulatedView(t, c.lim(), schedule, svc, cond, seed)
		thin := v.thin(thinned)
		sc := newScanner(thin)
		sc.bestMiss, sc.bestLL = math.MaxInt, math.Inf(-1)
		fit := sc.weigh(limiter.Config{Kind: limiter.Concurrency})
		d := deblurCap(thin, fit.capacity, 0)
		read := v.meanService().Seconds()
		hold := read + d.lead.Seconds()
		t.Logf("seed %d: time at the server read %.2f ms, lead %.2f ms, %.2f ms for %.2f; caps open %d–%d", seed, 1000*read, 1000*d.lead.Seconds(), 1000*hold, 1000*truth, d.lo, d.hi)
		sumErr += math.Abs(hold/truth - 1)
		if d.lo > c.want.inFlight || d.hi < c.want.inFlight {
			t.Errorf("seed %d: the caps left open are %d–%d, want them to hold %d", seed, d.lo, d.hi, c.want.inFlight)
		}
	}
	if e := sumErr / seeds; e > 0.005 {
		t.Errorf("the time at the server, lengthened by the lead, is off by %.2f%% in the mean, want 0.5%% at most", 100*e)
	}
}

// simulatedView is the view of a run of the simulator: lim probed with
// steps under cond, admitted requests served in service's times.
func simulatedView(t *testing.T, lim limiter.Limiter, steps []simStep, service func(*rand.Rand) float64, cond condition, seed uint64) view {
	t.Helper()
	reqs := &evidence.Requests{}
	simulate(simRun{lim: lim, clock0: 1000.37 + float64(seed)*0.71, steps: steps, seed: seed,
		netS: cond.netS, jitterS: cond.jitterS, service: service, record: reqs})
	v, ok := newView(reqs, nil)
	if !ok {
		t.Fatalf("seed %d: the run left no view", seed)
	}
	return v
}

// TestDeblurWindow: a fixed window of 100 per 10 s probed as auto would,
// behind 50±20 ms each way. Through that noise its count reads 99 (the
// fit read 99 per 10 s, −1%, in three seeds of three, with bands that left
// 10/s out); the count whose blurred replays read as the run does is the
// estimate, and the counts they leave open are in its band.
func TestDeblurWindow(t *testing.T) {
	exactBehindJitter(t, "fixed-window 100 per 10s")
}

// exactBehindJitter fits the named case behind 50±20 ms each way, three
// seeds (one under -race), and wants its algorithm and count exact, its
// rate within 0.5% and its band holding the truth.
func exactBehindJitter(t *testing.T, name string) {
	t.Helper()
	c := fitCaseNamed(name)
	for seed := uint64(1); seed <= 3; seed++ {
		if raceDetector && seed > 1 {
			break
		}
		s, rate := runFit(c, conditionNamed("50±20 ms away"), seed)
		if s.Algorithm != c.want.alg || s.Burst != c.want.burst || !within(s.EffectiveLimitRPS, rate, 0.005) {
			t.Errorf("seed %d: got %s of %d per %gs, %g/s, want %s of %d, %g/s ±0.5%%; reasons:\n%s",
				seed, s.Algorithm, s.Burst, s.WindowS, s.EffectiveLimitRPS, c.want.alg, c.want.burst, rate, reasonsText(s))
		}
		if b := s.EffectiveLimitBand; b.Low > rate || b.High < rate {
			t.Errorf("seed %d: band %g–%g/s, want it to hold the truth %g/s", seed, b.Low, b.High, rate)
		}
	}
}
