package report

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"

	"limitprobe/advise"
	"limitprobe/estimate"
	"limitprobe/evidence"
	"limitprobe/headers"
	"limitprobe/probe"
	"limitprobe/units"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// The table format is at most textWidth columns wide: labels take
// labelWidth, values wrap in the rest.
const (
	textWidth  = 100
	labelWidth = 18
)

// ANSI styles for the table format.
const (
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiReset  = "\x1b[0m"
)

// textWriter writes the table format, remembering the first error.
type textWriter struct {
	w     *bufio.Writer
	color bool
}

func (t *textWriter) style(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *textWriter) printf(format string, a ...any) { fmt.Fprintf(t.w, format, a...) }

func (t *textWriter) heading(s string) { t.printf("\n%s\n", t.style(ansiBold, s)) }

// field prints "  label  value", wrapping value under itself.
func (t *textWriter) field(label, value string) {
	t.fieldStyled(label, value, "")
}

func (t *textWriter) fieldStyled(label, value, code string) {
	lines := wrap(value, textWidth-2-labelWidth)
	if len(lines) == 0 {
		lines = []string{"—"}
	}
	for i, l := range lines {
		lab := ""
		if i == 0 {
			lab = label
		}
		t.printf("  %-*s%s\n", labelWidth, lab, t.style(code, l))
	}
}

// bullets prints a list under a label, one wrapped item each.
func (t *textWriter) bullets(label string, items []string) {
	for i, it := range items {
		lines := wrap(it, textWidth-4-labelWidth)
		for j, l := range lines {
			lab, mark := "", "  "
			if i == 0 && j == 0 {
				lab = label
			}
			if j == 0 {
				mark = "• "
			}
			t.printf("  %-*s%s%s\n", labelWidth, lab, mark, l)
		}
	}
}

func writeTable(w *bufio.Writer, rep *Report, opt RenderOptions) error {
	t := &textWriter{w: w, color: opt.Color}
	s := rep.Summary

	t.printf("%s\n", t.style(ansiBold, "limitprobe report · "+orDash(rep.Scenario.Name)))
	for _, l := range wrap(runLine(rep), textWidth) {
		t.printf("%s\n", l)
	}
	t.printf("%s\n", countsLine(rep))
	if s := insecureText(rep); s != "" {
		t.printf("%s\n", t.style(ansiYellow, "warning: "+s))
	}
	if rep.Interrupted {
		t.printf("%s\n", t.style(ansiYellow, "interrupted: "+orText(rep.StopReason, "stopped early")+"; the measurements below are partial"))
	} else if rep.StopReason != "" {
		t.printf("stopped: %s\n", rep.StopReason)
	}
	for i, c := range errorCauseLines(rep) {
		lab := "errors: "
		if i > 0 {
			lab = "        "
		}
		for j, l := range wrap(c, textWidth-len(lab)) {
			if j > 0 {
				lab = "          "
			}
			t.printf("%s%s\n", lab, l)
			lab = "        "
		}
	}

	t.heading("Steps")
	if len(rep.Steps) == 0 {
		t.printf("no step finished\n")
	} else {
		if err := t.w.Flush(); err != nil {
			return err
		}
		if err := writeStepTable(t, rep); err != nil {
			return err
		}
	}

	t.heading("Summary")
	limit := units.RateOrDash(s.EffectiveLimitRPS)
	if s.EffectiveLimitBand.High > 0 {
		limit += " (band " + fmtBand(bandLike(s.EffectiveLimitBand)) + ")"
	}
	if s.LowerBoundOnly {
		limit = "at least " + units.RateOrDash(lowerBound(rep)) + " (never throttled)"
	}
	if q := quotaLimit(s); q != "" {
		limit = q + ": " + limit
	}
	t.fieldStyled("effective limit", limit, ansiBold)
	t.field("onset", onsetText(rep))
	t.field("burst", burstText(s))
	t.field("window", units.SecondsOrDash(s.WindowS))
	if s.MaxInFlight > 0 {
		t.field("in flight cap", inFlightText(s))
	}
	t.field("algorithm", algorithmText(s))
	t.field("advertised", advertisedText(rep.Advertised))
	if s.AdvertisedMismatch != "" {
		t.fieldStyled("", "mismatch: "+s.AdvertisedMismatch, ansiYellow)
	}
	t.bullets("policies", policyLines(s))
	t.bullets("why", s.Reasons)

	t.recommendation(rep)
	if len(rep.Expectations) > 0 {
		if err := t.expectations(rep.Expectations); err != nil {
			return err
		}
	}
	if rep.Verification != nil {
		t.printf("\n")
		if err := writeVerificationTable(t.w, rep.Verification); err != nil {
			return err
		}
	}
	if rep.Recommendation.Basis != advise.BasisNone {
		t.printf("\nPaste-ready Go, Python and YAML settings are in the markdown and html formats.\n")
	}
	return nil
}

