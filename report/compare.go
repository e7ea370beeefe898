package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"limitprobe/advise"
	"limitprobe/units"
)

// CompareSchema is the version of the JSON Compare writes.
const CompareSchema = "limitprobe.compare/v1"

// Compared is one report's column of a comparison. Rates are requests per
// second.
type Compared struct {
	Name              string  `json:"name"`
	EffectiveLimitRPS float64 `json:"effective_limit_rps"`
	LowerBoundOnly    bool    `json:"lower_bound_only"`
	BandLow           float64 `json:"band_low"`
	BandHigh          float64 `json:"band_high"`
	Burst             int     `json:"burst"`
	WindowS           float64 `json:"window_s"`
	Algorithm         string  `json:"algorithm"`
	ClientRateRPS     float64 `json:"client_rate_rps"`
	ClientBurst       int     `json:"client_burst"`
	MaxConcurrency    int     `json:"max_concurrency"`
	SustainableRPS    float64 `json:"sustainable_rps"`
	// HeadroomRatio is (limit − demand) ÷ demand; 0 without a demand.
	HeadroomRatio float64 `json:"headroom_ratio"`
	// Meets is true when the recommended settings send at least the demand.
	Meets bool   `json:"meets"`
	Price *Price `json:"price"`
	// CostPerMillion is the price of a million successful requests when the
	// tier is used fully at SustainableRPS; null without a price.
	CostPerMillion *float64 `json:"cost_per_million"`
}

// Comparison is what Compare writes as JSON.
type Comparison struct {
	Schema    string     `json:"schema"` // CompareSchema
	DemandRPS float64    `json:"demand_rps"`
	Verdict   string     `json:"verdict"`
	Reports   []Compared `json:"reports"`
}

// Compare writes reps side by side in format ("table", "markdown" or
// "json") against demand (0 means the demand the reports share, if any) and returns a one-line verdict: which reports meet
// the demand, and the smallest one that does, or the cheapest when every
// one that does has a price. names label the columns; when there are not
// as many names as reports, the scenario names are used.
func Compare(w io.Writer, reps []*Report, names []string, demand units.Rate, format string) (verdict string, err error) {
	if len(reps) == 0 {
		return "", errors.New("compare: no reports")
	}
	for i, r := range reps {
		if r == nil {
			return "", fmt.Errorf("compare: report %d is missing", i+1)
		}
	}
	demandRPS := float64(demand)
	if demandRPS <= 0 {
		demandRPS = sharedDemand(reps)
	}
	cmp := Comparison{Schema: CompareSchema, DemandRPS: demandRPS}
	for i, r := range reps {
		name := ""
		if len(names) == len(reps) {
			name = names[i]
		}
		if name == "" {
			name = orText(r.Scenario.Name, string(rune('A'+i%26)))
		}
		cmp.Reports = append(cmp.Reports, compared(r, name, demandRPS))
	}
	cmp.Verdict = verdictOf(cmp.Reports, demandRPS)
	return cmp.Verdict, write(w, "comparison", format, cmp, textFormats{
		FormatTable:    func(b *bufio.Writer) error { return compareTable(b, cmp) },
		FormatMarkdown: func(b *bufio.Writer) error { return compareMarkdown(b, cmp) },
	})
}

// sharedDemand is the demand every report was made with, or 0 when they
// differ or have none.
func sharedDemand(reps []*Report) float64 {
	d := 0.0
	for i, r := range reps {
		x := 0.0
		if r.Recommendation.Demand != nil {
			x = r.Recommendation.Demand.DemandRPS
		}
		if i > 0 && x != d {
			return 0
		}
		d = x
	}
	return d
}

func compared(r *Report, name string, demand float64) Compared {
	s, rec := r.Summary, r.Recommendation
	c := Compared{
		Name:    name,
		BandLow: s.EffectiveLimitBand.Low, BandHigh: s.EffectiveLimitBand.High, Burst: s.Burst, WindowS: s.WindowS,
		Algorithm: orText(s.Algorithm, "unknown"), ClientRateRPS: rec.ClientRateRPS, ClientBurst: rec.ClientBurst, MaxConcurrency: rec.MaxConcurrency,
		SustainableRPS: rec.SustainableRPS, Price: r.Price,
	}
	c.EffectiveLimitRPS, c.LowerBoundOnly = advise.Limit(s, r.Steps)
	if demand > 0 {
		if c.EffectiveLimitRPS > 0 {
			c.HeadroomRatio = (c.EffectiveLimitRPS - demand) / demand
		}
		c.Meets = c.EffectiveLimitRPS > 0 && c.SustainableRPS >= demand
	}
	if r.Price != nil && r.Price.PerS > 0 && c.SustainableRPS > 0 {
		v := r.Price.Amount / (c.SustainableRPS * r.Price.PerS) * 1e6
		c.CostPerMillion = &v
	}
	return c
}

