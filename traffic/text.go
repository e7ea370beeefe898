package traffic

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// newParser returns the parser of format f reading br.
func newParser(f Format, br *bufio.Reader, name string) (parser, error) {
	ls := lines{br: br, name: name}
	switch f {
	case Timestamps:
		return &timestamps{lines: ls}, nil
	case AccessLog:
		return &accessLog{lines: ls}, nil
	case JSONLines, VegetaJSON:
		return &jsonLines{lines: ls, vegeta: f == VegetaJSON}, nil
	case CSV, VegetaCSV:
		return newCSV(br, name, f == VegetaCSV)
	case VegetaBinary:
		return newVegetaBinary(br, name), nil
	}
	return nil, fmt.Errorf("%s: unknown format %q", name, f)
}

// maxLine bounds a line, so that a file without line breaks fails rather
// than fills memory.
const maxLine = 1 << 20

// lines reads a text file a line at a time, counting lines.
type lines struct {
	br   *bufio.Reader
	name string
	n    int64
	long []byte // a line longer than br's buffer, put together
}

// next returns the next line that is neither blank nor a # comment,
// trimmed of surrounding space; io.EOF at the end. The bytes are valid
// until the next call.
func (l *lines) next() ([]byte, error) {
	for {
		line, err := l.read()
		if err != nil {
			return nil, err
		}
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return line, nil
		}
	}
}

// read returns the next line without its line break.
func (l *lines) read() ([]byte, error) {
	line, err := l.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		l.long = append(l.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) && len(l.long) <= maxLine {
			line, err = l.br.ReadSlice('\n')
			l.long = append(l.long, line...)
		}
		line = l.long
		if len(line) > maxLine {
			l.n++
			return nil, l.errorf("line longer than %d MB; is this a traffic file?", maxLine>>20)
		}
	}
	if len(line) == 0 && errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", l.name, err)
	}
	l.n++
	return bytes.TrimSuffix(line, []byte{'\n'}), nil
}

// errorf is an error about the current line.
func (l *lines) errorf(format string, a ...any) error {
	return &LineError{File: l.name, Line: l.n, Err: fmt.Errorf(format, a...)}
}

// wrap is err about the current line.
func (l *lines) wrap(err error) error { return &LineError{File: l.name, Line: l.n, Err: err} }

// timestamps reads one time a line with an optional cost.
type timestamps struct{ lines }

func (p *timestamps) next() (Request, bool, error) {
	line, err := p.lines.next()
	if err != nil {
		return Request{}, false, err
	}
	s := string(line)
	ts, rest := s, ""
	if i := strings.IndexAny(s, " \t,"); i >= 0 {
		ts, rest = s[:i], strings.TrimLeft(s[i:], " \t,")
	}
	ns, whole, err := parseTime(ts)
	if err != nil {
		return Request{}, false, p.wrap(err)
	}
	q := Request{At: time.Duration(ns), Cost: 1}
	if rest != "" {
		if strings.ContainsAny(rest, " \t,") {
			return Request{}, false, p.errorf("%q has more than a time and a cost", clip(s))
		}
		if q.Cost, err = parseCost(rest); err != nil {
			return Request{}, false, p.wrap(err)
		}
	}
	return q, whole, nil
}
