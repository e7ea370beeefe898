package estimate

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"limitprobe/units"
)

// ratioText words how far apart two rates are: "3.2×" or "12%".
func ratioText(big, small float64) string {
	if small <= 0 {
		return "far"
	}
	r := big / small
	if r >= 1.5 {
		return strconv.FormatFloat(units.Sig(r, 3), 'f', -1, 64) + "×"
	}
	return fmt.Sprintf("%.0f%%", (r-1)*100)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func stepList(fs []*stepFacts) string {
	if len(fs) == 1 {
		return fmt.Sprintf("step %d", fs[0].s.Index+1)
	}
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = strconv.Itoa(f.s.Index + 1)
	}
	return "steps " + strings.Join(parts, ", ")
}

func intList(v []int) string {
	var b strings.Builder
	for i, x := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(x))
	}
	return b.String()
}

func rateList(rs []float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = units.Rate(r).String()
	}
	return strings.Join(parts, ", ")
}