// verdictOf says in one line which reports meet the demand and which to pick.
func verdictOf(cs []Compared, demand float64) string {
	if demand <= 0 {
		best := cs[0]
		for _, c := range cs[1:] {
			if c.SustainableRPS > best.SustainableRPS {
				best = c
			}
		}
		return fmt.Sprintf("no demand given: %s carries the most (%s with the recommended settings)", best.Name, units.RateOrDash(best.SustainableRPS))
	}
	var yes, no []string
	var meets []Compared
	for _, c := range cs {
		if c.Meets {
			yes = append(yes, c.Name)
			meets = append(meets, c)
		} else {
			no = append(no, c.Name)
		}
	}
	need := units.RateOrDash(demand)
	if len(meets) == 0 {
		best := cs[0]
		for _, c := range cs[1:] {
			if c.SustainableRPS > best.SustainableRPS {
				best = c
			}
		}
		return fmt.Sprintf("none meets %s: the largest, %s, sends %s (%s short)", need, best.Name, units.RateOrDash(best.SustainableRPS),
			units.PercentWhole((demand-best.SustainableRPS)/demand))
	}
	head := fmt.Sprintf("%s %s %s", andList(yes), verb(len(yes), "meets", "meet"), need)
	if len(no) > 0 {
		head += fmt.Sprintf(", %s %s not", andList(no), verb(len(no), "does", "do"))
	}
	priced := true
	for _, c := range meets {
		if c.Price == nil || c.Price.PerS <= 0 {
			priced = false
		}
	}
	pick := meets[0]
	for _, c := range meets[1:] {
		if priced {
			if c.Price.perHour() < pick.Price.perHour() || (c.Price.perHour() == pick.Price.perHour() && c.SustainableRPS < pick.SustainableRPS) {
				pick = c
			}
		} else if c.SustainableRPS < pick.SustainableRPS {
			pick = c
		}
	}
	if len(meets) == 1 {
		return fmt.Sprintf("%s; pick %s (%s)", head, pick.Name, units.RateOrDash(pick.SustainableRPS))
	}
	if priced {
		return fmt.Sprintf("%s; the cheapest that does is %s (%s, sends %s)", head, pick.Name, fmtPrice(pick.Price), units.RateOrDash(pick.SustainableRPS))
	}
	return fmt.Sprintf("%s; the smallest that does is %s (sends %s)", head, pick.Name, units.RateOrDash(pick.SustainableRPS))
}

func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// andList joins names: "A", "A and B", "A, B and C".
func andList(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// compareRows is the comparison as rows of cells: a label, then one cell
// per report.
func compareRows(cmp Comparison) (header []string, rows [][]string) {
	header = []string{""}
	for _, c := range cmp.Reports {
		header = append(header, c.Name)
	}
	add := func(label string, f func(Compared) string) {
		row := []string{label}
		for _, c := range cmp.Reports {
			row = append(row, f(c))
		}
		rows = append(rows, row)
	}
	add("effective limit", func(c Compared) string {
		if c.LowerBoundOnly {
			return "≥ " + units.RateOrDash(c.EffectiveLimitRPS)
		}
		return units.RateOrDash(c.EffectiveLimitRPS)
	})
	add("band", func(c Compared) string { return fmtBand(bandLike{c.BandLow, c.BandHigh}) })
	add("burst", func(c Compared) string { return burstValue(c.Burst) })
	add("window", func(c Compared) string { return units.SecondsOrDash(c.WindowS) })
	add("algorithm", func(c Compared) string { return c.Algorithm })
	add("recommended", func(c Compared) string {
		var parts []string
		if c.ClientRateRPS > 0 {
			parts = append(parts, fmt.Sprintf("%s burst %d", units.RateOrDash(c.ClientRateRPS), c.ClientBurst))
		}
		if c.MaxConcurrency > 0 {
			parts = append(parts, strconv.Itoa(c.MaxConcurrency)+" in flight")
		}
		return orDash(strings.Join(parts, ", "))
	})
	add("sends", func(c Compared) string { return units.RateOrDash(c.SustainableRPS) })
	if cmp.DemandRPS > 0 {
		add("vs "+units.RateOrDash(cmp.DemandRPS), func(c Compared) string {
			if c.EffectiveLimitRPS <= 0 {
				return "unknown"
			}
			word := "headroom"
			if c.HeadroomRatio < 0 {
				word = "short"
			}
			mark := "meets"
			if !c.Meets {
				mark = "does not meet"
			}
			return fmt.Sprintf("%s %s, %s", units.PercentWhole(c.HeadroomRatio), word, mark)
		})
	}
	anyPrice := false
	for _, c := range cmp.Reports {
		anyPrice = anyPrice || c.Price != nil
	}
	if anyPrice {
		add("price", func(c Compared) string { return fmtPrice(c.Price) })
		add("cost / 1M ok", func(c Compared) string {
			if c.CostPerMillion == nil {
				return "—"
			}
			return units.Num(*c.CostPerMillion)
		})
	}
	return header, rows
}

func compareTable(bw *bufio.Writer, cmp Comparison) error {
	header, rows := compareRows(cmp)
	tb := newTable(bw, header...)
	alignLeft(tb, len(header), 0)
	for _, r := range rows {
		if err := tb.Append(r); err != nil {
			return err
		}
	}
	if err := tb.Render(); err != nil {
		return err
	}
	for _, l := range wrap("verdict: "+cmp.Verdict, textWidth) {
		fmt.Fprintln(bw, l)
	}
	if hasCost(cmp) {
		fmt.Fprintln(bw, "cost / 1M ok: the price of a million successful requests at the recommended rate, fully used")
	}
	return nil
}

func compareMarkdown(bw *bufio.Writer, cmp Comparison) error {
	header, rows := compareRows(cmp)
	fmt.Fprintf(bw, "## limitprobe comparison\n\n")
	mdTable(bw, header, "l"+strings.Repeat("r", len(header)-1), rows)
	fmt.Fprintf(bw, "\n**Verdict:** %s.\n", cmp.Verdict)
	if hasCost(cmp) {
		fmt.Fprintf(bw, "\n<sub>cost / 1M ok: the price of a million successful requests at the recommended rate, fully used.</sub>\n")
	}
	return nil
}

func hasCost(cmp Comparison) bool {
	for _, c := range cmp.Reports {
		if c.CostPerMillion != nil {
			return true
		}
	}
	return false
}
