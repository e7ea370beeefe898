package headers

import (
	"fmt"
	"iter"
	"math"
	"net/http"
	"slices"
	"strconv"
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

const (
	maxDelayS = float64(MaxAdvertisedDelay / time.Second)
	// Reset values at or above epochS are Unix times in seconds, at or above
	// epochMS Unix times in milliseconds; below, delays in seconds. 1e9 s is
	// September 2001, and 1e12 s lies 31,000 years ahead, so neither is ambiguous.
	epochS  = 1e9
	epochMS = 1e12
)

// ParseRetryAfter parses a Retry-After value and returns the delay from now.
// It accepts what RFC 9110 allows, delta-seconds and an HTTP-date (in any of
// the three formats http.ParseTime reads), and leniently also fractional
// seconds ("1.5"), Go durations ("1.5s"), RFC 3339 timestamps and Unix epochs
// (values of 1e9 and more, as in reset headers). A time in the past gives 0.
// ok is false for an empty, malformed or negative value, or a delay longer than
// MaxAdvertisedDelay. The delay is never negative.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	s, ok := parseDelay(v, now)
	if !ok {
		return 0, false
	}
	return secondsToDuration(s), true
}

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

	xr := p.xRateLimit()
	families := [...]quota{
		p.ietf(),
		p.draft7(),
		p.legacy(),
		p.vendor(SourceAnthropic, fAnthropicLimit, fAnthropicRemaining, fAnthropicReset),
		p.vendor(SourceOpenAI, fOpenAILimit, fOpenAIRemaining, fOpenAIReset),
		p.kong(),
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
		if a.Limit > 0 && a.WindowS == 0 {
			if pol, found := p.windowFor(a.Limit); found {
				a.WindowS = pol.w
				a.Notes = append(a.Notes, fmt.Sprintf("window_s %g taken from %s, which advertises the same quota", pol.w, pol.from))
			}
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

// field identifies a header Parse reads.
type field uint8

const (
	fRetryAfter field = iota
	fRetryAfterMS
	fXRetryIn
	fRateLimit
	fRateLimitPolicy
	fRateLimitLimit
	fRateLimitRemaining
	fRateLimitReset
	fXLimit
	fXRemaining
	fXUsed
	fXReset
	fXResetAfter
	fXBucket
	fOpenAILimit
	fOpenAIRemaining
	fOpenAIReset
	fAnthropicLimit
	fAnthropicRemaining
	fAnthropicReset
	numFields
)

// fieldIndex maps lower-case header names to fields.
var fieldIndex = map[string]field{
	"retry-after":                            fRetryAfter,
	"retry-after-ms":                         fRetryAfterMS,
	"x-retry-in":                             fXRetryIn,
	"ratelimit":                              fRateLimit,
	"ratelimit-policy":                       fRateLimitPolicy,
	"ratelimit-limit":                        fRateLimitLimit,
	"ratelimit-remaining":                    fRateLimitRemaining,
	"ratelimit-reset":                        fRateLimitReset,
	"x-ratelimit-limit":                      fXLimit,
	"x-ratelimit-remaining":                  fXRemaining,
	"x-ratelimit-used":                       fXUsed,
	"x-ratelimit-reset":                      fXReset,
	"x-ratelimit-reset-after":                fXResetAfter,
	"x-ratelimit-bucket":                     fXBucket,
	"x-ratelimit-limit-requests":             fOpenAILimit,
	"x-ratelimit-remaining-requests":         fOpenAIRemaining,
	"x-ratelimit-reset-requests":             fOpenAIReset,
	"anthropic-ratelimit-requests-limit":     fAnthropicLimit,
	"anthropic-ratelimit-requests-remaining": fAnthropicRemaining,
	"anthropic-ratelimit-requests-reset":     fAnthropicReset,
}

// Kong's per-unit headers: X-RateLimit-Limit-<unit>, X-RateLimit-Remaining-<unit>.
const (
	kongLimitPrefix     = "x-ratelimit-limit-"
	kongRemainingPrefix = "x-ratelimit-remaining-"
)

// kongUnits maps Kong's units to seconds. Kong counts months and years by the
// calendar; 30 and 365 days are close enough for evidence.
var kongUnits = map[string]float64{
	"second": 1,
	"minute": 60,
	"hour":   3600,
	"day":    86400,
	"month":  30 * 86400,
	"year":   365 * 86400,
}

// headerValues is the values of one header, under the key they had in the map.
type headerValues struct {
	key  string
	vals []string
}

// slot holds every spelling of one header found in the map. Several
// spellings ("RateLimit" and "ratelimit") only occur when a map was filled
// without canonicalisation; they are rare, so only they allocate.
type slot struct {
	first headerValues
	more  []headerValues
}

// unitHeader is one Kong per-unit header.
type unitHeader struct {
	window float64
	limit  bool // X-RateLimit-Limit-*, else X-RateLimit-Remaining-*
	headerValues
}

// parser holds the headers of one response, sorted by field.
type parser struct {
	now            time.Time
	slots          [numFields]slot
	units          []unitHeader
	policyItems    []sfItem // RateLimit-Policy
	rateLimitItems []sfItem // RateLimit
	legacyPols     []policy // RateLimit-Limit members, set by legacy
	xPols          []policy // X-RateLimit-Limit members, set by xRateLimit
}

// collect files the headers of h by field and reports whether any was found.
func (p *parser) collect(h http.Header) bool {
	found := false
	var buf [64]byte // longer than any name we know
	for k, vs := range h {
		if len(k) > len(buf) || len(vs) == 0 {
			continue
		}
		lk := buf[:len(k)]
		for i := 0; i < len(k); i++ {
			c := k[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lk[i] = c
		}
		if f, ok := fieldIndex[string(lk)]; ok {
			s := &p.slots[f]
			if s.first.vals == nil {
				s.first = headerValues{k, vs}
			} else {
				s.more = append(s.more, headerValues{k, vs})
			}
			found = true
			continue
		}
		var u unitHeader
		switch {
		case len(lk) > len(kongLimitPrefix) && string(lk[:len(kongLimitPrefix)]) == kongLimitPrefix:
			u.limit = true
			u.window = unitSeconds(lk[len(kongLimitPrefix):])
		case len(lk) > len(kongRemainingPrefix) && string(lk[:len(kongRemainingPrefix)]) == kongRemainingPrefix:
			u.window = unitSeconds(lk[len(kongRemainingPrefix):])
		}
		if u.window > 0 {
			u.headerValues = headerValues{k, vs}
			p.units = append(p.units, u)
			found = true
		}
	}
	// Map order is random; sort what depends on it so results do not.
	if len(p.units) > 1 {
		slices.SortFunc(p.units, func(a, b unitHeader) int { return strings.Compare(a.key, b.key) })
	}
	return found
}

// unitSeconds returns the window of a Kong unit suffix ("minute", or a number
// of seconds as Kong's rate-limiting-advanced writes it), or 0.
func unitSeconds(u []byte) float64 {
	if w, ok := kongUnits[string(u)]; ok {
		return w
	}
	n := 0.0
	for _, c := range u {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + float64(c-'0')
		if n > maxDelayS {
			return 0
		}
	}
	return n
}

// values returns every value of field f, from all spellings of its name in a
// fixed order.
func (p *parser) values(f field) []string {
	s := &p.slots[f]
	if len(s.more) == 0 {
		return s.first.vals
	}
	all := append([]headerValues{s.first}, s.more...)
	slices.SortFunc(all, func(a, b headerValues) int { return strings.Compare(a.key, b.key) })
	var vs []string
	for _, hv := range all {
		vs = append(vs, hv.vals...)
	}
	return vs
}

// has reports whether field f carries a non-empty value.
func (p *parser) has(f field) bool {
	for _, v := range p.values(f) {
		if trimOWS(v) != "" {
			return true
		}
	}
	return false
}

// count returns the first value of f that reads as a count.
func (p *parser) count(f field) (float64, bool) {
	for _, v := range p.values(f) {
		if n, ok := countValue(v); ok {
			return n, true
		}
	}
	return 0, false
}

// delay returns the first value of f that reads as a delay, in seconds.
func (p *parser) delay(f field) (float64, bool) {
	for _, v := range p.values(f) {
		if s, ok := parseDelay(v, p.now); ok {
			return s, true
		}
	}
	return 0, false
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

// policy is one quota a server advertises: q requests per w seconds.
type policy struct {
	q, w       float64
	names      []string // IETF policy names; HF Hub sends two ("fixed window", "api")
	nonRequest bool     // qu says it counts bytes or requests in flight
	qu         string   // the qu parameter, if any
	draft11    bool     // had a q parameter
	from       string   // the header it came from, for notes
}

// name is the policy's own name: the last bare item, as in HF Hub's
// "fixed window";"api" where "api" is what RateLimit refers to.
func (pol policy) name() string {
	if len(pol.names) == 0 {
		return ""
	}
	return pol.names[len(pol.names)-1]
}

// moreRestrictive reports whether a allows fewer requests per second than b.
// A policy with a known window beats one without; ties go to the smaller quota.
func moreRestrictive(a, b policy) bool {
	if (a.w > 0) != (b.w > 0) {
		return a.w > 0
	}
	if a.w > 0 {
		if ra, rb := a.q/a.w, b.q/b.w; ra != rb {
			return ra < rb
		}
	}
	return a.q < b.q
}

// mostRestrictive returns the index of the most restrictive policy, or -1.
func mostRestrictive(pols []policy) int {
	best := -1
	for i := range pols {
		if best < 0 || moreRestrictive(pols[i], pols[best]) {
			best = i
		}
	}
	return best
}

// policyFromItem reads a RateLimit-Policy list member: draft-11
// "name";q=100;w=60 (with optional qu and pk) or draft-07 100;w=60.
func policyFromItem(it sfItem, from string) (policy, bool) {
	pol := policy{from: from}
	if qs, ok := it.param("q"); ok {
		q, ok := countValue(qs)
		if !ok || q <= 0 {
			return policy{}, false
		}
		pol.q, pol.draft11, pol.names = q, true, it.bare
		if qu, ok := it.param("qu"); ok && !strings.EqualFold(qu, "requests") {
			pol.nonRequest, pol.qu = true, qu
		}
	} else {
		if len(it.bare) == 0 {
			return policy{}, false
		}
		q, ok := countValue(it.bare[0])
		if !ok || q <= 0 {
			return policy{}, false
		}
		pol.q = q
	}
	if ws, ok := it.param("w"); ok {
		if w, ok := countValue(ws); ok && w > 0 && w <= maxDelayS {
			pol.w = w
		}
	}
	return pol, true
}

// ietf reads draft-08..11 RateLimit-Policy and RateLimit fields.
func (p *parser) ietf() quota {
	q := quota{source: SourceIETF}
	var pols, skipped []policy
	for _, it := range p.policyItems {
		if pol, ok := policyFromItem(it, "RateLimit-Policy"); ok && pol.draft11 {
			if pol.nonRequest {
				skipped = append(skipped, pol)
			} else {
				pols = append(pols, pol)
			}
		}
	}
	// RateLimit items: "name";r=50;t=30. Skip draft-07 dictionary members
	// and items that belong to a policy counting something else.
	var items []sfItem
	for _, it := range p.rateLimitItems {
		if it.isDraft7() {
			continue
		}
		_, hasR := it.param("r")
		_, hasT := it.param("t")
		if !hasR && !hasT {
			continue
		}
		if slices.ContainsFunc(skipped, func(pol policy) bool { return sharesName(it.bare, pol.names) }) {
			continue
		}
		items = append(items, it)
	}

	best := mostRestrictive(pols)
	if best >= 0 {
		pol := pols[best]
		q.limit, q.window, q.policy = pol.q, pol.w, pol.name()
		if len(pols) > 1 {
			q.notes = append(q.notes, fmt.Sprintf("%d policies in RateLimit-Policy; took the most restrictive, %q (q=%g, w=%g)", len(pols), pol.name(), pol.q, pol.w))
		}
	}
	if len(skipped) > 0 {
		var b strings.Builder
		for i, pol := range skipped {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q (qu=%q)", pol.name(), pol.qu)
		}
		q.notes = append(q.notes, "skipped RateLimit-Policy policies that count something other than requests: "+b.String())
	}

	match := -1
	if best >= 0 {
		match = slices.IndexFunc(items, func(it sfItem) bool { return sharesName(it.bare, pols[best].names) })
	}
	if match < 0 && len(items) == 1 {
		match = 0 // a lone RateLimit item goes with the lone or chosen policy, as Cloudflare names them apart
	}
	if match < 0 && len(items) > 1 {
		// No name links them: take the item closest to exhaustion.
		for i, it := range items {
			if match < 0 || itemRemaining(it) < itemRemaining(items[match]) {
				match = i
			}
		}
		if best >= 0 {
			q.notes = append(q.notes, fmt.Sprintf("no RateLimit item names policy %q; took the one with the fewest remaining", pols[best].name()))
		}
	}
	if match >= 0 {
		it := items[match]
		if rs, ok := it.param("r"); ok {
			q.remaining, q.hasRem = countValue(rs)
		}
		if ts, ok := it.param("t"); ok {
			if t, ok := countValue(ts); ok && t <= maxDelayS {
				q.reset, q.hasReset = t, true
			}
		}
		if q.policy == "" && len(it.bare) > 0 {
			q.policy = it.bare[len(it.bare)-1]
		}
	}
	return q
}

// itemRemaining is a RateLimit item's r, or +Inf when it has none.
func itemRemaining(it sfItem) float64 {
	if rs, ok := it.param("r"); ok {
		if r, ok := countValue(rs); ok {
			return r
		}
	}
	return math.Inf(1)
}

// sharesName reports whether the two name lists have a name in common.
func sharesName(a, b []string) bool {
	for _, x := range a {
		if x != "" && slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// draft7Policies returns the draft-07 members of RateLimit-Policy (100;w=10).
func (p *parser) draft7Policies() []policy {
	var pols []policy
	for _, it := range p.policyItems {
		if pol, ok := policyFromItem(it, "RateLimit-Policy"); ok && !pol.draft11 {
			pols = append(pols, pol)
		}
	}
	return pols
}

// draft7 reads RateLimit: limit=100, remaining=50, reset=5 (draft-07), with
// the window from the RateLimit-Policy member that has the same quota.
func (p *parser) draft7() quota {
	q := quota{source: SourceIETFDraft7}
	var haveLimit, haveRem, haveReset bool
	for _, it := range p.rateLimitItems {
		if !it.isDraft7() {
			continue
		}
		for _, kv := range it.params {
			switch kv.key {
			case "limit":
				if !haveLimit {
					q.limit, haveLimit = countValue(kv.val)
				}
			case "remaining":
				if !haveRem {
					q.remaining, haveRem = countValue(kv.val)
				}
			case "reset":
				if !haveReset {
					q.reset, haveReset = parseDelay(kv.val, p.now)
				}
			}
		}
	}
	q.hasRem, q.hasReset = haveRem, haveReset
	if q.limit > 0 {
		pols := p.draft7Policies()
		if i := slices.IndexFunc(pols, func(pol policy) bool { return pol.q == q.limit }); i >= 0 {
			q.window = pols[i].w
		} else if len(pols) == 1 {
			q.window = pols[0].w
		}
	}
	return q
}

// draft7PolicyOnly is the last resort: a draft-07 RateLimit-Policy with no
// RateLimit field and no other family to go with it.
func (p *parser) draft7PolicyOnly() quota {
	q := quota{source: SourceIETFDraft7}
	pols := p.draft7Policies()
	if best := mostRestrictive(pols); best >= 0 {
		q.limit, q.window = pols[best].q, pols[best].w
		if len(pols) > 1 {
			q.notes = append(q.notes, fmt.Sprintf("%d policies in RateLimit-Policy; took the most restrictive (q=%g, w=%g)", len(pols), pols[best].q, pols[best].w))
		}
	}
	return q
}

// limitList reads a limit field that may carry draft-03 policies after the
// current limit, as RateLimit-Limit and Envoy's X-RateLimit-Limit do:
// "10, 10;w=1, 50;w=60". It returns the limit, its window if stated with
// it, and every member as a policy (Parse finds the window of
// "10, 10;w=1" among them).
func limitList(vals []string, from string) (limit, window float64, pols []policy) {
	for _, it := range parseSFList(vals) {
		pol, ok := policyFromItem(it, from)
		if !ok || pol.draft11 {
			continue
		}
		if limit == 0 {
			limit, window = pol.q, pol.w
		}
		pols = append(pols, pol)
	}
	return limit, window, pols
}

// legacy reads RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset.
func (p *parser) legacy() quota {
	q := quota{source: SourceIETFLegacy}
	q.limit, q.window, p.legacyPols = limitList(p.values(fRateLimitLimit), "RateLimit-Limit")
	q.remaining, q.hasRem = p.count(fRateLimitRemaining)
	q.reset, q.hasReset = p.delay(fRateLimitReset)
	return q
}

// vendor reads a family of three headers: limit, remaining and reset.
func (p *parser) vendor(source string, limit, remaining, reset field) quota {
	q := quota{source: source}
	q.limit, _ = p.count(limit)
	q.remaining, q.hasRem = p.count(remaining)
	q.reset, q.hasReset = p.delay(reset)
	return q
}

// kongWindow is what Kong says about one unit.
type kongWindow struct {
	w, limit, remaining float64
	hasLimit, hasRem    bool
}

// kongWindows groups the per-unit headers by window, in header-name order.
func (p *parser) kongWindows() []kongWindow {
	var ws []kongWindow
	for _, u := range p.units {
		i := slices.IndexFunc(ws, func(kw kongWindow) bool { return kw.w == u.window })
		if i < 0 {
			ws = append(ws, kongWindow{w: u.window})
			i = len(ws) - 1
		}
		kw := &ws[i]
		for _, v := range u.vals {
			n, ok := countValue(v)
			if !ok {
				continue
			}
			if u.limit && !kw.hasLimit {
				kw.limit, kw.hasLimit = n, n > 0
			} else if !u.limit && !kw.hasRem {
				kw.remaining, kw.hasRem = n, true
			}
			break
		}
	}
	return ws
}

// kong reads X-RateLimit-{Limit,Remaining}-<unit>, taking the most
// restrictive unit that states a limit.
func (p *parser) kong() quota {
	q := quota{source: SourceKong}
	ws := p.kongWindows()
	var pols []policy
	var idx []int
	for i, kw := range ws {
		if kw.hasLimit {
			pols = append(pols, policy{q: kw.limit, w: kw.w})
			idx = append(idx, i)
		}
	}
	var kw kongWindow
	if best := mostRestrictive(pols); best >= 0 {
		kw = ws[idx[best]]
		if len(pols) > 1 {
			q.notes = append(q.notes, fmt.Sprintf("%d windows in X-RateLimit-Limit-*; took the most restrictive (%g per %gs)", len(pols), kw.limit, kw.w))
		}
	} else {
		// Remaining without a limit: the shortest window.
		for _, c := range ws {
			if c.hasRem && (kw.w == 0 || c.w < kw.w) {
				kw = c
			}
		}
	}
	if kw.hasLimit {
		q.limit = kw.limit
	}
	if kw.hasLimit || kw.hasRem {
		q.window = kw.w
	}
	q.remaining, q.hasRem = kw.remaining, kw.hasRem
	return q
}

// xRateLimit reads X-RateLimit-Limit, -Remaining, -Used and -Reset, and
// Discord's -Reset-After and -Bucket.
func (p *parser) xRateLimit() quota {
	q := quota{source: SourceXRateLimit}
	if p.has(fXResetAfter) || p.has(fXBucket) {
		q.source = SourceDiscord
	}
	q.limit, q.window, p.xPols = limitList(p.values(fXLimit), "X-RateLimit-Limit")
	q.remaining, q.hasRem = p.count(fXRemaining)
	if !q.hasRem && q.limit > 0 {
		if used, ok := p.count(fXUsed); ok && used <= q.limit {
			q.remaining, q.hasRem = q.limit-used, true
		}
	}
	// Reset-After is a delay, immune to clock skew: prefer it to the epoch.
	if q.reset, q.hasReset = p.delay(fXResetAfter); !q.hasReset {
		q.reset, q.hasReset = p.delay(fXReset)
	}
	return q
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

// parseDelay reads a delay or a point in time and returns the seconds from
// now until then: decimal seconds (epoch seconds from 1e9, epoch milliseconds
// from 1e12), a Go duration, an HTTP-date or an RFC 3339 timestamp. Past
// times give 0; negative, malformed and implausibly distant values give false.
// A list ("5, 5", as proxies merge duplicates) is read by its first member.
func parseDelay(v string, now time.Time) (float64, bool) {
	v = trimOWS(v)
	if s, ok := parseDelay1(v, now); ok {
		return s, true
	}
	// After the whole value, as HTTP-dates contain a comma.
	if i := strings.IndexByte(v, ','); i >= 0 {
		return parseDelay1(trimOWS(v[:i]), now)
	}
	return 0, false
}

func parseDelay1(v string, now time.Time) (float64, bool) {
	v = unquote(v)
	if v == "" {
		return 0, false
	}
	if n, ok := decimal(v); ok {
		switch {
		case n >= epochMS:
			return untilEpoch(n/1000, now)
		case n >= epochS:
			return untilEpoch(n, now)
		case n > maxDelayS:
			return 0, false
		}
		return n, true
	}
	if c := v[0]; c >= '0' && c <= '9' || c == '.' || c == '+' { // spares dates a ParseDuration
		if d, err := time.ParseDuration(v); err == nil {
			if d < 0 || d > MaxAdvertisedDelay {
				return 0, false
			}
			return d.Seconds(), true
		}
	}
	if t, err := http.ParseTime(v); err == nil {
		return until(t, now)
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return until(t, now)
	}
	return 0, false
}

// until returns the seconds from now to t, 0 if t is past.
func until(t, now time.Time) (float64, bool) {
	d := t.Sub(now) // saturates rather than overflows
	if d > MaxAdvertisedDelay {
		return 0, false
	}
	return max(d, 0).Seconds(), true
}

// untilEpoch returns the seconds from now to the Unix time e, 0 if e is past.
func untilEpoch(e float64, now time.Time) (float64, bool) {
	s := e - float64(now.Unix()) - float64(now.Nanosecond())/1e9
	if s > maxDelayS {
		return 0, false
	}
	return max(s, 0), true
}

// secondsToDuration converts seconds known to be within [0, maxDelayS].
func secondsToDuration(s float64) time.Duration {
	return time.Duration(math.Round(s * float64(time.Second)))
}

// countValue reads a non-negative decimal count ("100", "0.5"), leniently:
// surrounding whitespace and quotes are dropped, and of a list or an item with
// parameters ("100, 100", "100;w=60") the first number is taken.
func countValue(v string) (float64, bool) {
	v = trimOWS(v)
	if n, ok := decimal(unquote(v)); ok {
		return n, true
	}
	if i := strings.IndexAny(v, ",;"); i >= 0 {
		return decimal(unquote(trimOWS(v[:i])))
	}
	return 0, false
}

// decimal parses digits with at most one decimal point. Unlike
// strconv.ParseFloat alone it refuses signs, exponents, hex, NaN and Inf.
func decimal(s string) (float64, bool) {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return 0, false
		}
	}
	if digits == 0 || dots > 1 {
		return 0, false
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(n, 0) {
		return 0, false
	}
	return n, true
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// sfItem is one member of a structured-field list, parsed leniently: bare
// items (tokens, strings, numbers) and key=value parameters in any order.
// Hugging Face Hub's "fixed window";"api";q=500;w=300, which is not a valid
// structured field, reads as two bare items and two parameters.
type sfItem struct {
	bare   []string
	params []sfParam
}

type sfParam struct{ key, val string }

// param returns the value of the first parameter named key.
func (it sfItem) param(key string) (string, bool) {
	for _, kv := range it.params {
		if kv.key == key {
			return kv.val, true
		}
	}
	return "", false
}

// isDraft7 reports whether it is a draft-07 RateLimit dictionary member
// (limit=100), not a draft-11 item ("p";r=50).
func (it sfItem) isDraft7() bool {
	if len(it.bare) > 0 || len(it.params) == 0 {
		return false
	}
	switch it.params[0].key {
	case "limit", "remaining", "reset":
		return true
	}
	return false
}

// parseSFList splits field values into list members at commas and members
// into parts at semicolons, outside double quotes. It never fails: whatever
// cannot be read is kept as a bare item and ignored by the callers.
func parseSFList(vals []string) []sfItem {
	var items []sfItem
	for _, v := range vals {
		for m := range splitOutsideQuotes(v, ',') {
			var it sfItem
			for part := range splitOutsideQuotes(m, ';') {
				part = trimOWS(part)
				if part == "" {
					continue
				}
				if part[0] != '"' {
					if i := strings.IndexByte(part, '='); i >= 0 {
						it.params = append(it.params, sfParam{strings.ToLower(trimOWS(part[:i])), unquote(trimOWS(part[i+1:]))})
						continue
					}
				}
				it.bare = append(it.bare, unquote(part))
			}
			if len(it.bare)+len(it.params) > 0 {
				items = append(items, it)
			}
		}
	}
	return items
}

// splitOutsideQuotes yields the parts of s between separators that are not
// inside a double-quoted string. A backslash escapes the next byte inside a
// string; an unterminated string runs to the end.
func splitOutsideQuotes(s string, sep byte) iter.Seq[string] {
	return func(yield func(string) bool) {
		start, inQuote := 0, false
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case inQuote && c == '\\':
				i++
			case c == '"':
				inQuote = !inQuote
			case !inQuote && c == sep:
				if !yield(s[start:i]) {
					return
				}
				start = i + 1
			}
		}
		yield(s[start:])
	}
}

// unquote removes the double quotes around a string and its backslash
// escapes; other values are returned as they are. Text after the closing
// quote is dropped; an unterminated string runs to the end.
func unquote(s string) string {
	if len(s) == 0 || s[0] != '"' {
		return s
	}
	end, escaped := len(s), false
loop:
	for i := 1; i < len(s); i++ {
		switch {
		case escaped:
			escaped = false
		case s[i] == '\\':
			escaped = true
		case s[i] == '"':
			end = i
			break loop
		}
	}
	body := s[1:end]
	if strings.IndexByte(body, '\\') < 0 {
		return body
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' && i+1 < len(body) {
			i++
		}
		b.WriteByte(body[i])
	}
	return b.String()
}

// trimOWS trims HTTP optional whitespace (spaces and tabs).
func trimOWS(s string) string { return strings.Trim(s, " \t") }
