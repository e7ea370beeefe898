package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"limitprobe/scenarios"
	"limitprobe/units"
)

// WritePlan writes the dry run of a scenario: its steps, the highest rate,
// the most requests and time, and the caps that bound them.
func WritePlan(w io.Writer, sc *scenarios.Scenario, pl scenarios.Plan) error {
	fmt.Fprintf(w, "scenario %s: %s %s, strategy %s\n", sc.Name, sc.Target.Method, sc.DisplayURL(), pl.Strategy)
	if pl.Adaptive {
		fmt.Fprintln(w, "auto chooses its steps from what it sees; the steps below are its worst case")
	}
	t := newTable(w, "step", "phase", "offered", "workers", "duration", "≤ requests")
	for _, st := range pl.Steps {
		rate := "—"
		switch {
		case st.Concurrency > 0:
		case st.StartRate != st.Rate:
			rate = units.FormatRate(float64(st.StartRate)) + "→" + units.FormatRate(float64(st.Rate))
		default:
			rate = units.FormatRate(float64(st.Rate))
		}
		workers, reqs := "—", "by caps"
		if st.Concurrency > 0 {
			workers = strconv.Itoa(st.Concurrency)
		}
		if st.Requests >= 0 {
			reqs = strconv.Itoa(st.Requests)
		}
		dur := roundDur(st.Duration)
		if st.Truncated {
			dur += " (cut)"
		}
		if err := t.Append([]string{strconv.Itoa(st.Index + 1), st.Phase, rate, workers, dur, reqs}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	l := sc.Limits
	if pl.MaxRate > 0 {
		fmt.Fprintf(w, "max rate:    %s (cap limits.max_rate %s)\n", units.FormatRate(float64(pl.MaxRate)), units.FormatRate(float64(l.MaxRate)))
	}
	fmt.Fprintf(w, "requests:    at most %d (cap limits.max_requests %d)\n", pl.Requests, l.MaxRequests)
	fmt.Fprintf(w, "time:        %s with the shortest cooldowns, at most %s (cap limits.max_duration %s)\n",
		roundDur(pl.Duration), roundDur(pl.MaxTime), roundDur(l.MaxDuration))
	fmt.Fprintf(w, "cooldown:    %s between steps\n", pl.Cooldown)
	for i, l := range wrap(quotaPlanText(sc, pl), textWidth-13) {
		fmt.Fprintf(w, "%-13s%s\n", map[bool]string{true: "quota:"}[i == 0], l)
	}
	if len(pl.CappedBy) > 0 {
		fmt.Fprintf(w, "cut by:      %s\n", strings.Join(pl.CappedBy, ", "))
	}
	_, err := fmt.Fprintln(w, "nothing was sent (dry run)")
	return err
}

// roundDur prints a duration without spurious precision.
func roundDur(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

// quotaPlanText says what a window quota (minutes to days) costs the
// strategy: checking an advertised one, finding one nothing advertises,
// measuring one outright.
func quotaPlanText(sc *scenarios.Scenario, pl scenarios.Plan) string {
	share := units.PercentWhole(sc.Limits.MaxQuotaShare)
	switch pl.Strategy {
	case scenarios.StrategyAuto:
		return fmt.Sprintf("an advertised window quota is read from the headers first and checked with a few requests, never more than %s of it "+
			"(limits.max_quota_share); one nothing advertises costs the quota itself to find, and timing its window spends a second one "+
			"only when that share is 100%%", share)
	case scenarios.StrategyQuota:
		s := "measuring a window quota outright costs the quota plus one reset (the wait until it reopens; a quota nothing advertises is spent twice to time its window)"
		if sc.Limits.MaxQuotaShare < 1 {
			return s + fmt.Sprintf("; limits.max_quota_share is %s, so an advertised quota is only checked with that share: write 100%% to allow it", share)
		}
		return s + "; limits.max_quota_share 100% allows it"
	}
	return "these steps ramp through a window quota and spend it; auto and quota read an advertised one first"
}
