package simulate

import (
	"fmt"

	"limitprobe/estimate"
	"limitprobe/limiter"
	"limitprobe/traffic"
	"limitprobe/units"
)

// notes say what the replay assumed.
func notes(sim *Simulation, m estimate.Model, lat latencies, opt Options) []string {
	t := sim.Traffic
	out := []string{"Each request reaches the limiter at the time the traffic gives it; network delay is left out."}
	if t.Requests > t.Lines {
		out = append(out, fmt.Sprintf("Lines with a cost count as that many requests at once: %d lines are %d requests.", t.Lines, t.Requests))
	}
	if t.Spread > 0 {
		out = append(out, fmt.Sprintf("%d requests were written to the whole second; each second's were spread over it at random (seeded by the second, so runs repeat).", t.Spread))
	}
	if t.Late > 0 {
		out = append(out, fmt.Sprintf("%d lines came more than %s out of order (the worst by %s) and were replayed at the time of the request before them.",
			t.Late, units.Seconds(traffic.Horizon.Seconds()), units.Seconds(t.MaxLateS)))
	}
	if inFlight(m, sim.Client) {
		switch {
		case t.WithLatency == t.Lines:
			out = append(out, "Requests stay in flight for the latency the traffic gives them.")
		case lat.def > 0:
			out = append(out, fmt.Sprintf("Requests stay in flight for the latency the traffic gives them; the %d lines without one take the report's %s.",
				t.Lines-t.WithLatency, units.Seconds(lat.def.Seconds())))
		default:
			out = append(out, "Neither the traffic nor the report gives a latency: requests leave at once, and a cap on requests in flight limits nothing.")
		}
	}
	if len(sim.Ends) > 1 {
		out = append(out, "The optimistic and pessimistic ends are the measured limiter moved to the ends of the report's band "+
			fmt.Sprintf("(%s–%s) by %s.", units.RateOrDash(sim.Report.Band.Low), units.RateOrDash(sim.Report.Band.High), bandScaling(m.Kind)))
	}
	if sim.Client != nil {
		out = append(out, fmt.Sprintf("The client limiter sends requests first in, first out; one that would wait more than %s is shed: not sent, and counted apart.",
			units.Seconds(opt.Deadline.Seconds())))
	}
	if sim.Batch != nil {
		out = append(out, fmt.Sprintf("Batching merges %d requests to one, which leaves when full or %s after its first request arrived; a batch counts once against the limit, and its delay (and deadline) runs from its first request.",
			sim.Batch.Size, units.Seconds(sim.Batch.WaitS)))
	}
	if sim.SmallestLimit != nil {
		out = append(out, "The smallest limit scales "+capacityScaling(m.Kind)+" and replays the traffic behind the client limiter a report of that limit would recommend: nothing refused and nothing shed.")
	}
	return out
}

// inFlight reports whether the replay counts requests in flight.
func inFlight(m estimate.Model, c *Client) bool {
	return m.Kind == limiter.Concurrency || c != nil && c.MaxConcurrency > 0
}

// bandScaling says which parameter atRate moves, in words.
func bandScaling(k limiter.Kind) string {
	switch k {
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter, limiter.Lockout:
		return "the window's length (its limit is counted exactly)"
	case limiter.Concurrency:
		return "the service time (the cap is counted exactly), and every request's latency with it"
	}
	return "its rate"
}

// capacityScaling says which parameter withCapacity moves, in words.
func capacityScaling(k limiter.Kind) string {
	switch k {
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter, limiter.Lockout:
		return "the window's limit (its length stays)"
	case limiter.Concurrency:
		return "the cap on requests in flight"
	}
	return "the rate (the burst stays)"
}
