package verify

import (
	"math"
	"slices"
	"time"

	"limitprobe/evidence"
)

// summarize turns the records of one policy's run into its result. Pending
// and canceled requests (an interrupt) are not counted. wall is how long
// the run took. It is a pure function.
func summarize(p Policy, recs []record, d Demand, wall time.Duration) PolicyResult {
	res := PolicyResult{Name: p.Name, Settings: p.Settings, MaxInFlight: p.MaxInFlight, WallS: wall.Seconds()}
	n := d.clients()
	perReq := make([]int64, n)
	perOK := make([]int64, n)
	var e2e, added []float64
	var first, inWindow int64
	var sending time.Duration
	for _, r := range recs {
		if r.fate == fatePending || r.fate == fateCanceled {
			continue
		}
		res.Requests++
		res.Attempts += int64(r.attempts)
		res.Throttled += int64(r.throttled)
		sending += r.sending
		if r.attempts > 0 {
			first++
		}
		if r.client >= 0 && r.client < n {
			perReq[r.client]++
		}
		switch r.fate {
		case fateOK:
			res.Succeeded++
			if r.client >= 0 && r.client < n {
				perOK[r.client]++
			}
			e2e = append(e2e, ms(r.done-r.arrival))
			added = append(added, ms(max(r.lastStart-r.arrival, 0)))
			if r.done <= d.Duration {
				inWindow++
			}
		case fateShed:
			res.Shed++
		case fateGaveUp:
			res.GaveUp++
		case fateError:
			res.Errors++
		}
	}
	if res.Requests > 0 {
		q := float64(res.Requests)
		res.SuccessRatio = float64(res.Succeeded) / q
		res.ThrottledPerRequest = float64(res.Throttled) / q
		res.RetriesPerRequest = float64(res.Attempts-first) / q
	}
	if res.Attempts > 0 {
		res.AttemptMS = round1(ms(sending) / float64(res.Attempts))
	}
	if sent := res.Requests - res.Shed; sent > 0 {
		res.SentSuccessRatio = float64(res.Succeeded) / float64(sent)
	}
	res.LatencyMS = quantiles(e2e)
	res.AddedLatencyMS = quantiles(added)
	if d.Duration > 0 {
		res.GoodputRPS = float64(inWindow) / d.Duration.Seconds()
	}
	if d.RPS > 0 {
		res.DemandMet = min(res.GoodputRPS/d.RPS, 1)
	}
	var shares []float64
	for c := range perReq {
		if perReq[c] > 0 {
			shares = append(shares, float64(perOK[c])/float64(perReq[c]))
		}
	}
	res.Fairness = Jain(shares)
	if len(shares) > 0 {
		res.WorstClientSuccess = slices.Min(shares)
	}
	return res
}

// Jain returns Jain's fairness index of xs, (Σx)² ÷ (n·Σx²): 1 when every
// x is equal, 1/n when one x has everything. It is 1 for no values or all
// zeros (nobody got more than anybody else).
func Jain(xs []float64) float64 {
	var sum, sq float64
	for _, x := range xs {
		sum += x
		sq += x * x
	}
	if len(xs) == 0 || sq == 0 {
		return 1
	}
	return sum * sum / (float64(len(xs)) * sq)
}

// quantiles returns the nearest-rank p50, p95, p99 and max of xs.
func quantiles(xs []float64) evidence.Latency {
	if len(xs) == 0 {
		return evidence.Latency{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return evidence.Latency{P50: round1(at(0.50)), P95: round1(at(0.95)), P99: round1(at(0.99)), Max: round1(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func round1(x float64) float64 { return math.Round(x*10) / 10 }
