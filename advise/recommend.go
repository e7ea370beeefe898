// Package advise turns a measurement into client settings: a client-side
// token bucket, a cap on requests in flight and a retry policy with a
// budget (Recommend), how they compare with a demand (DemandFor), and the
// same settings as paste-ready Go, Python and YAML (Snippets). Everything
// here is a pure function of the estimate, the steps and the advertised
// fields.
package advise

import (
	"fmt"
	"math"
	"slices"

	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/headers"
	"limitprobe/units"
)

// Recommendation is how a client lives within the measured limit: a
// client-side token bucket, a cap on requests in flight, and how to retry.
// The first four fields are the limitprobe.report/v1 contract; the rest
// explain and qualify them.
type Recommendation struct {
	// ClientRateRPS is the rate of a client-side token bucket, requests per
	// second; 0 when a rate does not help (a concurrency cap).
	ClientRateRPS float64 `json:"client_rate_rps"`
	// ClientBurst is the size of that bucket, requests; at least 1 with a
	// rate, 0 without one.
	ClientBurst int `json:"client_burst"`
	// MaxConcurrency is the most requests to keep in flight at once; 0 when
	// no cap is needed.
	MaxConcurrency int `json:"max_concurrency"`
	// Retry is how to retry a throttled request.
	Retry Retry `json:"retry"`

	// Margin is the share of the limit the settings use, in (0, 1].
	Margin float64 `json:"margin"`
	// Basis names what the settings derive from: "effective-limit",
	// "concurrency-cap", "lockout-onset", "highest-tested-rate" (no limit
	// was found) or "conservative" (the limiter was not recognised).
	Basis string `json:"basis"`
	// SustainableRPS is the goodput, requests per second, a client that
	// follows the recommendation can expect; for a concurrency cap it is
	// derived by Little's law (in flight ÷ latency).
	SustainableRPS float64 `json:"sustainable_rps"`
	// Notes explain each setting in sentences.
	Notes []string `json:"notes"`
	// Reference compares Retry with published client defaults.
	Reference []ReferencePoint `json:"reference"`
	// Demand compares the limit with the demand; nil (JSON null) when no
	// demand was given.
	Demand *Demand `json:"demand"`
}

// Retry is the retry policy: honour the server's Retry-After (or reset)
// first; otherwise wait random(0, min(MaxDelayMS, BaseDelayMS ×
// Multiplierⁿ)) before retry n (from 0), "full jitter".
type Retry struct {
	// HonorRetryAfter is true when the target sends Retry-After or a reset
	// time: wait what it says before any computed delay.
	HonorRetryAfter bool `json:"honor_retry_after"`
	// BaseDelayMS is the backoff before the first retry, milliseconds.
	BaseDelayMS int64 `json:"base_delay_ms"`
	// Multiplier is the growth of the backoff per retry.
	Multiplier float64 `json:"multiplier"`
	// MaxDelayMS caps the backoff, milliseconds.
	MaxDelayMS int64 `json:"max_delay_ms"`
	// Jitter is "full": the delay is uniform in [0, backoff].
	Jitter string `json:"jitter"`
	// MaxRetries bounds the retries of one request.
	MaxRetries int `json:"max_retries"`
	// BudgetRatio bounds all retries to this share of requests (0.1 = 10%),
	// so that retries cannot amplify an overload.
	BudgetRatio float64 `json:"budget_ratio"`
}

// ReferencePoint is a published client's backoff, for comparison.
type ReferencePoint struct {
	Name       string  `json:"name"`
	BaseMS     float64 `json:"base_ms"`     // first delay, milliseconds
	Multiplier float64 `json:"multiplier"`  // growth per retry
	MaxMS      float64 `json:"max_ms"`      // cap on one delay, milliseconds
	Jitter     string  `json:"jitter"`      // "none", "±20%", ...
	MaxRetries int     `json:"max_retries"` // 0 when bounded by time instead
	// WhyOursDiffers says in one line why the recommended Retry differs.
	WhyOursDiffers string `json:"why_ours_differs"`
}

// Bases of a recommendation, the values of Recommendation.Basis.
const (
	BasisEffectiveLimit    = "effective-limit"
	BasisConcurrencyCap    = "concurrency-cap"
	BasisLockoutOnset      = "lockout-onset"
	BasisHighestTestedRate = "highest-tested-rate"
	BasisConservative      = "conservative"
)

// DefaultMargin is the share of the effective limit a client is advised to
// use when no margin (or no usable one) is given: 0.9, 90%.
const DefaultMargin = 0.9

