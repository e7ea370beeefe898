// Package traffic reads the request traffic a team already has — a file of
// timestamps, CSV with a named time column, JSON lines, an nginx or Apache
// access log, or vegeta's results — as one stream of requests in time
// order, for package simulate to replay against a limiter.
//
// The format is told by content (Detect). Reading streams: memory depends
// on how many requests arrive within a few seconds, never on the length of
// the file. A malformed line is an error naming its file and line.
//
// Two things make a file's times fit for replaying. A file whose times are
// written to the whole second (access logs always; other files when none
// of their first WholeSecondLines times has a fraction) has each second's
// requests spread over it at random, from a seed taken from the second
// itself so that runs repeat: a limiter that spaces requests would refuse a
// whole second's requests stamped at one instant. And lines slightly out of
// order (vegeta writes results as they complete) are put back in order
// within Horizon; a line older than that is replayed at the time of the
// last request already passed on, and counted in Stats.Late.
package traffic

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"
)

// Request is one request of the traffic.
type Request struct {
	// At is when the request arrived, as Unix time: nanoseconds since
	// 1970-01-01 UTC (the clock package limiter aligns windows to).
	At time.Duration
	// Latency is how long the request took; 0 when the traffic does not
	// say.
	Latency time.Duration
	// Cost is how many requests this one counts as against a limit, at
	// least 1: a line "2024-05-01T12:00:00Z 3" is three requests at once.
	Cost int
}

// MaxCost bounds a line's cost: a larger one is surely a typo or another
// column.
const MaxCost = 1_000_000

// Horizon is how far out of order lines may be and still be put back in
// order.
const Horizon = 30 * time.Second

// WholeSecondLines is how many times without a fraction, and none with one,
// make a file's times whole seconds.
const WholeSecondLines = 1000

// Source is a stream of requests in time order: Read fills buf from the
// start and returns how many it filled, with io.EOF (and n = 0) once the
// stream is over. Reader and a Spill's readers are sources.
type Source interface {
	Read(buf []Request) (n int, err error)
}

// LineError is a malformed line (or, in vegeta's binary results, record)
// of a traffic file.
type LineError struct {
	File   string
	Line   int64 // from 1
	Record bool  // Line counts records of a binary file, not lines
	Err    error
}

// Error returns "file:line: reason" ("file: record N: reason" for records).
func (e *LineError) Error() string {
	if e.Record {
		return fmt.Sprintf("%s: record %d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

// Unwrap returns the reason.
func (e *LineError) Unwrap() error { return e.Err }

// Stats describe what a Reader read so far.
type Stats struct {
	// Lines is how many requests (lines or records) were read, before
	// their costs are counted.
	Lines int64
	// Spread counts the requests whose times were written to the whole
	// second and spread over it.
	Spread int64
	// Late counts the requests that came more than Horizon out of order
	// and were replayed at the time of the request before them; MaxLate is
	// how far out of order the worst of them was.
	Late    int64
	MaxLate time.Duration
	// Latencies counts the requests that carried a latency.
	Latencies int64
}

// Reader reads a traffic file as a Source.
type Reader struct {
	format Format
	p      parser
	res    resolution
	held   []Request // read while the resolution is unknown
	sp     spreader
	ord    order
	stats  Stats
	eof    bool
}

// resolution is what a file's times are written to.
type resolution int

const (
	unknown     resolution = iota
	wholeSecond            // spread each second's requests over it
	fine                   // replay the times as written
)

// parser yields the requests of one format in file order.
type parser interface {
	// next returns the next request and whether its time was written to
	// the whole second; io.EOF at the end; a *LineError for a bad line.
	next() (q Request, whole bool, err error)
}

// NewReader detects the format of r (see Detect) and returns a reader of
// its requests. name is how errors refer to the file.
func NewReader(r io.Reader, name string) (*Reader, error) {
	br := bufio.NewReaderSize(r, sniffSize)
	f, err := Detect(br, name)
	if err != nil {
		return nil, err
	}
	p, err := newParser(f, br, name)
	if err != nil {
		return nil, err
	}
	rd := &Reader{format: f, p: p, ord: order{horizon: Horizon}}
	switch f {
	case AccessLog:
		rd.res = wholeSecond
	case VegetaBinary, VegetaJSON, VegetaCSV:
		rd.res = fine
	}
	return rd, nil
}

// Format is the format NewReader detected.
func (r *Reader) Format() Format { return r.format }

// Stats returns what was read so far; after io.EOF, of the whole file.
func (r *Reader) Stats() Stats {
	s := r.stats
	s.Late, s.MaxLate = r.ord.late, r.ord.maxLate
	return s
}

// Read fills buf with the next requests in time order.
func (r *Reader) Read(buf []Request) (int, error) {
	n := 0
	for n < len(buf) {
		if q, ok := r.ord.pop(r.eof); ok {
			buf[n] = q
			n++
			continue
		}
		if r.eof {
			break
		}
		q, whole, err := r.p.next()
		switch {
		case errors.Is(err, io.EOF):
			r.eof = true
			if r.res == unknown {
				r.settle(wholeSecond)
			}
			r.sp.flush(&r.ord)
			continue
		case err != nil:
			return n, err
		}
		r.stats.Lines++
		if q.Latency > 0 {
			r.stats.Latencies++
		}
		r.add(q, whole)
	}
	if n == 0 && r.eof {
		return 0, io.EOF
	}
	return n, nil
}

// add passes q on, spread over its second when the file's times are whole
// seconds; while that is unknown, q is held.
func (r *Reader) add(q Request, whole bool) {
	switch {
	case r.res == unknown && !whole:
		r.settle(fine)
	case r.res == unknown:
		r.held = append(r.held, q)
		if len(r.held) >= WholeSecondLines {
			r.settle(wholeSecond)
		}
		return
	}
	spread := r.res == wholeSecond && whole
	if spread {
		r.stats.Spread++
	}
	r.sp.add(q, spread, &r.ord)
}

// settle fixes the resolution and passes on what was held.
func (r *Reader) settle(res resolution) {
	r.res = res
	held := r.held
	r.held = nil
	for _, q := range held {
		r.add(q, true)
	}
}

// ReadAll reads src to the end, for tests and small files.
func ReadAll(src Source) ([]Request, error) {
	var all []Request
	buf := make([]Request, 4096)
	for {
		n, err := src.Read(buf)
		all = append(all, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return all, nil
		}
		if err != nil {
			return all, err
		}
	}
}
