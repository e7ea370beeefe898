package headers

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"120", 120 * time.Second, true},
		{" 5 ", 5 * time.Second, true},
		{"0", 0, true},
		{"1.5", 1500 * time.Millisecond, true},
		{`"7"`, 7 * time.Second, true},
		{"5, 5", 5 * time.Second, true},                              // duplicates merged by a proxy
		{"Wed, 25 Nov 2026 20:02:00 GMT", 2 * time.Minute, true},     // RFC 1123 (IMF-fixdate)
		{"Wednesday, 25-Nov-26 20:02:00 GMT", 2 * time.Minute, true}, // RFC 850
		{"Wed Nov 25 20:02:00 2026", 2 * time.Minute, true},          // ANSI C asctime
		{"Wed, 25 Nov 2026 19:00:00 GMT", 0, true},                   // past: retry now
		{"1.5s", 1500 * time.Millisecond, true},                      // Go duration, as Traefik's X-Retry-In
		{"2026-11-25T20:00:10Z", 10 * time.Second, true},             // RFC 3339
		{"1795636830", 30 * time.Second, true},                       // epoch seconds
		{"1795636830000", 30 * time.Second, true},                    // epoch milliseconds
		{"1000000000", 0, true},                                      // epoch in the past
		{"31622400", MaxAdvertisedDelay, true},                       // exactly the bound
		{"", 0, false},
		{"   ", 0, false},
		{"soon", 0, false},
		{"-5", 0, false},
		{"-5s", 0, false},
		{"+5", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"1e3", 0, false},
		{"0x10", 0, false},
		{"1..5", 0, false},
		{"99999999", 0, false},                        // over a year, too small for an epoch
		{"9999999999999999999999999999999", 0, false}, // epoch milliseconds far ahead
		{"Fri, 01 Jan 2100 00:00:00 GMT", 0, false},   // too far ahead
		{"9999999h", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseRetryAfter(tt.in, advNow)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseRetryAfter(%q) = %v, %t; want %v, %t", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestParseWaits covers Retry-After, retry-after-ms and X-Retry-In.
func TestParseWaits(t *testing.T) {
	tests := []advCase{
		{name: "retry-after seconds", lines: []string{"Retry-After: 30"}, want: Advertised{RetryAfterS: 30, Source: "retry-after"}, wantOK: true},
		{name: "retry-after zero", lines: []string{"Retry-After: 0"}, want: Advertised{Source: "retry-after"}, wantOK: true},
		{name: "retry-after float", lines: []string{"Retry-After: 0.5"}, want: Advertised{RetryAfterS: 0.5, Source: "retry-after"}, wantOK: true},
		{name: "retry-after HTTP-date", lines: []string{"Retry-After: Wed, 25 Nov 2026 20:02:00 GMT"}, want: Advertised{RetryAfterS: 120, Source: "retry-after"}, wantOK: true},
		{name: "retry-after-ms", lines: []string{"retry-after-ms: 1500"}, want: Advertised{RetryAfterS: 1.5, Source: "retry-after"}, wantOK: true},
		{name: "x-retry-in", lines: []string{"X-Retry-In: 999.999983ms"}, want: Advertised{RetryAfterS: 0.999999983, Source: "retry-after"}, wantOK: true},
		{
			name:   "retry-after wins over retry-after-ms and x-retry-in",
			lines:  []string{"X-Retry-In: 3s", "retry-after-ms: 1500", "Retry-After: 2"},
			want:   Advertised{RetryAfterS: 2, Source: "retry-after"},
			wantOK: true,
		},
		{
			name:   "retry-after-ms wins over x-retry-in",
			lines:  []string{"X-Retry-In: 3s", "retry-after-ms: 1500"},
			want:   Advertised{RetryAfterS: 1.5, Source: "retry-after"},
			wantOK: true,
		},
		{
			name:   "malformed retry-after falls through",
			lines:  []string{"Retry-After: later", "retry-after-ms: 250"},
			want:   Advertised{RetryAfterS: 0.25, Source: "retry-after"},
			wantOK: true,
		},
		{
			name:   "second retry-after value used when the first is bad",
			lines:  []string{"Retry-After: later", "Retry-After: 4"},
			want:   Advertised{RetryAfterS: 4, Source: "retry-after"},
			wantOK: true,
		},
		{name: "retry-after beyond a year ignored", lines: []string{"Retry-After: 99999999"}, wantOK: false},
		{name: "retry-after-ms beyond a year ignored", lines: []string{"retry-after-ms: 99999999999"}, wantOK: false},
		{name: "x-retry-in beyond a year ignored", lines: []string{"X-Retry-In: 9000h"}, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkAdvertised(t, headerOf(tt.lines), tt) })
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, fx := range loadAdvertisedFixtures(f) {
		for _, l := range headerLines(fx.raw) {
			if n := strings.ToLower(l[0]); strings.Contains(n, "retry") || strings.Contains(n, "reset") {
				f.Add(l[1], fuzzNow)
			}
		}
	}
	for _, s := range []string{"120", "1.5", "Wednesday, 25-Nov-26 20:02:00 GMT", "Wed Nov 25 20:02:00 2026", "-5", "1e3", "NaN", "5, 5", `"7`} {
		f.Add(s, fuzzNow)
	}
	f.Fuzz(func(t *testing.T, v string, nowUnix int64) {
		now := time.Unix(nowUnix, 0)
		d, ok := ParseRetryAfter(v, now)
		if !ok {
			if d != 0 {
				t.Fatalf("ParseRetryAfter(%q) = %v, false; want 0 when not ok", v, d)
			}
			return
		}
		if d < 0 || d > MaxAdvertisedDelay {
			t.Fatalf("ParseRetryAfter(%q) = %v, outside [0, %v]", v, d, MaxAdvertisedDelay)
		}
		// Parse must agree when the value is the Retry-After header.
		a, aok := Parse(http.Header{"Retry-After": {v}}, now)
		if !aok || math.Abs(a.RetryAfterS-d.Seconds()) > 1e-6 {
			t.Fatalf("Parse(Retry-After: %q) = %s, %t; ParseRetryAfter gives %v", v, fmtAdvertised(a), aok, d)
		}
	})
}

func TestAbsurdValuesIgnored(t *testing.T) {
	huge := "1" + strings.Repeat("0", 300)
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name  string
		h     http.Header
		check func(a Advertised) bool
	}{
		{"a quota of 1e300 per 1e-10 s", http.Header{"Ratelimit-Policy": {`"p";q=` + huge + `;w=0.0000000001`}},
			func(a Advertised) bool { return a.Limit == 0 && a.WindowS == 0 }},
		{"a window of 1e-10 s", http.Header{"Ratelimit-Policy": {`"p";q=100;w=0.0000000001`}},
			func(a Advertised) bool { return a.Limit == 100 && a.WindowS == 0 }},
		{"exponents", http.Header{"Ratelimit-Policy": {`"p";q=1e300;w=1e-10`}},
			func(a Advertised) bool { return a.Limit == 0 && a.WindowS == 0 }},
		{"a limit past 1e12", http.Header{"X-Ratelimit-Limit": {"10000000000000"}, "X-Ratelimit-Remaining": {huge}},
			func(a Advertised) bool { return a.Limit == 0 && a.Remaining == nil }},
		{"a large but plausible quota", http.Header{"X-Ratelimit-Limit": {"2000000000"}, "X-Ratelimit-Remaining": {"1999999999"}},
			func(a Advertised) bool { return a.Limit == 2e9 && a.Remaining != nil && *a.Remaining == 1999999999 }},
	}
	for _, tt := range tests {
		a, _ := Parse(tt.h, now)
		if !tt.check(a) {
			t.Errorf("%s: got %s", tt.name, fmtAdvertised(a))
		}
	}
}
