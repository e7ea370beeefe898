package verify

import (
	"strconv"

	"limitprobe/units"
)

// fmtFloat prints f with no trailing zeros: "2", "1.6".
func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// perReqText prints a count per request with up to three significant
// digits: "0", "0.013", "2.41".
func perReqText(x float64) string {
	if x == 0 {
		return "0"
	}
	return units.Num(x)
}
