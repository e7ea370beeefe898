package report

import (
	"html/template"
	"io"
	"strconv"

	"limitprobe/advise"
	"limitprobe/units"
)

// htmlData is what the HTML template shows, every value already formatted.
type htmlData struct {
	Title, Target, Meta, Counts string
	Interrupted, Advice         bool
	StopReason                  string
	ErrorCauses                 []string
	Insecure                    string
	Cards                       []card
	Advertised, Mismatch        string
	Policies                    []string
	Reasons                     []string
	Charts                      []template.HTML
	Demand                      *advise.Demand
	Settings                    [][2]string
	Notes                       []string
	Reference                   []advise.ReferencePoint
	Ours                        advise.ReferencePoint
	Snippets                    []advise.Snippet
	Expectations                []Expectation
	Verification                template.HTML // "" when not verified
	Steps                       [][]string
	Version, Schema             string
}

// card is one headline number.
type card struct {
	Label, Value, Sub string
	Main              bool
}

func writeHTML(w io.Writer, rep *Report) error {
	s := rep.Summary
	rec := rep.Recommendation
	d := htmlData{
		Title:        orDash(rep.Scenario.Name),
		Target:       targetText(rep),
		Counts:       countsLine(rep),
		Interrupted:  rep.Interrupted,
		Advice:       rec.Basis != advise.BasisNone,
		StopReason:   rep.StopReason,
		ErrorCauses:  errorCauseLines(rep),
		Insecure:     insecureText(rep),
		Advertised:   advertisedText(rep.Advertised),
		Mismatch:     s.AdvertisedMismatch,
		Policies:     policyLines(s),
		Reasons:      s.Reasons,
		Demand:       rec.Demand,
		Notes:        rec.Notes,
		Reference:    rec.Reference,
		Snippets:     advise.Snippets(rec, s, rep.Scenario.Name, Schema),
		Expectations: rep.Expectations,
		Version:      orText(rep.ToolVersion, "(unknown version)"),
		Schema:       Schema,
	}
	for i, m := range runMeta(rep) {
		if i > 0 {
			d.Meta += " · "
		}
		d.Meta += m
	}
	limit, limitSub := units.RateOrDash(s.EffectiveLimitRPS), ""
	if s.LowerBoundOnly {
		limit, limitSub = "≥ "+units.RateOrDash(lowerBound(rep)), "never throttled"
	} else if s.EffectiveLimitBand.High > 0 {
		limitSub = "band " + fmtBand(bandLike(s.EffectiveLimitBand))
	}
	if q := quotaLimit(s); q != "" {
		limitSub = q
	}
	d.Cards = []card{
		{Label: "effective limit", Value: limit, Sub: limitSub, Main: true},
		{Label: "onset", Value: units.RateOrDash(s.OnsetRPS), Sub: onsetSub(rep)},
		{Label: "burst", Value: burstValue(s.Burst), Sub: "beyond the steady rate"},
		{Label: "window", Value: units.SecondsOrDash(s.WindowS)},
	}
	if s.MaxInFlight > 0 {
		d.Cards = append(d.Cards, card{Label: "in flight cap", Value: inFlightText(s)})
	}
	conf := ""
	if s.Confidence > 0 {
		conf = "confidence " + units.Num(s.Confidence)
	}
	d.Cards = append(d.Cards, card{Label: "algorithm", Value: orText(s.Algorithm, "unknown"), Sub: conf})
	for _, c := range charts(rep) {
		d.Charts = append(d.Charts, template.HTML(c.html())) // built from escaped text only
	}
	d.Settings = [][2]string{
		{"client rate", clientRateText(rec)},
		{"max concurrency", maxConcurrencyText(rec)},
		{"retry", retryText(rec.Retry)},
	}
	if p := priceText(rep); p != "" {
		d.Settings = append(d.Settings, [2]string{"price", p})
	}
	d.Ours = advise.ReferencePoint{Name: "ours (measured)", BaseMS: float64(rec.Retry.BaseDelayMS), Multiplier: rec.Retry.Multiplier,
		MaxMS: float64(rec.Retry.MaxDelayMS), Jitter: rec.Retry.Jitter, MaxRetries: rec.Retry.MaxRetries}
	for _, x := range rep.Steps {
		d.Steps = append(d.Steps, []string{strconv.Itoa(x.Index + 1), phaseText(x), units.RateOrDash(x.OfferedRPS),
			strconv.FormatInt(x.Requests, 10), strconv.FormatInt(x.OK, 10), strconv.FormatInt(x.Throttled, 10),
			strconv.FormatInt(x.Errors, 10), units.RateOrDash(x.GoodputRPS), units.Percent(x.ThrottledRatio),
			units.Millis(x.LatencyMS.P50), units.Millis(x.LatencyMS.P99), strconv.Itoa(x.MaxInFlight)})
	}
	if rep.Verification != nil {
		var err error
		if d.Verification, err = verificationHTML(rep.Verification); err != nil {
			return err
		}
	}
	return htmlTemplate.Execute(w, d)
}

