package traffic

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"time"
)

// vegetaBinary reads vegeta's results.bin, a gob stream of vegeta.Result
// values. Gob matches struct fields by name, so the two fields read here
// decode from vegeta's Result without importing vegeta (only package probe
// does).
type vegetaBinary struct {
	dec  *gob.Decoder
	name string
	n    int64
}

// vegetaResult is the part of vegeta.Result the traffic needs.
type vegetaResult struct {
	Timestamp time.Time
	Latency   time.Duration
}

func newVegetaBinary(r io.Reader, name string) *vegetaBinary {
	return &vegetaBinary{dec: gob.NewDecoder(r), name: name}
}

func (p *vegetaBinary) next() (Request, bool, error) {
	var res vegetaResult // gob leaves absent (zero) fields alone: start from zero
	p.n++
	err := p.dec.Decode(&res)
	switch {
	case errors.Is(err, io.EOF) && p.n == 1:
		// Detect saw bytes, but gob found no result in them.
		return Request{}, false, &LineError{File: p.name, Line: p.n, Record: true, Err: errors.New("not vegeta's binary results (results.bin): no result in it")}
	case errors.Is(err, io.EOF):
		return Request{}, false, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Request{}, false, &LineError{File: p.name, Line: p.n, Record: true, Err: errors.New("the file ends inside a result; was it cut short?")}
	case err != nil:
		return Request{}, false, &LineError{File: p.name, Line: p.n, Record: true, Err: fmt.Errorf("not vegeta's binary results (results.bin): %w", err)}
	}
	ns, ok := unixNano(res.Timestamp)
	if !ok {
		return Request{}, false, &LineError{File: p.name, Line: p.n, Record: true, Err: errors.New("a result without a timestamp between 1970 and 2262")}
	}
	return Request{At: time.Duration(ns), Latency: max(res.Latency, 0), Cost: 1}, false, nil
}