// recommendation writes the recommended settings, their notes and the
// reference points.
func (t *textWriter) recommendation(rep *Report) {
	rec := rep.Recommendation
	t.heading("Recommendation")
	t.fieldStyled("client rate", clientRateText(rec), ansiBold)
	t.field("max concurrency", maxConcurrencyText(rec))
	t.field("retry", retryText(rec.Retry))
	if d := rec.Demand; d != nil {
		code := ansiGreen
		if !d.Meets {
			code = ansiRed
		}
		t.fieldStyled("demand", d.Sentence, code)
	}
	if p := priceText(rep); p != "" {
		t.field("price", p)
	}
	t.bullets("notes", rec.Notes)
	if rec.Basis == advise.BasisNone {
		return
	}

	t.heading("Backoff reference points (for comparison)")
	for _, r := range rec.Reference {
		t.printf("  %s: %s\n", r.Name, referenceSettings(r))
		for _, l := range wrap(r.WhyOursDiffers, textWidth-4) {
			t.printf("    %s\n", l)
		}
	}
}

// expectations writes the CI gate's verdicts and their notes.
func (t *textWriter) expectations(expectations []Expectation) error {
	t.heading("Expectations")
	if err := t.w.Flush(); err != nil {
		return err
	}
	tb := newTable(t.w, "expectation", "want", "got", "result")
	alignLeft(tb, 4, 0, 1, 2)
	for _, e := range expectations {
		res := t.style(ansiGreen, "pass")
		if !e.Pass {
			res = t.style(ansiRed, "FAIL")
		}
		if err := tb.Append([]string{e.Name, e.Want, e.Got, res}); err != nil {
			return err
		}
	}
	if err := tb.Render(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, e := range expectations {
		if e.Note != "" && !seen[e.Note] {
			seen[e.Note] = true
			for _, l := range wrap(e.Name+": "+e.Note, textWidth-2) {
				t.printf("  %s\n", l)
			}
		}
	}
	return nil
}

// writeStepTable renders the per-step table; it fits 100 columns for
// rates below 100000/s and runs of fewer than a million requests per step.
func writeStepTable(t *textWriter, rep *Report) error {
	tb := newTable(t.w, "step", "phase", "offered", "sent", "ok", "throttled", "err", "goodput", "thr %", "p50/p99\nms", "max in\nflight")
	thr := rep.Scenario.Threshold
	if thr <= 0 {
		thr = 0.01
	}
	for _, st := range rep.Steps {
		pct := units.Percent(st.ThrottledRatio)
		if st.ThrottledRatio > thr {
			pct = t.style(ansiYellow, pct)
		}
		if err := tb.Append([]string{
			strconv.Itoa(st.Index + 1), phaseText(st), units.RateOrDash(st.OfferedRPS),
			strconv.FormatInt(st.Requests, 10), strconv.FormatInt(st.OK, 10),
			strconv.FormatInt(st.Throttled, 10), strconv.FormatInt(st.Errors, 10),
			units.RateOrDash(st.GoodputRPS), pct, latencyText(st.LatencyMS), strconv.Itoa(st.MaxInFlight),
		}); err != nil {
			return err
		}
	}
	return tb.Render()
}

// runLine says what was probed, when and for how long.
func runLine(rep *Report) string {
	return strings.Join(append([]string{targetText(rep)}, runMeta(rep)...), " · ")
}

// targetText is "METHOD URL", and the proxy it went through.
func targetText(rep *Report) string {
	t := rep.Scenario.Target
	s := strings.TrimSpace(orText(t.Method, "GET") + " " + t.URL)
	if t.Proxy != "" {
		s += " via " + t.Proxy
	}
	return s
}

// insecureText warns that certificates were not verified; "" when they
// were.
func insecureText(rep *Report) string {
	if !rep.Scenario.Target.Insecure {
		return ""
	}
	return "TLS certificates were not verified (--insecure): whatever answered was measured"
}

// runMeta is when the run started, how long it took and its strategy.
func runMeta(rep *Report) []string {
	var parts []string
	if !rep.StartedAt.IsZero() {
		parts = append(parts, "started "+fmtTime(rep.StartedAt))
	}
	parts = append(parts, units.SecondsOrDash(rep.DurationS))
	if rep.Scenario.Strategy != "" {
		parts = append(parts, "strategy "+rep.Scenario.Strategy)
	}
	return parts
}

// countsLine totals the requests.
func countsLine(rep *Report) string {
	ok := rep.RequestsSent - rep.ThrottledTotal - rep.ErrorsTotal
	return fmt.Sprintf("%s: %d ok, %d throttled, %s", plural(rep.RequestsSent, "request"), max(ok, 0), rep.ThrottledTotal, plural(rep.ErrorsTotal, "error"))
}

// errorCauseLines describes the errors by cause, most first: how many, the
// first one's message, and what to do about it when that is known.
func errorCauseLines(rep *Report) []string {
	var ls []string
	for _, c := range rep.ErrorCauses {
		l := fmt.Sprintf("%d %s: %s", c.Count, c.Cause, orDash(c.Example))
		if r := probe.Remedy(c.Cause); r != "" {
			l += " (" + r + ")"
		}
		ls = append(ls, l)
	}
	return ls
}

func phaseText(st evidence.Step) string {
	if st.Concurrency > 0 {
		return "conc=" + strconv.Itoa(st.Concurrency)
	}
	return orDash(st.Phase)
}

func latencyText(l evidence.Latency) string {
	if l.P50 == 0 && l.P99 == 0 {
		return "—"
	}
	return units.Millis(l.P50) + "/" + units.Millis(l.P99)
}

// lowerBound is the limit of a run that was never throttled: at least the
// best it carried (see advise.Limit).
func lowerBound(rep *Report) float64 {
	l, _ := advise.Limit(rep.Summary, rep.Steps)
	return l
}

func onsetText(rep *Report) string {
	s := rep.Summary
	thr := rep.Scenario.Threshold
	if thr <= 0 {
		thr = 0.01
	}
	if s.OnsetRPS > 0 {
		return fmt.Sprintf("%s (first step with more than %s throttled)", units.RateOrDash(s.OnsetRPS), units.PercentWhole(thr))
	}
	if m := advise.HighestOffered(rep.Steps); m > 0 {
		return fmt.Sprintf("none up to %s (never more than %s throttled)", units.RateOrDash(m), units.PercentWhole(thr))
	}
	return "—"
}

func burstText(s estimate.Summary) string {
	if s.Burst <= 0 {
		return "none measured"
	}
	return plural(int64(s.Burst), "request") + " beyond the steady rate after idle"
}

func algorithmText(s estimate.Summary) string {
	a := orText(s.Algorithm, "unknown")
	if s.Confidence > 0 {
		a += ", confidence " + units.Num(s.Confidence)
	}
	return a
}

// advertisedText says what the headers claimed.
func advertisedText(a *headers.Advertised) string {
	if a == nil {
		return "none (the target sent no rate-limit headers)"
	}
	var parts []string
	if a.Limit > 0 {
		p := "limit " + units.Num(a.Limit)
		if a.WindowS > 0 {
			p += " per " + units.SecondsOrDash(a.WindowS) + " (" + units.RateOrDash(a.Limit/a.WindowS) + ")"
		}
		parts = append(parts, p)
	}
	if a.Remaining != nil {
		parts = append(parts, "remaining "+units.Num(*a.Remaining))
	}
	if a.ResetS > 0 {
		parts = append(parts, "reset in "+units.SecondsOrDash(a.ResetS))
	}
	if a.RetryAfterS > 0 {
		parts = append(parts, "Retry-After "+units.SecondsOrDash(a.RetryAfterS))
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing usable")
	}
	s := strings.Join(parts, ", ")
	if a.Source != "" {
		s += " (" + a.Source + " headers)"
	}
	return s
}

func clientRateText(rec advise.Recommendation) string {
	if rec.Basis == advise.BasisNone {
		return "— (no recommendation: see the notes)"
	}
	if rec.ClientRateRPS <= 0 {
		return "— (no rate limit: cap requests in flight instead)"
	}
	s := fmt.Sprintf("%s, burst %d", units.RateOrDash(rec.ClientRateRPS), rec.ClientBurst)
	switch rec.Basis {
	case advise.BasisHighestTestedRate:
		s += " (the highest tested rate; the limit is higher)"
	case advise.BasisConservative:
		s += " (conservative: the limiter was not recognised)"
	case advise.BasisLockoutOnset:
		s += " (under the lockout onset, no burst)"
	default:
		s += fmt.Sprintf(" (%s of the effective limit)", units.PercentWhole(rec.Margin))
	}
	return s
}

func maxConcurrencyText(rec advise.Recommendation) string {
	if rec.Basis == advise.BasisNone {
		return "—"
	}
	if rec.MaxConcurrency <= 0 {
		return "— (no cap needed)"
	}
	if rec.SustainableRPS > 0 && rec.Basis == advise.BasisConcurrencyCap {
		return fmt.Sprintf("%d in flight (about %s)", rec.MaxConcurrency, units.RateOrDash(rec.SustainableRPS))
	}
	return fmt.Sprintf("%d in flight", rec.MaxConcurrency)
}

// retryText is the retry policy in one line.
func retryText(r advise.Retry) string {
	if r == (advise.Retry{}) {
		return "—"
	}
	s := ""
	if r.HonorRetryAfter {
		s = "honour Retry-After first; else "
	}
	return s + fmt.Sprintf("full jitter from %s ×%s up to %s; at most %d retries; budget %s of requests",
		fmtDelay(float64(r.BaseDelayMS)), units.Exact(r.Multiplier), fmtDelay(float64(r.MaxDelayMS)), r.MaxRetries, units.PercentWhole(r.BudgetRatio))
}

// referenceSettings prints a reference point's numbers: "1 s ×1.6 ±20%, cap 120 s".
func referenceSettings(r advise.ReferencePoint) string {
	s := fmt.Sprintf("%s ×%s, jitter %s, cap %s", fmtDelay(r.BaseMS), units.Exact(r.Multiplier), r.Jitter, fmtDelay(r.MaxMS))
	if r.MaxRetries > 0 {
		s += fmt.Sprintf(", at most %d retries", r.MaxRetries)
	}
	return s
}

// alignLeft aligns the given columns of a table of n columns to the left,
// in the header and the rows; the others stay right-aligned.
func alignLeft(tb *tablewriter.Table, n int, cols ...int) {
	per := make([]tw.Align, n)
	for i := range per {
		per[i] = tw.AlignRight
	}
	for _, c := range cols {
		per[c] = tw.AlignLeft
	}
	tb.Options(
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{Global: tw.AlignRight, PerColumn: per}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{Global: tw.AlignRight, PerColumn: per}),
	)
}

// priceText is the price and what a million successful requests cost at
// the recommended rate; "" without a price.
func priceText(rep *Report) string {
	p := rep.Price
	if p == nil || p.PerS <= 0 {
		return ""
	}
	s := fmtPrice(p)
	if r := rep.Recommendation.SustainableRPS; r > 0 {
		s += fmt.Sprintf("; %s per million successful requests at %s, fully used", units.Num(p.Amount/(r*p.PerS)*1e6), units.RateOrDash(r))
	}
	return s
}

func orDash(s string) string { return orText(s, "—") }

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// fmtTime prints an instant in UTC, stably.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// inFlightText is a cap on requests in flight as the server counts it,
// and as this client must, when its round trip makes that more.
func inFlightText(s estimate.Summary) string {
	if s.ClientInFlight > s.MaxInFlight {
		return fmt.Sprintf("%d at the server (%d from this client, over its round trip)", s.MaxInFlight, s.ClientInFlight)
	}
	return strconv.Itoa(s.MaxInFlight)
}
