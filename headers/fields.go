package headers

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"
)

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
	fOpenAITokenLimit
	fOpenAITokenRemaining
	fOpenAITokenReset
	fAnthropicTokenLimit
	fAnthropicTokenRemaining
	fAnthropicTokenReset
	fAnthropicInputLimit
	fAnthropicInputRemaining
	fAnthropicInputReset
	fAnthropicOutputLimit
	fAnthropicOutputRemaining
	fAnthropicOutputReset
	numFields
)

// fieldIndex maps lower-case header names to fields.
var fieldIndex = map[string]field{
	"retry-after":                                 fRetryAfter,
	"retry-after-ms":                              fRetryAfterMS,
	"x-retry-in":                                  fXRetryIn,
	"ratelimit":                                   fRateLimit,
	"ratelimit-policy":                            fRateLimitPolicy,
	"ratelimit-limit":                             fRateLimitLimit,
	"ratelimit-remaining":                         fRateLimitRemaining,
	"ratelimit-reset":                             fRateLimitReset,
	"x-ratelimit-limit":                           fXLimit,
	"x-ratelimit-remaining":                       fXRemaining,
	"x-ratelimit-used":                            fXUsed,
	"x-ratelimit-reset":                           fXReset,
	"x-ratelimit-reset-after":                     fXResetAfter,
	"x-ratelimit-bucket":                          fXBucket,
	"x-ratelimit-limit-requests":                  fOpenAILimit,
	"x-ratelimit-remaining-requests":              fOpenAIRemaining,
	"x-ratelimit-reset-requests":                  fOpenAIReset,
	"anthropic-ratelimit-requests-limit":          fAnthropicLimit,
	"anthropic-ratelimit-requests-remaining":      fAnthropicRemaining,
	"anthropic-ratelimit-requests-reset":          fAnthropicReset,
	"x-ratelimit-limit-tokens":                    fOpenAITokenLimit,
	"x-ratelimit-remaining-tokens":                fOpenAITokenRemaining,
	"x-ratelimit-reset-tokens":                    fOpenAITokenReset,
	"anthropic-ratelimit-tokens-limit":            fAnthropicTokenLimit,
	"anthropic-ratelimit-tokens-remaining":        fAnthropicTokenRemaining,
	"anthropic-ratelimit-tokens-reset":            fAnthropicTokenReset,
	"anthropic-ratelimit-input-tokens-limit":      fAnthropicInputLimit,
	"anthropic-ratelimit-input-tokens-remaining":  fAnthropicInputRemaining,
	"anthropic-ratelimit-input-tokens-reset":      fAnthropicInputReset,
	"anthropic-ratelimit-output-tokens-limit":     fAnthropicOutputLimit,
	"anthropic-ratelimit-output-tokens-remaining": fAnthropicOutputRemaining,
	"anthropic-ratelimit-output-tokens-reset":     fAnthropicOutputReset,
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
	// Map order is random; sort what depends on it so results do not,
	// shortest window first, whatever the spelling of the names.
	if len(p.units) > 1 {
		slices.SortFunc(p.units, func(a, b unitHeader) int {
			return cmp.Or(cmp.Compare(a.window, b.window), cmp.Compare(boolf(b.limit), boolf(a.limit)), strings.Compare(a.key, b.key))
		})
	}
	return found
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

func boolf(b bool) int {
	if b {
		return 1
	}
	return 0
}
