package estimate

import (
	"encoding/json"
	"errors"
	"os"
	"strings"

	"limitprobe/evidence"
	"limitprobe/headers"
)

// Recording is a run's evidence as a file keeps it, in JSON: what the
// estimator read, every request among it. Estimating a recording's Input
// reads the run again (TestRecordedRuns); the tests and the bench record
// the runs they get wrong.
type Recording struct {
	Steps         []evidence.Step
	Timeline      evidence.Timeline
	Requests      []evidence.Request
	Advertised    *headers.Advertised `json:",omitempty"`
	Quota         *evidence.Quota     `json:",omitempty"`
	Threshold     float64             `json:",omitempty"`
	MaxOfferedRPS float64             `json:",omitempty"`
	Precision     float64             `json:",omitempty"`
}

// Record is in's recording.
func Record(in Input) Recording {
	r := Recording{Steps: in.Steps, Timeline: in.Timeline, Advertised: in.Advertised, Quota: in.Quota,
		Threshold: in.Threshold, MaxOfferedRPS: in.MaxOfferedRPS, Precision: in.Precision}
	if in.Requests != nil {
		r.Requests = make([]evidence.Request, in.Requests.Len())
		for i := range r.Requests {
			r.Requests[i] = in.Requests.At(i)
		}
	}
	return r
}

// Input is what the recorded run gave the estimator. Recordings that
// predate the scenario's fields read with a threshold of 1% and a max of
// 4000/s.
func (r Recording) Input() Input {
	in := Input{Steps: r.Steps, Timeline: r.Timeline, Advertised: r.Advertised, Quota: r.Quota,
		Threshold: r.Threshold, MaxOfferedRPS: r.MaxOfferedRPS, Precision: r.Precision, Requests: Compact(r.Requests)}
	if in.Threshold == 0 {
		in.Threshold = 0.01
	}
	if in.MaxOfferedRPS == 0 {
		in.MaxOfferedRPS = 4000
	}
	return in
}

// Save writes the recording to a new file in dir (the system's temporary
// directory when ""), named after name, and returns the file's path and
// what it holds.
func (r Recording) Save(dir, name string) (string, []byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", nil, err
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, err
		}
	}
	safe := strings.Map(func(c rune) rune {
		if c == '/' || c == ' ' || c == '±' || c == '*' {
			return '-'
		}
		return c
	}, name)
	f, err := os.CreateTemp(dir, safe+"-*.json")
	if err != nil {
		return "", nil, err
	}
	_, err = f.Write(b)
	if err = errors.Join(err, f.Close()); err != nil {
		return "", nil, err
	}
	return f.Name(), b, nil
}

// Compact holds reqs as a run does.
func Compact(reqs []evidence.Request) *evidence.Requests {
	rs := &evidence.Requests{}
	for _, q := range reqs {
		rs.Add(q)
	}
	return rs
}
