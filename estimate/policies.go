package estimate

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"limitprobe/evidence"
	"limitprobe/headers"
	"limitprobe/limiter"
	"limitprobe/units"
)

// Policy is one limit of the target as the estimate reports it: Limit
// requests (or other units) per WindowS seconds, where it comes from, and
// whether what the probe saw agrees with it.
type Policy struct {
	// Name is the target's name for the policy, if it gave one.
	Name string `json:"name,omitempty"`
	// Limit is the quota per window; 0 when unknown.
	Limit float64 `json:"limit"`
	// WindowS is the window in seconds; 0 when unknown (see WindowMinS).
	WindowS float64 `json:"window_s"`
	// WindowMinS is, when WindowS is unknown, how long the window is at
	// least, seconds; 0 otherwise.
	WindowMinS float64 `json:"window_min_s,omitempty"`
	// RateRPS is the long-run rate the policy allows, Limit ÷ WindowS,
	// requests per second; with only WindowMinS known, the most it can
	// be. 0 when unknown.
	RateRPS float64 `json:"rate_rps"`
	// Unit is what the quota counts: requests, tokens, ...
	Unit string `json:"unit"`
	// Kind is how the window is counted, one of the Kind* constants; ""
	// when it cannot be told.
	Kind string `json:"kind,omitempty"`
	// Source is SourceMeasured or SourceAdvertised.
	Source string `json:"source"`
	// Checked counts the requests whose outcome and advertised count the
	// probe compared with the policy; 0 when none was.
	Checked int `json:"checked"`
	// Consistent is true when every checked request agreed with the
	// policy; Mismatch says how they did not.
	Consistent bool   `json:"consistent"`
	Mismatch   string `json:"mismatch,omitempty"`
	// ResetS is when the current window resets, seconds from the last
	// response that said; 0 when unknown.
	ResetS float64 `json:"reset_s"`
	// Binding marks the policy a steady client meets first: of those that
	// count requests, the one with the lowest long-run rate.
	Binding bool `json:"binding"`
}

// Kinds of window, the values of Policy.Kind.
const (
	KindFixed    = "fixed"     // aligned to the clock: a 1-hour window starts on the hour
	KindFirstUse = "first-use" // starts at the first request after the last window ended
	KindSliding  = "sliding"   // counts the last window at every instant
	KindBucket   = "bucket"    // refills between requests: a rate stated as a quota per window
)

// Sources of a policy, the values of Policy.Source.
const (
	SourceMeasured   = "measured"
	SourceAdvertised = "advertised"
)

// countsRequests reports whether the policy is one a probe spends one of
// per request.
func (p Policy) countsRequests() bool { return p.Unit == headers.UnitRequests }

// Policies returns the policies a run saw: those the target advertised
// (as quota mode read them, else as the last response said), checked
// against the readings, and those quota mode measured by spending a window.
// The binding one is marked. It is a pure function.
func Policies(q *evidence.Quota, adv *headers.Advertised) []Policy {
	var pols []Policy
	var readings []evidence.Reading
	if q != nil {
		readings = q.Readings
	}
	if len(readings) > 0 {
		pols = checkAdvertised(readings, q.StartUnixS)
	} else if adv != nil {
		for _, p := range adv.Policies {
			pols = append(pols, fromAdvertised(p))
		}
	}
	if q != nil {
		if m, ok := measuredPolicy(q.Spends, q.StartUnixS); ok {
			pols = append(pols, m)
		}
	}
	markBinding(pols)
	return pols
}

// fromAdvertised is an advertised policy, unchecked.
func fromAdvertised(p headers.Policy) Policy {
	out := Policy{Name: p.Name, Limit: p.Limit, WindowS: p.WindowS, Unit: p.Unit, Kind: p.Kind, Source: SourceAdvertised, ResetS: p.ResetS}
	if out.Limit > 0 && out.WindowS > 0 {
		out.RateRPS = out.Limit / out.WindowS
	}
	return out
}

