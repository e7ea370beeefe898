package report

import (
	"bufio"
	"bytes"
	"fmt"
	"html/template"
	"io"
	"strings"

	"limitprobe/evidence"
	"limitprobe/units"
	"limitprobe/verify"
)

// WriteVerification writes v in format: "table" (a terminal table of the
// policies and the verdict, at most 100 columns), "markdown" (a section for
// a pull-request comment) or "json" (the limitprobe.verify/v1 document,
// indented).
func WriteVerification(w io.Writer, v *verify.Verification, format string) error {
	if v == nil {
		return fmt.Errorf("write verification: nothing was verified")
	}
	return write(w, "verification", format, v, textFormats{
		FormatTable:    func(b *bufio.Writer) error { return writeVerificationTable(b, v) },
		FormatMarkdown: func(b *bufio.Writer) error { writeVerificationMarkdown(b, v); return nil },
	})
}

// verifyHeadline says what was replayed: "demand 75/s (150% of the 50/s
// limit) from 8 clients, 20 s per policy, deadline 10 s".
func verifyHeadline(v *verify.Verification) string {
	s := "demand " + units.RateOrDash(v.DemandRPS)
	if v.LimitRPS > 0 {
		s += " (" + units.PercentWhole(v.DemandRPS/v.LimitRPS) + " of the " + units.RateOrDash(v.LimitRPS) + " limit)"
	}
	s += " from " + plural(int64(max(v.Clients, 1)), "client")
	s += ", " + units.SecondsOrDash(v.DurationS) + " per policy, deadline " + units.SecondsOrDash(v.DeadlineS)
	return s
}

// verifyRow is one policy's cells, shared by every format.
func verifyRow(v *verify.Verification, p verify.PolicyResult) []string {
	fair := units.Num(p.Fairness)
	if v.Clients <= 1 {
		fair = "—"
	}
	name := p.Name
	if p.AttemptCapReached {
		name += " (capped)"
	}
	return []string{
		name,
		units.Percent(p.SuccessRatio),
		units.Percent(p.SentSuccessRatio),
		perRequest(p.ThrottledPerRequest),
		perRequest(p.RetriesPerRequest),
		latencyPair(p.AddedLatencyMS),
		fmtRateOrZero(p.GoodputRPS),
		units.PercentWhole(p.DemandMet),
		fair,
	}
}

var verifyHeader = []string{"policy", "success", "of sent", "throttled\n/request", "retries\n/request", "added\np50/p99", "goodput", "demand\nmet", "fair-\nness"}

// perRequest prints a count per request: "0", "0.013", "2.4".
func perRequest(x float64) string {
	if x == 0 {
		return "0"
	}
	if x < 0.001 {
		return "<0.001"
	}
	return units.Num(x)
}

// latencyPair prints p50/p99 with units: "0 s/1.2 s", "30 ms/2 s".
func latencyPair(l evidence.Latency) string {
	return shortDelay(l.P50) + "/" + shortDelay(l.P99)
}

// shortDelay is fmtDelay without the space: "12ms", "1.2s".
func shortDelay(ms float64) string {
	if ms < 1 {
		return "0"
	}
	return strings.ReplaceAll(fmtDelay(ms), " ", "")
}

// fmtRateOrZero is fmtRate, but "0/s" rather than "—" for nothing.
func fmtRateOrZero(rps float64) string {
	if rps <= 0 {
		return "0/s"
	}
	return units.RateOrDash(rps)
}

func writeVerificationTable(w *bufio.Writer, v *verify.Verification) error {
	fmt.Fprintf(w, "Verification · %s\n", v.Target)
	for _, l := range wrap(verifyHeadline(v), textWidth) {
		fmt.Fprintf(w, "%s\n", l)
	}
	if v.Interrupted {
		fmt.Fprintln(w, "interrupted: the policies below are partial or missing")
	}
	if len(v.Policies) == 0 {
		fmt.Fprintln(w, "no policy ran")
	} else {
		if err := w.Flush(); err != nil {
			return err
		}
		tb := newTable(w, verifyHeader...)
		alignLeft(tb, len(verifyHeader), 0)
		for _, p := range v.Policies {
			if err := tb.Append(verifyRow(v, p)); err != nil {
				return err
			}
		}
		if err := tb.Render(); err != nil {
			return err
		}
	}
	for _, p := range v.Policies {
		for i, l := range wrap(p.Name+": "+p.Settings, textWidth-4) {
			ind := "  "
			if i > 0 {
				ind = "    "
			}
			fmt.Fprintf(w, "%s%s\n", ind, l)
		}
	}
	for _, n := range v.Notes {
		for i, l := range wrap(n, textWidth-4) {
			mark := "• "
			if i > 0 {
				mark = "  "
			}
			fmt.Fprintf(w, "%s%s\n", mark, l)
		}
	}
	vd := v.Verdict
	fmt.Fprintln(w)
	for _, l := range wrap(verdictWord(vd)+": "+vd.Sentence, textWidth) {
		fmt.Fprintf(w, "%s\n", l)
	}
	for _, c := range vd.Checks {
		res := "pass"
		if !c.Pass {
			res = "FAIL"
		}
		for i, l := range wrap(fmt.Sprintf("%s %s: want %s, got %s", res, c.Name, c.Want, c.Got), textWidth-2) {
			ind := "  "
			if i > 0 {
				ind = "       "
			}
			fmt.Fprintf(w, "%s%s\n", ind, l)
		}
	}
	return nil
}

