package scenarios

import (
	"fmt"
	"time"

	"limitprobe/units"
)

// Safety caps applied when a scenario sets none. A target off this machine
// is someone's production quota: the defaults there are small.
var (
	RemoteDefaults   = Limits{MaxRate: 50, MaxRequests: 5000, MaxDuration: 2 * time.Minute, MaxQuotaShare: 0.1}
	LoopbackDefaults = Limits{MaxRate: 20000, MaxRequests: 1_000_000, MaxDuration: 10 * time.Minute, MaxQuotaShare: 1}
)

// Probe defaults applied when a scenario leaves a key out.
const (
	DefaultStep      = 5 * time.Second
	MinStep          = 200 * time.Millisecond
	DefaultTimeout   = 10 * time.Second
	DefaultThreshold = 0.01
	DefaultPrecision = 0.03
	DefaultStopAfter = 2
	DefaultFactor    = 2.0
	DefaultStart     = 5.0 // requests per second
	// DefaultLoopbackMax is the default top rate against this machine.
	DefaultLoopbackMax = 1000.0
	// DefaultMaxConcurrency is the default top worker count.
	DefaultMaxConcurrency = 64
	// MaxWorkers bounds the concurrency strategy's workers: each is a
	// goroutine and a connection, started at once.
	MaxWorkers = 10000
)

// defaults fills every key the file left out.
func (p *parser) defaults() { ApplyDefaults(p.sc) }

// ApplyDefaults fills the zero fields of a scenario built in code (from
// flags, say) with the same defaults a file gets. Call Check after it.
func ApplyDefaults(sc *Scenario) {
	t, pr, l := &sc.Target, &sc.Probe, &sc.Limits
	if t.Method == "" {
		t.Method = "GET"
	}
	if len(t.ThrottleStatus) == 0 {
		t.ThrottleStatus = []int{429}
	}
	caps := RemoteDefaults
	if t.Loopback() {
		caps = LoopbackDefaults
	}
	if l.MaxRate == 0 {
		l.MaxRate = caps.MaxRate
	}
	if l.MaxRequests == 0 {
		l.MaxRequests = caps.MaxRequests
	}
	if l.MaxDuration == 0 {
		l.MaxDuration = caps.MaxDuration
	}
	if l.MaxQuotaShare == 0 {
		l.MaxQuotaShare = caps.MaxQuotaShare
	}
	if t.Timeout == 0 {
		// A run shorter than the default timeout bounds its requests too.
		t.Timeout = min(DefaultTimeout, l.MaxDuration)
	}
	if pr.Strategy == "" {
		pr.Strategy = StrategyAuto
	}
	if pr.Step == 0 {
		pr.Step = DefaultStep
	}
	if pr.Cooldown == 0 {
		pr.CooldownAuto = true
	}
	if pr.Threshold == 0 {
		pr.Threshold = DefaultThreshold
	}
	if pr.Precision == 0 {
		pr.Precision = DefaultPrecision
	}
	if pr.StopAfter == 0 {
		pr.StopAfter = DefaultStopAfter
	}
	if pr.Increment == 0 && pr.Factor == 0 {
		pr.Factor = DefaultFactor
	}
	if pr.Strategy == StrategyConcurrency {
		if pr.StartConcurrency == 0 {
			pr.StartConcurrency = 1
		}
		if pr.MaxConcurrency == 0 {
			pr.MaxConcurrency = max(DefaultMaxConcurrency, pr.StartConcurrency)
		}
		return
	}
	if pr.Max == 0 {
		pr.Max = l.MaxRate
		if t.Loopback() {
			pr.Max = min(l.MaxRate, DefaultLoopbackMax)
		}
		pr.Max = max(pr.Max, pr.Start)
	}
	if pr.Start == 0 {
		pr.Start = min(DefaultStart, pr.Max)
	}
}

// validate checks what no single key can: relations between keys.
func (p *parser) validate() {
	for _, prob := range Check(p.sc) {
		prob.File = p.file
		if prob.Line == 0 {
			prob.Line = p.line(prob.Key)
		}
		p.problems = append(p.problems, prob)
	}
}

// Check returns the problems of a scenario with its defaults applied: its
// request (URL, method, headers) and the relations between keys. Problems
// carry keys but no file or line.
func Check(sc *Scenario) Problems { return CheckNamed(sc, nil) }

// CheckNamed is Check for a scenario built from a command line: name maps
// a key ("limits.max_rate") to what the user wrote to set it ("--max-rate"),
// in each problem's Key and in its message. A nil name keeps the keys.
func CheckNamed(sc *Scenario, name func(key string) string) Problems {
	if name == nil {
		name = func(key string) string { return key }
	}
	var ps Problems
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{File: sc.File, Key: name(key), Msg: fmt.Sprintf(format, args...)})
	}
	t, pr, l := sc.Target, sc.Probe, sc.Limits
	if msg := nameProblem(sc.Name); msg != "" {
		add("name", "%s", msg)
	}
	if t.URL == "" && t.Mock == nil {
		add("target", "has neither url nor mock; write a url such as http://127.0.0.1:8080/api or a mock")
	}
	targetProblems(sc, add)
	if pr.Strategy == StrategyConcurrency {
		if pr.MaxConcurrency < pr.StartConcurrency {
			add("probe.max", "max %d is below start %d; raise max or lower start", pr.MaxConcurrency, pr.StartConcurrency)
		}
		if pr.MaxConcurrency > MaxWorkers {
			add("probe.max", "%d workers is more than a probe can hold open; write at most %d", pr.MaxConcurrency, MaxWorkers)
		}
	} else {
		if pr.Max < pr.Start {
			add("probe.max", "max %s is below start %s; raise max or lower start", units.FormatRate(float64(pr.Max)), units.FormatRate(float64(pr.Start)))
		}
		if pr.Max > l.MaxRate {
			where := "this machine"
			if !t.Loopback() {
				where = "a target off this machine"
			}
			add("probe.max", "max %s is above the safety cap %s %s for %s; lower %s, or raise %[2]s explicitly if the target's owner agrees",
				units.FormatRate(float64(pr.Max)), name("limits.max_rate"), units.FormatRate(float64(l.MaxRate)), where, name("probe.max"))
		}
	}
	if pr.Step < MinStep {
		add("probe.step", "a step of %v is too short to measure a rate; write at least %v, typically 3s to 10s", pr.Step, MinStep)
	}
	if pr.Step > l.MaxDuration {
		add("probe.step", "one step (%v) is longer than %s (%v); shorten the step or raise %[2]s", pr.Step, name("limits.max_duration"), l.MaxDuration)
	}
	if !pr.CooldownAuto && pr.Cooldown >= l.MaxDuration {
		add("probe.cooldown", "a cooldown of %v is as long as %s (%v): the run would end in its first pause; shorten it, or write auto", pr.Cooldown, name("limits.max_duration"), l.MaxDuration)
	}
	if t.Timeout > l.MaxDuration {
		add("target.timeout", "timeout %v is longer than %s %v; lower %s or raise %[2]s", t.Timeout, name("limits.max_duration"), l.MaxDuration, name("target.timeout"))
	}
	if sc.Expect.MeetsDemand && sc.Demand == 0 {
		add("expect.meets_demand", "needs a demand; add `demand: 40/s` at the top level")
	}
	return ps
}

// CheckURL returns what is wrong with a target URL, quoting it, or "".
func CheckURL(raw string) string {
	if msg := urlProblem(raw); msg != "" {
		return fmt.Sprintf("%q %s", RedactURL(raw), msg)
	}
	return ""
}
