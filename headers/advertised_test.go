package headers

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// advNow is when every test response was received: 2026-11-25T20:00:00Z,
// Unix 1795636800. Epochs and dates in the tests are relative to it.
var advNow = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)

func TestAdvertisedRetryAfter(t *testing.T) {
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

// advCase is one Parse case: header lines and what they advertise.
type advCase struct {
	name     string
	lines    []string // "Name: value", added with http.Header.Add
	want     Advertised
	wantOK   bool
	wantNote string // a substring of one of the notes, if set
}

func rem(v float64) *float64 { return &v }

func TestParseAdvertised(t *testing.T) {
	tests := []advCase{
		// IETF draft-08..11.
		{
			name:   "ietf single policy",
			lines:  []string{`RateLimit-Policy: "p";q=100;w=60`, `RateLimit: "p";r=50;t=30`},
			want:   Advertised{Limit: 100, WindowS: 60, Remaining: rem(50), ResetS: 30, Source: "ietf", Policy: "p"},
			wantOK: true,
		},
		{
			name:   "ietf token names and optional qu, pk",
			lines:  []string{`RateLimit-Policy: default;q=10;w=1;qu="requests";pk=:dXNlcjE=:`, `RateLimit: default;r=0;t=1`},
			want:   Advertised{Limit: 10, WindowS: 1, Remaining: rem(0), ResetS: 1, Source: "ietf", Policy: "default"},
			wantOK: true,
		},
		{
			name: "ietf several policies take the most restrictive",
			lines: []string{
				`RateLimit-Policy: "burst";q=100;w=60, "daily";q=1000;w=86400`,
				`RateLimit: "burst";r=80;t=40, "daily";r=900;t=3000`,
			},
			want:     Advertised{Limit: 1000, WindowS: 86400, Remaining: rem(900), ResetS: 3000, Source: "ietf", Policy: "daily"},
			wantOK:   true,
			wantNote: `took the most restrictive, "daily"`,
		},
		{
			name:   "ietf equal rates take the smaller quota",
			lines:  []string{`RateLimit-Policy: "hour";q=3600;w=3600, "second";q=1;w=1`},
			want:   Advertised{Limit: 1, WindowS: 1, Source: "ietf", Policy: "second"},
			wantOK: true,
		},
		{
			name:   "ietf policy without window loses to one with",
			lines:  []string{`RateLimit-Policy: "a";q=1, "b";q=100;w=10`},
			want:   Advertised{Limit: 100, WindowS: 10, Source: "ietf", Policy: "b"},
			wantOK: true,
		},
		{
			name: "ietf skips policies that do not count requests",
			lines: []string{
				`RateLimit-Policy: "bytes";q=1000;w=60;qu="content-bytes", "inflight";q=2;qu="concurrent-requests", "req";q=50;w=60`,
				`RateLimit: "bytes";r=1;t=1, "req";r=20;t=10`,
			},
			want:     Advertised{Limit: 50, WindowS: 60, Remaining: rem(20), ResetS: 10, Source: "ietf", Policy: "req"},
			wantOK:   true,
			wantNote: `count something other than requests: "bytes" (qu="content-bytes"), "inflight" (qu="concurrent-requests")`,
		},
		{
			name:   "ietf only non-request policies",
			lines:  []string{`RateLimit-Policy: "bytes";q=1000;w=60;qu="content-bytes"`, `RateLimit: "bytes";r=1;t=1`},
			wantOK: false,
		},
		{
			name:   "hugging face hub invalid structured field",
			lines:  []string{`RateLimit-Policy: "fixed window";"api";q=500;w=300`, `RateLimit: "api";r=499;t=120`},
			want:   Advertised{Limit: 500, WindowS: 300, Remaining: rem(499), ResetS: 120, Source: "ietf", Policy: "api"},
			wantOK: true,
		},
		{
			name: "hugging face hub several classes match by name",
			lines: []string{
				`RateLimit-Policy: "fixed window";"resolvers";q=3000;w=300, "fixed window";"api";q=500;w=300`,
				`RateLimit: "resolvers";r=2990;t=10, "api";r=3;t=120`,
			},
			want:     Advertised{Limit: 500, WindowS: 300, Remaining: rem(3), ResetS: 120, Source: "ietf", Policy: "api"},
			wantOK:   true,
			wantNote: "2 policies",
		},
		{
			name:   "cloudflare names differ, one of each pairs up",
			lines:  []string{`Ratelimit: "default";r=50;t=30`, `Ratelimit-Policy: "burst";q=100;w=60`},
			want:   Advertised{Limit: 100, WindowS: 60, Remaining: rem(50), ResetS: 30, Source: "ietf", Policy: "burst"},
			wantOK: true,
		},
		{
			name:   "ietf RateLimit without policy",
			lines:  []string{`RateLimit: "p";r=5;t=2`},
			want:   Advertised{Remaining: rem(5), ResetS: 2, Source: "ietf", Policy: "p"},
			wantOK: true,
		},
		{
			name:   "ietf several items without policy take the fewest remaining",
			lines:  []string{`RateLimit: "a";r=50;t=30, "b";r=5;t=2`},
			want:   Advertised{Remaining: rem(5), ResetS: 2, Source: "ietf", Policy: "b"},
			wantOK: true,
		},
		{
			name:   "ietf policy without RateLimit",
			lines:  []string{`RateLimit-Policy: "p";q=100;w=60`},
			want:   Advertised{Limit: 100, WindowS: 60, Source: "ietf", Policy: "p"},
			wantOK: true,
		},
		{
			name:   "ietf quoted parameters, spaces and escapes",
			lines:  []string{`RateLimit-Policy:  "a \"quoted\", name" ; q="100" ; w=60 `, `RateLimit: "a \"quoted\", name";r=7;t=3`},
			want:   Advertised{Limit: 100, WindowS: 60, Remaining: rem(7), ResetS: 3, Source: "ietf", Policy: `a "quoted", name`},
			wantOK: true,
		},
		{
			name:   "ietf escaped quote before a comma",
			lines:  []string{`RateLimit-Policy: "x\",y";q=5;w=5`, `RateLimit: "x\",y";r=4;t=1`},
			want:   Advertised{Limit: 5, WindowS: 5, Remaining: rem(4), ResetS: 1, Source: "ietf", Policy: `x",y`},
			wantOK: true,
		},
		{
			name:   "ietf fields split over several lines",
			lines:  []string{`RateLimit-Policy: "a";q=100;w=60`, `RateLimit-Policy: "b";q=10;w=60`, `RateLimit: "a";r=1`, `RateLimit: "b";r=9;t=6`},
			want:   Advertised{Limit: 10, WindowS: 60, Remaining: rem(9), ResetS: 6, Source: "ietf", Policy: "b"},
			wantOK: true,
		},
		{
			name:   "ietf window and reset beyond a year ignored",
			lines:  []string{`RateLimit-Policy: "p";q=100;w=99999999`, `RateLimit: "p";r=1;t=99999999`},
			want:   Advertised{Limit: 100, Remaining: rem(1), Source: "ietf", Policy: "p"},
			wantOK: true,
		},
		{
			name:   "ietf malformed q skips the policy",
			lines:  []string{`RateLimit-Policy: "p";q=lots;w=60, "r";q=-1;w=1, "s";q=0;w=1`},
			wantOK: false,
		},

		// draft-07.
		{
			name:   "draft7 dictionary and policy",
			lines:  []string{`RateLimit: limit=100, remaining=50, reset=5`, `RateLimit-Policy: 100;w=10`},
			want:   Advertised{Limit: 100, WindowS: 10, Remaining: rem(50), ResetS: 5, Source: "ietf-draft7"},
			wantOK: true,
		},
		{
			name:   "draft7 window from the policy with the same quota",
			lines:  []string{`RateLimit: limit=10, remaining=5, reset=1`, `RateLimit-Policy: 50;w=60, 10;w=1, 1000;w=3600;comment="hourly"`},
			want:   Advertised{Limit: 10, WindowS: 1, Remaining: rem(5), ResetS: 1, Source: "ietf-draft7"},
			wantOK: true,
		},
		{
			name:   "draft7 without policy",
			lines:  []string{`RateLimit: limit=100, remaining=0, reset=59`},
			want:   Advertised{Limit: 100, Remaining: rem(0), ResetS: 59, Source: "ietf-draft7"},
			wantOK: true,
		},
		{
			name:     "draft7 policy alone",
			lines:    []string{`RateLimit-Policy: 100;w=60, 1000;w=3600`},
			want:     Advertised{Limit: 1000, WindowS: 3600, Source: "ietf-draft7"},
			wantOK:   true,
			wantNote: "2 policies",
		},

		// draft-06 and earlier.
		{
			name:   "legacy separate fields",
			lines:  []string{"RateLimit-Limit: 100", "RateLimit-Remaining: 99", "RateLimit-Reset: 60"},
			want:   Advertised{Limit: 100, Remaining: rem(99), ResetS: 60, Source: "ietf-legacy"},
			wantOK: true,
		},
		{
			name:     "legacy draft-03 policies in the limit field",
			lines:    []string{"RateLimit-Limit: 10, 10;w=1, 50;w=60", "RateLimit-Remaining: 3", "RateLimit-Reset: 1"},
			want:     Advertised{Limit: 10, WindowS: 1, Remaining: rem(3), ResetS: 1, Source: "ietf-legacy"},
			wantOK:   true,
			wantNote: "window_s 1 taken from RateLimit-Limit",
		},
		{
			name:   "legacy reset sent as an epoch",
			lines:  []string{"RateLimit-Limit: 100", "RateLimit-Reset: 1795636860"},
			want:   Advertised{Limit: 100, ResetS: 60, Source: "ietf-legacy"},
			wantOK: true,
		},
		{
			name:     "legacy window borrowed from a draft-07 policy",
			lines:    []string{"RateLimit-Policy: 100;w=60", "RateLimit-Limit: 100", "RateLimit-Remaining: 72", "RateLimit-Reset: 48"},
			want:     Advertised{Limit: 100, WindowS: 60, Remaining: rem(72), ResetS: 48, Source: "ietf-legacy"},
			wantOK:   true,
			wantNote: "window_s 60 taken from RateLimit-Policy",
		},

		// Kong.
		{
			name: "kong units take the most restrictive",
			lines: []string{
				"X-RateLimit-Limit-Second: 5", "X-RateLimit-Remaining-Second: 4",
				"X-RateLimit-Limit-Minute: 100", "X-RateLimit-Remaining-Minute: 90",
			},
			want:     Advertised{Limit: 100, WindowS: 60, Remaining: rem(90), Source: "kong"},
			wantOK:   true,
			wantNote: "2 windows",
		},
		{
			name:   "kong every unit",
			lines:  []string{"X-RateLimit-Limit-Hour: 3600", "X-RateLimit-Limit-Day: 86400", "X-RateLimit-Limit-Month: 100000", "X-RateLimit-Limit-Year: 1000000"},
			want:   Advertised{Limit: 1000000, WindowS: 365 * 86400, Source: "kong"},
			wantOK: true,
		},
		{
			name:   "kong advanced window in seconds",
			lines:  []string{"X-RateLimit-Limit-30: 5", "X-RateLimit-Remaining-30: 2"},
			want:   Advertised{Limit: 5, WindowS: 30, Remaining: rem(2), Source: "kong"},
			wantOK: true,
		},
		{
			name:   "kong remaining without limit",
			lines:  []string{"X-RateLimit-Remaining-Hour: 7", "X-RateLimit-Remaining-Minute: 3"},
			want:   Advertised{WindowS: 60, Remaining: rem(3), Source: "kong"},
			wantOK: true,
		},
		{
			name:   "kong unknown unit ignored",
			lines:  []string{"X-RateLimit-Limit-Fortnight: 5", "X-RateLimit-Limit-0: 5"},
			wantOK: false,
		},
		{
			name:   "no window borrowed from a policy that counts bytes",
			lines:  []string{"RateLimit-Limit: 1000", `RateLimit-Policy: "b";q=1000;w=60;qu="content-bytes"`},
			want:   Advertised{Limit: 1000, Source: "ietf-legacy"},
			wantOK: true,
		},
		{
			name: "kong with legacy fields lends the window",
			lines: []string{
				"RateLimit-Limit: 10", "RateLimit-Remaining: 9", "RateLimit-Reset: 47",
				"X-RateLimit-Limit-Minute: 10", "X-RateLimit-Remaining-Minute: 9",
				"X-RateLimit-Limit-Hour: 100", "X-RateLimit-Remaining-Hour: 99",
			},
			want:     Advertised{Limit: 10, WindowS: 60, Remaining: rem(9), ResetS: 47, Source: "ietf-legacy"},
			wantOK:   true,
			wantNote: "window_s 60 taken from X-RateLimit-Limit-*",
		},

		// GitHub, Envoy, Discord, generic.
		{
			name:   "x-ratelimit epoch reset",
			lines:  []string{"X-RateLimit-Limit: 5000", "X-RateLimit-Remaining: 4999", "X-RateLimit-Reset: 1795640400", "X-RateLimit-Used: 1"},
			want:   Advertised{Limit: 5000, Remaining: rem(4999), ResetS: 3600, Source: "x-ratelimit"},
			wantOK: true,
		},
		{
			name:   "x-ratelimit epoch reset in the past is 0",
			lines:  []string{"X-RateLimit-Limit: 60", "X-RateLimit-Reset: 1795636000"},
			want:   Advertised{Limit: 60, Source: "x-ratelimit"},
			wantOK: true,
		},
		{
			name:   "x-ratelimit epoch milliseconds",
			lines:  []string{"X-RateLimit-Limit: 60", "X-RateLimit-Reset: 1795636802500"},
			want:   Advertised{Limit: 60, ResetS: 2.5, Source: "x-ratelimit"},
			wantOK: true,
		},
		{
			name:   "x-ratelimit delay reset",
			lines:  []string{"X-RateLimit-Limit: 10", "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 30"},
			want:   Advertised{Limit: 10, Remaining: rem(0), ResetS: 30, Source: "x-ratelimit"},
			wantOK: true,
		},
		{
			name:   "x-ratelimit float delay reset",
			lines:  []string{"X-RateLimit-Reset: 0.25"},
			want:   Advertised{ResetS: 0.25, Source: "x-ratelimit"},
			wantOK: true,
		},
		{
			name:   "x-ratelimit HTTP-date reset",
			lines:  []string{"X-RateLimit-Limit: 10", "X-RateLimit-Reset: Wed, 25 Nov 2026 20:01:00 GMT"},
			want:   Advertised{Limit: 10, ResetS: 60, Source: "x-ratelimit"},
			wantOK: true,
		},
		{
			name:   "x-ratelimit used gives remaining",
			lines:  []string{"X-RateLimit-Limit: 5000", "X-RateLimit-Used: 1000"},
			want:   Advertised{Limit: 5000, Remaining: rem(4000), Source: "x-ratelimit"},
			wantOK: true,
		},
		{
			name:   "x-ratelimit used above limit ignored",
			lines:  []string{"X-RateLimit-Limit: 5000", "X-RateLimit-Used: 6000"},
			want:   Advertised{Limit: 5000, Source: "x-ratelimit"},
			wantOK: true,
		},
		{
			name:   "envoy draft-03 list with window",
			lines:  []string{`X-RateLimit-Limit: 10, 10;w=60;name="per-minute"`, "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 30"},
			want:   Advertised{Limit: 10, WindowS: 60, Remaining: rem(0), ResetS: 30, Source: "x-ratelimit"},
			wantOK: true,
		},
		{
			name:   "discord float epoch reset",
			lines:  []string{"X-RateLimit-Limit: 5", "X-RateLimit-Remaining: 4", "X-RateLimit-Reset: 1795636801.123", "X-RateLimit-Bucket: abcd"},
			want:   Advertised{Limit: 5, Remaining: rem(4), ResetS: 1.123, Source: "discord"},
			wantOK: true,
		},
		{
			name:   "discord reset-after with requests left is not a wait",
			lines:  []string{"X-RateLimit-Limit: 5", "X-RateLimit-Remaining: 4", "X-RateLimit-Reset: 1795636899", "X-RateLimit-Reset-After: 0.75"},
			want:   Advertised{Limit: 5, Remaining: rem(4), ResetS: 0.75, Source: "discord"},
			wantOK: true,
		},
		{
			name:   "discord reset-after when exhausted is the wait",
			lines:  []string{"X-RateLimit-Limit: 5", "X-RateLimit-Remaining: 0", "X-RateLimit-Reset-After: 64.57", "X-RateLimit-Bucket: abcd"},
			want:   Advertised{Limit: 5, Remaining: rem(0), ResetS: 64.57, RetryAfterS: 64.57, Source: "discord"},
			wantOK: true,
		},

		// OpenAI.
		{
			name:   "openai durations",
			lines:  []string{"x-ratelimit-limit-requests: 60", "x-ratelimit-remaining-requests: 59", "x-ratelimit-reset-requests: 1s"},
			want:   Advertised{Limit: 60, Remaining: rem(59), ResetS: 1, Source: "openai"},
			wantOK: true,
		},
		{name: "openai reset 6m0s", lines: []string{"x-ratelimit-reset-requests: 6m0s"}, want: Advertised{ResetS: 360, Source: "openai"}, wantOK: true},
		{name: "openai reset 12ms", lines: []string{"x-ratelimit-reset-requests: 12ms"}, want: Advertised{ResetS: 0.012, Source: "openai"}, wantOK: true},
		{name: "openai reset 20ms", lines: []string{"x-ratelimit-reset-requests: 20ms"}, want: Advertised{ResetS: 0.02, Source: "openai"}, wantOK: true},
		{name: "openai reset 1m30.5s", lines: []string{"x-ratelimit-reset-requests: 1m30.5s"}, want: Advertised{ResetS: 90.5, Source: "openai"}, wantOK: true},
		{name: "openai reset 0s", lines: []string{"x-ratelimit-reset-requests: 0s"}, want: Advertised{Source: "openai"}, wantOK: true},
		{name: "openai reset bare seconds", lines: []string{"x-ratelimit-reset-requests: 1.5"}, want: Advertised{ResetS: 1.5, Source: "openai"}, wantOK: true},
		{name: "openai reset negative ignored", lines: []string{"x-ratelimit-limit-requests: 60", "x-ratelimit-reset-requests: -1s"}, want: Advertised{Limit: 60, Source: "openai"}, wantOK: true},
		{
			name:   "openai tokens only",
			lines:  []string{"x-ratelimit-limit-tokens: 150000", "x-ratelimit-remaining-tokens: 149984", "x-ratelimit-reset-tokens: 6m0s"},
			wantOK: false,
		},

		// Anthropic.
		{
			name:   "anthropic RFC 3339 reset",
			lines:  []string{"anthropic-ratelimit-requests-limit: 50", "anthropic-ratelimit-requests-remaining: 49", "anthropic-ratelimit-requests-reset: 2026-11-25T20:00:30Z"},
			want:   Advertised{Limit: 50, Remaining: rem(49), ResetS: 30, Source: "anthropic"},
			wantOK: true,
		},
		{
			name:   "anthropic fractional and offset reset",
			lines:  []string{"anthropic-ratelimit-requests-limit: 50", "anthropic-ratelimit-requests-reset: 2026-11-25T21:00:00.5+01:00"},
			want:   Advertised{Limit: 50, ResetS: 0.5, Source: "anthropic"},
			wantOK: true,
		},
		{
			name:   "anthropic reset in the past is 0",
			lines:  []string{"anthropic-ratelimit-requests-limit: 50", "anthropic-ratelimit-requests-reset: 2026-11-25T19:59:00Z"},
			want:   Advertised{Limit: 50, Source: "anthropic"},
			wantOK: true,
		},
		{
			name:   "anthropic tokens only",
			lines:  []string{"anthropic-ratelimit-tokens-limit: 40000", "anthropic-ratelimit-input-tokens-remaining: 100"},
			wantOK: false,
		},

		// Waits.
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

		// Garbage and nothing.
		{name: "no headers", wantOK: false},
		{name: "unrelated headers", lines: []string{"Content-Type: text/html", "Server: nginx", "X-Request-Id: 42"}, wantOK: false},
		{name: "empty values", lines: []string{"RateLimit: ", "Retry-After: ", "X-RateLimit-Limit: "}, wantOK: false},
		{
			name: "garbage everywhere",
			lines: []string{
				"Retry-After: soon", "retry-after-ms: NaN", "X-Retry-In: -3s",
				`RateLimit: ;;;,,,"unterminated`, `RateLimit-Policy: "p";q=abc;w=60`,
				"RateLimit-Limit: Infinity", "RateLimit-Remaining: -1", "RateLimit-Reset: 1e3",
				"X-RateLimit-Limit: 0x10", "X-RateLimit-Remaining: 1_000", "X-RateLimit-Reset: 99999999",
				"x-ratelimit-limit-requests: ∞", "anthropic-ratelimit-requests-reset: tomorrow",
			},
			wantOK: false,
		},
		{
			name:   "garbage beside good values",
			lines:  []string{"X-RateLimit-Limit: lots", "X-RateLimit-Remaining: 5", "X-RateLimit-Reset: soon"},
			want:   Advertised{Remaining: rem(5), Source: "x-ratelimit"},
			wantOK: true,
		},
		{
			name:   "quoted and listed counts",
			lines:  []string{`X-RateLimit-Limit: "100"`, "X-RateLimit-Remaining: 7, 7"},
			want:   Advertised{Limit: 100, Remaining: rem(7), Source: "x-ratelimit"},
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkAdvertised(t, headerOf(tt.lines), tt) })
	}
}

