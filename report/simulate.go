package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	simulation "limitprobe/simulate" // named apart from the tests' simulate helper
	"limitprobe/units"
)

// WriteSimulation writes sim in format: "table" (for a terminal, at most
// 100 columns), "json" (the limitprobe.simulate/v1 document, indented),
// "markdown" (for a pull-request comment) or "html" (one self-contained
// page with inline SVG charts).
func WriteSimulation(w io.Writer, sim *simulation.Simulation, format string) error {
	if sim == nil {
		return fmt.Errorf("write simulation: nothing was simulated")
	}
	return write(w, "simulation", format, sim, textFormats{
		FormatTable:    func(b *bufio.Writer) error { return writeSimulationTable(b, sim) },
		FormatMarkdown: func(b *bufio.Writer) error { writeSimulationMarkdown(b, sim); return nil },
		FormatHTML:     func(b *bufio.Writer) error { return writeSimulationHTML(b, sim) },
	})
}

// simTitle names what was replayed against what: "traffic.log against
// mock-token-bucket (token-bucket 50/s, burst 10)".
func simTitle(sim *simulation.Simulation) string {
	return fmt.Sprintf("%s against %s (%s)", orDash(sim.Traffic.File), orDash(sim.Report.Name), simulation.Describe(sim.Report.Model))
}

// trafficText describes the traffic in one sentence.
func trafficText(t simulation.Traffic) string {
	s := fmt.Sprintf("%s, %s from %s to %s (%s): mean %s, busiest second %s, busiest minute %s",
		t.Format, plural(t.Requests, "request"), fmtTime(t.Start), fmtTime(t.End), units.Seconds(t.DurationS),
		units.RateOrDash(t.MeanRPS), units.RateOrDash(t.PeakRPS), units.RateOrDash(t.PeakMinuteRPS))
	if t.MaxInFlight > 0 {
		s += fmt.Sprintf(", up to %d in flight if all were served", t.MaxInFlight)
	}
	return s
}

// clientText describes the client limiter: "token bucket 45/s, burst 9,
// at most 7 in flight (the recommendation's)".
func clientText(c *simulation.Client) string {
	if c == nil {
		return "none (the recommendation has no client limit; set --client-rate or --max-concurrency)"
	}
	var parts []string
	if c.RateRPS > 0 {
		parts = append(parts, fmt.Sprintf("token bucket %s, burst %d", units.RateOrDash(c.RateRPS), c.Burst))
	}
	if c.MaxConcurrency > 0 {
		parts = append(parts, fmt.Sprintf("at most %d in flight", c.MaxConcurrency))
	}
	return strings.Join(parts, ", ") + " (from the " + c.From + ")"
}

// countShare prints a count and its share: "690 (1.3%)".
func countShare(n int64, share float64) string {
	if n == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", n, units.Percent(share))
}

// delayPair prints two delay quantiles in milliseconds: "0 s / 1.2 s".
func delayPair(a, b float64) string { return fmtDelay(a) + " / " + fmtDelay(b) }

// simRow is one line of the table of ends: a label and a cell per end.
type simRow struct {
	Label string
	Cells []string
}

// simRows are the rows of the table of ends, shared by every format.
func simRows(sim *simulation.Simulation) []simRow {
	cell := func(f func(simulation.End) string) []string {
		out := make([]string, len(sim.Ends))
		for i, e := range sim.Ends {
			out[i] = f(e)
		}
		return out
	}
	smooth := func(f func(*simulation.Smoothed) string) func(simulation.End) string {
		return func(e simulation.End) string {
			if e.Smoothed == nil {
				return "—"
			}
			return f(e.Smoothed)
		}
	}
	rows := []simRow{
		{"limit", cell(func(e simulation.End) string { return units.RateOrDash(e.LimitRPS) })},
		{"refused as it comes", cell(func(e simulation.End) string { return countShare(e.Prediction.Refused, e.Prediction.RefusedShare) })},
		{"longest run", cell(func(e simulation.End) string { return streakText(e.Prediction.LongestRefusalRun) })},
	}
	if sim.Traffic.MaxInFlight > 0 {
		rows = append(rows, simRow{"most in flight", cell(func(e simulation.End) string { return strconv.Itoa(e.Prediction.MaxInFlight) })})
	}
	if sim.Client == nil {
		return rows
	}
	return append(rows,
		simRow{"refused behind client", cell(smooth(func(s *simulation.Smoothed) string { return countShare(s.Refused, s.RefusedShare) }))},
		simRow{"delay p50 / p95", cell(smooth(func(s *simulation.Smoothed) string { return delayPair(s.DelayMS.P50, s.DelayMS.P95) }))},
		simRow{"delay p99 / max", cell(smooth(func(s *simulation.Smoothed) string { return delayPair(s.DelayMS.P99, s.DelayMS.Max) }))},
		simRow{"peak queue", cell(smooth(func(s *simulation.Smoothed) string { return strconv.Itoa(s.PeakQueue) }))},
		simRow{"shed > " + units.Seconds(sim.DeadlineS), cell(smooth(func(s *simulation.Smoothed) string { return countShare(s.Shed, s.ShedShare) }))},
	)
}

// streakText prints a run of refusals: "12 in 40 ms"; "—" when none.
func streakText(s *simulation.Streak) string {
	if s == nil {
		return "—"
	}
	return fmt.Sprintf("%d in %s", s.Requests, units.Seconds(s.DurationS))
}

// worstText lists the worst minutes: "12:03 (340 of 2100)".
func worstText(ms []simulation.Minute) string {
	if len(ms) == 0 {
		return "none: nothing was refused"
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("%s (%d of %d refused)", m.Start.UTC().Format("2006-01-02 15:04"), m.Refused, m.Requests)
	}
	return strings.Join(parts, "; ")
}

