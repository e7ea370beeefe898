package scenarios

import (
	"math"
	"time"

	"limitprobe/evidence"
	"limitprobe/units"
)

// RampStep is the length of an auto ramp step at rate: long enough for about 12 requests, at least a second, at most
// step.
func RampStep(rate units.Rate, step time.Duration) time.Duration {
	return ClampDuration(time.Duration(12/math.Max(float64(rate), 0.01)*float64(time.Second)), time.Second, step)
}

// SaturateStep is the length of an auto saturation step against a limit:
// about 60 successes, at least 2 s, at most 4 steps.
func SaturateStep(limit units.Rate, step time.Duration) time.Duration {
	return ClampDuration(time.Duration(60/math.Max(float64(limit), 0.01)*float64(time.Second)), 2*time.Second, 4*step)
}

// ClampDuration bounds d to [lo, hi]; hi below lo counts as lo.
func ClampDuration(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), max(lo, hi))
}

// AutoExperiments bounds the rounds auto runs after its ramp, each an
// experiment chosen from what it has seen; AutoExperimentSteps bounds the
// steps they send (an experiment sends up to three), each at most four
// step lengths. Plan shows them as auto's worst case.
const (
	AutoExperiments     = 5
	AutoExperimentSteps = 9
)

// BurstStep is the longest the auto strategy's burst phase sends.
func BurstStep(step time.Duration) time.Duration { return min(step, 2*time.Second) }

// PlannedStep is one step of a plan. A rate step offers Rate requests per
// second for Duration (a linear step ramps from StartRate to Rate); a
// concurrency step runs Concurrency workers back to back.
type PlannedStep struct {
	Index       int
	Phase       string
	StartRate   units.Rate // at the start of a linear step; equals Rate otherwise
	Rate        units.Rate // 0 for concurrency steps
	Concurrency int        // workers; 0 for rate steps
	Duration    time.Duration
	Requests    int  // most requests the step can send; -1 when only the caps bound it
	Truncated   bool // a cap cuts this step short
}

// Plan is what a probe would do if the target never throttled: the worst
// case in requests and time, after the safety caps.
type Plan struct {
	Strategy string
	Steps    []PlannedStep
	MaxRate  units.Rate    // highest offered rate; 0 for concurrency
	Requests int           // most requests the run can send
	Duration time.Duration // longest the run can take with the shortest cooldowns
	MaxTime  time.Duration // longest the run can take, cooldowns included; never above limits.max_duration
	Cooldown string        // how steps are separated: "auto (1s..1m0s)" or a duration
	CappedBy []string      // the caps that cut the plan ("limits.max_requests", ...)
	Adaptive bool          // the strategy chooses its steps from what it sees; Steps is its worst case
}