func TestParseAdvertisedPrecedence(t *testing.T) {
	tests := []advCase{
		{
			name:     "ietf over x-ratelimit",
			lines:    []string{`RateLimit-Policy: "p";q=100;w=60`, `RateLimit: "p";r=50;t=30`, "X-RateLimit-Limit: 120", "X-RateLimit-Remaining: 70"},
			want:     Advertised{Limit: 100, WindowS: 60, Remaining: rem(50), ResetS: 30, Source: "ietf", Policy: "p"},
			wantOK:   true,
			wantNote: "x-ratelimit headers also present (limit 120, remaining 70), not used",
		},
		{
			name:   "a family with a limit over one without",
			lines:  []string{`RateLimit: "p";r=50;t=30`, "X-RateLimit-Limit: 120", "X-RateLimit-Remaining: 70", "X-RateLimit-Reset: 20"},
			want:   Advertised{Limit: 120, Remaining: rem(70), ResetS: 20, Source: "x-ratelimit"},
			wantOK: true,
		},
		{
			name:   "draft-11 over draft-07 in the same field",
			lines:  []string{`RateLimit: limit=10, remaining=1, reset=1`, `RateLimit: "p";r=50;t=30`, `RateLimit-Policy: "p";q=100;w=60`},
			want:   Advertised{Limit: 100, WindowS: 60, Remaining: rem(50), ResetS: 30, Source: "ietf", Policy: "p"},
			wantOK: true,
		},
		{
			name:   "draft-07 over legacy",
			lines:  []string{`RateLimit: limit=10, remaining=1, reset=1`, "RateLimit-Limit: 20", "RateLimit-Remaining: 2"},
			want:   Advertised{Limit: 10, Remaining: rem(1), ResetS: 1, Source: "ietf-draft7"},
			wantOK: true,
		},
		{
			name:   "legacy over x-ratelimit",
			lines:  []string{"RateLimit-Limit: 20", "RateLimit-Remaining: 2", "X-RateLimit-Limit: 30", "X-RateLimit-Reset: 1795640400"},
			want:   Advertised{Limit: 20, Remaining: rem(2), Source: "ietf-legacy"},
			wantOK: true,
		},
		{
			name:   "anthropic over openai over kong",
			lines:  []string{"anthropic-ratelimit-requests-limit: 50", "x-ratelimit-limit-requests: 60", "X-RateLimit-Limit-Minute: 70"},
			want:   Advertised{Limit: 50, Source: "anthropic"},
			wantOK: true,
		},
		{
			name:   "openai over x-ratelimit",
			lines:  []string{"x-ratelimit-limit-requests: 60", "x-ratelimit-limit: 100"},
			want:   Advertised{Limit: 60, Source: "openai"},
			wantOK: true,
		},
		{
			name:   "kong over discord",
			lines:  []string{"X-RateLimit-Limit-Second: 3", "X-RateLimit-Limit: 5", "X-RateLimit-Bucket: b"},
			want:   Advertised{Limit: 3, WindowS: 1, Source: "kong"},
			wantOK: true,
		},
		{
			name:   "retry-after beside a reset",
			lines:  []string{"Retry-After: 10", `RateLimit: "p";r=0;t=30`, `RateLimit-Policy: "p";q=100;w=60`},
			want:   Advertised{Limit: 100, WindowS: 60, Remaining: rem(0), ResetS: 30, RetryAfterS: 10, Source: "ietf", Policy: "p"},
			wantOK: true,
		},
		{
			name:   "retry-after over discord reset-after",
			lines:  []string{"Retry-After: 2", "X-RateLimit-Remaining: 0", "X-RateLimit-Reset-After: 5"},
			want:   Advertised{Remaining: rem(0), ResetS: 5, RetryAfterS: 2, Source: "discord"},
			wantOK: true,
		},
		{
			name:   "window borrowed only for the same quota",
			lines:  []string{"X-RateLimit-Limit: 100", "RateLimit-Policy: 50;w=60"},
			want:   Advertised{Limit: 100, Source: "x-ratelimit"},
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkAdvertised(t, headerOf(tt.lines), tt) })
	}
}