// Retry tuning that is not measured.
const (
	multiplier    = 2.0  // AWS's full-jitter analysis doubles
	minBaseMS     = 10   // below this a retry is a busy loop
	noWindowCapMS = 5000 // "a few seconds" when there is no window
	lockoutBaseMS = 1000 // a lockout punishes early retries
	lockoutCapMS  = 30_000
)

// stepStats are the facts about the steps the recommendation needs.
type stepStats struct {
	maxOffered  float64 // highest offered rate of a step that sent anything, /s
	maxGoodput  float64 // highest goodput of a step, /s
	maxConc     int     // most workers of a concurrency step
	p50MS       float64 // median of the steps' p50 latency of successes, ms
	retryAfterS float64 // longest Retry-After a step saw, s
}

func statsOf(steps []evidence.Step) stepStats {
	var st stepStats
	var p50s []float64
	for _, s := range steps {
		if s.Requests > 0 {
			st.maxOffered = max(st.maxOffered, s.OfferedRPS)
		}
		st.maxGoodput = max(st.maxGoodput, s.GoodputRPS)
		st.maxConc = max(st.maxConc, s.Concurrency)
		st.retryAfterS = max(st.retryAfterS, s.RetryAfterS)
		if s.OK > 0 && s.LatencyMS.P50 > 0 {
			p50s = append(p50s, s.LatencyMS.P50)
		}
	}
	if len(p50s) > 0 {
		slices.Sort(p50s)
		st.p50MS = p50s[len(p50s)/2]
		if len(p50s)%2 == 0 {
			st.p50MS = (p50s[len(p50s)/2-1] + p50s[len(p50s)/2]) / 2
		}
	}
	return st
}

// class is the kind of advice an algorithm calls for.
type class int

const (
	classRate        class = iota // a rate: token bucket, windows, queue
	classConcurrency              // a cap on requests in flight
	classLockout                  // exceeding it locks the client out
	classLowerBound               // never throttled: the limit is above what was tested
	classUnknown                  // throttled, but not recognisably
)

func classOf(s estimate.Summary) class {
	switch a := s.Algorithm; {
	case s.LowerBoundOnly || a == estimate.AlgorithmNoneObserved || (!s.Limited && a == ""):
		return classLowerBound
	case a == estimate.AlgorithmConcurrency && (s.MaxInFlight > 0 || s.EffectiveLimitRPS > 0):
		return classConcurrency
	case a == estimate.AlgorithmLockout && (s.OnsetRPS > 0 || s.EffectiveLimitRPS > 0):
		return classLockout
	case s.EffectiveLimitRPS > 0 && isRateAlgorithm(a):
		return classRate
	}
	return classUnknown
}

func isRateAlgorithm(a string) bool {
	switch a {
	case estimate.AlgorithmTokenBucket, estimate.AlgorithmFixedWindow, estimate.AlgorithmSlidingWindow, estimate.AlgorithmQueue:
		return true
	}
	return false
}

func isWindowAlgorithm(a string) bool {
	return a == estimate.AlgorithmFixedWindow || a == estimate.AlgorithmSlidingWindow
}

// normMargin returns m when it is a usable margin, else DefaultMargin.
func normMargin(m float64) float64 {
	if m > 0 && m <= 1 {
		return m
	}
	return DefaultMargin
}

