// Package headers reads what a response's headers claim about the target's
// rate limit: the IETF RateLimit and RateLimit-Policy fields (every draft),
// the X-RateLimit-* families of GitHub, Envoy, Discord and Kong, OpenAI's
// and Anthropic's headers, and Retry-After. Parse returns one Advertised;
// ParseRetryAfter reads a single wait. It imports nothing of limitprobe.
package headers

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Advertised is what a target's response headers claim about its rate limit.
// It is evidence, not truth: libraries disagree about what "limit" means (one
// GCRA library reports burst+1), so it is shown beside what was measured and
// never used in its place.
//
// Unknown values are zero, with one exception: Remaining is nil when unknown,
// because zero remaining requests (the quota is used up) is meaningful. In JSON
// an unknown Remaining is null. A quota of 0 is treated as unknown, and ResetS
// is also 0 when the advertised reset time has already passed.
type Advertised struct {
	// Limit is the number of requests allowed per window (the quota); 0 if unknown.
	Limit float64 `json:"limit"`
	// WindowS is the length of the quota window in seconds; 0 if unknown.
	WindowS float64 `json:"window_s"`
	// Remaining is the number of requests left in the current window; nil
	// (JSON null) if unknown, 0 when the quota is used up.
	Remaining *float64 `json:"remaining"`
	// ResetS is the number of seconds from the response until the quota
	// resets (or, for OpenAI and Anthropic, fully replenishes); 0 if unknown
	// or already past.
	ResetS float64 `json:"reset_s"`
	// RetryAfterS is the number of seconds the server asked the client to
	// wait before retrying; 0 if it asked nothing (or to retry at once).
	RetryAfterS float64 `json:"retry_after_s"`
	// Source names the header family that Limit, WindowS, Remaining and
	// ResetS come from (one of the Source* constants); SourceRetryAfter when
	// only a wait was advertised; "" when nothing was.
	Source string `json:"source"`

	// Policy is the name of the IETF policy Limit and WindowS come from, when
	// the server named it (Hugging Face Hub: "api"). Not part of the report
	// contract, so not in JSON.
	Policy string `json:"-"`
	// Notes explain choices a reader may want to know about: which of several
	// policies was taken, where WindowS was borrowed from, which other header
	// families were present but not used. Nil when there is nothing to say.
	Notes []string `json:"-"`
	// Policies is every quota the chosen family advertises, in the order
	// sent: all members of RateLimit-Policy, each Kong unit, OpenAI's and
	// Anthropic's requests and tokens. Limit, WindowS, Remaining and ResetS
	// above are one of them. Absent from JSON when there are none.
	Policies []Policy `json:"policies,omitempty"`
}

// Header families, the values of Advertised.Source.
const (
	// SourceIETF is RateLimit-Policy: "p";q=100;w=60 and RateLimit: "p";r=50;t=30
	// (draft-ietf-httpapi-ratelimit-headers-08 to -11, Cloudflare, Hugging Face Hub).
	SourceIETF = "ietf"
	// SourceIETFDraft7 is RateLimit: limit=100, remaining=50, reset=5 with
	// RateLimit-Policy: 100;w=10 (draft-07).
	SourceIETFDraft7 = "ietf-draft7"
	// SourceIETFLegacy is RateLimit-Limit, RateLimit-Remaining and
	// RateLimit-Reset (draft-06 and earlier, Kong, express-rate-limit).
	SourceIETFLegacy = "ietf-legacy"
	// SourceAnthropic is anthropic-ratelimit-requests-{limit,remaining,reset}.
	SourceAnthropic = "anthropic"
	// SourceOpenAI is x-ratelimit-{limit,remaining,reset}-requests.
	SourceOpenAI = "openai"
	// SourceKong is X-RateLimit-Limit-Minute, X-RateLimit-Remaining-Minute and
	// the other units (Second, Hour, Day, Month, Year, or a number of seconds).
	SourceKong = "kong"
	// SourceDiscord is X-RateLimit-* with X-RateLimit-Reset-After or
	// X-RateLimit-Bucket.
	SourceDiscord = "discord"
	// SourceXRateLimit is X-RateLimit-Limit, -Remaining, -Used and -Reset
	// (GitHub, Envoy, many gateways).
	SourceXRateLimit = "x-ratelimit"
	// SourceRetryAfter means only a wait was advertised: Retry-After,
	// retry-after-ms or X-Retry-In.
	SourceRetryAfter = "retry-after"
)