func TestParseAdvertisedHeaderNames(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header // built by hand, keys as a careless caller would put them
		want Advertised
	}{
		{
			name: "lower-case keys as HTTP/2 delivers them",
			h: http.Header{
				"ratelimit":        {`"api";r=499;t=120`},
				"ratelimit-policy": {`"fixed window";"api";q=500;w=300`},
			},
			want: Advertised{Limit: 500, WindowS: 300, Remaining: rem(499), ResetS: 120, Source: "ietf", Policy: "api"},
		},
		{
			name: "upper-case and mixed keys",
			h: http.Header{
				"X-RATELIMIT-LIMIT-MINUTE":     {"10"},
				"x-RateLimit-remaining-Minute": {"3"},
				"RETRY-AFTER":                  {"4"},
				"X-RATELIMIT-BUCKET":           {"ignored: kong ranks first"},
			},
			want: Advertised{Limit: 10, WindowS: 60, Remaining: rem(3), RetryAfterS: 4, Source: "kong"},
		},
		{
			name: "two spellings: canonical first",
			h: http.Header{
				"Retry-After":       {"later"},
				"retry-after":       {"5"},
				"X-Ratelimit-Limit": {"10"},
				"x-ratelimit-limit": {"20"},
			},
			want: Advertised{Limit: 10, RetryAfterS: 5, Source: "x-ratelimit"},
		},
		{
			name: "two spellings of a kong unit: canonical first",
			h: http.Header{
				"X-Ratelimit-Limit-Minute":     {"10"},
				"x-ratelimit-limit-minute":     {"20"},
				"X-Ratelimit-Remaining-Minute": {"1"},
				"x-ratelimit-remaining-minute": {"2"},
			},
			want: Advertised{Limit: 10, WindowS: 60, Remaining: rem(1), Source: "kong"},
		},
		{
			name: "two spellings of a list field are joined",
			h: http.Header{
				"Ratelimit-Policy": {`"a";q=100;w=60`},
				"RATELIMIT-POLICY": {`"b";q=10;w=60`},
				"ratelimit":        {`"b";r=1;t=2`},
			},
			want: Advertised{Limit: 10, WindowS: 60, Remaining: rem(1), ResetS: 2, Source: "ietf", Policy: "b"},
		},
		{
			name: "empty value lists and long names are skipped",
			h: http.Header{
				"Retry-After":            {},
				strings.Repeat("x", 100): {"1"},
				"X-RateLimit-Limit-" + strings.Repeat("9", 60): {"5"},
				"X-RateLimit-Remaining":                        {"1"},
			},
			want: Advertised{Remaining: rem(1), Source: "x-ratelimit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Map order is random: parse several times, expect the same every time.
			for range 20 {
				checkAdvertised(t, tt.h, advCase{want: tt.want, wantOK: true})
			}
		})
	}
}