// Recommend turns a measurement into client settings. s is the estimate,
// steps the measured steps (for latency, the highest rate tested and the
// Retry-After seen), adv what the target advertised (nil when nothing), and
// margin the share of the limit to use (values outside (0, 1] mean
// DefaultMargin). It is a pure function.
//
// Rates get a client token bucket at margin × the effective limit with a
// burst no larger than the measured one; a concurrency cap gets a cap of
// margin × the measured cap in flight; a lockout gets pacing under its
// onset, without burst; a run that never saw throttling gets pacing at the
// highest tested rate, said to be a lower bound; an unrecognised limiter gets
// half of what was seen. Retries honour Retry-After when the target sends it,
// else back off exponentially with full jitter from a base of at least one
// request slot and the median latency to a cap of at least the window.
func Recommend(s estimate.Summary, steps []evidence.Step, adv *headers.Advertised, margin float64) Recommendation {
	margin = normMargin(margin)
	st := statsOf(steps)
	rec := Recommendation{Margin: margin, Notes: []string{}}
	limit := s.EffectiveLimitRPS
	window := s.WindowS
	windowFrom := "measured"
	// An advertised window bounds the retries of a windowed (or unknown)
	// limiter; for a token bucket "100 per 60 s" is only a way to state a rate.
	if window <= 0 && adv != nil && adv.WindowS > 0 && (isWindowAlgorithm(s.Algorithm) || classOf(s) == classUnknown || classOf(s) == classLockout) {
		window, windowFrom = adv.WindowS, "advertised"
	}
	a := &advisor{s: s, steps: steps, st: st, margin: margin, pct: units.PercentWhole(margin), window: window, rec: rec}
	slotRPS := limit // the rate whose request slot bounds the base delay
	cls := classOf(s)
	switch cls {
	case classRate:
		a.pace()
	case classConcurrency:
		a.inFlight()
	case classLockout:
		slotRPS = a.lockout()
	case classLowerBound:
		slotRPS = a.lowerBound()
	default:
		slotRPS = a.conservative()
	}
	rec = a.rec
	if rec.ClientRateRPS <= 0 {
		rec.ClientRateRPS, rec.ClientBurst = 0, 0 // no rate: no bucket
	}
	if cls != classUnknown && cls != classLowerBound && s.Confidence > 0 && s.Confidence < 0.5 {
		rec.Notes = append(rec.Notes, fmt.Sprintf("The estimate has low confidence (%s): repeat the probe before relying on it.", units.Num(s.Confidence)))
	}
	if s.AdvertisedMismatch != "" {
		rec.Notes = append(rec.Notes, "Advertised and measured disagree ("+s.AdvertisedMismatch+"); these settings follow the measurement.")
	}

	honor := st.retryAfterS > 0 || (adv != nil && (adv.RetryAfterS > 0 || adv.ResetS > 0))
	var retryNotes []string
	rec.Retry, retryNotes = retryFor(cls, slotRPS, st.p50MS, window, windowFrom, honor, margin)
	if r, notes, ok := quotaRetry(s, honor); ok { // quota.go: a spent quota waits for its reset
		rec.Retry, retryNotes = r, notes
	}
	if honor && st.retryAfterS > 0 {
		retryNotes[0] += fmt.Sprintf(" (it sent up to %s)", units.SecondsOrDash(st.retryAfterS))
	}
	retryNotes[0] += "."
	rec.Notes = append(rec.Notes, retryNotes...)
	rec.Notes = append(rec.Notes, policyNotes(s, rec)...)
	rec.Reference = references(rec.Retry, window)
	return rec
}

// advisor builds one Recommendation from an estimate, the facts of its
// steps and a margin.
type advisor struct {
	s      estimate.Summary
	steps  []evidence.Step
	st     stepStats
	margin float64
	pct    string  // the margin, in words
	window float64 // the window retries must outlast, seconds; 0 when none
	rec    Recommendation
}

func (a *advisor) limit() float64 { return a.s.EffectiveLimitRPS }

// pace advises a rate limiter: a client token bucket at the margin of the
// effective limit, its burst sized to the measured burst or the window.
func (a *advisor) pace() {
	a.rec.Basis = BasisEffectiveLimit
	a.rec.ClientRateRPS = units.FloorSig(a.margin*a.limit(), 3)
	a.rec.SustainableRPS = a.rec.ClientRateRPS
	a.rec.Notes = append(a.rec.Notes, fmt.Sprintf("Pace with a client-side token bucket at %s of the effective limit %s: %s.",
		a.pct, units.RateOrDash(a.limit()), units.RateOrDash(a.rec.ClientRateRPS)))
	if isWindowAlgorithm(a.s.Algorithm) && a.window > 0 {
		// Any window of length W sees at most burst + rate×W requests
		// from the client; keep that under the quota limit×W.
		quota := a.limit() * a.window
		b := int(math.Floor(quota - a.rec.ClientRateRPS*a.window))
		a.rec.ClientBurst = clampBurst(b, a.s.Burst)
		a.rec.Notes = append(a.rec.Notes, fmt.Sprintf("Burst %d: at %s a %s window takes %s of its quota of about %s; the burst fits in the rest, so no window overflows.",
			a.rec.ClientBurst, units.RateOrDash(a.rec.ClientRateRPS), units.SecondsOrDash(a.window), units.Num(a.rec.ClientRateRPS*a.window), units.Num(quota)))
	} else {
		a.rec.ClientBurst = clampBurst(int(math.Floor(a.margin*float64(a.s.Burst))), a.s.Burst)
		if a.s.Burst > 0 {
			a.rec.Notes = append(a.rec.Notes, fmt.Sprintf("Burst %d: %s of the measured burst of %d, so an idle client's first requests pass too.", a.rec.ClientBurst, a.pct, a.s.Burst))
		} else {
			a.rec.Notes = append(a.rec.Notes, "Burst 1: no burst allowance was measured, so send evenly spaced requests.")
		}
	}
	if a.s.Algorithm == estimate.AlgorithmQueue {
		a.rec.Notes = append(a.rec.Notes, "The target queues excess requests before it rejects any: rising latency is the early warning, so watch p99.")
	}
}

