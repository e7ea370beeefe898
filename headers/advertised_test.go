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

// advCase is one Parse case: header lines and what they advertise.
type advCase struct {
	name     string
	lines    []string // "Name: value", added with http.Header.Add
	want     Advertised
	wantOK   bool
	wantNote string // a substring of one of the notes, if set
	// wantPolicies are the policies, compared when checkPolicies is set.
	wantPolicies  []Policy
	checkPolicies bool
}

func rem(v float64) *float64 { return &v }

// TestParseNothing covers headers that advertise nothing, or garbage.
func TestParseNothing(t *testing.T) {
	tests := []advCase{
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
	want := map[string]any{"limit": 10.0, "window_s": 60.0, "remaining": nil, "reset_s": 0.0, "retry_after_s": 3.0, "source": "ietf-legacy",
		"policies": []any{
			map[string]any{"limit": 10.0, "window_s": 60.0, "remaining": nil, "reset_s": 0.0, "unit": "requests"},
			map[string]any{"name": "hour", "limit": 100.0, "window_s": 3600.0, "remaining": nil, "reset_s": 0.0, "unit": "requests"},
		}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %s, want %v", b, want)
	}

	a.Remaining = rem(0)
	b, _ = json.Marshal(a)
	if !strings.Contains(string(b), `"remaining":0`) {
		t.Errorf("got %s, want remaining 0 (used up), not null", b)
	}
	a.Policies = nil
	b, _ = json.Marshal(a)
	if strings.Contains(string(b), "policies") {
		t.Errorf("got %s, want no policies key when there are none", b)
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
			if fx.policies != "" {
				if err := json.Unmarshal([]byte(fx.policies), &c.wantPolicies); err != nil {
					t.Fatalf("bad policies line: %v", err)
				}
				c.checkPolicies = true
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
	if c.checkPolicies && !samePolicies(got.Policies, c.wantPolicies) {
		g, _ := json.Marshal(got.Policies)
		w, _ := json.Marshal(c.wantPolicies)
		t.Errorf("got policies %s, want %s", g, w)
	}
}

// samePolicies compares policy lists field by field, floats as
// sameAdvertised does.
func samePolicies(a, b []Policy) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Unit != y.Unit || x.Kind != y.Kind ||
			!sameAdvertised(Advertised{Limit: x.Limit, WindowS: x.WindowS, Remaining: x.Remaining, ResetS: x.ResetS},
				Advertised{Limit: y.Limit, WindowS: y.WindowS, Remaining: y.Remaining, ResetS: y.ResetS}) {
			return false
		}
	}
	return true
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
	pols, _ := json.Marshal(a.Policies)
	return fmt.Sprintf("{limit %v, window_s %v, remaining %s, reset_s %v, retry_after_s %v, source %q, policy %q, policies %s}",
		a.Limit, a.WindowS, r, a.ResetS, a.RetryAfterS, a.Source, a.Policy, pols)
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
	name, raw, want, policies string
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
			if w, ok := strings.CutPrefix(strings.TrimSpace(line), "# policies:"); ok {
				fx.policies = strings.TrimSpace(w)
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

func FuzzParse(f *testing.F) {
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
		a.WindowS > maxS || a.ResetS > maxS || a.RetryAfterS > maxS ||
		a.Limit > MaxAdvertisedCount || a.Remaining != nil && *a.Remaining > MaxAdvertisedCount ||
		a.WindowS != 0 && a.WindowS < MinAdvertisedWindow || a.WindowS > 0 && bad(a.Limit/a.WindowS) {
		t.Fatalf("value out of range: %s", fmtAdvertised(a))
	}
	for _, p := range a.Policies {
		if bad(p.Limit) || bad(p.WindowS) || bad(p.ResetS) || p.Remaining != nil && bad(*p.Remaining) ||
			p.WindowS > maxS || p.ResetS > maxS || p.Unit == "" {
			t.Fatalf("policy out of range: %+v", p)
		}
	}
	if _, err := json.Marshal(a); err != nil {
		t.Fatalf("json: %v", err)
	}
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

func TestValidName(t *testing.T) {
	for _, s := range []string{"Authorization", "X-Api-Key", "x_api_key", "X-RateLimit-Limit-30"} {
		if !ValidName(s) {
			t.Errorf("ValidName(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", "Bad Name", "X.Foo", "Name:", "Ключ", "a\x00b"} {
		if ValidName(s) {
			t.Errorf("ValidName(%q) = true, want false", s)
		}
	}
}