func TestParseAdvertisedJSON(t *testing.T) {
	a, ok := Parse(headerOf([]string{"Retry-After: 3", "RateLimit-Limit: 10", "X-RateLimit-Limit-Minute: 10", "X-RateLimit-Limit-Hour: 100"}), advNow)
	if !ok {
		t.Fatal("got ok false, want true")
	}
	if len(a.Notes) == 0 {
		t.Fatal("got no notes, want some (they must stay out of JSON)")
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"limit": 10.0, "window_s": 60.0, "remaining": nil, "reset_s": 0.0, "retry_after_s": 3.0, "source": "ietf-legacy"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %s, want %v", b, want)
	}

	a.Remaining = rem(0)
	b, _ = json.Marshal(a)
	if !strings.Contains(string(b), `"remaining":0`) {
		t.Errorf("got %s, want remaining 0 (used up), not null", b)
	}
}

// TestParseAdvertisedFixtures parses each testdata/advertised/*.txt header
// block and compares the result with its "# want:" line, by meaning.
func TestParseAdvertisedFixtures(t *testing.T) {
	fixtures := loadAdvertisedFixtures(t)
	if len(fixtures) < 10 {
		t.Fatalf("got %d fixtures, want at least 10", len(fixtures))
	}
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			if fx.want == "" {
				t.Fatal(`missing "# want:" line`)
			}
			var want *Advertised
			if err := json.Unmarshal([]byte(fx.want), &want); err != nil {
				t.Fatalf("bad want line: %v", err)
			}
			c := advCase{wantOK: want != nil}
			if want != nil {
				c.want = *want
			}
			checkAdvertised(t, headerFromBlock(fx.raw, true), c)
			checkAdvertised(t, headerFromBlock(fx.raw, false), c) // raw keys, as written
		})
	}
}

