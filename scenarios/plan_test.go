package scenarios

import (
	"testing"
	"time"
)

func TestMakePlan(t *testing.T) {
	base := func(mod func(*Scenario)) *Scenario {
		sc := &Scenario{Name: "p", Target: Target{URL: "http://127.0.0.1/"}}
		mod(sc)
		ApplyDefaults(sc)
		return sc
	}
	tests := []struct {
		name         string
		sc           *Scenario
		wantRates    []float64
		wantRequests int
		wantCapped   string
	}{
		{"factor 2", base(func(s *Scenario) {
			s.Probe = Probe{Strategy: StrategySteps, Start: 10, Max: 100, Step: 2 * time.Second}
		}),
			[]float64{10, 20, 40, 80, 100}, 500, ""},
		{"increment", base(func(s *Scenario) {
			s.Probe = Probe{Strategy: StrategySteps, Start: 10, Max: 30, Increment: 10, Step: time.Second}
		}), []float64{10, 20, 30}, 60, ""},
		{"factor 1.5 rounds to 3 digits", base(func(s *Scenario) {
			s.Probe = Probe{Strategy: StrategySteps, Start: 10, Max: 40, Factor: 1.5, Step: time.Second}
		}), []float64{10, 15, 22.5, 33.8, 40}, 10 + 15 + 23 + 34 + 40, ""},
		{"max_requests cuts", base(func(s *Scenario) {
			s.Probe = Probe{Strategy: StrategySteps, Start: 10, Max: 100, Step: 2 * time.Second}
			s.Limits.MaxRequests = 100
		}), []float64{10, 20, 40}, 100, "limits.max_requests"},
		{"max_duration cuts", base(func(s *Scenario) {
			s.Probe = Probe{Strategy: StrategySteps, Start: 10, Max: 100, Step: 2 * time.Second, Cooldown: time.Second}
			s.Limits.MaxDuration = 5 * time.Second
		}), []float64{10, 20}, 20 + 40, "limits.max_duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl := MakePlan(tt.sc)
			var rates []float64
			for _, st := range pl.Steps {
				rates = append(rates, float64(st.Rate))
			}
			if len(rates) != len(tt.wantRates) {
				t.Fatalf("rates %v, want %v", rates, tt.wantRates)
			}
			for i := range rates {
				if rates[i] != tt.wantRates[i] {
					t.Fatalf("rates %v, want %v", rates, tt.wantRates)
				}
			}
			if pl.Requests != tt.wantRequests {
				t.Errorf("requests %d, want %d", pl.Requests, tt.wantRequests)
			}
			if got := len(pl.CappedBy) > 0; got != (tt.wantCapped != "") || (got && pl.CappedBy[0] != tt.wantCapped) {
				t.Errorf("capped by %v, want %q", pl.CappedBy, tt.wantCapped)
			}
			if pl.Duration > tt.sc.Limits.MaxDuration || pl.Requests > tt.sc.Limits.MaxRequests {
				t.Errorf("plan %v/%d exceeds caps", pl.Duration, pl.Requests)
			}
		})
	}
}

func TestMakePlanConcurrencyAndQuota(t *testing.T) {
	sc := &Scenario{Target: Target{URL: "http://127.0.0.1/"}, Probe: Probe{Strategy: StrategyConcurrency, StartConcurrency: 1, MaxConcurrency: 12}}
	ApplyDefaults(sc)
	var workers []int
	for _, st := range MakePlan(sc).Steps {
		workers = append(workers, st.Concurrency)
	}
	if want := []int{1, 2, 4, 8, 12}; len(workers) != len(want) || workers[3] != 8 || workers[4] != 12 {
		t.Errorf("workers %v, want %v", workers, want)
	}
	q := &Scenario{Target: Target{URL: "https://api.example.com/"}, Probe: Probe{Strategy: StrategyQuota, Max: 5}, Limits: Limits{MaxRequests: 100}}
	ApplyDefaults(q)
	pl := MakePlan(q)
	if len(pl.Steps) != 1 || pl.Requests != 100 || pl.Steps[0].Duration != 20*time.Second {
		t.Errorf("quota plan %+v, want one 20s step of 100 requests", pl)
	}
}
