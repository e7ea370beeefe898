package verify

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"limitprobe/advise"
	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/headers"
	"limitprobe/scenarios"
	"limitprobe/units"
)

// Measured is what a verification reads of a probe's report: the estimate,
// the steps and the advertised fields it was made from, and the
// recommendation. Rates are requests per second.
type Measured struct {
	Summary        estimate.Summary
	Steps          []evidence.Step
	Advertised     *headers.Advertised
	Recommendation advise.Recommendation
	// DemandRPS is the demand the probe's scenario named; 0 when none.
	DemandRPS float64
}

// MaxClients bounds Request.Clients.
const MaxClients = 1000

// CooldownFromReport as Request.Cooldown takes the pause between policies
// from the measurement (see Cooldown).
const CooldownFromReport time.Duration = -1

// Request is a verification as the command line asks for it. Its errors
// name the command's flags, so that a user knows what to change.
type Request struct {
	// Scenario is the target: its URL (empty for the mock), method,
	// headers, body, timeout, throttle statuses and body, and the safety
	// caps, defaults applied (scenarios.ApplyDefaults).
	Scenario *scenarios.Scenario
	// Mock is true when Prepare gives each policy a fresh mock: no pause
	// between policies, and Parallel is allowed.
	Mock bool
	// Demand is the client demand; 0 means the report's demand, else 80%
	// of its limit.
	Demand   units.Rate
	Duration time.Duration // how long each policy's demand lasts
	Deadline time.Duration // how long one request may take, retries included
	Clients  int           // 1 to MaxClients
	// Policies names the policies to run; none means all of them.
	Policies []string
	// Cooldown is the pause between policies against a real target;
	// CooldownFromReport takes it from the measurement.
	Cooldown time.Duration
	Parallel bool
	Seed     uint64
}

// Plan is a checked verification: Config lacks only Prepare and Progress.
type Plan struct {
	Config Config
	// Target is where the requests go; its URL is empty for a mock.
	Target Target
	// Mock is Request.Mock.
	Mock bool
	// CooldownWhy says where Config.Cooldown comes from.
	CooldownWhy string
	// Note says how the demand was chosen when none was given; "" when it
	// was given.
	Note string
}

// NewPlan checks r against what was measured and plans the verification:
// it picks the demand, the policies, the pause between them and the cap on
// attempts, and checks the demand's rate, requests and worst-case time
// against the scenario's safety caps. Nothing is sent.
func NewPlan(m Measured, r Request) (*Plan, error) {
	switch {
	case r.Scenario == nil:
		return nil, errors.New("verify: no target")
	case r.Clients < 1 || r.Clients > MaxClients:
		return nil, fmt.Errorf("--clients %d: write a number of callers from 1 to %d", r.Clients, MaxClients)
	case r.Duration <= 0 || r.Deadline <= 0:
		return nil, fmt.Errorf("--duration %s, --deadline %s: write how long each policy's demand lasts and how long one request may take, such as 20s and 10s", r.Duration, r.Deadline)
	case r.Parallel && !r.Mock:
		return nil, errors.New("--parallel needs a mock (--mock or a scenario with a mock): against a real target the policies share one limiter")
	}
	p := &Plan{Mock: r.Mock}
	d := Demand{Clients: r.Clients, Duration: r.Duration, Deadline: r.Deadline}
	limit := m.Summary.EffectiveLimitRPS
	if dm := m.Recommendation.Demand; dm != nil && dm.LimitRPS > 0 {
		limit = dm.LimitRPS
	}
	switch {
	case r.Demand > 0:
		d.RPS = float64(r.Demand)
	case m.Recommendation.Demand != nil && m.Recommendation.Demand.DemandRPS > 0:
		d.RPS = m.Recommendation.Demand.DemandRPS
	case m.DemandRPS > 0:
		d.RPS = m.DemandRPS
	case limit > 0:
		d.RPS = 0.8 * limit
		p.Note = "no --demand and none in the report: replaying 80% of its limit, " + units.FormatRate(d.RPS)
	default:
		return nil, errors.New("the report has no demand and no limit; give --demand, such as --demand 40/s")
	}
	pols, err := Policies(m.Recommendation, m.Steps, r.Policies)
	if err != nil {
		return nil, fmt.Errorf("--policy: %w", err)
	}
	var cooldown time.Duration
	if !r.Mock {
		cooldown, p.CooldownWhy = r.Cooldown, "--cooldown"
		if r.Cooldown == CooldownFromReport {
			cooldown, p.CooldownWhy = Cooldown(m)
		}
	}
	maxAttempts, err := checkCaps(r.Scenario.Limits, d, len(pols), cooldown, r.Parallel)
	if err != nil {
		return nil, err
	}
	t := r.Scenario.Target
	header := http.Header{}
	for _, h := range t.Headers {
		header.Add(h.Name, h.Value.Reveal())
	}
	p.Target = Target{URL: t.URL, Method: t.Method, Header: header, Body: t.Body,
		ThrottleStatus: t.ThrottleStatus, ThrottleBody: t.ThrottleBody, Timeout: t.Timeout, Redirects: t.Redirects, Network: t.Network}
	sustainable := m.Recommendation.SustainableRPS
	if sustainable <= 0 {
		sustainable = m.Recommendation.ClientRateRPS
	}
	p.Config = Config{
		Demand: d, Policies: pols, Target: r.Scenario.DisplayURL(), LimitRPS: limit, SustainableRPS: sustainable,
		Cooldown: cooldown, Parallel: r.Parallel, MaxAttempts: maxAttempts, Seed: r.Seed,
	}
	return p, nil
}

