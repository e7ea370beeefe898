package units

import (
	"math"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"rate", Rate(48.234).String(), "48.2/s"},
		{"rate per minute", Rate(0.5).String(), "30/m"},
		{"rate per minute, rounded in minutes", Rate(2000.0 / 3600).String(), "33.3/m"},
		{"rate per day", Rate(10000.0 / 86400).String(), "6.94/m"},
		{"rate per day, rounded in days", Rate(1.0 / 86400).String(), "1/d"},
		{"rate zero", Rate(0).String(), "0/s"},
		{"rate every", Every(20 * time.Millisecond).String(), "50/s"},
		{"rate or dash", RateOrDash(50.2345), "50.2/s"},
		{"rate or dash none", RateOrDash(0), "—"},
		{"rate or dash per minute", RateOrDash(0.5), "30/m"},
		{"rate or dash large", RateOrDash(1234.5), "1230/s"},
		{"num", Num(1234.5), "1230"},
		{"num small", Num(0.012345), "0.0123"},
		{"num inf", Num(math.Inf(1)), "—"},
		{"exact", Exact(1.6), "1.6"},
		{"exact whole", Exact(2), "2"},
		{"percent", Percent(0.16666), "16.7%"},
		{"percent whole", PercentWhole(0.234), "23%"},
		{"percent whole tiny", PercentWhole(0.001), "<1%"},
		{"percent whole nearly all", PercentWhole(0.997), ">99%"},
		{"percent whole all", PercentWhole(1), "100%"},
		{"seconds ms", Seconds(0.0005), "0.5 ms"},
		{"seconds", Seconds(1.5), "1.5 s"},
		{"seconds min", Seconds(300), "5 min"},
		{"seconds h", Seconds(3600 * 3), "3 h"},
		{"seconds d", Seconds(86400 * 30), "30 d"},
		{"seconds nan", Seconds(math.NaN()), "—"},
		{"seconds or dash", SecondsOrDash(60), "60 s"},
		{"seconds or dash none", SecondsOrDash(0), "—"},
		{"millis", Millis(3.456), "3.5"},
		{"millis whole", Millis(123.4), "123"},
		{"duration", FormatDuration(1520 * time.Millisecond), "1.5s"},
		{"duration ms", FormatDuration(20*time.Millisecond + 300*time.Microsecond), "20ms"},
		{"num absurd", Num(1e300), "1e+300"},
		{"num large", Num(123456789012), "123000000000"},
		{"rate absurd", FormatRate(1e300), "1e+300/s"},
		{"rate or dash absurd", RateOrDash(1e300), "1e+300/s"},
		{"rate inf", RateOrDash(math.Inf(1)), "—"},
		{"seconds absurd", Seconds(1e300), "1.16e+295 d"},
		{"percent nan", Percent(math.NaN()), "—"},
		{"percent whole inf", PercentWhole(math.Inf(1)), "—"},
		{"millis nan", Millis(math.NaN()), "—"},
		{"exact inf", Exact(math.Inf(-1)), "—"},
		{"exact absurd", Exact(-1e300), "-1e+300"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestSig(t *testing.T) {
	tests := []struct{ x, sig, floor float64 }{
		{48.25, 48.3, 48.2},
		{100, 100, 100},
		{0.5, 0.5, 0.5},
		{0.9 * 50, 45, 45},
		{-1.234, -1.23, -1.234}, // FloorSig leaves values ≤ 0 alone
	}
	for _, tt := range tests {
		if got := Sig(tt.x, 3); math.Abs(got-tt.sig) > 1e-9 {
			t.Errorf("Sig(%v, 3) = %v, want %v", tt.x, got, tt.sig)
		}
		if got := FloorSig(tt.x, 3); math.Abs(got-tt.floor) > 1e-9 {
			t.Errorf("FloorSig(%v, 3) = %v, want %v", tt.x, got, tt.floor)
		}
	}
	for _, tt := range []struct{ x, want float64 }{{22.2, 23}, {20, 20}, {1234, 1300}, {0.0123, 0.013}, {0, 0}} {
		if got := CeilSig(tt.x, 2); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("CeilSig(%v, 2) = %v, want %v", tt.x, got, tt.want)
		}
	}
	if r := Rate(50).Interval(); r != 20*time.Millisecond {
		t.Errorf("Rate(50).Interval() = %v, want 20ms", r)
	}
}
