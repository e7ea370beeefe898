package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"limitprobe/advise"
	"limitprobe/evidence"
	"limitprobe/units"
)

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// mdText escapes text that came from the target (an error's message, a
// body) so that Markdown shows it as it is: no markup, no HTML.
var mdText = strings.NewReplacer("\\", "\\\\", "`", "\\`", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]",
	"<", "&lt;", ">", "&gt;", "|", "\\|", "#", "\\#", "\n", " ").Replace

// mdTable writes a GitHub-flavoured table; align holds "l" or "r" per column.
func mdTable(w io.Writer, header []string, align string, rows [][]string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(mapStrings(header, mdCell), " | "))
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
		if i < len(align) && align[i] == 'r' {
			seps[i] = "--:"
		}
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(seps, "|"))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(mapStrings(r, mdCell), " | "))
	}
}

func mapStrings(xs []string, f func(string) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func writeMarkdown(b *bufio.Writer, rep *Report) error {
	s := rep.Summary
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }

	p("## limitprobe: %s\n\n", mdCell(orDash(rep.Scenario.Name)))
	p("`%s` · %s · %s\n\n", targetText(rep), strings.Join(runMeta(rep), " · "), countsLine(rep))
	if s := insecureText(rep); s != "" {
		p("> [!WARNING]\n> %s.\n\n", s)
	}
	if rep.Interrupted {
		p("> [!WARNING]\n> Interrupted: %s. The measurements are partial.\n\n", orText(rep.StopReason, "stopped early"))
	} else if rep.StopReason != "" {
		p("Stopped: %s.\n\n", rep.StopReason)
	}
	if ls := errorCauseLines(rep); len(ls) > 0 {
		p("Errors by cause:\n\n")
		for _, l := range ls {
			p("- %s\n", mdText(l))
		}
		p("\n")
	}

	limit := units.RateOrDash(s.EffectiveLimitRPS)
	if s.LowerBoundOnly {
		limit = "≥ " + units.RateOrDash(lowerBound(rep))
	}
	if q := quotaLimit(s); q != "" {
		limit = q + ": " + limit
	}
	p("### Summary\n\n")
	rows := [][]string{
		{"effective limit", "**" + limit + "**" + bandSuffix(rep)},
		{"onset", onsetText(rep)},
		{"burst", burstText(s)},
		{"window", units.SecondsOrDash(s.WindowS)},
	}
	if s.MaxInFlight > 0 {
		rows = append(rows, []string{"in flight cap", inFlightText(s)})
	}
	rows = append(rows,
		[]string{"algorithm", algorithmText(s)},
		[]string{"advertised", advertisedText(rep.Advertised)})
	if s.AdvertisedMismatch != "" {
		rows = append(rows, []string{"advertised vs measured", "⚠️ " + s.AdvertisedMismatch})
	}
	for i, l := range policyLines(s) {
		rows = append(rows, []string{map[bool]string{true: "policies"}[i == 0], l})
	}
	mdTable(b, []string{"", "measured"}, "ll", rows)
	if len(s.Reasons) > 0 {
		p("\n**Why:**\n\n")
		for _, r := range s.Reasons {
			p("- %s\n", r)
		}
	}
	mdRecommendation(b, rep)
	if rep.Verification != nil {
		writeVerificationMarkdown(b, rep.Verification)
	}
	mdExpectations(b, rep.Expectations)
	mdSteps(b, rep.Steps)
	p("\n<sub>limitprobe %s · %s</sub>\n", orText(rep.ToolVersion, "(unknown version)"), Schema)
	return nil
}