// markBinding marks the request-counting policy with the lowest long-run
// rate; of equal rates, one whose window is known.
func markBinding(pols []Policy) {
	best := -1
	for i, p := range pols {
		if !p.countsRequests() || p.RateRPS <= 0 {
			continue
		}
		if best < 0 || p.RateRPS < pols[best].RateRPS || p.RateRPS == pols[best].RateRPS && p.WindowS > 0 && pols[best].WindowS == 0 {
			best = i
		}
	}
	if best >= 0 {
		pols[best].Binding = true
	}
}

// binding returns the binding policy, if any.
func binding(pols []Policy) (Policy, bool) {
	i := slices.IndexFunc(pols, func(p Policy) bool { return p.Binding })
	if i < 0 {
		return Policy{}, false
	}
	return pols[i], true
}

// foldOpening counts auto's opening, the few paced requests that read the
// headers just before its burst from idle, as part of that burst: they
// came from the same allowance, and the estimate reads the burst as the
// run's first step.
func foldOpening(in Input) Input {
	if len(in.Steps) < 2 || in.Steps[0].Phase != evidence.PhaseHeaders || in.Steps[0].Throttled > 0 || in.Steps[1].Phase != evidence.PhaseBurst {
		return in
	}
	o, b := in.Steps[0], in.Steps[1]
	b.Requests += o.Requests
	b.OK += o.OK
	b.Errors += o.Errors
	if b.FirstThrottleS >= 0 {
		b.OKBeforeThrottle += o.OK
	}
	in.Steps = append([]evidence.Step{b}, in.Steps[2:]...)
	return in
}

// quotaPolicies lists the run's policies and, when quota mode ran, states
// the limit as the binding policy, a number per window, never as a rate
// measured over one step.
func (e *estimator) quotaPolicies() {
	q := e.in.Quota
	e.sum.Policies = Policies(q, e.in.Advertised)
	if q == nil {
		return
	}
	b, ok := binding(e.sum.Policies)
	if !ok {
		if b, ok = e.unboundQuota(); !ok {
			e.sum.Reasons = append(e.sum.Reasons, "quota mode: "+q.Trigger+"; it found no quota it could state")
			e.sum.Reasons = append(e.sum.Reasons, q.Notes...)
			return
		}
	}
	s := Summary{Limited: true, Policies: e.sum.Policies, Reasons: []string{"quota mode: " + q.Trigger}}
	s.EffectiveLimitRPS = b.RateRPS
	s.WindowS = b.WindowS
	s.Burst = quotaBurst(e.sum.Policies, b)
	s.Algorithm = AlgorithmFixedWindow
	switch b.Kind {
	case KindSliding:
		s.Algorithm = AlgorithmSlidingWindow
	case KindBucket:
		s.Algorithm = AlgorithmTokenBucket
	case "":
		if b.WindowS == 0 {
			s.Algorithm = AlgorithmUnknown
		}
	}
	s.EffectiveLimitBand = quotaBand(b, q.Spends)
	s.Reasons = append(s.Reasons, b.String())
	s.Reasons = append(s.Reasons, spendSentences(q.Spends)...)
	if q.Budget > 0 {
		s.Reasons = append(s.Reasons, fmt.Sprintf("quota mode allowed itself %d requests, %s of the quota (limits.max_quota_share)", q.Budget, units.PercentWhole(q.Share)))
	}
	s.Reasons = append(s.Reasons, q.Notes...)
	if b.Mismatch != "" {
		s.AdvertisedMismatch = b.Mismatch
	}
	if b.Limit > 0 && b.WindowS > 0 && b.Kind != KindBucket && b.Kind != KindSliding {
		s.Model = &Model{Kind: limiter.FixedWindow, Limit: int(math.Round(b.Limit)), WindowS: b.WindowS}
	}
	s.Confidence = quotaConfidence(b)
	e.sum = s
}

