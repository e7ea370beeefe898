package headers

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxAdvertisedCount bounds every count the parser reports (a quota, what
// remains of it): a larger one is taken to be garbage and ignored, so that
// no quota, nor quota per window, is absurd or infinite.
const MaxAdvertisedCount = 1e12

// MinAdvertisedWindow is the shortest window, in seconds, the parser
// reports; a shorter one (w=0.0000000001) is garbage and ignored.
const MinAdvertisedWindow = 0.001

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

// countValue reads a non-negative decimal count ("100", "0.5") of at most
// MaxAdvertisedCount, leniently: surrounding whitespace and quotes are
// dropped, and of a list or an item with parameters ("100, 100",
// "100;w=60") the first number is taken.
func countValue(v string) (float64, bool) {
	v = trimOWS(v)
	n, ok := decimal(unquote(v))
	if !ok {
		if i := strings.IndexAny(v, ",;"); i >= 0 {
			n, ok = decimal(unquote(trimOWS(v[:i])))
		}
	}
	if !ok || n > MaxAdvertisedCount {
		return 0, false
	}
	return n, true
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
