package mock

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"limitprobe/limiter"
)

// TestManyConcurrentClients hammers every algorithm from 64 goroutines (8
// keys) while the truth is read and the state reset, for the race detector,
// and checks what must hold whatever the interleaving: every request is
// counted once, and no key gets more than its quota.
func TestManyConcurrentClients(t *testing.T) {
	t.Parallel()
	const (
		clients  = 64
		keys     = 8
		perGo    = 150
		quota    = 20 // per key: limit per (1h) window, or burst at a slow rate
		inFlight = 3
	)
	specs := []string{
		"algorithm=token-bucket,rate=1/h,burst=20",
		"algorithm=gcra,rate=1/h,burst=20",
		"algorithm=queue,rate=1/h,burst=19", // one served at once, 19 waiting (an hour: none finish)
		"algorithm=fixed-window,limit=20,window=1h",
		"algorithm=sliding-log,limit=20,window=1h",
		"algorithm=sliding-counter,limit=20,window=1h",
		"algorithm=lockout,limit=20,window=1h",
		"algorithm=concurrency,max_in_flight=3,latency=1ms",
		"algorithm=none",
	}
	for _, spec := range specs {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			cfg := mustSpec(t, spec+",key_by=header:X-Client,headers=ietf,retry_after=seconds")
			cfg.Now = func() time.Time { return t0 } // no window boundary mid-test
			s := mustServer(t, cfg)
			var (
				wg        sync.WaitGroup
				okPerKey  [keys]atomic.Int64
				queueWait = cfg.Algorithm == limiter.Queue
			)
			for g := range clients {
				wg.Go(func() {
					key := fmt.Sprint(g % keys)
					for range perGo {
						r := httptest.NewRequest("GET", "/", nil)
						r.Header.Set("X-Client", key)
						if queueWait {
							// Do not wait an hour in the queue: the client
							// has given up already when it is admitted.
							ctx, cancel := context.WithCancel(context.Background())
							cancel()
							r = r.WithContext(ctx)
						}
						rec := httptest.NewRecorder()
						s.ServeHTTP(rec, r)
						if rec.Code == http.StatusOK && rec.Body.Len() > 0 {
							okPerKey[g%keys].Add(1)
						}
					}
				})
			}
			// Readers of the truth, concurrently with the load.
			stop := make(chan struct{})
			var readers sync.WaitGroup
			readers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						_ = s.Truth()
						rec := httptest.NewRecorder()
						s.ServeHTTP(rec, httptest.NewRequest("GET", TruthPath, nil))
						time.Sleep(time.Millisecond)
					}
				}
			})
			wg.Wait()
			close(stop)
			readers.Wait()

			tr := s.Truth()
			total := int64(clients * perGo)
			if tr.Requests != total {
				t.Errorf("requests: got %d, want %d", tr.Requests, total)
			}
			if queueWait {
				// Per key: one served, 19 abandoned while waiting, the rest
				// throttled.
				if want := total - keys*quota; tr.Throttled != want || tr.Accepted != keys {
					t.Errorf("queue: got %d throttled, %d accepted, want %d and %d", tr.Throttled, tr.Accepted, want, keys)
				}
			} else if tr.Accepted+tr.Throttled+tr.Errors != tr.Requests {
				t.Errorf("accepted %d + throttled %d + errors %d: got %d, want requests %d", tr.Accepted, tr.Throttled, tr.Errors, tr.Accepted+tr.Throttled+tr.Errors, tr.Requests)
			}
			for k := range keys {
				got := okPerKey[k].Load()
				switch cfg.Algorithm {
				case limiter.None:
					if got != total/keys {
						t.Errorf("key %d: got %d admitted, want all %d", k, got, total/keys)
					}
				case limiter.Concurrency:
					if got == 0 {
						t.Errorf("key %d: got none admitted, want some", k)
					}
				case limiter.Queue:
					// Only the request served at once answers 200; the
					// waiting ones were abandoned by their clients.
					if got > 1 {
						t.Errorf("key %d: got %d answered, want at most 1", k, got)
					}
				default:
					if got != quota {
						t.Errorf("key %d: got %d admitted, want exactly its quota %d", k, got, quota)
					}
				}
			}
			if cfg.Algorithm == limiter.Concurrency {
				// Every admitted request released its slot.
				for _, k := range []string{"0", "7"} {
					st := s.lim.Load().state(k)
					st.mu.Lock()
					n := st.lim.(*limiter.InFlight).Level(0)
					st.mu.Unlock()
					if n != 0 {
						t.Errorf("key %s: got %v in flight after the run, want 0", k, n)
					}
				}
			}
			s.Reset()
			if tr := s.Truth(); tr.Requests != 0 {
				t.Errorf("after Reset: got %d requests, want 0", tr.Requests)
			}
		})
	}
}
