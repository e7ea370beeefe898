package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"limitprobe/evidence"
	"limitprobe/units"
)

// A chart is a line chart over time drawn as inline SVG: no scripts, no
// fonts or styles fetched, only CSS classes the page defines. Output is a
// pure function of the data, with coordinates printed to 0.1 px, so golden
// files stay stable.
type chart struct {
	id, title      string
	yLabel         string
	xLabel         string  // "" for "time since start (s)"
	y2Label        string  // right axis label; "" for none
	y2Max          float64 // right axis maximum (its minimum is 0)
	y2Format       func(float64) string
	xMax           float64 // seconds
	series         []series
	hlines         []hline
	vlines         []vline
	segments       []segment
	segmentsLegend string // legend entry for the segments; "" for none
	segmentsClass  string
	empty          string // shown instead of the plot when there is no data
}

// series is one line (or filled area) of a chart. A NaN y breaks the line.
type series struct {
	name, class string
	pts         []pt
	right       bool // plotted against the right axis
	area        bool // filled down to zero
}

type pt struct{ x, y float64 }

// hline is a horizontal reference line against the left axis.
type hline struct {
	y            float64
	label, class string
}

// vline is a vertical marker, such as the start of a step.
type vline struct {
	x     float64
	label string
}

// segment is a straight line between two points, left axis.
type segment struct{ x0, y0, x1, y1 float64 }

// Chart geometry, in SVG user units.
const (
	chartW      = 720
	chartH      = 270
	chartTop    = 22
	chartBottom = 44
	chartLeft   = 64
)

func (c *chart) right() float64 {
	if c.y2Label != "" {
		return 60
	}
	return 20
}

// html renders the chart as a figure: caption, SVG and legend.
func (c *chart) html() string {
	var b strings.Builder
	fmt.Fprintf(&b, "<figure class=\"chart\" id=\"%s\">\n<figcaption>%s</figcaption>\n", c.id, html.EscapeString(c.title))
	if c.empty != "" {
		fmt.Fprintf(&b, "<p class=\"empty\">%s</p>\n</figure>\n", html.EscapeString(c.empty))
		return b.String()
	}
	b.WriteString(c.svg())
	b.WriteString("<ul class=\"legend\">")
	for _, s := range c.series {
		kind := "line"
		if s.area {
			kind = "area"
		}
		fmt.Fprintf(&b, "<li><span class=\"key %s %s\"></span>%s</li>", kind, s.class, html.EscapeString(s.name))
	}
	for _, h := range c.hlines {
		fmt.Fprintf(&b, "<li><span class=\"key dash %s\"></span>%s</li>", h.class, html.EscapeString(h.label))
	}
	if c.segmentsLegend != "" && len(c.segments) > 0 {
		fmt.Fprintf(&b, "<li><span class=\"key dash %s\"></span>%s</li>", c.segmentsClass, html.EscapeString(c.segmentsLegend))
	}
	if len(c.vlines) > 0 {
		b.WriteString("<li><span class=\"key step\"></span>step start</li>")
	}
	b.WriteString("</ul>\n</figure>\n")
	return b.String()
}

// frame maps a chart's data to the SVG's coordinates.
type frame struct {
	plotW, plotH             float64
	xMax, xStep, yMax, yStep float64
	X, Y, Y2                 func(float64) float64
}

func (c *chart) frame() frame {
	f := frame{plotW: chartW - chartLeft - c.right(), plotH: float64(chartH - chartTop - chartBottom), xMax: c.xMax}
	if f.xMax <= 0 {
		f.xMax = 1
	}
	f.yStep, f.yMax = niceAxis(c.leftMax() * 1.05)
	f.xStep, _ = niceAxis(f.xMax)
	f.X = func(x float64) float64 { return chartLeft + x/f.xMax*f.plotW }
	f.Y = func(y float64) float64 { return chartTop + f.plotH - y/f.yMax*f.plotH }
	f.Y2 = func(y float64) float64 { return chartTop + f.plotH - y/c.y2Max*f.plotH }
	return f
}

// leftMax is the largest value drawn against the left axis.
func (c *chart) leftMax() float64 {
	var m float64
	for _, s := range c.series {
		if s.right {
			continue
		}
		for _, p := range s.pts {
			if !math.IsNaN(p.y) {
				m = max(m, p.y)
			}
		}
	}
	for _, h := range c.hlines {
		m = max(m, h.y)
	}
	for _, sg := range c.segments {
		m = max(m, sg.y0, sg.y1)
	}
	return m
}