func onsetSub(rep *Report) string {
	if rep.Summary.OnsetRPS > 0 {
		return "first throttling above the threshold"
	}
	if m := advise.HighestOffered(rep.Steps); m > 0 {
		return "none up to " + units.RateOrDash(m)
	}
	return ""
}

func burstValue(b int) string {
	if b <= 0 {
		return "—"
	}
	return strconv.Itoa(b)
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"delay": fmtDelay,
	"ftoa":  units.Exact,
}).Parse(htmlSource))

const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>limitprobe · {{.Title}}</title>
<style>
:root {
  --fg: #1f2937; --muted: #6b7280; --bg: #ffffff; --panel: #f8fafc; --line: #e5e7eb;
  --accent: #2563eb; --ok: #15803d; --bad: #b91c1c; --warn: #b45309;
  --offered: #64748b; --goodput: #2563eb; --throttled: #dc2626; --limit: #059669;
  --latency: #7c3aed; --inflight: #d97706; --cap: #dc2626;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e5e7eb; --muted: #9ca3af; --bg: #111827; --panel: #1f2937; --line: #374151;
    --accent: #60a5fa; --ok: #4ade80; --bad: #f87171; --warn: #fbbf24;
    --offered: #94a3b8; --goodput: #60a5fa; --throttled: #f87171; --limit: #34d399;
    --latency: #a78bfa; --inflight: #fbbf24; --cap: #f87171;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h1 small { color: var(--muted); font-weight: 400; font-size: 15px; margin-right: 8px; }
h2 { font-size: 18px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
p.meta { color: var(--muted); margin: 0; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.banner { margin: 16px 0; padding: 10px 14px; border-radius: 8px; border: 1px solid var(--warn); color: var(--warn); background: var(--panel); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; margin-top: 20px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card.main .value { color: var(--accent); font-size: 26px; }
.card .sub { color: var(--muted); font-size: 13px; }
.demand { margin: 12px 0; padding: 10px 14px; border-radius: 8px; background: var(--panel); border-left: 4px solid var(--ok); }
.demand.short { border-left-color: var(--bad); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 18px; }
figure.chart { margin: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 12px 8px; }
figure.chart figcaption { font-weight: 600; margin: 0 0 4px 4px; }
figure.chart svg { width: 100%; height: auto; display: block; }
figure.chart p.empty { color: var(--muted); margin: 24px 8px; }
svg text { fill: var(--muted); font-size: 11px; font-family: inherit; }
svg text.label { fill: var(--fg); font-size: 12px; }
svg .grid line { stroke: var(--line); stroke-width: 1; }
svg .axis line, svg line.base { stroke: var(--muted); stroke-width: 1; }
svg .steps line { stroke: var(--muted); stroke-width: 1; stroke-dasharray: 2 4; opacity: 0.6; }
svg path.line { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
svg path.area { stroke: none; opacity: 0.16; }
svg path.area.throttled { fill: var(--throttled); }
svg path.line.throttled { stroke: var(--throttled); stroke-width: 1; opacity: 0.7; }
svg path.line.offered { stroke: var(--offered); stroke-width: 1.4; }
svg path.line.goodput { stroke: var(--goodput); }
svg path.line.latency { stroke: var(--latency); }
svg path.line.inflight { stroke: var(--inflight); }
svg line.ref { stroke-width: 1.6; stroke-dasharray: 6 4; }
svg line.ref.limit { stroke: var(--limit); }
svg line.ref.cap { stroke: var(--cap); }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 6px 4px 0; padding: 0; font-size: 13px; color: var(--muted); }
ul.legend .key { display: inline-block; width: 18px; height: 0; margin-right: 6px; vertical-align: middle; border-top: 2px solid var(--muted); }
ul.legend .key.area { height: 10px; border: none; opacity: 0.35; }
ul.legend .key.dash { border-top-style: dashed; }
ul.legend .key.step { border-top: 1px dotted var(--muted); }
ul.legend .key.offered { border-color: var(--offered); }
ul.legend .key.goodput { border-color: var(--goodput); }
ul.legend .key.throttled { background: var(--throttled); }
ul.legend .key.latency { border-color: var(--latency); }
ul.legend .key.inflight { border-color: var(--inflight); }
ul.legend .key.limit { border-color: var(--limit); }
ul.legend .key.cap { border-color: var(--cap); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 13px; }
td.num, th.num { text-align: right; white-space: nowrap; }
tbody tr:nth-child(even) { background: var(--panel); }
table.kv th { width: 180px; }
tr.ours td { font-weight: 600; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 700; color: #fff; }
.badge.pass { background: var(--ok); }
.badge.fail { background: var(--bad); }
details { margin: 10px 0; }
summary { cursor: pointer; font-weight: 600; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; overflow-x: auto; line-height: 1.45; }
ul.notes li { margin: 4px 0; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
</style>
</head>
<body>
<main>
<header>
<h1><small>limitprobe</small>{{.Title}}</h1>
<p class="meta"><code>{{.Target}}</code> · {{.Meta}}</p>
<p class="meta">{{.Counts}}</p>
{{- if .Insecure}}
<div class="banner">{{.Insecure}}.</div>
{{- end}}
{{- if .Interrupted}}
<div class="banner">Interrupted{{if .StopReason}}: {{.StopReason}}{{end}}. The measurements are partial.</div>
{{- else if .StopReason}}
<p class="meta">Stopped: {{.StopReason}}</p>
{{- end}}
{{- if .ErrorCauses}}
<ul class="meta">{{range .ErrorCauses}}<li>errors: {{.}}</li>{{end}}</ul>
{{- end}}
</header>

<section class="cards">
{{- range .Cards}}
<div class="card{{if .Main}} main{{end}}"><div class="label">{{.Label}}</div><div class="value">{{.Value}}</div>{{if .Sub}}<div class="sub">{{.Sub}}</div>{{end}}</div>
{{- end}}
</section>
{{- with .Demand}}
<p class="demand{{if not .Meets}} short{{end}}"><strong>Demand:</strong> {{.Sentence}}.</p>
{{- end}}

<h2>Why</h2>
<table class="kv">
<tr><th>advertised</th><td>{{.Advertised}}</td></tr>
{{- if .Mismatch}}
<tr><th>advertised vs measured</th><td>{{.Mismatch}}</td></tr>
{{- end}}
{{- range $i, $p := .Policies}}
<tr><th>{{if eq $i 0}}policies{{end}}</th><td>{{$p}}</td></tr>
{{- end}}
</table>
{{- if .Reasons}}
<ul class="notes">
{{- range .Reasons}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}

<h2>Over time</h2>
<div class="charts">
{{range .Charts}}{{.}}{{end}}</div>

<h2>Recommendation</h2>
<table class="kv">
{{- range .Settings}}
<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{- end}}
</table>
<ul class="notes">
{{- range .Notes}}
<li>{{.}}</li>
{{- end}}
</ul>

{{- if .Advice}}

<h3>Backoff compared with published clients</h3>
<table>
<thead><tr><th>client</th><th class="num">base</th><th class="num">multiplier</th><th class="num">cap</th><th>jitter</th><th class="num">retries</th><th>why ours differs</th></tr></thead>
<tbody>
{{- range .Reference}}
<tr><td>{{.Name}}</td><td class="num">{{delay .BaseMS}}</td><td class="num">×{{ftoa .Multiplier}}</td><td class="num">{{delay .MaxMS}}</td><td>{{.Jitter}}</td><td class="num">{{if .MaxRetries}}{{.MaxRetries}}{{else}}by time{{end}}</td><td>{{.WhyOursDiffers}}</td></tr>
{{- end}}
{{- with .Ours}}
<tr class="ours"><td>{{.Name}}</td><td class="num">{{delay .BaseMS}}</td><td class="num">×{{ftoa .Multiplier}}</td><td class="num">{{delay .MaxMS}}</td><td>{{.Jitter}}</td><td class="num">{{.MaxRetries}}</td><td>from this run's limit, latency and window</td></tr>
{{- end}}
</tbody>
</table>

<h3>Paste-ready settings</h3>
{{- range .Snippets}}
<details{{if eq .Lang "go"}} open{{end}}><summary>{{.Title}}</summary>
<pre><code class="language-{{.Lang}}">{{.Code}}</code></pre>
</details>
{{- end}}
{{- end}}

{{- .Verification}}
{{- if .Expectations}}

<h2>Expectations</h2>
<table>
<thead><tr><th>expectation</th><th>want</th><th>got</th><th>result</th><th>note</th></tr></thead>
<tbody>
{{- range .Expectations}}
<tr><td><code>{{.Name}}</code></td><td>{{.Want}}</td><td>{{.Got}}</td><td>{{if .Pass}}<span class="badge pass">pass</span>{{else}}<span class="badge fail">FAIL</span>{{end}}</td><td>{{.Note}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}

<h2>Steps</h2>
{{- if .Steps}}
<table>
<thead><tr><th class="num">step</th><th>phase</th><th class="num">offered</th><th class="num">sent</th><th class="num">ok</th><th class="num">throttled</th><th class="num">errors</th><th class="num">goodput</th><th class="num">throttled %</th><th class="num">p50 ms</th><th class="num">p99 ms</th><th class="num">max in flight</th></tr></thead>
<tbody>
{{- range .Steps}}
<tr>{{range $i, $c := .}}{{if eq $i 1}}<td>{{$c}}</td>{{else}}<td class="num">{{$c}}</td>{{end}}{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p>No step finished.</p>
{{- end}}

<footer>limitprobe {{.Version}} · {{.Schema}} · this page is self-contained: no scripts, fonts or images are fetched.</footer>
</main>
</body>
</html>
`