// checkAdvertised parses h at advNow and compares with c.
func checkAdvertised(t *testing.T, h http.Header, c advCase) {
	t.Helper()
	got, ok := Parse(h, advNow)
	if ok != c.wantOK {
		t.Errorf("got ok %t, want %t (got %s)", ok, c.wantOK, fmtAdvertised(got))
		return
	}
	if !ok {
		if !reflect.DeepEqual(got, Advertised{}) {
			t.Errorf("got %s with ok false, want the zero Advertised", fmtAdvertised(got))
		}
		return
	}
	if !sameAdvertised(got, c.want) || (c.want.Policy != "" && got.Policy != c.want.Policy) {
		t.Errorf("got %s, want %s", fmtAdvertised(got), fmtAdvertised(c.want))
	}
	if c.wantNote != "" && !slices.ContainsFunc(got.Notes, func(n string) bool { return strings.Contains(n, c.wantNote) }) {
		t.Errorf("got notes %q, want one containing %q", got.Notes, c.wantNote)
	}
}

// sameAdvertised compares the reported fields, floats within a microsecond
// (epoch arithmetic is not exact).
func sameAdvertised(a, b Advertised) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-6*max(1, math.Abs(y)) }
	if (a.Remaining == nil) != (b.Remaining == nil) || a.Remaining != nil && !near(*a.Remaining, *b.Remaining) {
		return false
	}
	return near(a.Limit, b.Limit) && near(a.WindowS, b.WindowS) && near(a.ResetS, b.ResetS) &&
		near(a.RetryAfterS, b.RetryAfterS) && a.Source == b.Source
}

