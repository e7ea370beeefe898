package traffic

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// csvTable reads CSV with a header line: the time from the first column
// named in timeNames, the latency from a column named in latencyNames, the
// cost from one named in costNames. vegeta's CSV results have no header:
// Unix nanoseconds, status, latency in nanoseconds, and nine more fields.
type csvTable struct {
	r      *csv.Reader
	name   string
	vegeta bool
	time   int // column indexes; −1 when absent
	lat    int
	unit   time.Duration // of the latency column; 0: a Go duration
	latCol string
	cost   int
}

func newCSV(br *bufio.Reader, name string, vegeta bool) (*csvTable, error) {
	head, _ := br.Peek(sniffSize)
	line, _ := firstLine(head)
	sep := ','
	if !vegeta {
		sep = csvSeparator(line)
	}
	r := csv.NewReader(br)
	r.Comma, r.Comment = sep, '#'
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	r.TrimLeadingSpace = true
	r.LazyQuotes = true
	p := &csvTable{r: r, name: name, vegeta: vegeta, time: 0, lat: 2, cost: -1}
	if vegeta {
		return p, nil
	}
	rec, err := r.Read()
	if err != nil {
		return nil, p.lineErr(err)
	}
	cols := make([]string, len(rec))
	for i, c := range rec {
		cols[i] = strings.ToLower(strings.TrimSpace(c))
	}
	p.time, p.lat, p.cost = index(cols, timeNames), -1, index(cols, costNames)
	if p.time < 0 {
		line, _ := r.FieldPos(0)
		return nil, &LineError{File: name, Line: int64(line), Err: fmt.Errorf("the header names no time column; name one %s", strings.Join(timeNames, ", "))}
	}
	for _, l := range latencyNames {
		if i := index(cols, []string{l.name}); i >= 0 {
			p.lat, p.unit, p.latCol = i, l.unit, l.name
			break
		}
	}
	return p, nil
}

func (p *csvTable) next() (Request, bool, error) {
	rec, err := p.r.Read()
	if errors.Is(err, io.EOF) {
		return Request{}, false, io.EOF
	}
	if err != nil {
		return Request{}, false, p.lineErr(err)
	}
	line, _ := p.r.FieldPos(0)
	bad := func(err error) (Request, bool, error) {
		return Request{}, false, &LineError{File: p.name, Line: int64(line), Err: err}
	}
	field := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	if p.vegeta {
		return p.vegetaRecord(rec, bad)
	}
	if p.time >= len(rec) {
		return bad(fmt.Errorf("%d fields, but the time is column %d", len(rec), p.time+1))
	}
	ns, whole, err := parseTime(field(p.time))
	if err != nil {
		return bad(err)
	}
	q := Request{At: time.Duration(ns), Cost: 1}
	if s := field(p.lat); s != "" {
		if q.Latency, err = parseLatency(s, p.unit, p.latCol); err != nil {
			return bad(err)
		}
	}
	if s := field(p.cost); s != "" {
		if q.Cost, err = parseCost(s); err != nil {
			return bad(err)
		}
	}
	return q, whole, nil
}

// vegetaRecord reads one of vegeta's CSV results.
func (p *csvTable) vegetaRecord(rec []string, bad func(error) (Request, bool, error)) (Request, bool, error) {
	if len(rec) < 3 {
		return bad(fmt.Errorf("%d fields; vegeta's CSV results have 12", len(rec)))
	}
	ns, err := strconv.ParseInt(rec[0], 10, 64)
	if err != nil || ns <= 0 {
		return bad(fmt.Errorf("timestamp %q is not Unix nanoseconds", rec[0]))
	}
	lat, err := strconv.ParseInt(rec[2], 10, 64)
	if err != nil || lat < 0 {
		return bad(fmt.Errorf("latency %q is not whole nanoseconds", rec[2]))
	}
	return Request{At: time.Duration(ns), Latency: time.Duration(lat), Cost: 1}, false, nil
}

// lineErr turns encoding/csv's error into a LineError.
func (p *csvTable) lineErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &LineError{File: p.name, Line: int64(pe.Line), Err: pe.Err}
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: no header line", p.name)
	}
	return fmt.Errorf("%s: %w", p.name, err)
}

// csvSeparator is the separator of a CSV header line: a comma, else a tab,
// else a semicolon; 0 when it has none.
func csvSeparator(line string) rune {
	for _, c := range []rune{',', '\t', ';'} {
		if strings.ContainsRune(line, c) {
			return c
		}
	}
	return 0
}

// splitHeader splits a header line into lower-case names without quotes.
func splitHeader(line string, sep rune) []string {
	cols := strings.Split(line, string(sep))
	for i, c := range cols {
		cols[i] = strings.ToLower(strings.Trim(strings.TrimSpace(c), `"`))
	}
	return cols
}
