package headers

import (
	"fmt"
	"slices"
)

// vendor reads a family of three headers for requests: limit, remaining
// and reset; and the same three for each of the family's other units.
func (p *parser) vendor(source string, limit, remaining, reset field, others ...vendorUnit) quota {
	q := p.vendorTriple(source, limit, remaining, reset)
	if q.any() {
		q.pols = append(q.pols, q.quotaPolicy(UnitRequests))
	}
	for _, u := range others {
		o := p.vendorTriple(source, u.limit, u.remaining, u.reset)
		if o.any() {
			pol := o.quotaPolicy(u.name)
			pol.Unit = u.unit
			q.pols = append(q.pols, pol)
		}
	}
	return q
}

func (p *parser) vendorTriple(source string, limit, remaining, reset field) quota {
	q := quota{source: source}
	q.limit, _ = p.count(limit)
	q.remaining, q.hasRem = p.count(remaining)
	q.reset, q.hasReset = p.delay(reset)
	return q
}

// vendorUnit is a vendor's limit on something other than requests.
type vendorUnit struct {
	name, unit              string
	limit, remaining, reset field
}

// Token limits of OpenAI and Anthropic.
var (
	openAITokens       = []vendorUnit{{"tokens", UnitTokens, fOpenAITokenLimit, fOpenAITokenRemaining, fOpenAITokenReset}}
	anthropicTokenUnit = []vendorUnit{
		{"tokens", UnitTokens, fAnthropicTokenLimit, fAnthropicTokenRemaining, fAnthropicTokenReset},
		{"input-tokens", "input-tokens", fAnthropicInputLimit, fAnthropicInputRemaining, fAnthropicInputReset},
		{"output-tokens", "output-tokens", fAnthropicOutputLimit, fAnthropicOutputRemaining, fAnthropicOutputReset},
	}
)

// Kong's per-unit headers: X-RateLimit-Limit-<unit>, X-RateLimit-Remaining-<unit>.
const (
	kongLimitPrefix     = "x-ratelimit-limit-"
	kongRemainingPrefix = "x-ratelimit-remaining-"
)

// kongName is the unit word of a window in seconds ("minute"), or "Ns".
func kongName(w float64) string {
	for name, s := range kongUnits {
		if s == w {
			return name
		}
	}
	return formatFloat(w) + "s"
}

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

// unitHeader is one Kong per-unit header.
type unitHeader struct {
	window float64
	limit  bool // X-RateLimit-Limit-*, else X-RateLimit-Remaining-*
	headerValues
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
		if kw.hasLimit || kw.hasRem {
			pol := Policy{Name: kongName(kw.w), Limit: kw.limit, WindowS: kw.w, Unit: UnitRequests}
			if kw.hasRem {
				r := kw.remaining
				pol.Remaining = &r
			}
			q.pols = append(q.pols, pol)
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
	q.pols = q.listPolicies(p.xPols)
	return q
}