func fmtAdvertised(a Advertised) string {
	r := "nil"
	if a.Remaining != nil {
		r = fmt.Sprint(*a.Remaining)
	}
	return fmt.Sprintf("{limit %v, window_s %v, remaining %s, reset_s %v, retry_after_s %v, source %q, policy %q}",
		a.Limit, a.WindowS, r, a.ResetS, a.RetryAfterS, a.Source, a.Policy)
}

// headerOf builds a header from "Name: value" lines with http.Header.Add.
func headerOf(lines []string) http.Header {
	return headerFromBlock(strings.Join(lines, "\n"), true)
}

// headerFromBlock builds a header from a block of "Name: value" lines,
// skipping blank lines, "#" comments and lines without a colon. With
// canonical false, names are kept as written instead of canonicalised.
func headerFromBlock(raw string, canonical bool) http.Header {
	h := http.Header{}
	for _, l := range headerLines(raw) {
		if canonical {
			h.Add(l[0], l[1])
		} else {
			h[l[0]] = append(h[l[0]], l[1])
		}
	}
	return h
}

// headerLines splits a header block into name, value pairs.
func headerLines(raw string) [][2]string {
	var out [][2]string
	for line := range strings.Lines(raw) {
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, found := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !found || name == "" {
			continue
		}
		out = append(out, [2]string{name, strings.TrimSpace(value)})
	}
	return out
}

