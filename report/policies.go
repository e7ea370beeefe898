package report

import (
	"limitprobe/estimate"
)

// quotaWindowS is the shortest window, seconds, a report words as a quota
// per window rather than only as a rate.
const quotaWindowS = 60

// quotaLimit words the effective limit when the binding policy is a
// window quota of a minute or more, "1000 requests per 5 min"; "" when it
// is not.
func quotaLimit(s estimate.Summary) string {
	for _, p := range s.Policies {
		if p.Binding && p.Limit > 0 && max(p.WindowS, p.WindowMinS) >= quotaWindowS {
			return p.PerWindow()
		}
	}
	return ""
}

// policyLines are the policies of s, one line each, the binding one said
// so; nil when there are none.
func policyLines(s estimate.Summary) []string {
	var out []string
	for _, p := range s.Policies {
		out = append(out, p.String())
	}
	return out
}