// MaxAdvertisedDelay bounds every delay and window the parser reports. A
// Retry-After, reset or window further away than this (a year and a day) is
// taken to be garbage and ignored, which also keeps every value far from the
// range where time.Duration overflows.
const MaxAdvertisedDelay = 366 * 24 * time.Hour

// Parse reads every rate-limit header family it knows from h and
// reports what they claim. now is the time the response was received; it turns
// HTTP-dates, RFC 3339 timestamps and epoch resets into delays. Header names
// are matched case-insensitively, including keys that were put in the map
// without canonicalisation. Malformed values are skipped; ok is false when h
// carries no rate-limit information that could be parsed.
//
// The quota (Limit, WindowS, Remaining, ResetS) comes from one family, so that
// its fields belong together. The family is the first in this order that
// advertises a limit, or failing that the first that advertises anything:
// ietf, ietf-draft7, ietf-legacy, anthropic, openai, kong, discord or
// x-ratelimit. Standards come first because they state the window; vendor
// families come before the generic X-RateLimit-* because they are unambiguous.
// When the chosen family states a limit but no window, WindowS is borrowed from
// any policy in the headers with the same quota (RateLimit-Policy: 100;w=60,
// X-RateLimit-Limit-Minute: 100, "100, 100;w=60"), as Kong and
// express-rate-limit send them.
//
// Of several policies (a list in RateLimit-Policy, several Kong units), the
// most restrictive is taken: the smallest quota per second, then the smallest
// quota; policies that count something other than requests (qu="content-bytes",
// qu="concurrent-requests") are skipped. The choice is recorded in Notes.
//
// RetryAfterS comes from Retry-After, which wins; then retry-after-ms (OpenAI
// SDKs); then X-Retry-In (Traefik); then, only when the Discord bucket is used
// up (X-RateLimit-Remaining: 0), X-RateLimit-Reset-After. A Reset-After sent
// while requests remain is when the bucket refills, not a request to wait, so
// it only sets ResetS.
//
// OpenAI and Anthropic do not state their window on the wire (their limits are
// documented per minute, but some tiers count per day), so WindowS stays 0 for
// them rather than guessing.
func Parse(h http.Header, now time.Time) (a Advertised, ok bool) {
	var p parser
	p.now = now
	if !p.collect(h) {
		return Advertised{}, false
	}
	p.policyItems = parseSFList(p.values(fRateLimitPolicy))
	p.rateLimitItems = parseSFList(p.values(fRateLimit))

	xr, kong := p.xRateLimit(), p.kong()
	families := [...]quota{
		p.ietf(),
		p.draft7(),
		p.legacy(),
		p.vendor(SourceAnthropic, fAnthropicLimit, fAnthropicRemaining, fAnthropicReset, anthropicTokenUnit...),
		p.vendor(SourceOpenAI, fOpenAILimit, fOpenAIRemaining, fOpenAIReset, openAITokens...),
		kong,
		xr,
		p.draft7PolicyOnly(),
	}
	chosen := -1
	for i, q := range families {
		if q.limit > 0 {
			chosen = i
			break
		}
	}
	if chosen < 0 {
		for i, q := range families {
			if q.any() {
				chosen = i
				break
			}
		}
	}
	if chosen >= 0 {
		q := families[chosen]
		a.Source = q.source
		a.Limit, a.WindowS, a.ResetS, a.Policy = q.limit, q.window, q.reset, q.policy
		if q.hasRem {
			r := q.remaining
			a.Remaining = &r
		}
		a.Notes = q.notes
		a.Policies = q.pols
		if a.Limit > 0 && a.WindowS == 0 {
			p.borrowWindow(&a)
		}
		if a.Source != SourceKong {
			a.Policies = mergeKong(a.Policies, kong.pols)
		}
		// The last family is a bare policy, already reported if it lent the window.
		for i, q := range families[:len(families)-1] {
			if i != chosen && q.any() && q.source != a.Source {
				a.Notes = append(a.Notes, fmt.Sprintf("%s headers also present (%s), not used", q.source, q.summary()))
			}
		}
	}

	if s, found := p.retryAfter(xr); found {
		a.RetryAfterS = s
		if a.Source == "" {
			a.Source = SourceRetryAfter
		}
	}
	return a, a.Source != ""
}

