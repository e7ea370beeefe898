package traffic

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Format is a kind of traffic file.
type Format string

// The formats Detect tells apart.
const (
	// Timestamps is one time a line, RFC 3339 or Unix seconds, optionally
	// followed by a cost (after a space, tab or comma).
	Timestamps Format = "timestamps"
	// CSV is comma-, tab- or semicolon-separated values with a header line
	// naming a time column (and optionally latency and cost columns).
	CSV Format = "csv"
	// JSONLines is one JSON object a line with a time key (and optionally
	// latency and cost keys).
	JSONLines Format = "json-lines"
	// AccessLog is an nginx or Apache access log in the common or combined
	// format, optionally followed by nginx's $request_time in seconds.
	AccessLog Format = "access-log"
	// VegetaBinary, VegetaJSON and VegetaCSV are vegeta's results
	// (results.bin, vegeta encode --to json, --to csv); limitprobe's own
	// results.bin is the first.
	VegetaBinary Format = "vegeta-results"
	VegetaJSON   Format = "vegeta-json"
	VegetaCSV    Format = "vegeta-csv"
)

// Formats lists the formats, for messages.
var Formats = []Format{Timestamps, CSV, JSONLines, AccessLog, VegetaBinary, VegetaJSON, VegetaCSV}

// sniffSize is how much of a file Detect looks at.
const sniffSize = 64 << 10

// Detect tells the format of br from its first bytes, which it peeks
// without consuming: binary content is vegeta's results.bin; otherwise the
// first line that is neither blank nor a # comment decides.
func Detect(br *bufio.Reader, name string) (Format, error) {
	head, err := br.Peek(sniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if len(head) == 0 {
		return "", fmt.Errorf("%s: the traffic file is empty", name)
	}
	probe := head[:min(len(head), 512)]
	if bytes.IndexByte(probe, 0) >= 0 || !utf8.Valid(trimPartialRune(probe, len(head) > 512)) {
		return VegetaBinary, nil
	}
	line, n := firstLine(head)
	if line == "" {
		return "", fmt.Errorf("%s: no request in the first %d KB, only blank lines and # comments", name, sniffSize>>10)
	}
	if f, ok := detectLine(line); ok {
		return f, nil
	}
	return "", &LineError{File: name, Line: n, Err: fmt.Errorf("cannot tell the format from %q; write one time a line (RFC 3339 or Unix seconds), CSV with a header naming a time column (%s), JSON lines with a time key, an access log in the common or combined format, or vegeta's results", clip(line), strings.Join(timeNames, ", "))}
}

// detectLine tells a text format from its first line.
func detectLine(line string) (Format, bool) {
	switch {
	case line[0] == '{':
		if isVegetaJSON(line) {
			return VegetaJSON, true
		}
		return JSONLines, true
	case isAccessLog(line):
		return AccessLog, true
	}
	if sep := csvSeparator(line); sep != 0 {
		cols := splitHeader(line, sep)
		switch {
		case sep == ',' && len(cols) == 12 && len(cols[0]) >= 16 && digits(cols[0]):
			return VegetaCSV, true
		case index(cols, timeNames) >= 0:
			return CSV, true
		}
	}
	if _, _, err := parseTime(firstField(line)); err == nil {
		return Timestamps, true
	}
	return "", false
}

// firstLine returns the first line of head that is neither blank nor a #
// comment, trimmed, and its number.
func firstLine(head []byte) (string, int64) {
	var n int64
	for len(head) > 0 {
		n++
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		s := strings.TrimSpace(string(line))
		if s != "" && s[0] != '#' {
			return s, n
		}
	}
	return "", n
}

// trimPartialRune drops a rune cut off at the end of a prefix.
func trimPartialRune(b []byte, cut bool) []byte {
	if !cut {
		return b
	}
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size > 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}

// clip shortens a line for a message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// firstField is s up to its first space, tab or comma.
func firstField(s string) string {
	if i := strings.IndexAny(s, " \t,"); i >= 0 {
		return s[:i]
	}
	return s
}