// mdRecommendation writes the recommendation: the demand, the settings,
// their notes, the reference points and the snippets.
func mdRecommendation(b *bufio.Writer, rep *Report) {
	rec := rep.Recommendation
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("\n### Recommendation\n\n")
	if d := rec.Demand; d != nil {
		mark := "✅"
		if !d.Meets {
			mark = "❌"
		}
		p("%s **Demand:** %s.\n\n", mark, d.Sentence)
	}
	mdTable(b, []string{"setting", "value"}, "ll", [][]string{
		{"client rate", clientRateText(rec)},
		{"max concurrency", maxConcurrencyText(rec)},
		{"retry", retryText(rec.Retry)},
		{"price", orDash(priceText(rep))},
	})
	p("\n")
	for _, n := range rec.Notes {
		p("- %s\n", n)
	}
	if rec.Basis == advise.BasisNone {
		p("\n")
		return
	}
	p("\n<details><summary>Backoff reference points: why ours differs</summary>\n\n")
	var refs [][]string
	for _, r := range rec.Reference {
		refs = append(refs, []string{r.Name, fmtDelay(r.BaseMS), "×" + units.Exact(r.Multiplier), fmtDelay(r.MaxMS), r.Jitter, r.WhyOursDiffers})
	}
	refs = append(refs, []string{"**ours**", fmtDelay(float64(rec.Retry.BaseDelayMS)), "×" + units.Exact(rec.Retry.Multiplier),
		fmtDelay(float64(rec.Retry.MaxDelayMS)), rec.Retry.Jitter, "measured: " + rec.Basis})
	mdTable(b, []string{"client", "base", "multiplier", "cap", "jitter", "why ours differs"}, "lrrrll", refs)
	p("\n</details>\n\n")
	for _, sn := range advise.Snippets(rec, rep.Summary, rep.Scenario.Name, Schema) {
		p("<details><summary>%s</summary>\n\n```%s\n%s```\n\n</details>\n\n", sn.Title, sn.Lang, sn.Code)
	}
}

// mdExpectations writes the CI gate's verdicts and their notes, if any.
func mdExpectations(b *bufio.Writer, expectations []Expectation) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	if len(expectations) > 0 {
		p("### Expectations\n\n")
		var ex [][]string
		for _, e := range expectations {
			res := "✅ pass"
			if !e.Pass {
				res = "❌ **FAIL**"
			}
			ex = append(ex, []string{"`" + e.Name + "`", e.Want, e.Got, res})
		}
		mdTable(b, []string{"expectation", "want", "got", "result"}, "llll", ex)
		p("\n")
		seen := map[string]bool{}
		for _, e := range expectations {
			if e.Note != "" && !seen[e.Note] {
				seen[e.Note] = true
				p("- `%s`: %s\n", e.Name, e.Note)
			}
		}
		if len(seen) > 0 {
			p("\n")
		}
	}
}

// mdSteps writes the table of the steps.
func mdSteps(b *bufio.Writer, steps []evidence.Step) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("### Steps\n\n")
	if len(steps) == 0 {
		p("No step finished.\n")
	} else {
		var st [][]string
		for _, x := range steps {
			st = append(st, []string{strconv.Itoa(x.Index + 1), phaseText(x), units.RateOrDash(x.OfferedRPS),
				strconv.FormatInt(x.Requests, 10), strconv.FormatInt(x.OK, 10), strconv.FormatInt(x.Throttled, 10),
				strconv.FormatInt(x.Errors, 10), units.RateOrDash(x.GoodputRPS), units.Percent(x.ThrottledRatio),
				units.Millis(x.LatencyMS.P50), units.Millis(x.LatencyMS.P99), strconv.Itoa(x.MaxInFlight)})
		}
		mdTable(b, []string{"step", "phase", "offered", "sent", "ok", "throttled", "errors", "goodput", "throttled %", "p50 ms", "p99 ms", "max in flight"},
			"rlrrrrrrrrrr", st)
	}
}

// bandSuffix is " (band 48.9–51.5/s)", or "" without a band.
func bandSuffix(rep *Report) string {
	if rep.Summary.LowerBoundOnly || rep.Summary.EffectiveLimitBand.High <= 0 {
		return ""
	}
	return " (band " + fmtBand(bandLike(rep.Summary.EffectiveLimitBand)) + ")"
}
