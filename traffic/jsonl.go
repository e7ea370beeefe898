package traffic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// jsonLines reads one JSON object a line. The time is the first of
// timeNames present, a string (RFC 3339 or Unix) or a number (Unix); the
// latency and cost are read as in CSV. vegeta's JSON results are the same
// with the latency in nanoseconds.
type jsonLines struct {
	lines
	vegeta bool
	obj    map[string]json.RawMessage
}

func (p *jsonLines) next() (Request, bool, error) {
	line, err := p.lines.next()
	if err != nil {
		return Request{}, false, err
	}
	if p.obj == nil {
		p.obj = map[string]json.RawMessage{}
	}
	clear(p.obj)
	if err := json.Unmarshal(line, &p.obj); err != nil {
		return Request{}, false, p.errorf("not a JSON object: %v", err)
	}
	var lower map[string]string // lower-cased keys, built when a name is not found as written
	get := func(names []string) (string, json.RawMessage) {
		for _, n := range names {
			if v, ok := p.obj[n]; ok && !bytes.Equal(v, []byte("null")) {
				return n, v
			}
		}
		if lower == nil {
			lower = make(map[string]string, len(p.obj))
			for k := range p.obj {
				lower[strings.ToLower(k)] = k
			}
		}
		for _, n := range names {
			if k, ok := lower[n]; ok && !bytes.Equal(p.obj[k], []byte("null")) {
				return n, p.obj[k]
			}
		}
		return "", nil
	}
	name, raw := get(timeNames)
	if raw == nil {
		return Request{}, false, p.errorf("no time key; name it one of %s", strings.Join(timeNames, ", "))
	}
	ns, whole, err := parseTime(jsonText(raw))
	if err != nil {
		return Request{}, false, p.wrap(fmt.Errorf("%s: %w", name, err))
	}
	q := Request{At: time.Duration(ns), Cost: 1}
	if p.vegeta {
		if q.Latency, err = vegetaLatency(p.obj["latency"]); err != nil {
			return Request{}, false, p.wrap(err)
		}
		return q, whole, nil
	}
	for _, l := range latencyNames {
		if _, raw := get([]string{l.name}); raw != nil {
			if l.unit == 0 && raw[0] != '"' {
				return Request{}, false, p.errorf("%s %s has no unit; write for example \"120ms\", or name the key %s_ms or %s_s", l.name, raw, l.name, l.name)
			}
			if q.Latency, err = parseLatency(jsonText(raw), l.unit, l.name); err != nil {
				return Request{}, false, p.wrap(err)
			}
			break
		}
	}
	if _, raw := get(costNames); raw != nil {
		if q.Cost, err = parseCost(jsonText(raw)); err != nil {
			return Request{}, false, p.wrap(err)
		}
	}
	return q, whole, nil
}

// jsonText is a JSON string's text, or a number's digits.
func jsonText(raw json.RawMessage) string {
	if len(raw) >= 2 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// vegetaLatency reads vegeta's latency, integer nanoseconds.
func vegetaLatency(raw json.RawMessage) (time.Duration, error) {
	if raw == nil {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("latency %s is not whole nanoseconds", raw)
	}
	return time.Duration(n), nil
}

// isVegetaJSON reports whether line is one of vegeta's JSON results.
func isVegetaJSON(line string) bool {
	var r struct {
		Attack    *string         `json:"attack"`
		Seq       *uint64         `json:"seq"`
		Timestamp json.RawMessage `json:"timestamp"`
		Latency   *int64          `json:"latency"`
	}
	return json.Unmarshal([]byte(line), &r) == nil && r.Attack != nil && r.Seq != nil && r.Timestamp != nil && r.Latency != nil
}
