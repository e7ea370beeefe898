package verify

import (
	"math"
	"strconv"
	"time"

	"limitprobe/units"
)

// The helpers below word numbers for Settings, notes and the verdict, the
// way the reports do.

// rateText is "45.5/s", with three significant digits.
func rateText(rps float64) string {
	if rps <= 0 {
		return "0/s"
	}
	return units.FormatRate(sig3(rps))
}

// pctText is a share as a whole percentage: "99%"; never "0%" for a share
// that is not zero, and never "100%" for one that is not one.
func pctText(x float64) string {
	p := math.Round(x * 100)
	switch {
	case p == 0 && x > 0:
		return "<1%"
	case p == 100 && x < 1:
		return ">99%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// pct1Text is a share with one decimal: "99.4%".
func pct1Text(x float64) string {
	return strconv.FormatFloat(x*100, 'f', 1, 64) + "%"
}

// durText is a duration as people write it: "20ms", "1.5s", "2m0s".
func durText(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// fmtFloat prints f with no trailing zeros: "2", "1.6".
func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// perReqText prints a count per request with up to three significant
// digits: "0", "0.013", "2.41".
func perReqText(x float64) string {
	if x == 0 {
		return "0"
	}
	return strconv.FormatFloat(sig3(x), 'f', -1, 64)
}

func sig3(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	p := math.Pow(10, 3-math.Ceil(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p
}
