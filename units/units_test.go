package units

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr string
	}{
		{"50/s", 50, ""},
		{"50", 50, ""},
		{" 600/m ", 10, ""},
		{"3600/h", 1, ""},
		{"86400/d", 1, ""},
		{"0.5/s", 0.5, ""},
		{"100/10s", 10, ""},
		{"30/min", 0.5, ""},
		{"20/x", 0, "unknown period"},
		{"", 0, "empty rate"},
		{"abc", 0, "is not a rate"},
		{"-5/s", 0, "greater than zero"},
		{"0/s", 0, "greater than zero"},
		{"NaN", 0, "is not a rate"},
		{"Inf/s", 0, "is not a rate"},
		{"1e12/s", 0, "out of range"},
		{"5/-1s", 0, "unknown period"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRate(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRate(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRate(%q): %v", tt.in, err)
			}
			if math.Abs(float64(got)-tt.want) > 1e-9 {
				t.Errorf("ParseRate(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatRateRoundTrips(t *testing.T) {
	for _, rps := range []float64{2000, 50, 1, 0.5, 1.0 / 60, 1.0 / 3600, 1.0 / 86400} {
		s := FormatRate(rps)
		got, err := ParseRate(s)
		if err != nil {
			t.Fatalf("ParseRate(FormatRate(%v) = %q): %v", rps, s, err)
		}
		if math.Abs(float64(got)-rps)/rps > 0.001 {
			t.Errorf("ParseRate(FormatRate(%v) = %q) = %v", rps, s, got)
		}
	}
}

func TestParseShare(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{"1%", 0.01, false},
		{"0.01", 0.01, false},
		{"2.5 %", 0.025, false},
		{"100%", 1, false},
		{"0", 0, false},
		{"150%", 0, true},
		{"-1%", 0, true},
		{"1.5", 0, true},
		{"x%", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseShare(tt.in)
		if (err != nil) != tt.wantErr {
			t.Fatalf("ParseShare(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
		}
		if err == nil && math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("ParseShare(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"10s", 10 * time.Second, ""},
		{"1m30s", 90 * time.Second, ""},
		{"250ms", 250 * time.Millisecond, ""},
		{"10", 0, "has no unit"},
		{"-1s", 0, "greater than zero"},
		{"0s", 0, "greater than zero"},
		{"soon", 0, "is not a duration"},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseDuration(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseQuota(t *testing.T) {
	tests := []struct {
		in      string
		n       int
		per     time.Duration
		wantErr string
	}{
		{"1000/5m", 1000, 5 * time.Minute, ""},
		{"5000/h", 5000, time.Hour, ""},
		{" 10000 / d ", 10000, 24 * time.Hour, ""},
		{"2000/1h", 2000, time.Hour, ""},
		{"1000", 0, 0, "is not a quota"},
		{"0/h", 0, 0, "whole number from 1"},
		{"1.5/h", 0, 0, "whole number from 1"},
		{"10/fortnight", 0, 0, "unknown period"},
		{"10/9000h", 0, 0, "from 1ms to a year"},
	}
	for _, tt := range tests {
		n, per, err := ParseQuota(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseQuota(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || n != tt.n || per != tt.per {
			t.Errorf("ParseQuota(%q) = %d, %v, %v; want %d, %v", tt.in, n, per, err, tt.n, tt.per)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"50/s", "600/m", "1000/h", "0.5/s", "50", "100/10s", "1e3/d", "/s", "5/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		rps := float64(r)
		if !(rps > 0) || rps > MaxRate {
			t.Fatalf("ParseRate(%q) = %v, outside (0, MaxRate]", s, rps)
		}
		b, err := ParseRate(FormatRate(rps))
		if err != nil {
			t.Fatalf("FormatRate(%v) = %q does not parse: %v", rps, FormatRate(rps), err)
		}
		back := float64(b)
		if math.Abs(back-rps)/rps > 0.01 && math.Abs(back-rps) > 0.001 {
			t.Fatalf("round trip of %q: %v -> %q -> %v", s, rps, FormatRate(rps), back)
		}
	})
}

func FuzzParseShare(f *testing.F) {
	for _, s := range []string{"1%", "0.01", "100%", "150%", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseShare(s)
		if err == nil && (v < 0 || v > 1) {
			t.Fatalf("ParseShare(%q) = %v, outside [0,1]", s, v)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"10s", "1m30s", "10", "-1s", "1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d <= 0 {
			t.Fatalf("ParseDuration(%q) = %v, want > 0", s, d)
		}
	})
}

func FuzzParseQuota(f *testing.F) {
	for _, s := range []string{"1000/5m", "5000/h", "10000/d", "2000/1h0m0s", "1000", "0/h", "1/9000h", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, per, err := ParseQuota(s)
		if err != nil {
			return
		}
		if n < 1 || per < time.Millisecond || per > 366*24*time.Hour {
			t.Fatalf("ParseQuota(%q) = %d, %v: out of range", s, n, per)
		}
		// A quota written back with Go's duration reads the same.
		if n2, per2, err := ParseQuota(fmt.Sprintf("%d/%s", n, per)); err != nil || n2 != n || per2 != per {
			t.Fatalf("ParseQuota(%q) = %d, %v; written back it reads %d, %v, %v", s, n, per, n2, per2, err)
		}
	})
}
