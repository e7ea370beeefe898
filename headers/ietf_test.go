package headers

import "testing"

// TestParseIETF covers RateLimit and RateLimit-Policy (draft-08..11, the
// Hugging Face Hub and Cloudflare forms), draft-07 and the older
// RateLimit-Limit, -Remaining and -Reset.
func TestParseIETF(t *testing.T) {
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
			name: "ietf lists every policy with what is left of it",
			lines: []string{
				`RateLimit-Policy: "second";q=20;w=1, "hour";q=2000;w=3600;qu="requests";pk=:a2V5:`,
				`RateLimit: "hour";r=1990;t=3300, "second";r=19;t=1`,
			},
			want:   Advertised{Limit: 2000, WindowS: 3600, Remaining: rem(1990), ResetS: 3300, Source: "ietf", Policy: "hour"},
			wantOK: true,
			wantPolicies: []Policy{
				{Name: "second", Limit: 20, WindowS: 1, Remaining: rem(19), ResetS: 1, Unit: "requests"},
				{Name: "hour", Limit: 2000, WindowS: 3600, Remaining: rem(1990), ResetS: 3300, Unit: "requests"},
			},
			checkPolicies: true,
		},
		{
			name:   "ietf a policy without its RateLimit item has nothing left unknown",
			lines:  []string{`RateLimit-Policy: "a";q=5;w=1, "b";q=50;w=60`, `RateLimit: "b";r=0;t=12`},
			want:   Advertised{Limit: 50, WindowS: 60, Remaining: rem(0), ResetS: 12, Source: "ietf", Policy: "b"},
			wantOK: true,
			wantPolicies: []Policy{
				{Name: "a", Limit: 5, WindowS: 1, Unit: "requests"},
				{Name: "b", Limit: 50, WindowS: 60, Remaining: rem(0), ResetS: 12, Unit: "requests"},
			},
			checkPolicies: true,
		},
		{
			name:          "ietf a lone RateLimit item is a policy of unknown quota",
			lines:         []string{`RateLimit: "p";r=7;t=30`},
			want:          Advertised{Remaining: rem(7), ResetS: 30, Source: "ietf", Policy: "p"},
			wantOK:        true,
			wantPolicies:  []Policy{{Name: "p", Remaining: rem(7), ResetS: 30, Unit: "requests"}},
			checkPolicies: true,
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

		{
			name:   "no window borrowed from a policy that counts bytes",
			lines:  []string{"RateLimit-Limit: 1000", `RateLimit-Policy: "b";q=1000;w=60;qu="content-bytes"`},
			want:   Advertised{Limit: 1000, Source: "ietf-legacy"},
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkAdvertised(t, headerOf(tt.lines), tt) })
	}
}