// borrowWindow sets the window of a quota whose family states none from
// any policy in the headers with the same quota.
func (p *parser) borrowWindow(a *Advertised) {
	pol, found := p.windowFor(a.Limit)
	if !found {
		return
	}
	a.WindowS = pol.w
	a.Notes = append(a.Notes, fmt.Sprintf("window_s %g taken from %s, which advertises the same quota", pol.w, pol.from))
	for i := range a.Policies {
		if a.Policies[i].Limit == a.Limit && a.Policies[i].WindowS == 0 {
			a.Policies[i].WindowS = pol.w
		}
	}
}

// mergeKong adds Kong's per-unit policies to pols: they state every window
// beside the tightest, which RateLimit-* carries.
func mergeKong(pols, kong []Policy) []Policy {
	for _, k := range kong {
		if k.Limit > 0 && !slices.ContainsFunc(pols, func(x Policy) bool { return x.Limit == k.Limit && x.WindowS == k.WindowS }) {
			pols = append(pols, k)
		}
	}
	return pols
}

// quota is what one header family advertises.
type quota struct {
	source    string
	limit     float64
	window    float64
	remaining float64
	hasRem    bool
	reset     float64
	hasReset  bool
	policy    string
	notes     []string
	pols      []Policy // every policy of the family
}

func (q quota) any() bool { return q.limit > 0 || q.window > 0 || q.hasRem || q.hasReset }

// summary describes q in a note.
func (q quota) summary() string {
	var parts []string
	if q.limit > 0 {
		parts = append(parts, "limit "+formatFloat(q.limit))
	}
	if q.window > 0 {
		parts = append(parts, "window "+formatFloat(q.window)+"s")
	}
	if q.hasRem {
		parts = append(parts, "remaining "+formatFloat(q.remaining))
	}
	if q.hasReset {
		parts = append(parts, "reset "+formatFloat(q.reset)+"s")
	}
	return strings.Join(parts, ", ")
}

// windowFor looks for a policy with quota limit and a known window, in any
// header that can state one. It runs after legacy and xRateLimit.
func (p *parser) windowFor(limit float64) (policy, bool) {
	same := func(pol policy) bool { return pol.q == limit && pol.w > 0 }
	for _, it := range p.policyItems {
		if pol, ok := policyFromItem(it, "RateLimit-Policy"); ok && !pol.nonRequest && same(pol) {
			return pol, true
		}
	}
	for _, pols := range [][]policy{p.legacyPols, p.xPols} {
		if i := slices.IndexFunc(pols, same); i >= 0 {
			return pols[i], true
		}
	}
	for _, kw := range p.kongWindows() {
		if pol := (policy{q: kw.limit, w: kw.w, from: "X-RateLimit-Limit-*"}); kw.hasLimit && same(pol) {
			return pol, true
		}
	}
	return policy{}, false
}

// retryAfter returns the advertised wait in seconds, by the precedence
// documented on Parse. xr is the X-RateLimit family, for Discord.
func (p *parser) retryAfter(xr quota) (float64, bool) {
	if s, ok := p.delay(fRetryAfter); ok {
		return s, true
	}
	for _, v := range p.values(fRetryAfterMS) {
		if ms, ok := countValue(v); ok && ms/1000 <= maxDelayS {
			return ms / 1000, true
		}
	}
	if s, ok := p.delay(fXRetryIn); ok {
		return s, true
	}
	if xr.hasRem && xr.remaining == 0 { // Reset-After is Discord's; see xRateLimit
		if s, ok := p.delay(fXResetAfter); ok {
			return s, true
		}
	}
	return 0, false
}
