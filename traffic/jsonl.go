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
	obj    object
}

// object is one line's keys, with lower-cased keys made when a name is
// not found as written.
type object struct {
	keys  map[string]json.RawMessage
	lower map[string]string
}

// get returns the first of names present and not null, and its value.
func (o *object) get(names ...string) (string, json.RawMessage) {
	for _, n := range names {
		if v, ok := o.keys[n]; ok && !bytes.Equal(v, []byte("null")) {
			return n, v
		}
	}
	if o.lower == nil {
		o.lower = make(map[string]string, len(o.keys))
		for k := range o.keys {
			o.lower[strings.ToLower(k)] = k
		}
	}
	for _, n := range names {
		if k, ok := o.lower[n]; ok && !bytes.Equal(o.keys[k], []byte("null")) {
			return n, o.keys[k]
		}
	}
	return "", nil
}

func (p *jsonLines) next() (Request, bool, error) {
	line, err := p.lines.next()
	if err != nil {
		return Request{}, false, err
	}
	o := &p.obj
	if o.keys == nil {
		o.keys = map[string]json.RawMessage{}
	}
	clear(o.keys)
	o.lower = nil
	if err := json.Unmarshal(line, &o.keys); err != nil {
		return Request{}, false, p.errorf("not a JSON object: %v", err)
	}
	name, raw := o.get(timeNames...)
	if raw == nil {
		return Request{}, false, p.errorf("no time key; name it one of %s", strings.Join(timeNames, ", "))
	}
	ns, whole, err := parseTime(jsonText(raw))
	if err != nil {
		return Request{}, false, p.wrap(fmt.Errorf("%s: %w", name, err))
	}
	q := Request{At: time.Duration(ns), Cost: 1}
	if p.vegeta {
		q.Latency, err = vegetaLatency(o.keys["latency"])
	} else {
		q.Latency, q.Cost, err = latencyAndCost(o)
	}
	if err != nil {
		return Request{}, false, p.wrap(err)
	}
	return q, whole, nil
}

// latencyAndCost reads the latency and the cost of a line, as CSV reads
// its columns; 0 and 1 when absent.
func latencyAndCost(o *object) (lat time.Duration, cost int, err error) {
	for _, l := range latencyNames {
		if _, raw := o.get(l.name); raw != nil {
			if l.unit == 0 && raw[0] != '"' {
				return 0, 0, fmt.Errorf("%s %s has no unit; write for example \"120ms\", or name the key %s_ms or %s_s", l.name, raw, l.name, l.name)
			}
			if lat, err = parseLatency(jsonText(raw), l.unit, l.name); err != nil {
				return 0, 0, err
			}
			break
		}
	}
	cost = 1
	if _, raw := o.get(costNames...); raw != nil {
		if cost, err = parseCost(jsonText(raw)); err != nil {
			return 0, 0, err
		}
	}
	return lat, cost, nil
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
