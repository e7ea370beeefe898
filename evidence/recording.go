package evidence

// Recording is a run's evidence as a file keeps it: its steps, its
// timeline and every request, in JSON. The estimator reads a recorded run
// as it read the run (estimate's TestRecordedRuns); the tests and the
// bench record the runs they get wrong.
type Recording struct {
	Steps    []Step
	Timeline Timeline
	Requests []Request
}

// Record is the recording of a run's steps, timeline and requests.
func Record(steps []Step, tl Timeline, reqs *Requests) Recording {
	r := Recording{Steps: steps, Timeline: tl}
	if reqs != nil {
		r.Requests = make([]Request, reqs.Len())
		for i := range r.Requests {
			r.Requests[i] = reqs.At(i)
		}
	}
	return r
}

// Compact holds reqs as a run does.
func Compact(reqs []Request) *Requests {
	rs := &Requests{}
	for _, q := range reqs {
		rs.Add(q)
	}
	return rs
}