type advertisedFixture struct {
	name, raw, want string
}

// loadAdvertisedFixtures reads testdata/advertised/*.txt.
func loadAdvertisedFixtures(tb testing.TB) []advertisedFixture {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "advertised", "*.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	var fxs []advertisedFixture
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		fx := advertisedFixture{name: strings.TrimSuffix(filepath.Base(p), ".txt"), raw: string(b)}
		for line := range strings.Lines(fx.raw) {
			if w, ok := strings.CutPrefix(strings.TrimSpace(line), "# want:"); ok {
				fx.want = strings.TrimSpace(w)
			}
		}
		fxs = append(fxs, fx)
	}
	return fxs
}

// fuzzNow is the fuzzers' default receive time (advNow as Unix seconds).
var fuzzNow = advNow.Unix()

var advertisedSources = []string{
	SourceIETF, SourceIETFDraft7, SourceIETFLegacy, SourceAnthropic, SourceOpenAI,
	SourceKong, SourceDiscord, SourceXRateLimit, SourceRetryAfter,
}

func FuzzParseAdvertised(f *testing.F) {
	for _, fx := range loadAdvertisedFixtures(f) {
		f.Add(fx.raw, fuzzNow)
	}
	f.Add("RateLimit: \"a\nRateLimit-Policy: \"a\";q=1;w=1,\"a", fuzzNow)
	f.Add("X-RateLimit-Reset: 1795636801.123\nX-RateLimit-Bucket: b", int64(0))
	f.Add("Retry-After: Fri, 31 Dec 9999 23:59:59 GMT", int64(math.MaxInt64))
	f.Add("Retry-After: Mon, 01 Jan 0001 00:00:00 GMT", int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, raw string, nowUnix int64) {
		now := time.Unix(nowUnix, 0)
		canonical, asWritten := headerFromBlock(raw, true), headerFromBlock(raw, false)
		a, ok := Parse(canonical, now)
		checkAdvertisedInvariants(t, a, ok)
		b, okB := Parse(asWritten, now)
		checkAdvertisedInvariants(t, b, okB)

		if a2, _ := Parse(canonical, now); !reflect.DeepEqual(a, a2) {
			t.Fatalf("not deterministic: %s, then %s", fmtAdvertised(a), fmtAdvertised(a2))
		}
		// When no two lines share a name, spelling must not matter.
		seen := map[string]bool{}
		for _, l := range headerLines(raw) {
			k := strings.ToLower(l[0])
			if seen[k] {
				return
			}
			seen[k] = true
		}
		if ok != okB || !reflect.DeepEqual(a, b) {
			t.Fatalf("canonical keys give %s, %t; keys as written give %s, %t", fmtAdvertised(a), ok, fmtAdvertised(b), okB)
		}
	})
}