// inFlight advises a cap on requests in flight: the margin of the measured (or
// derived) cap, or a rate when the cap cannot be sized.
func (a *advisor) inFlight() {
	a.rec.Basis = BasisConcurrencyCap
	capN, latMS := a.s.MaxInFlight, a.st.p50MS
	if capN <= 0 && a.limit() > 0 && latMS > 0 {
		capN = int(math.Round(a.limit() * latMS / 1000)) // Little's law
	}
	if a.limit() > 0 && capN > 0 {
		latMS = float64(capN) / a.limit() * 1000 // the latency Little's law implies at the cap
	}
	if capN <= 0 {
		// Neither the cap nor a latency to derive it from: fall back to a rate.
		a.rec.ClientRateRPS = units.FloorSig(a.margin*a.limit(), 3)
		a.rec.ClientBurst, a.rec.SustainableRPS = 1, a.rec.ClientRateRPS
		a.rec.Notes = append(a.rec.Notes, fmt.Sprintf("The target caps requests in flight, but the cap could not be sized (no latency was measured): pace at %s (%s of %s) until a probe measures it.",
			units.RateOrDash(a.rec.ClientRateRPS), a.pct, units.RateOrDash(a.limit())))
		return
	}
	// The client holds each request for the server's time plus the round
	// trip: it fills the cap with more in flight than the cap.
	fill := max(capN, a.s.ClientInFlight)
	a.rec.MaxConcurrency = max(1, int(math.Floor(a.margin*float64(fill))))
	if a.limit() > 0 {
		a.rec.SustainableRPS = units.Sig(a.limit()*float64(a.rec.MaxConcurrency)/float64(fill), 3)
	}
	if fill > capN {
		a.rec.Notes = append(a.rec.Notes, fmt.Sprintf("The target caps requests in flight at %d, not a rate: a rate limit does not help, because slower requests trip the cap at lower rates. Over this client's round trip %d in flight fill it: keep at most %d in flight (%s of %d).",
			capN, fill, a.rec.MaxConcurrency, a.pct, fill))
	} else {
		a.rec.Notes = append(a.rec.Notes, fmt.Sprintf("The target caps requests in flight at %d, not a rate: a rate limit does not help, because slower requests trip the cap at lower rates. Keep at most %d in flight (%s of the cap).",
			capN, a.rec.MaxConcurrency, a.pct))
	}
	if a.rec.SustainableRPS > 0 {
		a.rec.Notes = append(a.rec.Notes, fmt.Sprintf("At about %s ms per request that carries about %s (Little's law: in flight = rate × latency); longer requests carry less.",
			units.Millis(latMS), units.RateOrDash(a.rec.SustainableRPS)))
	}
}

// lockout advises a limiter that locks a client out: pacing under the onset,
// without burst. It returns the rate whose slot bounds the base delay.
func (a *advisor) lockout() (slot float64) {
	a.rec.Basis = BasisLockoutOnset
	safe, _ := Limit(a.s, a.steps)
	slot = safe
	a.rec.ClientRateRPS = units.FloorSig(a.margin*safe, 3)
	a.rec.ClientBurst = 1
	a.rec.SustainableRPS = a.rec.ClientRateRPS
	a.rec.Notes = append(a.rec.Notes,
		fmt.Sprintf("Exceeding about %s locks the client out: throttled requests count too, so goodput falls to about zero until the client goes idle. Pace at %s (%s of it) with no burst.",
			units.RateOrDash(safe), units.RateOrDash(a.rec.ClientRateRPS), a.pct),
		"On a throttled response stop sending, wait for Retry-After (or the window), then resume at the paced rate: retrying sooner extends the lockout.")
	return slot
}

