package mock

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"limitprobe/units"
)

// Latency is the distribution of the service time of admitted requests. Its
// text form (see ParseLatency) is "20ms" (fixed), "20ms..80ms" (uniform) or
// "lognormal:50ms,400ms" (log-normal with median 50 ms and 99th percentile
// 400 ms). The zero value adds no latency.
type Latency struct {
	// Dist is "fixed", "uniform", "lognormal", or "" for none.
	Dist string
	// Min is the fixed latency, or the lower bound of a uniform one.
	Min time.Duration
	// Max is the upper bound of a uniform latency.
	Max time.Duration
	// Median is the median of a log-normal latency.
	Median time.Duration
	// P99 is the 99th percentile of a log-normal latency.
	P99 time.Duration
}

// Latency distributions.
const (
	LatencyFixed     = "fixed"
	LatencyUniform   = "uniform"
	LatencyLognormal = "lognormal"
)

// z99 is the 99th percentile of the standard normal distribution.
const z99 = 2.3263478740408408

// maxLatency bounds latencies: a mock request that takes longer is a typo.
const maxLatency = 10 * time.Minute

// ParseLatency parses a latency: "0" or "none" (no latency), "20ms"
// (fixed), "20ms..80ms" (uniform between the two) or
// "lognormal:50ms,400ms" (log-normal with that median and 99th percentile).
func ParseLatency(s string) (Latency, error) {
	in := strings.TrimSpace(s)
	const hint = `write "20ms" (fixed), "20ms..80ms" (uniform) or "lognormal:50ms,400ms" (median, p99)`
	switch strings.ToLower(in) {
	case "0", "0s", "none", "off":
		return Latency{}, nil
	}
	if rest, ok := strings.CutPrefix(strings.ToLower(in), "lognormal:"); ok {
		a, b, ok := strings.Cut(rest, ",")
		if !ok {
			return Latency{}, fmt.Errorf("%q needs a median and a p99; %s", s, hint)
		}
		med, p99, err := durationPair(s, a, b)
		if err != nil {
			return Latency{}, err
		}
		l := Latency{Dist: LatencyLognormal, Median: med, P99: p99}
		return l, l.validate()
	}
	if a, b, ok := strings.Cut(in, ".."); ok {
		lo, hi, err := durationPair(s, a, b)
		if err != nil {
			return Latency{}, err
		}
		l := Latency{Dist: LatencyUniform, Min: lo, Max: hi}
		return l, l.validate()
	}
	d, err := units.ParseDuration(in)
	if err != nil {
		return Latency{}, fmt.Errorf("%q is not a latency; %s", s, hint)
	}
	l := Latency{Dist: LatencyFixed, Min: d}
	return l, l.validate()
}

// durationPair parses the two durations a and b of the latency s.
func durationPair(s, a, b string) (time.Duration, time.Duration, error) {
	x, err1 := units.ParseDuration(a)
	y, err2 := units.ParseDuration(b)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("%q is not a latency: %w", s, err)
	}
	return x, y, nil
}

func (l Latency) validate() error {
	switch l.Dist {
	case "":
		return nil
	case LatencyFixed:
		if l.Min < 0 || l.Min > maxLatency {
			return fmt.Errorf("latency %s is out of range; write at most 10m", l.Min)
		}
	case LatencyUniform:
		if l.Min < 0 || l.Max < l.Min || l.Max > maxLatency {
			return fmt.Errorf("uniform latency %s..%s needs 0 ≤ low ≤ high ≤ 10m; write for example 20ms..80ms", l.Min, l.Max)
		}
	case LatencyLognormal:
		if l.Median <= 0 || l.P99 <= l.Median || l.P99 > maxLatency {
			return fmt.Errorf("log-normal latency needs 0 < median < p99 ≤ 10m, got median %s and p99 %s; write for example lognormal:50ms,400ms", l.Median, l.P99)
		}
	default:
		return fmt.Errorf("unknown latency distribution %q; write fixed, uniform or lognormal", l.Dist)
	}
	return nil
}

// String returns the text form ParseLatency reads.
func (l Latency) String() string {
	switch l.Dist {
	case LatencyFixed:
		return l.Min.String()
	case LatencyUniform:
		return l.Min.String() + ".." + l.Max.String()
	case LatencyLognormal:
		return "lognormal:" + l.Median.String() + "," + l.P99.String()
	}
	return "0s"
}

// sigma is the standard deviation of the logarithm of a log-normal latency.
func (l Latency) sigma() float64 {
	return math.Log(float64(l.P99)/float64(l.Median)) / z99
}

// Mean returns the mean latency. It equals the median for fixed and uniform
// latencies; for a log-normal one it is median·exp(σ²/2), above the median.
func (l Latency) Mean() time.Duration {
	if l.Dist == LatencyLognormal {
		s := l.sigma()
		return time.Duration(float64(l.Median) * math.Exp(s*s/2))
	}
	return l.MedianLatency()
}

// MedianLatency returns the median latency.
func (l Latency) MedianLatency() time.Duration {
	switch l.Dist {
	case LatencyFixed:
		return l.Min
	case LatencyUniform:
		return (l.Min + l.Max) / 2
	case LatencyLognormal:
		return l.Median
	}
	return 0
}

// sample draws one latency; u is uniform in [0,1) and z standard normal.
func (l Latency) sample(u, z float64) time.Duration {
	switch l.Dist {
	case LatencyFixed:
		return l.Min
	case LatencyUniform:
		return l.Min + time.Duration(u*float64(l.Max-l.Min))
	case LatencyLognormal:
		d := float64(l.Median) * math.Exp(l.sigma()*z)
		return time.Duration(min(d, float64(maxLatency)))
	}
	return 0
}