// checkAdvertisedInvariants holds for any header set.
func checkAdvertisedInvariants(t *testing.T, a Advertised, ok bool) {
	t.Helper()
	if ok != (a.Source != "") {
		t.Fatalf("ok %t with source %q", ok, a.Source)
	}
	if !ok && !reflect.DeepEqual(a, Advertised{}) {
		t.Fatalf("ok false but got %s", fmtAdvertised(a))
	}
	if ok && !slices.Contains(advertisedSources, a.Source) {
		t.Fatalf("unknown source %q", a.Source)
	}
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v < 0 }
	maxS := MaxAdvertisedDelay.Seconds()
	if bad(a.Limit) || bad(a.WindowS) || bad(a.ResetS) || bad(a.RetryAfterS) || a.Remaining != nil && bad(*a.Remaining) ||
		a.WindowS > maxS || a.ResetS > maxS || a.RetryAfterS > maxS {
		t.Fatalf("value out of range: %s", fmtAdvertised(a))
	}
	if _, err := json.Marshal(a); err != nil {
		t.Fatalf("json: %v", err)
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

func BenchmarkParseAdvertised(b *testing.B) {
	bench := []struct {
		name  string
		lines []string
	}{
		{"github", []string{
			"Date: Wed, 25 Nov 2026 20:00:00 GMT", "Content-Type: application/json; charset=utf-8",
			"Cache-Control: private, max-age=60, s-maxage=60", "Vary: Accept, Authorization, Cookie, X-GitHub-OTP",
			"ETag: W/\"0b4f5d3c2a1e\"", "X-GitHub-Media-Type: github.v3; format=json", "X-GitHub-Api-Version-Selected: 2022-11-28",
			"X-RateLimit-Limit: 5000", "X-RateLimit-Remaining: 4999", "X-RateLimit-Reset: 1795640400",
			"X-RateLimit-Used: 1", "X-RateLimit-Resource: core", "Access-Control-Allow-Origin: *",
			"Strict-Transport-Security: max-age=31536000; includeSubdomains; preload", "X-Frame-Options: deny",
			"X-Content-Type-Options: nosniff", "Content-Security-Policy: default-src 'none'",
			"Server: github.com", "X-GitHub-Request-Id: C0DE:1234:5678AB:9ABCDE:6744D5A0",
		}},
		{"huggingface", []string{
			"Content-Type: application/json; charset=utf-8", "X-Powered-By: huggingface-moon",
			"X-Request-Id: Root=1-6744d5a0-3b1c2f0e5d4a7b8c9d0e1f2a", "Ratelimit: \"api\";r=499;t=120",
			"Ratelimit-Policy: \"fixed window\";\"api\";q=500;w=300", "Cross-Origin-Opener-Policy: same-origin",
			"Vary: Origin", "Access-Control-Allow-Origin: https://huggingface.co",
		}},
		{"none", []string{"Content-Type: text/html", "Server: nginx", "Date: Wed, 25 Nov 2026 20:00:00 GMT", "Content-Length: 1024"}},
	}
	for _, bc := range bench {
		h := headerOf(bc.lines)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Parse(h, advNow)
			}
		})
	}
}
