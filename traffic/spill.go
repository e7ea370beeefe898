package traffic

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Spill keeps a stream of requests in a temporary file, so that it can be
// read again without parsing the traffic file again: about 8 bytes a
// request (varints of the gap from the previous request, the latency in
// microseconds, and the cost). Requests must come in time order.
type Spill struct {
	f    *os.File
	w    *bufio.Writer
	prev time.Duration
	n    int64
	err  error
}

// NewSpill creates an empty spill in dir ("" means the system's temporary
// directory).
func NewSpill(dir string) (*Spill, error) {
	f, err := os.CreateTemp(dir, "limitprobe-traffic-*.spill")
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	return &Spill{f: f, w: bufio.NewWriterSize(f, 1<<16)}, nil
}

// Write appends reqs, which must not be earlier than those before.
func (s *Spill) Write(reqs []Request) error {
	if s.err != nil {
		return s.err
	}
	var b [3 * binary.MaxVarintLen64]byte
	for _, q := range reqs {
		if q.At < s.prev {
			s.err = errors.New("spill: requests out of time order")
			return s.err
		}
		n := binary.PutUvarint(b[:], uint64(q.At-s.prev))
		n += binary.PutUvarint(b[n:], uint64(max(q.Latency, 0)/time.Microsecond))
		n += binary.PutUvarint(b[n:], uint64(max(q.Cost, 1)))
		if _, err := s.w.Write(b[:n]); err != nil {
			s.err = fmt.Errorf("spill: %w", err)
			return s.err
		}
		s.prev = q.At
		s.n++
	}
	return nil
}

// Len is the number of requests written.
func (s *Spill) Len() int64 { return s.n }

// Reader returns a Source of everything written so far, from the start.
// Each call returns a new, independent reader.
func (s *Spill) Reader() (Source, error) {
	if s.err != nil {
		return nil, s.err
	}
	if err := s.w.Flush(); err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	return &spillReader{r: bufio.NewReaderSize(io.NewSectionReader(s.f, 0, 1<<62), 1<<16), left: s.n}, nil
}

// Close removes the spill's file.
func (s *Spill) Close() error {
	err := s.f.Close()
	if rerr := os.Remove(s.f.Name()); err == nil {
		err = rerr
	}
	return err
}

// spillReader reads a spill back.
type spillReader struct {
	r    *bufio.Reader
	at   time.Duration
	left int64
}

func (r *spillReader) Read(buf []Request) (int, error) {
	n := 0
	for n < len(buf) && r.left > 0 {
		var v [3]uint64 // the gap, the latency, the cost
		for i := range v {
			var err error
			if v[i], err = binary.ReadUvarint(r.r); err != nil {
				return n, fmt.Errorf("spill: %w", err)
			}
		}
		r.at += time.Duration(v[0])
		buf[n] = Request{At: r.at, Latency: time.Duration(v[1]) * time.Microsecond, Cost: int(v[2])}
		n++
		r.left--
	}
	if n == 0 && r.left == 0 {
		return 0, io.EOF
	}
	return n, nil
}
