package traffic

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The column names (CSV) and keys (JSON lines) read, case-insensitively;
// the first present of each list is used.
var (
	timeNames = []string{"time", "timestamp", "ts", "@timestamp", "date", "datetime", "start_time"}
	costNames = []string{"cost", "count", "weight"}
	// latencyNames map a name to the unit of a bare number in it; 0 means
	// the value is a Go duration with its unit ("120ms").
	latencyNames = []struct {
		name string
		unit time.Duration
	}{
		{"latency_ms", time.Millisecond}, {"duration_ms", time.Millisecond},
		{"latency_s", time.Second}, {"duration_s", time.Second}, {"request_time", time.Second},
		{"latency", 0}, {"duration", 0},
	}
)

const timeHint = "write an RFC 3339 time (2024-05-01T12:00:00.250Z) or Unix seconds (1714564800.25)"

// parseTime reads an RFC 3339 time or a Unix time as nanoseconds since
// the epoch. A Unix time is in seconds, or in milliseconds, microseconds
// or nanoseconds when its whole part has 12–14, 15–17 or 18–19 digits.
// whole reports a time written to the whole second, without a fraction.
func parseTime(s string) (ns int64, whole bool, err error) {
	if s == "" {
		return 0, false, errors.New("no time; " + timeHint)
	}
	if c := s[0]; c >= '0' && c <= '9' && !strings.ContainsAny(s, "-:") {
		return parseUnix(s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false, fmt.Errorf("%q is not a time; %s", s, timeHint)
	}
	ns, ok := unixNano(t)
	if !ok {
		return 0, false, fmt.Errorf("%q is not between 1970 and 2262; %s", s, timeHint)
	}
	return ns, !strings.Contains(s, "."), nil
}

// latest is the last instant that nanoseconds since the epoch hold, in
// 2262.
var latest = time.Unix(0, math.MaxInt64)

// unixNano is t in nanoseconds since the epoch; false unless t lies after
// the epoch and no later than latest (beyond it UnixNano wraps: a log time
// in 2500 read as before 1970).
func unixNano(t time.Time) (int64, bool) {
	if !t.After(time.Unix(0, 0)) || t.After(latest) {
		return 0, false
	}
	return t.UnixNano(), true
}

// parseUnix reads a Unix time in digits with an optional fraction, exactly
// to the nanosecond.
func parseUnix(s string) (int64, bool, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	bad := func() (int64, bool, error) {
		return 0, false, fmt.Errorf("%q is not a time; %s", s, timeHint)
	}
	if whole == "" || len(whole) > 19 || hasFrac && frac == "" || !digits(whole) || !digits(frac) {
		return bad()
	}
	var exp int // the unit, as a power of ten of nanoseconds
	switch n := len(whole); {
	case n <= 11:
		exp = 9
	case n <= 14:
		exp = 6
	case n <= 17:
		exp = 3
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > math.MaxInt64/pow10(exp) {
		return bad()
	}
	ns := w * pow10(exp)
	if len(frac) > exp {
		frac = frac[:exp] // below a nanosecond
	}
	if frac != "" {
		f, _ := strconv.ParseInt(frac, 10, 64)
		ns += f * pow10(exp-len(frac))
	}
	if ns <= 0 {
		return 0, false, fmt.Errorf("%q is not after 1970; %s", s, timeHint)
	}
	return ns, exp == 9 && !hasFrac, nil
}

func digits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// parseCost reads a cost: a whole number from 1 to MaxCost.
func parseCost(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxCost {
		return 0, fmt.Errorf("cost %q is not a whole number from 1 to %d", s, MaxCost)
	}
	return n, nil
}

// parseLatency reads a latency in unit (0: a Go duration with its unit).
func parseLatency(s string, unit time.Duration, name string) (time.Duration, error) {
	if unit == 0 {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%s %q is not a duration; write for example \"120ms\", or name the field %s_ms or %s_s for a bare number", name, s, name, name)
		}
		return d, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f >= 0) || f*float64(unit) > float64(math.MaxInt64) {
		return 0, fmt.Errorf("%s %q is not a number of %s", name, s, unitWord(unit))
	}
	return time.Duration(f * float64(unit)), nil
}

func unitWord(u time.Duration) string {
	if u == time.Millisecond {
		return "milliseconds"
	}
	return "seconds"
}

// index returns the position of the first of names in cols (lower case);
// −1 when none is there.
func index(cols []string, names []string) int {
	for _, n := range names {
		for i, c := range cols {
			if c == n {
				return i
			}
		}
	}
	return -1
}
