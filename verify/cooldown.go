package verify

import (
	"fmt"
	"time"

	"limitprobe/units"
)

// Bounds of the wait between policies against a real target.
const (
	MinCooldown = time.Second
	MaxCooldown = 5 * time.Minute
)

// Cooldown returns how long to wait between two policies against a real
// target so that the next one starts against a recovered limiter, and why:
// the longest of the measured window, the advertised window, reset and
// Retry-After, the longest Retry-After seen, and the time the measured
// burst takes to refill; at least MinCooldown, at most MaxCooldown. It is a
// pure function of the measurement.
func Cooldown(m Measured) (time.Duration, string) {
	best, why := MinCooldown, "the minimum pause"
	consider := func(s float64, what string) {
		if d := time.Duration(s * float64(time.Second)); d > best {
			best, why = d, what
		}
	}
	s := m.Summary
	consider(s.WindowS, fmt.Sprintf("the measured %s window", units.FormatDuration(time.Duration(s.WindowS*float64(time.Second)))))
	if a := m.Advertised; a != nil {
		consider(a.WindowS, "the advertised window")
		consider(a.ResetS, "the advertised reset")
		consider(a.RetryAfterS, "the advertised Retry-After")
	}
	for _, st := range m.Steps {
		consider(st.RetryAfterS, "the longest Retry-After seen")
	}
	if s.Burst > 0 && s.EffectiveLimitRPS > 0 {
		consider(float64(s.Burst)/s.EffectiveLimitRPS, fmt.Sprintf("the time a burst of %d takes to refill", s.Burst))
	}
	if best > MaxCooldown {
		best, why = MaxCooldown, why+", capped"
	}
	return best, why
}
