// Package units parses the quantities users write in scenario files and on
// the command line: rates ("50/s", "600/m", "1000/h", a bare 50 per second),
// shares ("1%" or "0.01") and durations ("10s", "2m", "1h30m").
//
// It is a leaf package: every other package of limitprobe may import it, and it
// imports nothing of limitprobe. Errors say what was wrong and what to write
// instead, so callers can show them to users as they are.
package units

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxRate is the largest rate, in requests per second, any parser accepts.
// No single machine generates more; a larger value is a typo.
const MaxRate = 10_000_000

// MinRate is the smallest rate, in requests per second, any parser accepts:
// one request a day.
const MinRate = 1.0 / 86400

// ParseRate parses a request rate and returns it in requests per second.
// Accepted forms are "N/s", "N/m", "N/h", "N/d" (also "N/sec", "N/min",
// "N/hour", "N/day", "N/1s", "N/10s" with any Go duration as the period) and a
// bare number, which means per second. N may be fractional ("0.5/s").
// The rate must be positive, finite and at most MaxRate.
func ParseRate(s string) (Rate, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, errors.New(`empty rate; write a rate such as "50/s", "600/m" or "1000/h"`)
	}
	num, per, hasPer := strings.Cut(in, "/")
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, fmt.Errorf(`%q is not a rate; write a number of requests and a period such as "50/s", "600/m" or "1000/h"`, s)
	}
	period := time.Second
	if hasPer {
		period, err = parsePeriod(strings.TrimSpace(per))
		if err != nil {
			return 0, fmt.Errorf(`%q is not a rate: %w`, s, err)
		}
	}
	if n <= 0 {
		return 0, fmt.Errorf(`rate %q must be greater than zero; write for example "1/s" or "60/m"`, s)
	}
	rps := n / period.Seconds()
	if rps > MaxRate || rps < MinRate || math.IsInf(rps, 0) {
		return 0, fmt.Errorf(`rate %q is out of range; write a rate between one per day and %d/s`, s, MaxRate)
	}
	return Rate(rps), nil
}

// parsePeriod reads the unit after the slash of a rate.
func parsePeriod(p string) (time.Duration, error) {
	switch strings.ToLower(p) {
	case "s", "sec", "second":
		return time.Second, nil
	case "m", "min", "minute":
		return time.Minute, nil
	case "h", "hr", "hour":
		return time.Hour, nil
	case "d", "day":
		return 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(p)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf(`unknown period %q; write /s, /m, /h, /d or a duration such as /10s`, p)
	}
	return d, nil
}

// ParseQuota parses a quota: a whole number of requests per period,
// "1000/5m", "5000/h", "10000/d", with the periods ParseRate reads. The
// count is at least 1 and at most 1e9; the period at least a millisecond
// and at most a year.
func ParseQuota(s string) (n int, period time.Duration, err error) {
	num, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, 0, fmt.Errorf(`%q is not a quota; write a number of requests per period such as "1000/5m" or "5000/h"`, s)
	}
	n, err = strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 1 || n > 1e9 {
		return 0, 0, fmt.Errorf(`%q is not a quota: the count must be a whole number from 1 to 1000000000, as in "1000/5m"`, s)
	}
	period, err = parsePeriod(strings.TrimSpace(per))
	if err != nil {
		return 0, 0, fmt.Errorf(`%q is not a quota: %w`, s, err)
	}
	if period < time.Millisecond || period > 366*24*time.Hour {
		return 0, 0, fmt.Errorf(`%q is not a quota: write a period from 1ms to a year, as in "1000/5m"`, s)
	}
	return n, period, nil
}

// ParseShare parses a share of requests, written as a percentage ("1%",
// "2.5%") or a fraction ("0.01"), and returns the fraction in [0, 1].
func ParseShare(s string) (float64, error) {
	in := strings.TrimSpace(s)
	pct := strings.HasSuffix(in, "%")
	in = strings.TrimSpace(strings.TrimSuffix(in, "%"))
	f, err := strconv.ParseFloat(in, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf(`%q is not a share; write a percentage such as "1%%" or a fraction such as "0.01"`, s)
	}
	if pct {
		f /= 100
	}
	if f < 0 || f > 1 {
		return 0, fmt.Errorf(`share %q is outside 0%%..100%%; write for example "1%%" or "0.05"`, s)
	}
	return f, nil
}

// ParseDuration parses a positive Go duration ("10s", "1m30s", "250ms").
// A bare number is rejected because its unit would be a guess.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if _, err := strconv.ParseFloat(in, 64); err == nil {
		return 0, fmt.Errorf(`duration %q has no unit; write for example "%ss" or "%sms"`, s, in, in)
	}
	d, err := time.ParseDuration(in)
	if err != nil {
		return 0, fmt.Errorf(`%q is not a duration; write for example "10s", "2m" or "500ms"`, s)
	}
	if d <= 0 {
		return 0, fmt.Errorf(`duration %q must be greater than zero; write for example "10s"`, s)
	}
	return d, nil
}
