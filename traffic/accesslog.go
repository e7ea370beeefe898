package traffic

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// accessLog reads the common and combined log formats of nginx and Apache:
//
//	127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326 "-" "curl/8"
//
// The time is taken as the request's arrival (Apache logs when a request
// was received; nginx when it ended, so long requests read late by their
// duration). A last field after the quoted ones that is a decimal number,
// or rt=NUMBER, is nginx's $request_time: the latency in seconds.
type accessLog struct {
	lines
	lastStamp []byte // the last bracketed time, and its value: lines share seconds
	lastNS    int64
}

func (p *accessLog) next() (Request, bool, error) {
	line, err := p.lines.next()
	if err != nil {
		return Request{}, false, err
	}
	open := bytes.IndexByte(line, '[')
	end := bytes.IndexByte(line, ']')
	if open < 0 || end < open || !bytes.HasPrefix(line[end+1:], []byte(` "`)) {
		return Request{}, false, p.errorf("not an access log line in the common or combined format: %q", clip(string(line)))
	}
	stamp := line[open+1 : end]
	if !bytes.Equal(stamp, p.lastStamp) {
		ns, err := parseLogTime(string(stamp))
		if err != nil {
			return Request{}, false, p.wrap(err)
		}
		p.lastStamp, p.lastNS = append(p.lastStamp[:0], stamp...), ns
	}
	q := Request{At: time.Duration(p.lastNS), Cost: 1}
	q.Latency = requestTime(line[end+1:])
	return q, true, nil
}

// requestTime reads nginx's $request_time from the end of a log line;
// 0 when the line has none.
func requestTime(rest []byte) time.Duration {
	q := bytes.LastIndexByte(rest, '"')
	if q < 0 {
		return 0
	}
	last := bytes.TrimSpace(rest[q+1:])
	if i := bytes.LastIndexAny(last, " \t"); i >= 0 {
		last = last[i+1:]
	}
	if len(last) == 0 {
		return 0
	}
	s := string(last)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "rt="), "request_time=")
	if !strings.Contains(s, ".") {
		return 0 // a size or a status, not a time
	}
	sec, err := strconv.ParseFloat(s, 64)
	if err != nil || !(sec >= 0) || sec > 1e6 {
		return 0
	}
	return time.Duration(sec * float64(time.Second))
}

var months = map[string]time.Month{
	"Jan": time.January, "Feb": time.February, "Mar": time.March, "Apr": time.April, "May": time.May, "Jun": time.June,
	"Jul": time.July, "Aug": time.August, "Sep": time.September, "Oct": time.October, "Nov": time.November, "Dec": time.December,
}

// parseLogTime reads the common log format's time, 10/Oct/2000:13:55:36
// -0700, as nanoseconds since the epoch.
func parseLogTime(s string) (int64, error) {
	bad := fmt.Errorf("%q is not a log time such as 10/Oct/2000:13:55:36 -0700", s)
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return 0, bad
	}
	mon, ok := months[s[3:6]]
	if !ok {
		return 0, bad
	}
	num := func(a, b int) int {
		if !digits(s[a:b]) {
			ok = false
			return 0
		}
		n, _ := strconv.Atoi(s[a:b])
		return n
	}
	day, year, hh, mm, ss := num(0, 2), num(7, 11), num(12, 14), num(15, 17), num(18, 20)
	zh, zm := num(22, 24), num(24, 26)
	if !ok || (s[21] != '+' && s[21] != '-') || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 59 || year < 1970 {
		return 0, bad
	}
	off := (zh*60 + zm) * 60
	if s[21] == '-' {
		off = -off
	}
	t := time.Date(year, mon, day, hh, mm, ss, 0, time.UTC)
	if t.Day() != day {
		return 0, fmt.Errorf("%q is not a date: %s has no day %d", s, mon, day)
	}
	ns, ok := unixNano(t.Add(-time.Duration(off) * time.Second))
	if !ok {
		return 0, fmt.Errorf("%q is not between 1970 and 2262", s)
	}
	return ns, nil
}

// isAccessLog reports whether line looks like the common log format: three
// fields, a bracketed time, a quoted request.
func isAccessLog(line string) bool {
	f := strings.SplitN(line, " ", 4)
	if len(f) < 4 || !strings.HasPrefix(f[3], "[") {
		return false
	}
	end := strings.IndexByte(f[3], ']')
	if end < 0 || !strings.HasPrefix(f[3][end+1:], ` "`) {
		return false
	}
	_, err := parseLogTime(f[3][1:end])
	return err == nil
}
