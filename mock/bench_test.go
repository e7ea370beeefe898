package mock

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

var benchSpecs = []struct{ name, spec string }{
	{"token-bucket", "algorithm=token-bucket,rate=1000/s,burst=10"},
	{"gcra", "algorithm=gcra,rate=1000/s,burst=10"},
	{"fixed-window", "algorithm=fixed-window,limit=1000,window=1s"},
	{"sliding-log", "algorithm=sliding-log,limit=1000,window=1s"},
	{"sliding-counter", "algorithm=sliding-counter,limit=1000,window=1s"},
	{"concurrency", "algorithm=concurrency,max_in_flight=8,latency=10ms"},
	{"queue", "algorithm=queue,rate=1000/s,burst=10"},
	{"lockout", "algorithm=lockout,limit=1000,window=1s"},
	{"none", "algorithm=none"},
}

// BenchmarkAdmit measures one admission decision per algorithm, the clock
// advancing 250 µs per request (4× a 1000/s limit, so most are denied).
func BenchmarkAdmit(b *testing.B) {
	for _, bs := range benchSpecs {
		b.Run(bs.name, func(b *testing.B) {
			l := mustLimiter(b, mustSpec(b, bs.spec))
			now := t0
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(250 * time.Microsecond)
				d := l.Admit("", now)
				d.release(now)
			}
		})
	}
}

// BenchmarkAdmitKeyed measures admission with 1000 client keys, from all
// cores at once.
func BenchmarkAdmitKeyed(b *testing.B) {
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "client-" + string(rune('A'+i%26)) + string(rune('a'+i/26%26)) + string(rune('0'+i/676))
	}
	for _, bs := range benchSpecs {
		b.Run(bs.name, func(b *testing.B) {
			l := mustLimiter(b, mustSpec(b, bs.spec+",key_by=header:X-Key"))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					now := time.Now()
					d := l.Admit(keys[i%len(keys)], now)
					d.release(now)
				}
			})
		})
	}
}

// discard is a ResponseWriter that keeps nothing, so the benchmark measures
// the mock and not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkServeHTTPSaturated measures the handler of a saturated mock (a
// 1000/s limit offered far more, so nearly every request is throttled and
// rendered with headers and Retry-After) from all cores at once, without the
// network.
func BenchmarkServeHTTPSaturated(b *testing.B) {
	for _, bs := range []struct{ name, spec string }{
		{"token-bucket/no-headers", "algorithm=token-bucket,rate=1000/s,burst=10"},
		{"token-bucket/ietf", "algorithm=token-bucket,rate=1000/s,burst=10,headers=ietf,retry_after=seconds"},
		{"fixed-window/x-ratelimit", "algorithm=fixed-window,limit=1000,window=1s,headers=x-ratelimit,retry_after=seconds"},
		{"gcra/openai-keyed", "preset=openai,algorithm=gcra,rate=1000/s,key_by=ip"},
		{"queue/nginx", "preset=nginx,rate=1000/s,burst=0"},
	} {
		b.Run(bs.name, func(b *testing.B) {
			s := mustServer(b, mustSpec(b, bs.spec))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest("GET", "/v1/x", nil)
				w := &discard{h: make(http.Header, 8)}
				for pb.Next() {
					clear(w.h)
					s.ServeHTTP(w, r)
				}
			})
		})
	}
}

// BenchmarkServeHTTPLoopback measures saturated throughput through net/http
// over loopback (one keep-alive connection per core).
func BenchmarkServeHTTPLoopback(b *testing.B) {
	s := mustServer(b, mustSpec(b, "algorithm=token-bucket,rate=1000/s,burst=10,headers=ietf,retry_after=seconds"))
	ts := httptest.NewServer(s)
	defer ts.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 512)
		for pb.Next() {
			resp, err := client.Get(ts.URL + "/")
			if err != nil {
				b.Error(err)
				return
			}
			for {
				if _, err := resp.Body.Read(buf); err != nil {
					break
				}
			}
			resp.Body.Close()
		}
	})
}
