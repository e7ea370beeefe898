package advise

import (
	"fmt"
	"math"
	"strings"

	"limitprobe/estimate"
	"limitprobe/units"
)

// quotaWindowS is the shortest window, seconds, advised as a quota: a
// refusal then means the quota is spent until the reset, and a backoff of
// seconds only spends requests that will be refused.
const quotaWindowS = 60

// bindingQuota is the policy of s a steady client meets first, when it is
// a window of a minute or more.
func bindingQuota(s estimate.Summary) (estimate.Policy, bool) {
	for _, p := range s.Policies {
		if p.Binding && p.Limit > 0 && max(p.WindowS, p.WindowMinS) >= quotaWindowS {
			return p, true
		}
	}
	return estimate.Policy{}, false
}

// quotaRetry is the retry policy when the binding limit is a quota: wait
// for the reset the target advertises, else a random time within one
// window, at most twice, so that a client never spends requests that the
// spent quota refuses. ok is false when s has no such quota.
func quotaRetry(s estimate.Summary, honor bool) (r Retry, notes []string, ok bool) {
	p, ok := bindingQuota(s)
	if !ok {
		return Retry{}, nil, false
	}
	w := max(p.WindowS, p.WindowMinS)
	ms := int64(math.Ceil(units.CeilSig(w*1000, 2)))
	r = Retry{HonorRetryAfter: honor, BaseDelayMS: ms, Multiplier: 1, MaxDelayMS: ms, Jitter: "full", MaxRetries: 2, BudgetRatio: 0.1}
	quota := fmt.Sprintf("%s per %s", units.Num(p.Limit), units.Seconds(w))
	if p.WindowS == 0 {
		quota = fmt.Sprintf("%s per at least %s", units.Num(p.Limit), units.Seconds(w))
	}
	first := "Honour Retry-After and the reset headers: a refusal means the quota is spent until they say"
	if !honor {
		first = "The target sent no Retry-After or reset header; honour one if it starts to"
	}
	notes = []string{
		first,
		fmt.Sprintf("The binding limit is a quota of %s: once it is spent, every request until the reset is refused, so do not back off by seconds. "+
			"Without a reset header wait random(0, %s), one window, and retry at most twice.", quota, units.Seconds(float64(ms)/1000)),
		"Retries at most 10% of requests, so that retries cannot spend the quota the paced requests need.",
	}
	return r, notes, true
}

// policyNotes say how the client settings keep within every policy of s,
// when it has several.
func policyNotes(s estimate.Summary, rec Recommendation) []string {
	var lines []string
	for _, p := range s.Policies {
		if p.Unit != "requests" || p.Limit <= 0 || p.RateRPS <= 0 {
			continue
		}
		mark := ""
		if p.Binding {
			mark = ", binding"
		}
		w := units.Seconds(p.WindowS)
		if p.WindowS == 0 {
			w = "at least " + units.Seconds(p.WindowMinS)
		}
		lines = append(lines, fmt.Sprintf("%s %s per %s (%s%s)", orWord(p.Name, "a policy of"), units.Num(p.Limit), w, units.Rate(p.RateRPS), mark))
	}
	if len(lines) < 2 || rec.ClientRateRPS <= 0 {
		return nil
	}
	return []string{fmt.Sprintf("The target has %d policies: %s. %s with bursts of at most %d keeps within all of them, over the longest window as well as per second.",
		len(lines), strings.Join(lines, "; "), units.Rate(rec.ClientRateRPS), rec.ClientBurst)}
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