// checkCaps checks a verification of n policies against the safety caps:
// the demand's rate, the requests of all policies, and the worst-case time
// (each policy's demand and the deadline of its last requests, and the
// pauses between policies). It returns the cap on one policy's attempts:
// AttemptCap, and no more than its share of the requests the caps allow.
func checkCaps(caps scenarios.Limits, d Demand, n int, cooldown time.Duration, parallel bool) (int64, error) {
	arrivals := d.RPS * d.Duration.Seconds()
	if d.RPS > float64(caps.MaxRate) {
		return 0, fmt.Errorf("--demand %s exceeds the safety cap of %s for this target; lower it, or give a --scenario whose limits.max_rate allows it",
			units.FormatRate(d.RPS), units.FormatRate(float64(caps.MaxRate)))
	}
	if need := arrivals * float64(n); need > float64(caps.MaxRequests) {
		return 0, fmt.Errorf("%d policies × %.0f requests need %.0f requests, over the safety cap of %d for this target; shorten --duration, pick fewer --policy, or give a --scenario whose limits.max_requests allows it",
			n, arrivals, need, caps.MaxRequests)
	}
	worst := time.Duration(n)*(d.Duration+d.Deadline) + time.Duration(n-1)*cooldown
	if parallel {
		worst = d.Duration + d.Deadline
	}
	if worst > caps.MaxDuration {
		return 0, fmt.Errorf("this verification could take up to %v (each policy's %v and the %v deadline of its last requests, and the pauses between them), over the safety cap of %v for this target; shorten --duration or --deadline, pick fewer --policy, or give a --scenario whose limits.max_duration allows it",
			worst.Round(time.Second), d.Duration, d.Deadline, caps.MaxDuration)
	}
	return min(AttemptCap(arrivals), int64(caps.MaxRequests)/int64(n)), nil
}

// Describe says what the verification will do, before it sends anything.
func (p *Plan) Describe() string {
	c := p.Config
	d := c.Demand
	var names []string
	for _, pol := range c.Policies {
		names = append(names, pol.Name)
	}
	s := fmt.Sprintf("verify %s: %s from %s for %v per policy (about %.0f requests each, at most %d attempts), deadline %v; policies %s",
		c.Target, units.FormatRate(d.RPS), pluralWord(d.Clients, "client"), d.Duration, d.RPS*d.Duration.Seconds(),
		c.MaxAttempts, d.Deadline, strings.Join(names, ", "))
	switch {
	case p.Mock && c.Parallel:
		s += "; a fresh mock per policy, all at once"
	case p.Mock:
		s += "; a fresh mock per policy"
	default:
		s += fmt.Sprintf("; a pause of %v between policies (%s)", c.Cooldown, p.CooldownWhy)
	}
	return s
}

func pluralWord(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