// batchText says what batching does, in a sentence.
func batchText(sim *simulation.Simulation) string {
	b := sim.Batch
	batches := fmt.Sprintf("%d batches", b.Prediction.Requests)
	if b.Prediction.Requests == 1 {
		batches = "1 batch"
	}
	s := fmt.Sprintf("merged %d to 1 (a batch leaves when full or after %s), the %s make %s: ",
		b.Size, units.Seconds(b.WaitS), plural(sim.Traffic.Requests, "request"), batches)
	if b.Prediction.Refused == 0 {
		s += "none refused"
	} else {
		s += fmt.Sprintf("%s refused, holding %s", countShare(b.Prediction.Refused, b.Prediction.RefusedShare), plural(b.RefusedRequests, "request"))
	}
	if sm := b.Smoothed; sm != nil {
		s += fmt.Sprintf("; behind the client, %s refused, delay p50 / p99 %s, max %s, %s shed",
			countShare(sm.Refused, sm.RefusedShare), delayPair(sm.DelayMS.P50, sm.DelayMS.P99), fmtDelay(sm.DelayMS.Max), countShare(sm.Shed, sm.ShedShare))
	}
	return s
}

// sizingText answers the plan-upgrade question in a sentence.
func sizingText(sim *simulation.Simulation) string {
	z := sim.SmallestLimit
	if !z.Found {
		return fmt.Sprintf("none up to %s (%s× the measured limit): no plan of this kind carries this traffic within %s",
			units.RateOrDash(z.LimitRPS), units.Num(z.Ratio), units.Seconds(sim.DeadlineS))
	}
	at := ""
	if z.AtMost {
		at = "at most "
	}
	return fmt.Sprintf("%s%s (%s, %s× the measured %s), with a client limiter of %s",
		at, units.RateOrDash(z.LimitRPS), simulation.Describe(z.Model), units.Num(z.Ratio), units.RateOrDash(sim.MeasuredEnd().LimitRPS), strings.TrimSuffix(clientText(&z.Client), " (from the recommendation)"))
}

// gateText is the CI gate's verdict: "PASS: refused 0.4% (4 of 1000), want ≤ 1%".
func gateText(sim *simulation.Simulation) string {
	g := sim.Gate
	word := "PASS"
	if !g.Pass {
		word = "FAIL"
	}
	p := sim.MeasuredEnd().Prediction
	return fmt.Sprintf("%s: refused %s (%d of %d), want ≤ %s", word, units.Percent(g.Got), p.Refused, p.Requests, units.Percent(g.MaxThrottled))
}

// endNames are the column heads, the ends' names.
func endNames(sim *simulation.Simulation) []string {
	out := make([]string, len(sim.Ends))
	for i, e := range sim.Ends {
		out[i] = e.Name
	}
	return out
}

func writeSimulationTable(w *bufio.Writer, sim *simulation.Simulation) error {
	t := &textWriter{w: w}
	t.printf("limitprobe simulate · %s\n", simTitle(sim))
	for _, l := range wrap(trafficText(sim.Traffic), textWidth) {
		t.printf("%s\n", l)
	}
	t.heading("Prediction")
	if err := w.Flush(); err != nil {
		return err
	}
	header := append([]string{""}, endNames(sim)...)
	tb := newTable(w, header...)
	alignLeft(tb, len(header), 0)
	for _, r := range simRows(sim) {
		if err := tb.Append(append([]string{r.Label}, r.Cells...)); err != nil {
			return err
		}
	}
	if err := tb.Render(); err != nil {
		return err
	}
	t.field("client limiter", clientText(sim.Client))
	t.field("worst minutes", worstText(sim.MeasuredEnd().Prediction.WorstMinutes))
	if sim.Batch != nil {
		t.field("batching", batchText(sim))
	}
	if sim.SmallestLimit != nil {
		t.field("smallest limit", sizingText(sim))
	}
	if sim.Gate != nil {
		t.field("gate", gateText(sim))
	}
	t.bullets("notes", sim.Notes)
	return nil
}

func writeSimulationMarkdown(b *bufio.Writer, sim *simulation.Simulation) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("## limitprobe simulate: %s\n\n", mdCell(simTitle(sim)))
	p("%s.\n\n", trafficText(sim.Traffic))
	if sim.Gate != nil {
		mark := "✅"
		if !sim.Gate.Pass {
			mark = "❌"
		}
		p("%s **%s**\n\n", mark, gateText(sim))
	}
	var rows [][]string
	for _, r := range simRows(sim) {
		rows = append(rows, append([]string{r.Label}, r.Cells...))
	}
	mdTable(b, append([]string{""}, endNames(sim)...), "l"+strings.Repeat("r", len(sim.Ends)), rows)
	p("\n")
	kv := [][]string{{"client limiter", clientText(sim.Client)}, {"worst minutes", worstText(sim.MeasuredEnd().Prediction.WorstMinutes)}}
	if sim.Batch != nil {
		kv = append(kv, []string{"batching", batchText(sim)})
	}
	if sim.SmallestLimit != nil {
		kv = append(kv, []string{"smallest limit", sizingText(sim)})
	}
	mdTable(b, []string{"", ""}, "ll", kv)
	p("\n<details><summary>Notes</summary>\n\n")
	for _, n := range sim.Notes {
		p("- %s\n", n)
	}
	p("\n</details>\n\n<sub>limitprobe %s · %s</sub>\n", orText(sim.ToolVersion, "(unknown version)"), simulation.Schema)
}
