package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"limitprobe/units"
)

// Formats Write accepts.
const (
	FormatTable    = "table"
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
	FormatHTML     = "html"
)

// Formats lists the formats Write accepts, in the order help shows them.
var Formats = []string{FormatTable, FormatJSON, FormatMarkdown, FormatHTML}

// ErrUnknownFormat is wrapped by the error of Write, WriteVerification and
// Compare when they are asked for a format they do not write: the caller's
// mistake, not a failed write.
var ErrUnknownFormat = errors.New("unknown format")

// RenderOptions tune Write.
type RenderOptions struct {
	// Color adds ANSI colours to the table format. The caller decides: on
	// a terminal, and only when NO_COLOR is unset. Other formats ignore it.
	Color bool
}

// Write renders rep in format: "table" (for a terminal, at most 100
// columns), "json" (the limitprobe.report/v1 document, indented), "markdown"
// (GitHub-flavoured, for a pull-request comment) or "html" (one
// self-contained file with inline CSS and SVG charts).
func Write(w io.Writer, rep *Report, format string, opt RenderOptions) error {
	if rep == nil {
		return fmt.Errorf("write report: no report")
	}
	return write(w, "report", format, rep, textFormats{
		FormatTable:    func(b *bufio.Writer) error { return writeTable(b, rep, opt) },
		FormatMarkdown: func(b *bufio.Writer) error { return writeMarkdown(b, rep) },
		FormatHTML:     func(b *bufio.Writer) error { return writeHTML(b, rep) },
	})
}

// textFormats writes one document in each format but JSON.
type textFormats map[string]func(*bufio.Writer) error

// write writes doc, named what in errors, in format: as indented JSON
// (every document's JSON is encoded here), or by text's writer for format.
// An unknown format is an error that wraps ErrUnknownFormat.
func write(w io.Writer, what, format string, doc any, text textFormats) error {
	var known []string
	for _, f := range Formats {
		if text[f] != nil || f == FormatJSON {
			known = append(known, f)
		}
	}
	if text[format] == nil && format != FormatJSON {
		return fmt.Errorf("write %s: %w %q; use one of %s", what, ErrUnknownFormat, format, strings.Join(known, ", "))
	}
	b := bufio.NewWriter(w)
	var err error
	if format == FormatJSON {
		enc := json.NewEncoder(b)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(doc)
	} else {
		err = text[format](b)
	}
	if ferr := b.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("write %s as %s: %w", what, format, err)
	}
	return nil
}

// The helpers below format numbers the same way in every format, stably
// (no locale, no exponent), so golden files do not drift.

// fmtDelay prints a delay given in milliseconds with a unit: "25 ms".
func fmtDelay(ms float64) string { return units.Seconds(ms / 1000) }

// fmtBand prints an interval of rates: "48.9–51.5/s"; "—" when empty.
func fmtBand(b bandLike) string {
	if b.High <= 0 {
		return "—"
	}
	lo, hi := units.RateOrDash(b.Low), units.RateOrDash(b.High)
	if b.Low <= 0 {
		lo = "0/s"
	}
	// "48.9/s–51.5/s" reads worse than "48.9–51.5/s" when the units agree.
	if strings.HasSuffix(lo, "/s") && strings.HasSuffix(hi, "/s") {
		return strings.TrimSuffix(lo, "/s") + "–" + hi
	}
	return lo + "–" + hi
}

// bandLike is estimate.Band by another name, so that fmtBand also serves the
// comparison's copies.
type bandLike struct{ Low, High float64 }

// fmtPrice prints a price: "0.6/h", "20/month".
func fmtPrice(p *Price) string {
	if p == nil {
		return "—"
	}
	per := p.PerS
	unit := ""
	switch per {
	case 1:
		unit = "s"
	case 60:
		unit = "min"
	case 3600:
		unit = "h"
	case 86400:
		unit = "day"
	case 730 * 3600:
		unit = "month"
	default:
		unit = units.SecondsOrDash(per)
	}
	return units.Num(p.Amount) + "/" + unit
}

// plural returns "1 request" or "3 requests".
func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.FormatInt(n, 10) + " " + word + "s"
}

// wrap breaks text into lines of at most width columns (counted in runes).
func wrap(text string, width int) []string {
	var lines []string
	var cur []rune
	for _, word := range strings.Fields(text) {
		wr := []rune(word)
		switch {
		case len(cur) == 0:
			cur = wr
		case len(cur)+1+len(wr) <= width:
			cur = append(append(cur, ' '), wr...)
		default:
			lines = append(lines, string(cur))
			cur = wr
		}
	}
	if len(cur) > 0 {
		lines = append(lines, string(cur))
	}
	return lines
}
