package verify

import (
	"limitprobe/units"
)

// perReqText prints a count per request with up to three significant
// digits: "0", "0.013", "2.41".
func perReqText(x float64) string {
	if x == 0 {
		return "0"
	}
	return units.Num(x)
}
