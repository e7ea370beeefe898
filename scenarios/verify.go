package scenarios

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"limitprobe/mock"
)

// VerifyFlags are the flags of verify that say where its demand goes:
// --target URL or --mock SPEC (a scenario file is loaded by the caller),
// and what to change of the target.
type VerifyFlags struct {
	Target, Mock, Method string
	Headers, Throttle    []string
	Network              NetworkFlags
}

// Reported is the target a report was made against.
type Reported struct {
	Name, URL, Method string
	Mock              string // the embedded mock's spec; "" for a real target
}

// VerifyTarget is where a verification sends its demand.
type VerifyTarget struct {
	Scenario   *Scenario    // the target as a scenario, defaults applied and checked
	Mock       *mock.Config // the mock to start per policy; nil for a real target
	FromReport bool         // the target is the report's own URL
}

// ForVerify turns the flags, or else loaded (the scenario of --scenario,
// nil without one), or else the report's own target, into a checked
// target; nothing is sent. An error's lines are one problem each, in the
// flags' names.
func (f VerifyFlags) ForVerify(loaded *Scenario, rep Reported) (*VerifyTarget, error) {
	n := 0
	for _, given := range []bool{f.Target != "", f.Mock != "", loaded != nil} {
		if given {
			n++
		}
	}
	if n > 1 {
		return nil, errors.New("give one of --target, --mock and --scenario")
	}
	tg := &VerifyTarget{Scenario: loaded}
	spec := f.Mock
	if n == 0 {
		spec = rep.Mock
	}
	switch {
	case loaded != nil:
	case spec != "":
		m, err := MockSpec(spec)
		if err != nil {
			return nil, fmt.Errorf("mock: %w", err)
		}
		tg.Scenario = &Scenario{Name: "mock", Target: Target{Mock: m}}
	default:
		u := f.Target
		if u == "" {
			u, tg.FromReport = rep.URL, true
			if u == "" {
				return nil, errors.New("the report names no target URL; give --target URL, --mock SPEC or --scenario FILE")
			}
			if strings.Contains(u, "***") || strings.Contains(u, "${") {
				return nil, fmt.Errorf("the report's URL %s had its secrets removed; give --scenario FILE (its ${VAR}s come from the environment) or --target URL", u)
			}
		}
		tg.Scenario = &Scenario{Name: rep.Name, Target: Target{URL: u, Method: rep.Method}}
	}
	if err := f.apply(tg); err != nil {
		return nil, err
	}
	return tg, nil
}

// apply sets what the flags change of tg's target, applies the defaults
// and checks the result.
func (f VerifyFlags) apply(tg *VerifyTarget) error {
	sc := tg.Scenario
	t := &sc.Target
	if f.Method != "" {
		t.Method = strings.ToUpper(f.Method)
	}
	for _, h := range f.Headers {
		hd, err := HeaderFlag(h)
		if err != nil {
			return err
		}
		t.Headers = append(t.Headers, hd)
		sc.AddSecret(hd.Value.Reveal())
	}
	if len(f.Throttle) > 0 {
		t.ThrottleStatus = nil
		for _, s := range f.Throttle {
			n, err := ThrottleStatusFlag(s)
			if err != nil {
				return err
			}
			t.ThrottleStatus = append(t.ThrottleStatus, n)
		}
	}
	if t.Mock != nil {
		cfg, err := t.Mock.Config()
		if err != nil {
			return fmt.Errorf("mock: %w", err)
		}
		// What the mock throttles with counts as throttling, whatever else
		// the scenario lists, unless the flags said otherwise.
		if st := cmp.Or(cfg.ThrottleStatus, mock.DefaultThrottleStatus); len(f.Throttle) == 0 && !slices.Contains(t.ThrottleStatus, st) {
			t.ThrottleStatus = append(t.ThrottleStatus, st)
		}
		tg.Mock = &cfg
	}
	ApplyDefaults(sc)
	probs := f.Network.Apply(t)
	if probs = append(probs, CheckNamed(sc, verifyFlag)...); len(probs) > 0 {
		return probs
	}
	return nil
}

// verifyFlag names the flag of verify that sets a scenario key.
func verifyFlag(key string) string {
	switch {
	case key == "target.url":
		return "--target"
	case key == "target.method":
		return "-X"
	case strings.HasPrefix(key, "target.headers."):
		return "-H " + strings.TrimPrefix(key, "target.headers.")
	}
	return ProbeFlag(key)
}
