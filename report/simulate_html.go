package report

import (
	"html/template"
	"io"
	"math"
	"strings"

	simulation "limitprobe/simulate"
	"limitprobe/units"
)

// reportCSS is the style sheet of the report's page, which the simulation
// page wears too; its one copy is in htmlSource.
var reportCSS = func() template.CSS {
	_, rest, _ := strings.Cut(htmlSource, "<style>")
	css, _, _ := strings.Cut(rest, "</style>")
	return template.CSS(css) // a constant of this package, not input
}()

// simHTML is what the simulation page shows, every value formatted.
type simHTML struct {
	CSS              template.CSS
	Title, Traffic   string
	Client, Deadline string
	Gate             *struct {
		Pass bool
		Text string
	}
	Cards   []card
	Charts  []template.HTML
	Ends    []string
	Rows    []simRow
	Facts   [][2]string
	Notes   []string
	Version string
	Schema  string
}

func writeSimulationHTML(w io.Writer, sim *simulation.Simulation) error {
	mid := sim.MeasuredEnd()
	d := simHTML{CSS: reportCSS, Title: simTitle(sim), Traffic: trafficText(sim.Traffic), Client: clientText(sim.Client),
		Deadline: units.Seconds(sim.DeadlineS), Ends: endNames(sim), Rows: simRows(sim), Notes: sim.Notes,
		Version: orText(sim.ToolVersion, "(unknown version)"), Schema: simulation.Schema}
	if sim.Gate != nil {
		d.Gate = &struct {
			Pass bool
			Text string
		}{sim.Gate.Pass, gateText(sim)}
	}
	d.Cards = []card{{Label: "refused as it comes", Value: units.Percent(mid.Prediction.RefusedShare), Main: true,
		Sub: plural(mid.Prediction.Refused, "request") + " of " + plural(mid.Prediction.Requests, "request")}}
	if sm := mid.Smoothed; sm != nil {
		d.Cards = append(d.Cards,
			card{Label: "refused behind the client", Value: units.Percent(sm.RefusedShare), Sub: plural(sm.Refused, "request")},
			card{Label: "delay p99", Value: fmtDelay(sm.DelayMS.P99), Sub: "max " + fmtDelay(sm.DelayMS.Max)},
			card{Label: "shed past " + units.Seconds(sim.DeadlineS), Value: units.Percent(sm.ShedShare), Sub: "peak queue " + plural(int64(sm.PeakQueue), "request")})
	}
	if z := sim.SmallestLimit; z != nil && z.Found {
		d.Cards = append(d.Cards, card{Label: "smallest limit", Value: units.RateOrDash(z.LimitRPS), Sub: units.Num(z.Ratio) + "× the measured"})
	}
	for _, c := range simCharts(sim) {
		d.Charts = append(d.Charts, template.HTML(c.html())) // built from escaped text only
	}
	d.Facts = append(d.Facts, [2]string{"worst minutes", worstText(mid.Prediction.WorstMinutes)})
	if sim.Batch != nil {
		d.Facts = append(d.Facts, [2]string{"batching", batchText(sim)})
	}
	if sim.SmallestLimit != nil {
		d.Facts = append(d.Facts, [2]string{"smallest limit", sizingText(sim)})
	}
	return simTemplate.Execute(w, d)
}

