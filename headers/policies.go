package headers

import "strings"

// Policy is one quota a target advertises: Limit units per WindowS seconds,
// with what is left of it. A response may advertise several (a per-second
// burst and a daily quota, requests and tokens); Advertised.Policies lists
// them all.
//
// As in Advertised, unknown values are zero and an unknown Remaining is nil.
type Policy struct {
	// Name is the server's name for the policy ("api", "burst", "daily"),
	// or the header family's word for it ("requests", "tokens", "minute");
	// "" when there is none.
	Name string `json:"name,omitempty"`
	// Limit is the quota per window; 0 if unknown.
	Limit float64 `json:"limit"`
	// WindowS is the window in seconds; 0 if unknown.
	WindowS float64 `json:"window_s"`
	// Remaining is what is left of the quota; nil (JSON null) if unknown.
	Remaining *float64 `json:"remaining"`
	// ResetS is the number of seconds until the quota resets (or, for
	// OpenAI and Anthropic, fully replenishes); 0 if unknown or past.
	ResetS float64 `json:"reset_s"`
	// Unit is what the quota counts: UnitRequests, UnitTokens, or what the
	// server names (IETF qu: "content-bytes", "concurrent-requests").
	Unit string `json:"unit"`
	// Kind is how the server says the window is counted: "fixed" (the
	// Hugging Face Hub's "fixed window") or "sliding"; "" when it does not.
	Kind string `json:"kind,omitempty"`
}

// Units of Policy.Unit that limitprobe names itself.
const (
	UnitRequests = "requests"
	UnitTokens   = "tokens"
)

// CountsRequests reports whether the policy counts requests (its unit is
// requests), the quotas a probe spends one of per request.
func (p Policy) CountsRequests() bool { return p.Unit == UnitRequests }

// policyOut turns a parsed policy into a Policy, with what the RateLimit
// item it pairs with (if any) says is left.
func policyOut(pol policy, it *sfItem) Policy {
	out := Policy{Name: pol.name(), Limit: pol.q, WindowS: pol.w, Unit: UnitRequests, Kind: windowKind(pol.names)}
	if pol.qu != "" {
		out.Unit = pol.qu
	}
	if it != nil {
		if rs, ok := it.param("r"); ok {
			if r, ok := countValue(rs); ok {
				out.Remaining = &r
			}
		}
		if ts, ok := it.param("t"); ok {
			if t, ok := countValue(ts); ok && t <= maxDelayS {
				out.ResetS = t
			}
		}
	}
	return out
}

// windowKind reads how a window is counted from the names before a
// policy's own, as the Hugging Face Hub writes "fixed window";"api".
func windowKind(names []string) string {
	for _, n := range names[:max(0, len(names)-1)] {
		switch n := strings.ToLower(n); {
		case strings.Contains(n, "fixed"):
			return "fixed"
		case strings.Contains(n, "sliding"):
			return "sliding"
		}
	}
	return ""
}

// quotaPolicy is the Policy of a family that states one quota, with the
// remaining count and reset it read.
func (q quota) quotaPolicy(name string) Policy {
	pol := Policy{Name: name, Limit: q.limit, WindowS: q.window, ResetS: q.reset, Unit: UnitRequests}
	if q.hasRem {
		r := q.remaining
		pol.Remaining = &r
	}
	return pol
}

// listPolicies is the quota of a family whose limit field may list
// draft-03 policies ("10, 10;w=1, 50;w=60"): the current limit, its window
// taken from the member with the same quota, and every other member.
func (q quota) listPolicies(members []policy) []Policy {
	if q.limit <= 0 {
		return nil
	}
	cur := q.quotaPolicy("")
	var rest []Policy
	for i, m := range members {
		switch {
		case i == 0: // the current limit itself
		case m.q == q.limit && (cur.WindowS == 0 || cur.WindowS == m.w):
			cur.WindowS = m.w
		default:
			rest = append(rest, Policy{Limit: m.q, WindowS: m.w, Unit: UnitRequests})
		}
	}
	return append([]Policy{cur}, rest...)
}