// MakePlan computes the plan of a scenario that has its defaults applied.
func MakePlan(sc *Scenario) Plan {
	pr, l := sc.Probe, sc.Limits
	pl := Plan{Strategy: pr.Strategy, Cooldown: pr.Cooldown.String()}
	cool, maxCool := pr.Cooldown, pr.Cooldown
	if pr.CooldownAuto {
		cool, maxCool = MinCooldown, MaxCooldown
		pl.Cooldown = "auto (" + MinCooldown.String() + ".." + MaxCooldown.String() + ")"
	}
	var steps []PlannedStep
	switch pr.Strategy {
	case StrategyConcurrency:
		for c := pr.StartConcurrency; ; {
			steps = append(steps, PlannedStep{Phase: evidence.PhaseConcurrency, Concurrency: c, Duration: pr.Step, Requests: -1})
			if c >= pr.MaxConcurrency || len(steps) >= maxPlanSteps {
				break
			}
			c = int(min(float64(pr.MaxConcurrency), max(float64(c+1), grow(float64(c), pr))))
		}
	case StrategyQuota:
		d := time.Duration(float64(l.MaxRequests) / float64(pr.Max) * float64(time.Second))
		steps = append(steps, PlannedStep{Phase: evidence.PhaseQuota, StartRate: pr.Max, Rate: pr.Max, Duration: min(d, l.MaxDuration), Requests: l.MaxRequests})
	case StrategyLinear:
		slope := pr.Increment // requests per second gained per step
		if slope == 0 {
			slope = float64(pr.Max-pr.Start) / 8
		}
		for r := pr.Start; ; {
			next := min(pr.Max, r+units.Rate(slope))
			if slope <= 0 {
				next = pr.Max
			}
			steps = append(steps, PlannedStep{Phase: evidence.PhaseRamp, StartRate: r, Rate: next, Duration: pr.Step, Requests: requests((r+next)/2, pr.Step)})
			if next >= pr.Max || len(steps) >= maxPlanSteps {
				break
			}
			r = next
		}
	case StrategyAuto:
		steps = append(steps, PlannedStep{Phase: evidence.PhaseBurst, StartRate: pr.Max, Rate: pr.Max, Duration: BurstStep(pr.Step), Requests: requests(pr.Max, BurstStep(pr.Step))})
		for r := pr.Start; ; r = min(pr.Max, r*2) {
			d := RampStep(r, pr.Step)
			steps = append(steps, PlannedStep{Phase: evidence.PhaseRamp, StartRate: r, Rate: r, Duration: d, Requests: requests(r, d)})
			if r >= pr.Max || len(steps) >= maxPlanSteps {
				break
			}
		}
		steps = append(steps, PlannedStep{Phase: evidence.PhaseSaturate, StartRate: pr.Max, Rate: pr.Max, Duration: pr.Step, Requests: requests(pr.Max, pr.Step)})
		for range AutoExperimentSteps {
			d := 4 * pr.Step
			steps = append(steps, PlannedStep{Phase: evidence.PhaseSaturate, StartRate: pr.Max, Rate: pr.Max, Duration: d, Requests: requests(pr.Max, d)})
		}
	default: // steps
		for r := pr.Start; ; {
			steps = append(steps, PlannedStep{Phase: evidence.PhaseRamp, StartRate: r, Rate: r, Duration: pr.Step, Requests: requests(r, pr.Step)})
			if r >= pr.Max || len(steps) >= maxPlanSteps {
				break
			}
			r = min(pr.Max, units.Rate(grow(float64(r), pr)))
		}
	}
	pl.Adaptive = pr.Strategy == StrategyAuto
	pl.applyCaps(steps, l, cool, maxCool)
	return pl
}

// grow is the next rate (or worker count) after v; always above v.
func grow(v float64, pr Probe) float64 {
	next := v + pr.Increment
	if pr.Increment <= 0 {
		next = units.Sig(v*pr.Factor, 3) // planned rates read 33.8/s, not 33.75/s
		if next <= v {
			next = v * pr.Factor
		}
	}
	if !(next > v) {
		return math.Inf(1)
	}
	return next
}

// maxPlanSteps bounds a plan's length whatever the growth: a ramp of more
// steps than this is a mistake in the scenario, not a probe.
const maxPlanSteps = 200

func requests(r units.Rate, d time.Duration) int {
	return int(math.Ceil(float64(r) * d.Seconds()))
}

// applyCaps keeps the steps that fit the caps, cutting the last one short.
func (pl *Plan) applyCaps(steps []PlannedStep, l Limits, cool, maxCool time.Duration) {
	var reqs int
	var dur, worst time.Duration
	capped := func(name string) {
		for _, c := range pl.CappedBy {
			if c == name {
				return
			}
		}
		pl.CappedBy = append(pl.CappedBy, name)
	}
	for i, st := range steps {
		if i > 0 {
			dur += cool
			worst += maxCool
		}
		if dur >= l.MaxDuration || (st.Requests >= 0 && reqs >= l.MaxRequests) {
			if dur >= l.MaxDuration {
				capped("limits.max_duration")
			} else {
				capped("limits.max_requests")
			}
			break
		}
		st.Index = i
		if left := l.MaxDuration - dur; st.Duration > left {
			st.Duration, st.Truncated = left, true
			if st.Requests > 0 {
				st.Requests = requests(st.Rate, left)
			}
			capped("limits.max_duration")
		}
		if st.Requests > l.MaxRequests-reqs {
			st.Requests, st.Truncated = l.MaxRequests-reqs, true
			capped("limits.max_requests")
		}
		if st.Requests < 0 {
			reqs = l.MaxRequests // a closed loop is bounded only by the caps
		} else {
			reqs += st.Requests
		}
		dur += st.Duration
		worst += st.Duration
		pl.MaxRate = max(pl.MaxRate, st.Rate)
		pl.Steps = append(pl.Steps, st)
	}
	pl.Requests = min(reqs, l.MaxRequests)
	pl.Duration = min(dur, l.MaxDuration)
	pl.MaxTime = min(worst, l.MaxDuration)
}