func (c *chart) svg() string {
	f := c.frame()
	var b strings.Builder
	fmt.Fprintf(&b, "<svg viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\" xmlns=\"http://www.w3.org/2000/svg\">\n",
		chartW, chartH, html.EscapeString(c.title))
	c.writeAxes(&b, f)
	c.writeSteps(&b, f)
	c.writeData(&b, f)
	b.WriteString("</svg>\n")
	return b.String()
}

// writeAxes draws the grid, the axes and their labels.
func (c *chart) writeAxes(b *strings.Builder, f frame) {
	X, Y, Y2, plotW, plotH := f.X, f.Y, f.Y2, f.plotW, f.plotH
	b.WriteString("<g class=\"grid\">")
	for y := 0.0; y <= f.yMax+f.yStep/1e6; y += f.yStep {
		fmt.Fprintf(b, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/>", f1(chartLeft), f1(Y(y)), f1(chartLeft+plotW), f1(Y(y)))
	}
	b.WriteString("</g>\n<g class=\"axis\">")
	for y := 0.0; y <= f.yMax+f.yStep/1e6; y += f.yStep {
		fmt.Fprintf(b, "<text x=\"%s\" y=\"%s\" text-anchor=\"end\">%s</text>", f1(chartLeft-6), f1(Y(y)+4), units.Num(y))
	}
	for x := 0.0; x <= f.xMax+f.xStep/1e6; x += f.xStep {
		fmt.Fprintf(b, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/>", f1(X(x)), f1(chartTop+plotH), f1(X(x)), f1(chartTop+plotH+4))
		fmt.Fprintf(b, "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>", f1(X(x)), f1(chartTop+plotH+17), units.Num(x))
	}
	if c.y2Label != "" {
		for i := 0; i <= 4; i++ {
			v := c.y2Max * float64(i) / 4
			fmt.Fprintf(b, "<text x=\"%s\" y=\"%s\">%s</text>", f1(chartLeft+plotW+6), f1(Y2(v)+4), html.EscapeString(c.y2Format(v)))
		}
		fmt.Fprintf(b, "<text class=\"label\" transform=\"translate(%s %s) rotate(90)\" text-anchor=\"middle\">%s</text>",
			f1(chartW-8), f1(chartTop+plotH/2), html.EscapeString(c.y2Label))
	}
	fmt.Fprintf(b, "<line class=\"base\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/>", f1(chartLeft), f1(chartTop+plotH), f1(chartLeft+plotW), f1(chartTop+plotH))
	fmt.Fprintf(b, "<text class=\"label\" x=\"%s\" y=\"%d\" text-anchor=\"middle\">%s</text>", f1(chartLeft+plotW/2), chartH-6, html.EscapeString(orText(c.xLabel, "time since start (s)")))
	fmt.Fprintf(b, "<text class=\"label\" transform=\"translate(16 %s) rotate(-90)\" text-anchor=\"middle\">%s</text>",
		f1(chartTop+plotH/2), html.EscapeString(c.yLabel))
	b.WriteString("</g>\n")
}

// writeSteps draws step boundaries, labelled with the step number (thinned
// when crowded).
func (c *chart) writeSteps(b *strings.Builder, f frame) {
	if len(c.vlines) == 0 {
		return
	}
	every := (len(c.vlines) + 19) / 20
	b.WriteString("<g class=\"steps\">")
	for i, v := range c.vlines {
		fmt.Fprintf(b, "<line x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%s\"/>", f1(f.X(v.x)), chartTop, f1(f.X(v.x)), f1(chartTop+f.plotH))
		if i%every == 0 {
			fmt.Fprintf(b, "<text x=\"%s\" y=\"%d\">%s</text>", f1(f.X(v.x)+3), chartTop-6, html.EscapeString(v.label))
		}
	}
	b.WriteString("</g>\n")
}

// writeData draws the series (areas first, so lines draw over them), then
// the reference segments and lines.
func (c *chart) writeData(b *strings.Builder, f frame) {
	yOf := func(s series) func(float64) float64 {
		if s.right {
			return f.Y2
		}
		return f.Y
	}
	for _, s := range c.series {
		if s.area {
			yf := yOf(s)
			fmt.Fprintf(b, "<path class=\"area %s\" d=\"%s\"/>\n", s.class, areaPath(s.pts, f.X, yf, yf(0)))
		}
	}
	for _, s := range c.series {
		fmt.Fprintf(b, "<path class=\"line %s\" d=\"%s\"><title>%s</title></path>\n", s.class, linePath(s.pts, f.X, yOf(s)), html.EscapeString(s.name))
	}
	for _, sg := range c.segments {
		fmt.Fprintf(b, "<line class=\"ref %s\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/>\n", c.segmentsClass, f1(f.X(sg.x0)), f1(f.Y(sg.y0)), f1(f.X(sg.x1)), f1(f.Y(sg.y1)))
	}
	for _, h := range c.hlines {
		fmt.Fprintf(b, "<line class=\"ref %s\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"><title>%s</title></line>\n",
			h.class, f1(chartLeft), f1(f.Y(h.y)), f1(chartLeft+f.plotW), f1(f.Y(h.y)), html.EscapeString(h.label))
	}
}

// linePath draws pts as one path, broken where y is NaN.
func linePath(pts []pt, X, Y func(float64) float64) string {
	var b strings.Builder
	move := true
	for _, p := range pts {
		if math.IsNaN(p.y) {
			move = true
			continue
		}
		if move {
			b.WriteString("M")
			move = false
		} else {
			b.WriteString(" L")
		}
		b.WriteString(f1(X(p.x)) + " " + f1(Y(p.y)))
	}
	return b.String()
}

// areaPath fills each unbroken run of pts down to the baseline y0.
func areaPath(pts []pt, X, Y func(float64) float64, y0 float64) string {
	var b strings.Builder
	var run []pt
	flush := func() {
		if len(run) == 0 {
			return
		}
		fmt.Fprintf(&b, "M%s %s", f1(X(run[0].x)), f1(y0))
		for _, p := range run {
			fmt.Fprintf(&b, " L%s %s", f1(X(p.x)), f1(Y(p.y)))
		}
		fmt.Fprintf(&b, " L%s %sZ", f1(X(run[len(run)-1].x)), f1(y0))
		run = run[:0]
	}
	for _, p := range pts {
		if math.IsNaN(p.y) {
			flush()
			continue
		}
		run = append(run, p)
	}
	flush()
	return b.String()
}

// niceAxis returns a tick step of 1, 2 or 5 × 10ⁿ that splits [0, v] into
// at most about six intervals, and the axis maximum: v rounded up to a step.
func niceAxis(v float64) (step, top float64) {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1, 1
	}
	raw := v / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / mag; {
	case f <= 1:
		step = mag
	case f <= 2:
		step = 2 * mag
	case f <= 5:
		step = 5 * mag
	default:
		step = 10 * mag
	}
	return step, math.Ceil(v/step-1e-9) * step
}

// f1 prints a coordinate with one decimal, stably.
func f1(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// maxChartPoints bounds the points of a series; longer timelines are
// merged into coarser buckets.
const maxChartPoints = 600

// coarsen merges the timeline's buckets into at most maxChartPoints,
// returning the buckets and their resolution, seconds.
func coarsen(tl evidence.Timeline) ([]evidence.Bucket, float64) {
	bs, res := tl.Buckets, tl.ResolutionS
	if len(bs) <= maxChartPoints {
		return bs, res
	}
	g := (len(bs) + maxChartPoints - 1) / maxChartPoints
	out := make([]evidence.Bucket, 0, (len(bs)+g-1)/g)
	for i := 0; i < len(bs); i += g {
		var m evidence.Bucket
		var latW float64
		n := 0
		for _, b := range bs[i:min(i+g, len(bs))] {
			m.Sent += b.Sent
			m.OK += b.OK
			m.Throttled += b.Throttled
			m.Errors += b.Errors
			m.InFlight += b.InFlight
			if b.LatencyMSP50 > 0 && b.OK > 0 {
				m.LatencyMSP50 += b.LatencyMSP50 * float64(b.OK) // an OK-weighted mean of medians
				latW += float64(b.OK)
			}
			n++
		}
		m.InFlight /= float64(n)
		if latW > 0 {
			m.LatencyMSP50 /= latW
		}
		out = append(out, m)
	}
	return out, res * float64(g)
}

// charts builds the four charts of the HTML report.
func charts(rep *Report) []*chart {
	s := rep.Summary
	bs, res := coarsen(rep.Timeline)
	xMax := float64(len(bs)) * res
	var vlines []vline
	for _, st := range rep.Steps {
		xMax = max(xMax, st.StartS+st.DurationS)
		vlines = append(vlines, vline{x: st.StartS, label: strconv.Itoa(st.Index + 1)})
	}
	rates := &chart{id: "chart-rates", title: "Offered rate, goodput and throttled share", yLabel: "requests per second",
		y2Label: "throttled share", y2Max: 1, y2Format: func(v float64) string { return units.PercentWhole(v) }, xMax: xMax, vlines: vlines}
	cum := &chart{id: "chart-cumulative", title: "Accepted requests, cumulative (slope = limit, jump = burst)", yLabel: "accepted requests", xMax: xMax, vlines: vlines}
	lat := &chart{id: "chart-latency", title: "Latency of successful requests, median", yLabel: "p50 latency (ms)", xMax: xMax, vlines: vlines}
	inflight := &chart{id: "chart-inflight", title: "Requests in flight", yLabel: "requests in flight (mean)", xMax: xMax, vlines: vlines}
	all := []*chart{rates, cum, lat, inflight}
	if len(bs) == 0 || res <= 0 {
		for _, c := range all {
			c.empty = "No timeline was recorded for this run."
		}
		return all
	}

	offered := series{name: "offered (sent)", class: "offered"}
	good := series{name: "goodput", class: "goodput"}
	thr := series{name: "throttled share (right axis)", class: "throttled", right: true, area: true}
	acc := series{name: "accepted so far", class: "goodput", pts: []pt{{0, 0}}}
	p50 := series{name: "p50 latency", class: "latency"}
	inf := series{name: "in flight", class: "inflight"}
	var total int64
	cumAt := make([]float64, len(bs)+1) // accepted before bucket i
	for i, b := range bs {
		t := (float64(i) + 0.5) * res
		offered.pts = append(offered.pts, pt{t, float64(b.Sent) / res})
		good.pts = append(good.pts, pt{t, float64(b.OK) / res})
		share := math.NaN()
		if b.Sent > 0 {
			share = float64(b.Throttled) / float64(b.Sent)
		}
		thr.pts = append(thr.pts, pt{t, share})
		total += b.OK
		cumAt[i+1] = float64(total)
		acc.pts = append(acc.pts, pt{float64(i+1) * res, float64(total)})
		lp := math.NaN()
		if b.OK > 0 && b.LatencyMSP50 > 0 {
			lp = b.LatencyMSP50
		}
		p50.pts = append(p50.pts, pt{t, lp})
		inf.pts = append(inf.pts, pt{t, b.InFlight})
	}
	rates.series = []series{thr, offered, good}
	if s.EffectiveLimitRPS > 0 {
		label := "effective limit " + units.RateOrDash(s.EffectiveLimitRPS)
		if s.LowerBoundOnly {
			label = "limit at least " + units.RateOrDash(s.EffectiveLimitRPS)
		}
		rates.hlines = []hline{{y: s.EffectiveLimitRPS, label: label, class: "limit"}}
	}

	cum.series = []series{acc}
	if s.EffectiveLimitRPS > 0 && !s.LowerBoundOnly {
		// In every saturated step the accepted count should follow
		// burst + limit × (t − start) once the burst is spent.
		thrShare := rep.Scenario.Threshold
		if thrShare <= 0 {
			thrShare = 0.01
		}
		for _, st := range rep.Steps {
			if st.ThrottledRatio <= thrShare || st.DurationS <= 0 {
				continue
			}
			i := min(max(int(st.StartS/res+1e-9), 0), len(bs))
			y0 := cumAt[i] + float64(s.Burst)
			cum.segments = append(cum.segments, segment{st.StartS, y0, st.StartS + st.DurationS, y0 + s.EffectiveLimitRPS*st.DurationS})
		}
		cum.segmentsClass = "limit"
		cum.segmentsLegend = fmt.Sprintf("estimate in saturated steps: %d + %s × t", s.Burst, units.RateOrDash(s.EffectiveLimitRPS))
	}

	lat.series = []series{p50}
	inflight.series = []series{inf}
	if s.MaxInFlight > 0 {
		inflight.hlines = append(inflight.hlines, hline{y: float64(s.MaxInFlight), label: fmt.Sprintf("measured cap %d", s.MaxInFlight), class: "cap"})
	}
	if mc := rep.Recommendation.MaxConcurrency; mc > 0 {
		inflight.hlines = append(inflight.hlines, hline{y: float64(mc), label: fmt.Sprintf("recommended max %d", mc), class: "limit"})
	}
	return all
}
