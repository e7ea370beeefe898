package mock

import (
	"testing"
)

// FuzzParseSpec feeds ParseSpec arbitrary text: it must never panic, and a
// spec it accepts and New validates must render (Spec) to a spec that parses
// back to the same configuration.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"algorithm=token-bucket,rate=50/s,burst=10",
		"preset=nginx,rate=20/s",
		"preset=hf-endpoint,max_in_flight=8,latency=100ms",
		"algorithm=concurrency,max_in_flight=4,latency=lognormal:50ms,400ms",
		"algorithm=fixed-window,limit=100,window=10s,headers=ietf,retry_after=http-date",
		"algorithm=sliding-log,limit=5,window=1m,key_by=header:Authorization,error_rate=1%",
		"algorithm=queue,rate=0.5/s,burst=0,throttle_status=503,body=html",
		"algorithm=none,latency=20ms..80ms,hang_rate=0.001",
		"algorithm=token-bucket,rate=20/s,burst=40,quota=2000/1h,window_start=first-use,headers=ietf",
		"algorithm=none,quota=10000/d,headers=x-ratelimit",
		"rate=,=,,,preset=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		cfg, err := ParseSpec(spec)
		if err != nil {
			return
		}
		if _, err := New(cfg); err != nil {
			return
		}
		back, err := ParseSpec(cfg.Spec())
		if err != nil {
			t.Fatalf("Spec %q of accepted %q does not parse: %v", cfg.Spec(), spec, err)
		}
		if got, want := back.Spec(), cfg.Spec(); got != want {
			t.Fatalf("round trip of %q: got %q, want %q", spec, got, want)
		}
	})
}

// FuzzParseLatency: no panics, and accepted values round-trip through String.
func FuzzParseLatency(f *testing.F) {
	for _, s := range []string{"20ms", "20ms..80ms", "lognormal:50ms,400ms", "0", "1h..", "lognormal:,", "-5ms"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLatency(s)
		if err != nil {
			return
		}
		back, err := ParseLatency(l.String())
		if err != nil || back != l {
			t.Fatalf("round trip of %q through %q: got %+v, %v, want %+v", s, l.String(), back, err, l)
		}
		if l.Mean() < 0 {
			t.Fatalf("%q: got mean %v, want ≥ 0", s, l.Mean())
		}
	})
}