// verdictWord is "PASS", "FAIL" or "NO VERDICT".
func verdictWord(vd verify.Verdict) string {
	switch {
	case !vd.Judged:
		return "NO VERDICT"
	case vd.Pass:
		return "PASS"
	}
	return "FAIL"
}

func writeVerificationMarkdown(b *bufio.Writer, v *verify.Verification) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("### Verification\n\n")
	p("`%s` · %s\n\n", mdCell(v.Target), verifyHeadline(v))
	vd := v.Verdict
	mark := "✅"
	switch {
	case !vd.Judged:
		mark = "➖"
	case !vd.Pass:
		mark = "❌"
	}
	p("%s **%s:** %s\n\n", mark, verdictWord(vd), vd.Sentence)
	if v.Interrupted {
		p("> [!WARNING]\n> Interrupted: the policies below are partial or missing.\n\n")
	}
	if len(v.Policies) > 0 {
		var rows [][]string
		for _, pr := range v.Policies {
			r := verifyRow(v, pr)
			if pr.Name == verify.Recommended {
				r[0] = "**" + r[0] + "**"
			}
			rows = append(rows, r)
		}
		header := make([]string, len(verifyHeader))
		for i, h := range verifyHeader {
			header[i] = strings.ReplaceAll(strings.ReplaceAll(h, "-\n", ""), "\n", " ")
		}
		mdTable(b, header, "lrrrrrrrr", rows)
		p("\n")
	}
	if len(vd.Checks) > 0 {
		var rows [][]string
		for _, c := range vd.Checks {
			res := "✅ pass"
			if !c.Pass {
				res = "❌ **FAIL**"
			}
			rows = append(rows, []string{c.Name, c.Want, c.Got, res})
		}
		mdTable(b, []string{"check", "want", "got", "result"}, "llll", rows)
		p("\n")
	}
	p("<details><summary>Policies and notes</summary>\n\n")
	for _, pr := range v.Policies {
		p("- **%s**: %s\n", pr.Name, pr.Settings)
	}
	for _, n := range v.Notes {
		p("- %s\n", n)
	}
	p("\n</details>\n\n")
}

// verificationHTML renders v as a section of the HTML report.
func verificationHTML(v *verify.Verification) (template.HTML, error) {
	type row struct {
		Cells []string
		Ours  bool
	}
	d := struct {
		Target, Headline, Word, Sentence string
		Judged, Pass, Interrupted        bool
		Header                           []string
		Rows                             []row
		Checks                           []verify.Check
		Policies                         []verify.PolicyResult
		Notes                            []string
	}{
		Target: v.Target, Headline: verifyHeadline(v), Word: verdictWord(v.Verdict), Sentence: v.Verdict.Sentence,
		Judged: v.Verdict.Judged, Pass: v.Verdict.Pass, Interrupted: v.Interrupted,
		Checks: v.Verdict.Checks, Policies: v.Policies, Notes: v.Notes,
	}
	for _, h := range verifyHeader {
		d.Header = append(d.Header, strings.ReplaceAll(strings.ReplaceAll(h, "-\n", ""), "\n", " "))
	}
	for _, p := range v.Policies {
		d.Rows = append(d.Rows, row{Cells: verifyRow(v, p), Ours: p.Name == verify.Recommended})
	}
	var b bytes.Buffer
	if err := verifyTemplate.Execute(&b, d); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // built by html/template: escaped
}

var verifyTemplate = template.Must(template.New("verify").Parse(`
<h2>Verification</h2>
<p class="meta"><code>{{.Target}}</code> · {{.Headline}}</p>
<p class="demand{{if not .Pass}} short{{end}}"><strong>{{.Word}}:</strong> {{.Sentence}}</p>
{{- if .Interrupted}}
<div class="banner">Interrupted: the policies below are partial or missing.</div>
{{- end}}
{{- if .Rows}}
<table>
<thead><tr>{{range $i, $h := .Header}}{{if eq $i 0}}<th>{{$h}}</th>{{else}}<th class="num">{{$h}}</th>{{end}}{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr{{if .Ours}} class="ours"{{end}}>{{range $i, $c := .Cells}}{{if eq $i 0}}<td>{{$c}}</td>{{else}}<td class="num">{{$c}}</td>{{end}}{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- if .Checks}}
<h3>Checks</h3>
<table>
<thead><tr><th>check</th><th>want</th><th>got</th><th>result</th></tr></thead>
<tbody>
{{- range .Checks}}
<tr><td>{{.Name}}</td><td>{{.Want}}</td><td>{{.Got}}</td><td>{{if .Pass}}<span class="badge pass">pass</span>{{else}}<span class="badge fail">FAIL</span>{{end}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
<ul class="notes">
{{- range .Policies}}
<li><strong>{{.Name}}</strong>: {{.Settings}}</li>
{{- end}}
{{- range .Notes}}
<li>{{.}}</li>
{{- end}}
</ul>
`))
