package headers

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

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
		if w, ok := countValue(ws); ok && w >= MinAdvertisedWindow && w <= maxDelayS {
			pol.w = w
		}
	}
	return pol, true
}

// ietf reads draft-08..11 RateLimit-Policy and RateLimit fields.
func (p *parser) ietf() quota {
	q := quota{source: SourceIETF}
	pols, skipped := p.ietfPolicies()
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

	q.pols = p.ietfPolicyList()
	items := p.ietfItems(skipped)
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

// ietfPolicyList is every draft-11 member of RateLimit-Policy, whatever it
// counts, each with what its RateLimit item says is left: the item that
// shares its name, or the lone item beside a lone policy. Without policies,
// a lone RateLimit item is a policy of unknown quota.
func (p *parser) ietfPolicyList() []Policy {
	var all []policy
	for _, it := range p.policyItems {
		if pol, ok := policyFromItem(it, "RateLimit-Policy"); ok && pol.draft11 {
			all = append(all, pol)
		}
	}
	items := p.ietfItems(nil)
	if len(all) == 0 && len(items) == 1 {
		pol := policyOut(policy{names: items[0].bare}, &items[0])
		return []Policy{pol}
	}
	var out []Policy
	for _, pol := range all {
		var it *sfItem
		if i := slices.IndexFunc(items, func(it sfItem) bool { return sharesName(it.bare, pol.names) }); i >= 0 {
			it = &items[i]
		} else if len(all) == 1 && len(items) == 1 {
			it = &items[0]
		}
		out = append(out, policyOut(pol, it))
	}
	return out
}

// ietfPolicies returns the draft-11 members of RateLimit-Policy: those that
// count requests, and those skipped because they count something else.
func (p *parser) ietfPolicies() (pols, skipped []policy) {
	for _, it := range p.policyItems {
		if pol, ok := policyFromItem(it, "RateLimit-Policy"); ok && pol.draft11 {
			if pol.nonRequest {
				skipped = append(skipped, pol)
			} else {
				pols = append(pols, pol)
			}
		}
	}
	return pols, skipped
}

// ietfItems returns the RateLimit items ("name";r=50;t=30), without
// draft-07 dictionary members and items of the skipped policies.
func (p *parser) ietfItems(skipped []policy) []sfItem {
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
	return items
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
	pols := p.draft7Policies()
	cur := -1
	if q.limit > 0 {
		if i := slices.IndexFunc(pols, func(pol policy) bool { return pol.q == q.limit }); i >= 0 {
			cur = i
		} else if len(pols) == 1 {
			cur = 0
		}
		if cur >= 0 {
			q.window = pols[cur].w
		}
	}
	if q.limit > 0 && cur < 0 {
		q.pols = append(q.pols, q.quotaPolicy(""))
	}
	for i, pol := range pols {
		if i == cur {
			q.pols = append(q.pols, q.quotaPolicy(""))
			continue
		}
		q.pols = append(q.pols, Policy{Limit: pol.q, WindowS: pol.w, Unit: UnitRequests})
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
	for _, pol := range pols {
		q.pols = append(q.pols, Policy{Limit: pol.q, WindowS: pol.w, Unit: UnitRequests})
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
	q.pols = q.listPolicies(p.legacyPols)
	return q
}
