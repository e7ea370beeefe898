package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"limitprobe/evidence"
	"limitprobe/units"
)

// VerifySchema is the version of the JSON document limitprobe verify writes
// (verify.json) and of Report.Verification.
const VerifySchema = "limitprobe.verify/v1"

// Regimes of a verdict, the values of VerifyVerdict.Regime.
const (
	// RegimeFits: the demand is within what the recommendation sends, so
	// the recommended policy must serve (nearly) all of it.
	RegimeFits = "fits"
	// RegimeOver: the demand exceeds what the recommendation sends; no
	// policy can meet it, and the recommended one must deliver its
	// sustainable rate instead.
	RegimeOver = "over"
)

// Verification is what limitprobe verify measured: the same client demand
// replayed against the target once per retry policy, each time against a
// limiter that had recovered, and the verdict on the recommended policy.
// Rates are requests per second; shares are fractions in [0, 1].
type Verification struct {
	Schema string `json:"schema"` // always VerifySchema
	// Target is what the demand was sent to: a URL without credentials, or
	// "mock: SPEC" for the embedded mock.
	Target    string    `json:"target"`
	StartedAt time.Time `json:"started_at"`
	DemandRPS float64   `json:"demand_rps"`
	// Clients is how many independent callers shared the demand.
	Clients int `json:"clients"`
	// DurationS is how long each policy's demand lasted, seconds.
	DurationS float64 `json:"duration_s"`
	// DeadlineS is how long one request may take, retries included, seconds.
	DeadlineS float64 `json:"deadline_s"`
	// LimitRPS is the report's effective limit.
	LimitRPS float64 `json:"limit_rps"`
	// SustainableRPS is what the recommendation sends at most: the share of
	// the demand the limit allows at the recommended margin.
	SustainableRPS float64 `json:"sustainable_rps"`
	// Interrupted is true when the run was stopped early; the policies
	// not run are missing and the last one may be partial.
	Interrupted bool           `json:"interrupted"`
	Policies    []PolicyResult `json:"policies"`
	Verdict     VerifyVerdict  `json:"verdict"`
	// Notes qualify the numbers in sentences.
	Notes []string `json:"notes"`
}

// PolicyResult is what one retry policy cost under the demand.
type PolicyResult struct {
	Name string `json:"name"` // recommended, naive, seed, hf-hub, grpc, none
	// Settings says what the policy does, in words.
	Settings string `json:"settings"`
	// Requests counts the demand's requests (arrivals), whatever became of
	// them; Succeeded + Shed + GaveUp + Errors = Requests.
	Requests  int64 `json:"requests"`
	Succeeded int64 `json:"succeeded"`
	// Shed counts requests never sent: they waited in the client's own
	// queue (pacing or the in-flight cap) until their deadline, or, rarely,
	// met the safety bound on requests alive at once.
	Shed int64 `json:"shed"`
	// GaveUp counts requests sent and throttled until the policy gave up:
	// out of retries, out of retry budget, or out of time.
	GaveUp int64 `json:"gave_up"`
	// Errors counts requests that ended in an error (transport, 5xx, other
	// 4xx); errors are not retried by any policy.
	Errors int64 `json:"errors"`
	// Attempts counts requests sent to the target, retries included;
	// Throttled counts the attempts answered "slow down".
	Attempts  int64 `json:"attempts"`
	Throttled int64 `json:"throttled"`
	// SuccessRatio is Succeeded ÷ Requests: eventual success of the demand.
	SuccessRatio float64 `json:"success_ratio"`
	// SentSuccessRatio is Succeeded ÷ (Requests − Shed): eventual success of
	// the requests the client let through.
	SentSuccessRatio float64 `json:"sent_success_ratio"`
	// ThrottledPerRequest is Throttled ÷ Requests.
	ThrottledPerRequest float64 `json:"throttled_per_request"`
	// RetriesPerRequest is (Attempts − first attempts) ÷ Requests.
	RetriesPerRequest float64 `json:"retries_per_request"`
	// AddedLatencyMS is, for successful requests, the time from arrival to
	// the start of the attempt that succeeded: queueing, backoff and
	// failed attempts, milliseconds.
	AddedLatencyMS evidence.Latency `json:"added_latency_ms"`
	// LatencyMS is the end-to-end latency of successful requests, from
	// arrival to response, milliseconds.
	LatencyMS evidence.Latency `json:"latency_ms"`
	// GoodputRPS is successful responses per second received while the
	// demand lasted.
	GoodputRPS float64 `json:"goodput_rps"`
	// DemandMet is GoodputRPS ÷ the demand, at most 1.
	DemandMet float64 `json:"demand_met"`
	// Fairness is Jain's index of the clients' success ratios: 1 when every
	// client got the same share, 1/n when one got everything; 1 with a
	// single client.
	Fairness float64 `json:"fairness"`
	// WorstClientSuccess is the lowest success ratio of any client.
	WorstClientSuccess float64 `json:"worst_client_success"`
	// AttemptCapReached is true when the safety cap on attempts stopped
	// the policy from sending; its numbers are then a lower bound of the
	// damage.
	AttemptCapReached bool `json:"attempt_cap_reached"`
	// WallS is how long the policy ran, its drain included, seconds.
	WallS float64 `json:"wall_s"`
}

