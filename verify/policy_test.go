package verify

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"limitprobe/advise"
	"limitprobe/evidence"
)

const s = time.Second

// recommendation is a report's recommendation for a token bucket of 50/s,
// burst 10, that sends Retry-After.
var recommendation = advise.Recommendation{
	ClientRateRPS: 45, ClientBurst: 9, SustainableRPS: 45, Margin: 0.9, Basis: advise.BasisEffectiveLimit,
	Retry: advise.Retry{HonorRetryAfter: true, BaseDelayMS: 20, Multiplier: 2, MaxDelayMS: 5000, Jitter: "full", MaxRetries: 9, BudgetRatio: 0.1},
}

// delays returns the delays of retries 0..n-1 (stopping at the first give
// up) after responses that asked retryAfter.
func delays(p Policy, n int, retryAfter time.Duration, seed uint64) ([]time.Duration, int) {
	rnd := rand.New(rand.NewPCG(seed, 1))
	var out []time.Duration
	for i := 0; i < n; i++ {
		d, ok := p.Delay(i, retryAfter, rnd)
		if !ok {
			return out, i
		}
		out = append(out, d)
	}
	return out, n
}

func TestPolicyDelaysWithoutJitter(t *testing.T) {
	tests := []struct {
		name       string
		p          Policy
		retryAfter time.Duration
		want       []time.Duration // every retry the policy makes
	}{
		{"naive retries at once, 10 times", NaivePolicy, -1, []time.Duration{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"naive ignores Retry-After", NaivePolicy, 3 * s, []time.Duration{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"seed sleeps 2^i s between 5 tries", SeedPolicy, -1, []time.Duration{1 * s, 2 * s, 4 * s, 8 * s}},
		{"seed ignores Retry-After", SeedPolicy, 30 * s, []time.Duration{1 * s, 2 * s, 4 * s, 8 * s}},
		{"hf-hub doubles from 1 s to 8 s, 5 retries", HFHubPolicy, -1, []time.Duration{1 * s, 2 * s, 4 * s, 8 * s, 8 * s}},
		{"hf-hub sleeps Retry-After + 1 s", HFHubPolicy, 3 * s, []time.Duration{4 * s, 4 * s, 4 * s, 4 * s, 4 * s}},
		{"hf-hub honours Retry-After: 0", HFHubPolicy, 0, []time.Duration{1 * s, 1 * s, 1 * s, 1 * s, 1 * s}},
		{"none never retries", NonePolicy, -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := delays(tt.p, 50, tt.retryAfter, 1)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d retries %v, want %d %v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("retry %d: got %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestGRPCDelaysStayWithinTwentyPercent(t *testing.T) {
	nominal := []struct {
		retry int
		want  time.Duration
	}{{0, 1000 * time.Millisecond}, {1, 1600 * time.Millisecond}, {2, 2560 * time.Millisecond}, {3, 4096 * time.Millisecond}, {10, 109951162777}, {11, 120 * s}, {30, 120 * s}}
	for _, n := range nominal {
		if got := GRPCPolicy.Backoff(n.retry); got < n.want-time.Microsecond || got > n.want+time.Microsecond {
			t.Errorf("Backoff(%d) = %v, want 1 s × 1.6ⁿ capped at 120 s: %v", n.retry, got, n.want)
		}
	}
	got, n := delays(GRPCPolicy, 40, 5*s, 7) // Retry-After ignored
	if n != 40 {
		t.Fatalf("gave up after %d retries; gRPC's backoff has no count limit", n)
	}
	var low, high bool
	for i, d := range got {
		base := GRPCPolicy.Backoff(i)
		lo, hi := base*8/10, base*12/10
		if d < lo || d > hi {
			t.Errorf("retry %d: got %v, want within ±20%% of %v", i, d, base)
		}
		low = low || d < base*95/100
		high = high || d > base*105/100
	}
	if !low || !high {
		t.Errorf("40 delays never strayed 5%% below (%v) or above (%v) the backoff: no jitter?", low, high)
	}
}

func TestRecommendedDelays(t *testing.T) {
	p := FromRecommendation(recommendation, 0)
	t.Run("full jitter below min(cap, base×2ⁿ)", func(t *testing.T) {
		got, n := delays(p, 50, -1, 3)
		if n != 9 {
			t.Fatalf("got %d retries, want 9 (max_retries)", n)
		}
		for i, d := range got {
			ceiling := min(5*s, 20*time.Millisecond<<i)
			if d < 0 || d > ceiling {
				t.Errorf("retry %d: got %v, want within [0, %v]", i, d, ceiling)
			}
		}
	})
	t.Run("Retry-After replaces the backoff", func(t *testing.T) {
		got, _ := delays(p, 3, 1500*time.Millisecond, 3)
		for i, d := range got {
			if d != 1500*time.Millisecond {
				t.Errorf("retry %d: got %v, want the 1.5 s Retry-After", i, d)
			}
		}
	})
	t.Run("same seed, same delays; another seed, others", func(t *testing.T) {
		a, _ := delays(p, 9, -1, 11)
		b, _ := delays(p, 9, -1, 11)
		c, _ := delays(p, 9, -1, 12)
		same, differ := true, false
		for i := range a {
			same = same && a[i] == b[i]
			differ = differ || a[i] != c[i]
		}
		if !same || !differ {
			t.Errorf("seed 11 twice: %v and %v; seed 12: %v", a, b, c)
		}
	})
	t.Run("full jitter averages half the backoff", func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(5, 5))
		var sum time.Duration
		const n = 4000
		for range n {
			d, _ := p.Delay(3, -1, rnd) // backoff 160 ms
			sum += d
		}
		if mean := sum / n; mean < 72*time.Millisecond || mean > 88*time.Millisecond {
			t.Errorf("mean delay %v, want about 80 ms (half of 160 ms)", mean)
		}
	})
	t.Run("settings", func(t *testing.T) {
		if p.RateRPS != 45 || p.Burst != 9 || p.BudgetRatio != 0.1 || p.BudgetMin != 10 || p.BudgetWindow != 10*s || !p.HonorRetryAfter {
			t.Errorf("got %+v", p)
		}
		for _, want := range []string{"pace at 45/s, burst 9", "honour Retry-After", "full jitter from 20ms ×2 up to 5s", "at most 9 retries", "retry budget 10%"} {
			if !strings.Contains(p.Settings, want) {
				t.Errorf("settings %q lack %q", p.Settings, want)
			}
		}
	})
}

func TestRecommendedPacingIsATokenBucket(t *testing.T) {
	p := FromRecommendation(recommendation, 0)
	r := newRunner(p, Target{URL: "http://127.0.0.1:1/"}, Demand{RPS: 10, Duration: s, Deadline: s}, 100, 1)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r.lim.SetBurstAt(t0, 9) // the bucket is full at t0
	if !r.lim.AllowN(t0, 9) {
		t.Fatal("a full bucket refused its burst of 9")
	}
	if r.lim.AllowN(t0, 1) {
		t.Error("an empty bucket admitted a 10th request at once")
	}
	slot := time.Second / 45
	if r.lim.AllowN(t0.Add(slot/2), 1) {
		t.Error("admitted before one slot (1/45 s) refilled")
	}
	if !r.lim.AllowN(t0.Add(slot+time.Millisecond), 1) {
		t.Error("refused after one slot refilled")
	}
	if r.lim.Limit() != rate.Limit(45) || r.lim.Burst() != 9 {
		t.Errorf("limiter %v/s burst %d, want 45/s burst 9", r.lim.Limit(), r.lim.Burst())
	}
}

func TestConcurrencyRecommendationCapsInFlight(t *testing.T) {
	rec := advise.Recommendation{MaxConcurrency: 9, SustainableRPS: 90, Basis: advise.BasisConcurrencyCap,
		Retry: advise.Retry{BaseDelayMS: 100, Multiplier: 2, MaxDelayMS: 5000, Jitter: "full", MaxRetries: 7, BudgetRatio: 0.1}}
	p := FromRecommendation(rec, 100*time.Millisecond)
	if p.RateRPS != 0 || p.MaxInFlight != 9 || p.MinTimeLeft != 100*time.Millisecond || p.QueueShare != 0.5 {
		t.Errorf("got rate %v, in flight %d, min time left %v, queue share %v; want no rate, 9, 100ms, 0.5", p.RateRPS, p.MaxInFlight, p.MinTimeLeft, p.QueueShare)
	}
	if !strings.Contains(p.Settings, "waits in the client's queue at most 50% of its deadline and leaves it only with 100ms") {
		t.Errorf("settings %q do not describe the queue", p.Settings)
	}
	if !strings.Contains(p.Settings, "at most 9 in flight") || strings.Contains(p.Settings, "pace at") {
		t.Errorf("settings %q", p.Settings)
	}
}

func TestPolicies(t *testing.T) {
	steps := []evidence.Step{
		{OK: 10, LatencyMS: evidence.Latency{P99: 30}}, {OK: 10, LatencyMS: evidence.Latency{P99: 50}}, {OK: 0, LatencyMS: evidence.Latency{P99: 900}},
	}
	all, err := Policies(recommendation, steps, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range all {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "recommended,naive,seed,hf-hub,grpc,none" {
		t.Errorf("got %s", got)
	}
	if all[0].MinTimeLeft != 100*time.Millisecond {
		t.Errorf("recommended min time left %v, want twice the median step p99 of successful steps, 100ms", all[0].MinTimeLeft)
	}
	some, err := Policies(recommendation, steps, []string{"none", "Recommended", "none"})
	if err != nil || len(some) != 2 || some[0].Name != None || some[1].Name != Recommended {
		t.Errorf("got %v, %v; want none, recommended", some, err)
	}
	if _, err := Policies(recommendation, steps, []string{"exponential"}); err == nil || !strings.Contains(err.Error(), "recommended, naive, seed, hf-hub, grpc, none") {
		t.Errorf("unknown policy: got %v, want an error listing the names", err)
	}
}

func TestBudget(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b := NewBudget(0.1, 10, 10*s)
	allowed := func(now time.Time) int {
		n := 0
		for b.AllowRetry(now) {
			n++
			if n > 1000 {
				t.Fatal("the budget never ran out")
			}
		}
		return n
	}
	for range 50 {
		b.Request(t0)
	}
	if n := allowed(t0); n != 10 {
		t.Errorf("50 requests: %d retries allowed, want the minimum 10", n)
	}
	for range 250 {
		b.Request(t0.Add(s))
	}
	if n := allowed(t0.Add(s)); n != 20 {
		t.Errorf("300 requests: %d more retries allowed, want 30 − 10 = 20", n)
	}
	// A new window forgets the old one.
	b.Request(t0.Add(11 * s))
	if n := allowed(t0.Add(11 * s)); n != 10 {
		t.Errorf("new window: %d retries allowed, want 10", n)
	}
	var zero Budget
	if zero.AllowRetry(t0) {
		t.Error("the zero budget allowed a retry")
	}
}

func TestSchedule(t *testing.T) {
	for _, tt := range []struct {
		rps     float64
		clients int
	}{{40, 1}, {75, 8}, {0.5, 1}, {1000, 3}} {
		d := Demand{RPS: tt.rps, Duration: 4 * s, Deadline: s, Clients: tt.clients}
		a := Schedule(d, rand.New(rand.NewPCG(1, 2)))
		want := tt.rps * 4
		if n := float64(len(a)); n < want-float64(tt.clients) || n > want+float64(tt.clients) {
			t.Errorf("%v/s × 4 s, %d clients: %d arrivals, want %v ± %d", tt.rps, tt.clients, len(a), want, tt.clients)
		}
		per := make([]int, tt.clients)
		for i, x := range a {
			per[x.Client]++
			if x.At < 0 || x.At >= d.Duration {
				t.Errorf("arrival %d at %v, outside [0, 4s)", i, x.At)
			}
			if i > 0 && x.At < a[i-1].At {
				t.Errorf("arrival %d at %v before arrival %d at %v", i, x.At, i-1, a[i-1].At)
			}
		}
		for c, n := range per {
			if w := want / float64(tt.clients); float64(n) < w-1 || float64(n) > w+1 {
				t.Errorf("%v/s, client %d: %d arrivals, want %v ± 1", tt.rps, c, n, w)
			}
		}
	}
	// One client's arrivals are evenly spaced, give or take 10% each way.
	a := Schedule(Demand{RPS: 10, Duration: 5 * s, Clients: 1}, rand.New(rand.NewPCG(3, 4)))
	for i := 1; i < len(a); i++ {
		if gap := a[i].At - a[i-1].At; gap < 80*time.Millisecond-time.Microsecond || gap > 120*time.Millisecond+time.Microsecond {
			t.Errorf("gap %d: %v, want 100ms ± 20%%", i, gap)
		}
	}
	b := Schedule(Demand{RPS: 10, Duration: 5 * s, Clients: 1}, rand.New(rand.NewPCG(3, 4)))
	if len(a) != len(b) || a[3] != b[3] {
		t.Error("the same seed gave another schedule")
	}
}