// unboundQuota is a policy of known quota and unknown window, when none
// has a rate: the headline then states the quota alone.
func (e *estimator) unboundQuota() (Policy, bool) {
	for _, p := range e.sum.Policies {
		if p.countsRequests() && p.Limit > 0 {
			return p, true
		}
	}
	return Policy{}, false
}

// quotaBurst is what passes at once: the smallest quota of a policy with a
// window no longer than the binding one's.
func quotaBurst(pols []Policy, b Policy) int {
	burst := b.Limit
	for _, p := range pols {
		if p.countsRequests() && p.Limit > 0 && p.WindowS > 0 {
			burst = min(burst, p.Limit)
		}
	}
	return int(math.Round(burst))
}

// quotaBand is the range of long-run rates the binding policy allows: its
// rate when advertised and consistent, the spread of the measured window
// otherwise, and up to its rate when only a least window is known. The
// rates are exact quotients: the wording rounds them.
func quotaBand(b Policy, spends []evidence.Spend) Band {
	r := b.RateRPS
	switch {
	case b.WindowS == 0:
		return Band{Low: 0, High: r}
	case b.Source == SourceAdvertised && b.Consistent:
		return Band{Low: r, High: r}
	case b.Source == SourceMeasured:
		err := windowError(spends)
		return Band{Low: b.Limit / (b.WindowS + err), High: b.Limit / max(b.WindowS-err, b.WindowS/2)}
	}
	return Band{Low: r * 0.9, High: r * 1.1}
}

// quotaConfidence: an advertised policy the requests agreed with is as good
// as the headers; a window timed from two spends, good; one known only to be
// at least so long, poor.
func quotaConfidence(b Policy) float64 {
	switch {
	case b.Source == SourceAdvertised && b.Consistent && b.Checked > 0:
		return round2(0.6 + 0.35*(1-math.Exp(-float64(b.Checked)/10)))
	case b.Source == SourceAdvertised:
		return 0.4
	case b.WindowS > 0:
		return 0.85
	}
	return 0.3
}

// PerWindow words the quota of p: "1000 requests per 5 min", "500
// requests per at least 61.6 s".
func (p Policy) PerWindow() string {
	what := units.Num(p.Limit) + " " + p.Unit
	if p.Limit <= 0 {
		what = "an unknown number of " + p.Unit
	}
	switch {
	case p.WindowS > 0:
		return what + " per " + units.Seconds(p.WindowS)
	case p.WindowMinS > 0:
		return what + " per at least " + units.Seconds(p.WindowMinS)
	}
	return what + " per a window it does not state"
}

// String says what is known of a policy and where from, in one line.
func (p Policy) String() string {
	what := p.PerWindow()
	if p.countsRequests() && p.RateRPS > 0 {
		if p.WindowS > 0 {
			what += " (" + units.Rate(p.RateRPS).String() + ")"
		} else {
			what += " (at most " + units.Rate(p.RateRPS).String() + ")"
		}
	}
	if p.Kind != "" {
		what += ", " + kindWords[p.Kind]
	}
	src := p.Source
	switch {
	case p.Source == SourceMeasured && p.WindowS > 0:
		src = "measured by spending two windows"
	case p.Source == SourceMeasured:
		src = "measured by spending one window, whose start is unknown"
	case p.Source == SourceAdvertised && p.Checked > 0 && p.Consistent:
		src = fmt.Sprintf("advertised and consistent with %d requests", p.Checked)
	case p.Source == SourceAdvertised && p.Mismatch != "":
		src = "advertised, but " + p.Mismatch
	}
	s := fmt.Sprintf("%s: %s; %s", cmp.Or(p.Name, "the policy"), what, src)
	if p.Binding {
		s += "; binding: a steady client meets it first"
	}
	return s
}

var kindWords = map[string]string{
	KindFixed:    "fixed window on the clock",
	KindFirstUse: "window counted from its first request",
	KindSliding:  "sliding window",
	KindBucket:   "refills between requests (a bucket)",
}