// VerifyVerdict is the CI gate of a verification: does the recommended
// policy meet the demand the limit allows, at a lower cost in throttled
// attempts than every other policy?
type VerifyVerdict struct {
	// Judged is false when there was nothing to judge (the recommended
	// policy was not run); Pass is then false too.
	Judged bool `json:"judged"`
	Pass   bool `json:"pass"`
	// Regime is RegimeFits or RegimeOver.
	Regime string `json:"regime"`
	// Sentence says the verdict, and what it means, in words.
	Sentence string `json:"sentence"`
	// Checks are the verdict's parts.
	Checks []Expectation `json:"checks"`
}

// WriteVerification writes v in format: "table" (a terminal table of the
// policies and the verdict, at most 100 columns), "markdown" (a section for
// a pull-request comment) or "json" (the limitprobe.verify/v1 document,
// indented).
func WriteVerification(w io.Writer, v *Verification, format string) error {
	if v == nil {
		return fmt.Errorf("write verification: nothing was verified")
	}
	var err error
	switch format {
	case FormatTable:
		b := bufio.NewWriter(w)
		err = writeVerificationTable(b, v)
		if ferr := b.Flush(); err == nil {
			err = ferr
		}
	case FormatMarkdown:
		b := bufio.NewWriter(w)
		writeVerificationMarkdown(b, v)
		err = b.Flush()
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(v)
	default:
		return fmt.Errorf("write verification: unknown format %q; use table, markdown or json", format)
	}
	if err != nil {
		return fmt.Errorf("write verification as %s: %w", format, err)
	}
	return nil
}

// verifyHeadline says what was replayed: "demand 75/s (150% of the 50/s
// limit) from 8 clients, 20 s per policy, deadline 10 s".
func verifyHeadline(v *Verification) string {
	s := "demand " + units.RateOrDash(v.DemandRPS)
	if v.LimitRPS > 0 {
		s += " (" + units.PercentWhole(v.DemandRPS/v.LimitRPS) + " of the " + units.RateOrDash(v.LimitRPS) + " limit)"
	}
	s += " from " + plural(int64(max(v.Clients, 1)), "client")
	s += ", " + units.SecondsOrDash(v.DurationS) + " per policy, deadline " + units.SecondsOrDash(v.DeadlineS)
	return s
}

// verifyRow is one policy's cells, shared by every format.
func verifyRow(v *Verification, p PolicyResult) []string {
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

func writeVerificationTable(w *bufio.Writer, v *Verification) error {
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
func verdictWord(vd VerifyVerdict) string {
	switch {
	case !vd.Judged:
		return "NO VERDICT"
	case vd.Pass:
		return "PASS"
	}
	return "FAIL"
}

func writeVerificationMarkdown(b *bufio.Writer, v *Verification) {
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
			if pr.Name == "recommended" {
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
func verificationHTML(v *Verification) (template.HTML, error) {
	type row struct {
		Cells []string
		Ours  bool
	}
	d := struct {
		Target, Headline, Word, Sentence string
		Judged, Pass, Interrupted        bool
		Header                           []string
		Rows                             []row
		Checks                           []Expectation
		Policies                         []PolicyResult
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
		d.Rows = append(d.Rows, row{Cells: verifyRow(v, p), Ours: p.Name == "recommended"})
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