// simCharts are the simulation page's charts: the traffic against the
// limit with the refusals it meets, what the client limiter sends, and the
// delay it adds.
func simCharts(sim *simulation.Simulation) []*chart {
	tl := sim.Timeline
	res := tl.ResolutionS
	span := float64(len(tl.Buckets)) * res
	unit, xLabel := 1.0, "time since the first request (s)"
	switch {
	case span > 3*3600:
		unit, xLabel = 3600, "time since the first request (h)"
	case span > 300:
		unit, xLabel = 60, "time since the first request (min)"
	}
	limit := sim.MeasuredEnd().LimitRPS
	limitLine := hline{y: limit, label: "measured limit " + units.RateOrDash(limit), class: "limit"}
	traffic := &chart{id: "chart-traffic", title: "Your traffic against the measured limit, sent as it comes", yLabel: "requests per second",
		xLabel: xLabel, xMax: span / unit, hlines: []hline{limitLine}}
	sent := &chart{id: "chart-client", title: "Behind the client limiter: what it sends, and what is still refused", yLabel: "requests per second",
		xLabel: xLabel, xMax: span / unit, hlines: []hline{limitLine}}
	delay := &chart{id: "chart-delay", title: "Delay the client limiter adds, by arrival", yLabel: "delay (s)", xLabel: xLabel, xMax: span / unit,
		hlines: []hline{{y: sim.DeadlineS, label: "deadline " + units.Seconds(sim.DeadlineS) + " (shed beyond)", class: "cap"}}}
	if len(tl.Buckets) == 0 || res <= 0 {
		traffic.empty = "The traffic has no requests."
	}
	if sim.Client == nil {
		sent.empty = "No client limiter was replayed: the recommendation has none; set --client-rate or --max-concurrency."
		delay.empty = sent.empty
	}
	arrived := series{name: "your traffic", class: "offered"}
	refused := series{name: "refused as it comes", class: "throttled", area: true}
	out := series{name: "sent by the client limiter", class: "goodput"}
	left := series{name: "still refused", class: "throttled", area: true}
	mean := series{name: "mean delay", class: "latency"}
	most := series{name: "longest delay", class: "inflight"}
	for i, b := range tl.Buckets {
		x := (float64(i) + 0.5) * res / unit
		arrived.pts = append(arrived.pts, pt{x, float64(b.Arrived) / res})
		refused.pts = append(refused.pts, pt{x, float64(b.Refused) / res})
		out.pts = append(out.pts, pt{x, float64(b.Sent) / res})
		left.pts = append(left.pts, pt{x, float64(b.Left) / res})
		if b.Arrived > b.Shed { // some request that arrived here was sent
			mean.pts = append(mean.pts, pt{x, b.DelayMSMean / 1000})
			most.pts = append(most.pts, pt{x, b.DelayMSMax / 1000})
		} else {
			mean.pts = append(mean.pts, pt{x, math.NaN()})
			most.pts = append(most.pts, pt{x, math.NaN()})
		}
	}
	traffic.series = []series{refused, arrived}
	sent.series = []series{left, out}
	delay.series = []series{mean, most}
	if c := sim.Client; c != nil && c.RateRPS > 0 {
		sent.hlines = append(sent.hlines, hline{y: c.RateRPS, label: "client rate " + units.RateOrDash(c.RateRPS), class: "cap"})
	}
	return []*chart{traffic, sent, delay}
}

var simTemplate = template.Must(template.New("simulation").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>limitprobe simulate · {{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<main>
<header>
<h1><small>limitprobe simulate</small>{{.Title}}</h1>
<p class="meta">{{.Traffic}}</p>
<p class="meta">client limiter: {{.Client}} · deadline {{.Deadline}}</p>
</header>
{{- with .Gate}}
<p class="demand{{if not .Pass}} short{{end}}"><strong>Gate:</strong> {{.Text}}</p>
{{- end}}

<section class="cards">
{{- range .Cards}}
<div class="card{{if .Main}} main{{end}}"><div class="label">{{.Label}}</div><div class="value">{{.Value}}</div>{{if .Sub}}<div class="sub">{{.Sub}}</div>{{end}}</div>
{{- end}}
</section>

<h2>Over time</h2>
<div class="charts">
{{range .Charts}}{{.}}{{end}}</div>

<h2>Prediction</h2>
<table>
<thead><tr><th></th>{{range .Ends}}<th class="num">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr><td>{{.Label}}</td>{{range .Cells}}<td class="num">{{.}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
<table class="kv">
{{- range .Facts}}
<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{- end}}
</table>

<h2>What the replay assumes</h2>
<ul class="notes">
{{- range .Notes}}
<li>{{.}}</li>
{{- end}}
</ul>

<footer>limitprobe {{.Version}} · {{.Schema}} · this page is self-contained: no scripts, fonts or images are fetched.</footer>
</main>
</body>
</html>
`))
