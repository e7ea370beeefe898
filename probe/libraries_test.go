package probe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/go-chi/httprate"
	sethvargo "github.com/sethvargo/go-limiter/httplimit"
	"github.com/sethvargo/go-limiter/memorystore"
	ulule "github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/middleware/stdlib"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"limitprobe/estimate"
)

// auto against three Go rate-limiting libraries, each set up as its
// README does in front of a handler, 30 per 3 s: sethvargo/go-limiter
// (memorystore and httplimit), whose windows follow one another from the
// client's first request, however long it then stays away; ulule/limiter
// (the memory store and its net/http middleware), whose counter starts at
// a request after the last expired; both send X-RateLimit-Limit,
// -Remaining and -Reset, the reset to the second: an HTTP date and a Unix
// time. And go-chi/httprate (LimitByIP), a sliding counter that admits
// while its count rounds below the limit, its windows starting when the
// limiter was made. In front of a backend with log-normal latency (median
// 300 ms, p99 1.93 s); on loopback the first two read 10.1/s when this was
// written, and cost CI less to leave out.
func TestLibrariesAuto(t *testing.T) {
	libs := []struct {
		name  string
		alg   string
		guard func(t *testing.T, next http.Handler) http.Handler
	}{
		{"sethvargo/go-limiter", estimate.AlgorithmFixedWindow, func(t *testing.T, next http.Handler) http.Handler {
			store, err := memorystore.New(&memorystore.Config{Tokens: 30, Interval: 3 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close(context.Background()) })
			mw, err := sethvargo.NewMiddleware(store, sethvargo.IPKeyFunc())
			if err != nil {
				t.Fatal(err)
			}
			return mw.Handle(next)
		}},
		{"ulule/limiter", estimate.AlgorithmFixedWindow, func(t *testing.T, next http.Handler) http.Handler {
			lim := ulule.New(memory.NewStore(), ulule.Rate{Period: 3 * time.Second, Limit: 30})
			return stdlib.NewMiddleware(lim).Handler(next)
		}},
		{"go-chi/httprate", estimate.AlgorithmSlidingWindow, func(t *testing.T, next http.Handler) http.Handler {
			return httprate.LimitByIP(30, 3*time.Second)(next)
		}},
	}
	for _, lib := range libs {
		t.Run(lib.name, func(t *testing.T) {
			_, up := serveMock(t, "algorithm=none,latency=lognormal:300ms,1929ms")
			u, err := url.Parse(up)
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(lib.guard(t, httputil.NewSingleHostReverseProxy(u)))
			t.Cleanup(ts.Close)
			autoReadsWindow(t, ts.URL+"/api", lib.alg, 30, 3)
		})
	}
}