// lowerBound advises a run that was never throttled: pacing at the highest tested
// rate. It returns the rate whose slot bounds the base delay.
func (a *advisor) lowerBound() (slot float64) {
	a.rec.Basis = BasisHighestTestedRate
	lower := max(a.limit(), a.st.maxGoodput)
	a.rec.ClientRateRPS = units.FloorSig(a.st.maxOffered, 3)
	a.rec.ClientBurst = clampBurst(a.s.Burst, a.s.Burst)
	a.rec.SustainableRPS = a.rec.ClientRateRPS
	slot = a.rec.ClientRateRPS
	a.rec.Notes = append(a.rec.Notes, fmt.Sprintf("No throttling up to the highest tested rate: the limit is at least %s. Pace at the highest tested rate, %s; it is what was shown to work, not a limit. Probe higher (probe.max) to find the real one.",
		units.RateOrDash(lower), units.RateOrDash(a.rec.ClientRateRPS)))
	if a.st.maxConc > 0 {
		a.rec.MaxConcurrency = a.st.maxConc
		a.rec.Notes = append(a.rec.Notes, fmt.Sprintf("Up to %d requests in flight were tested without throttling; keep at most that many.", a.st.maxConc))
	}
	return slot
}

// conservative advises a limiter that was not recognised: half of what was seen,
// without burst. It returns the rate whose slot bounds the base delay.
func (a *advisor) conservative() (slot float64) {
	a.rec.Basis = BasisConservative
	seen := firstPositive(a.limit(), a.s.OnsetRPS, a.st.maxGoodput)
	a.rec.ClientRateRPS = units.FloorSig(seen/2, 3)
	a.rec.ClientBurst = 1
	a.rec.SustainableRPS = a.rec.ClientRateRPS
	slot = a.rec.ClientRateRPS
	alg := a.s.Algorithm
	if alg == "" {
		alg = estimate.AlgorithmUnknown
	}
	if seen > 0 {
		a.rec.Notes = append(a.rec.Notes, fmt.Sprintf("The limiter was not recognised (%s, confidence %s): pace conservatively at half of what was seen (%s), %s, with no burst.",
			alg, units.Num(a.s.Confidence), units.RateOrDash(seen), units.RateOrDash(a.rec.ClientRateRPS)))
	} else {
		a.rec.Notes = append(a.rec.Notes, fmt.Sprintf("The limiter was not recognised (%s) and no rate got through: nothing can be recommended but to probe again, slower.", alg))
	}
	return slot
}

// retryFor derives the retry policy. slotRPS is the rate whose slot (1 ÷
// rate) is the shortest useful wait; p50MS the median latency; windowS the
// quota window (0 when none).
func retryFor(cls class, slotRPS, p50MS, windowS float64, windowFrom string, honor bool, margin float64) (Retry, []string) {
	r := Retry{HonorRetryAfter: honor, Multiplier: multiplier, Jitter: "full"}
	var notes []string
	if honor {
		notes = append(notes, "Honour Retry-After (delta-seconds or an HTTP-date) and reset headers before any computed delay")
	} else {
		notes = append(notes, "The target sent no Retry-After or reset header; honour one if it starts to")
	}
	slotMS := 0.0
	if slotRPS > 0 {
		slotMS = 1000 / slotRPS
	}
	base := max(slotMS, p50MS, minBaseMS)
	why := fmt.Sprintf("one request slot (%s ms) and the median latency (%s ms)", units.Millis(slotMS), units.Millis(p50MS))
	if cls == classLockout {
		base = max(base, lockoutBaseMS)
		why = "a second: early retries extend a lockout"
	}
	r.BaseDelayMS = int64(math.Ceil(units.CeilSig(base, 2)))

	capMS := float64(noWindowCapMS)
	capWhy := "a few seconds, as no window was found"
	if windowS > 0 {
		capMS = windowS * 1000
		capWhy = fmt.Sprintf("the %s window, so a retry can wait out a reset", windowFrom)
	}
	if cls == classLockout && capMS < lockoutCapMS {
		capMS, capWhy = lockoutCapMS, "30 s, to outlast a lockout"
	}
	if capMS < 4*float64(r.BaseDelayMS) {
		capMS, capWhy = 4*float64(r.BaseDelayMS), "four times the base"
	}
	r.MaxDelayMS = int64(math.Ceil(units.CeilSig(capMS, 2)))

	// Enough retries for the backoff to reach its cap, and one at the cap.
	n := int(math.Ceil(math.Log(float64(r.MaxDelayMS)/float64(r.BaseDelayMS))/math.Log(r.Multiplier))) + 1
	r.MaxRetries = min(max(n, 3), 10)
	budgetWhy := fmt.Sprintf("the headroom the %s margin leaves", units.PercentWhole(margin))
	r.BudgetRatio = math.Round(min(max(1-margin, 0.1), 0.2)*100) / 100
	if cls == classLockout {
		r.MaxRetries = min(r.MaxRetries, 4)
		r.BudgetRatio, budgetWhy = 0.1, "retries extend a lockout"
	}
	notes = append(notes,
		fmt.Sprintf("Otherwise back off with full jitter: wait random(0, min(%s, %s × 2ⁿ)) before retry n. The base covers %s; the cap is %s.",
			units.Seconds(float64(r.MaxDelayMS)/1000), units.Seconds(float64(r.BaseDelayMS)/1000), why, capWhy),
		fmt.Sprintf("At most %d retries per request (enough to reach the cap), and retries at most %s of requests (%s), so retries cannot amplify an overload.",
			r.MaxRetries, units.PercentWhole(r.BudgetRatio), budgetWhy))
	return r, notes
}

