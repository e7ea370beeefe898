package headers

import "testing"

// TestParseVendors covers Kong, GitHub, Envoy, Discord, OpenAI and Anthropic.
func TestParseVendors(t *testing.T) {
	tests := []advCase{
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkAdvertised(t, headerOf(tt.lines), tt) })
	}
}
