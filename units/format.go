package units

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Rate is a request rate in requests per second, as golang.org/x/time/rate's
// Limit is a rate of events. The zero value is no rate.
type Rate float64

// Every returns the rate of one request per interval d; zero for d ≤ 0.
func Every(d time.Duration) Rate {
	if d <= 0 {
		return 0
	}
	return Rate(float64(time.Second) / float64(d))
}

// Interval returns the time between two requests at r; zero for r ≤ 0.
func (r Rate) Interval() time.Duration {
	if r <= 0 {
		return 0
	}
	return time.Duration(math.Round(float64(time.Second) / float64(r)))
}

// String renders r rounded to three significant digits, in the unit it is
// written in, the way users write rates: "48.2/s", "33.3/m", "0/s" for
// zero.
func (r Rate) String() string {
	x := float64(r)
	for _, per := range []float64{1, 60, 3600, 86400} {
		if x*per >= 1 || per == 86400 || x == 0 {
			return FormatRate(Sig(x*per, 3) / per)
		}
	}
	return FormatRate(x)
}

// Sig rounds x to n significant digits. NaN, infinities and zero are
// returned as they are.
func Sig(x float64, n int) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	p := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p
}

// FloorSig rounds x down to n significant digits, so that a rate derived
// with a margin never rounds up past it. Values ≤ 0, NaN and infinities are
// returned as they are.
func FloorSig(x float64, n int) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	p := math.Pow(10, float64(n)-math.Ceil(math.Log10(x)))
	// The epsilon keeps 45.0 from becoming 44.9 when x*p is 449.99999999.
	return math.Floor(x*p+1e-9) / p
}

// CeilSig rounds x up to n significant digits, so that a delay derived
// from a measurement never rounds down below it. Values ≤ 0, NaN and
// infinities are returned as they are.
func CeilSig(x float64, n int) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	p := math.Pow(10, float64(n)-math.Ceil(math.Log10(x)))
	// The epsilon keeps 20 from becoming 21 when x*p is 20.0000000001.
	return math.Ceil(x*p-1e-9) / p
}

// bigNum is where Num and FormatRate switch to an exponent: no plausible
// count or rate reaches it, and an absurd one must not print as hundreds of
// digits.
const bigNum = 1e15

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Num prints x with up to three significant digits and no exponent: 48.2,
// 1230, 0.5; from 1e15 on, with one ("1e+300"). NaN and infinities print as
// "—": no number that is printed or written is absurd.
func Num(x float64) string {
	if !finite(x) {
		return "—"
	}
	x = Sig(x, 3)
	switch a := math.Abs(x); {
	case a >= bigNum:
		return strconv.FormatFloat(x, 'g', 3, 64)
	case a >= 1000:
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// Exact prints x in full with no exponent and no trailing zeros, for
// settings a user pastes: "2", "1.6", "0.125"; NaN and infinities as "—".
func Exact(x float64) string {
	if !finite(x) || math.Abs(x) >= bigNum {
		return Num(x)
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// Percent prints a share in [0, 1] as a percentage with one decimal:
// "16.7%"; NaN and infinities as "—".
func Percent(x float64) string {
	if !finite(x) {
		return "—"
	}
	return strconv.FormatFloat(x*100, 'f', 1, 64) + "%"
}

// PercentWhole prints the size of a share as a whole percentage for
// sentences, "23%" (the sentence says whether it is short or over). A share
// that is not zero never prints as "0%" but as "<1%", and one between 99.5%
// and 100% as ">99%".
func PercentWhole(x float64) string {
	if !finite(x) {
		return "—"
	}
	p := math.Round(math.Abs(x) * 100)
	switch {
	case p == 0 && x != 0:
		return "<1%"
	case p == 100 && math.Abs(x) < 1:
		return ">99%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// Seconds words a span given in seconds with a unit and three significant
// digits: "0.5 ms", "250 ms", "1.5 s", "2 min", "3 h", "2 d".
func Seconds(s float64) string {
	ms := s * 1000
	switch {
	case math.IsNaN(s) || math.IsInf(s, 0):
		return "—"
	case ms <= 0:
		return "0 s"
	case ms < 1000:
		return Num(ms) + " ms"
	case ms <= 120_000:
		return Num(ms/1000) + " s"
	case ms < 2*3600_000:
		return Num(ms/60_000) + " min"
	case ms < 2*86400_000:
		return Num(ms/3600_000) + " h"
	default:
		return Num(ms/86400_000) + " d"
	}
}

// SecondsOrDash is Seconds, or "—" for a span that is not known (≤ 0).
func SecondsOrDash(s float64) string {
	if s <= 0 {
		return "—"
	}
	return Seconds(s)
}

// Millis prints milliseconds without a unit, for a table cell or beside
// "ms": one decimal below 10 ms, whole above: "3.5", "123".
func Millis(ms float64) string {
	if !finite(ms) {
		return "—"
	}
	if ms < 10 {
		return strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return strconv.FormatFloat(ms, 'f', 0, 64)
}

// FormatDuration renders d as a Go duration rounded to what matters at its
// size, for settings a user pastes: "20ms", "1.5s", "2m0s".
func FormatDuration(d time.Duration) string {
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

// RateOrDash is Rate(rps).String(), or "—" for a rate that is not known
// (≤ 0).
func RateOrDash(rps float64) string {
	if rps <= 0 {
		return "—"
	}
	return Rate(rps).String()
}

// FormatRate renders a rate in requests per second the way users write it:
// "/s" for rates of one per second or more, otherwise "/m", "/h" or "/d",
// with at most three decimals.
func FormatRate(rps float64) string {
	switch {
	case math.IsNaN(rps) || math.IsInf(rps, 0):
		return "—"
	case rps >= 1 || rps == 0:
		return trimFloat(rps) + "/s"
	case rps*60 >= 1:
		return trimFloat(rps*60) + "/m"
	case rps*3600 >= 1:
		return trimFloat(rps*3600) + "/h"
	default:
		return trimFloat(rps*86400) + "/d"
	}
}

func trimFloat(f float64) string {
	if math.Abs(f) >= bigNum {
		return Num(f)
	}
	s := strconv.FormatFloat(f, 'f', 3, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