// references compares r with the published defaults in REFERENCE.md.
func references(r Retry, windowS float64) []ReferencePoint {
	base, capMS := float64(r.BaseDelayMS), float64(r.MaxDelayMS)
	shortOfWindow := func(refCap float64) string {
		if windowS*1000 > refCap {
			return fmt.Sprintf(", shorter than the %s window, so it gives up before the quota resets", units.SecondsOrDash(windowS))
		}
		return ""
	}
	return []ReferencePoint{
		{
			Name: "gRPC connection backoff", BaseMS: 1000, Multiplier: 1.6, MaxMS: 120_000, Jitter: "±20%",
			WhyOursDiffers: fmt.Sprintf("built for reconnecting: its 1 s base is %s and its 120 s cap %s; ±20%% jitter keeps throttled clients retrying nearly in step",
				baseVs(1000, base), ratio(120_000, capMS)),
		},
		{
			Name: "cenkalti/backoff", BaseMS: 500, Multiplier: 1.5, MaxMS: 60_000, Jitter: "±50%",
			WhyOursDiffers: fmt.Sprintf("its 500 ms base is %s and its 60 s cap %s; ±50%% spreads retries less than full jitter, and it has no retry budget",
				baseVs(500, base), ratio(60_000, capMS)),
		},
		{
			Name: "huggingface_hub http_backoff", BaseMS: 1000, Multiplier: 2, MaxMS: 8000, Jitter: "none", MaxRetries: 5,
			WhyOursDiffers: fmt.Sprintf("no jitter, so clients throttled together retry together; its 1 s base is %s; its 8 s cap is fixed%s; it honours Retry-After (+1 s) as ours does",
				baseVs(1000, base), shortOfWindow(8000)),
		},
		{
			Name: "openai-python", BaseMS: 500, Multiplier: 2, MaxMS: 8000, Jitter: "×0.75–1", MaxRetries: 2,
			WhyOursDiffers: fmt.Sprintf("only 2 retries, with an 8 s cap%s; its jitter (−25%% at most) keeps retries bunched; its 500 ms base is %s",
				shortOfWindow(8000), baseVs(500, base)),
		},
	}
}

// ratio says how a reference delay compares with ours: "50× ours (20 ms)".
func ratio(refMS, oursMS float64) string {
	if r := refMS / oursMS; r < 0.8 || r > 1.25 {
		return fmt.Sprintf("%s× ours (%s)", units.Num(units.Sig(r, 2)), units.Seconds(oursMS/1000))
	}
	return fmt.Sprintf("about ours (%s)", units.Seconds(oursMS/1000))
}

// baseVs is ratio with what the difference does to a throttled client.
func baseVs(refMS, oursMS float64) string {
	switch r := refMS / oursMS; {
	case r > 1.25:
		return ratio(refMS, oursMS) + ", so it recovers slower than the limit allows"
	case r < 0.8:
		return ratio(refMS, oursMS) + ", so its first retries come before capacity returns"
	}
	return ratio(refMS, oursMS)
}

// clampBurst keeps a recommended burst within [1, measured] (any size ≥ 1
// when nothing was measured).
func clampBurst(b, measured int) int {
	if measured > 0 {
		b = min(b, measured)
	}
	return max(b, 1)
}

func firstPositive(xs ...float64) float64 {
	for _, x := range xs {
		if x > 0 {
			return x
		}
	}
	return 0
}
