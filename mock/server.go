package mock

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"limitprobe/limiter"
)

// Paths of the control endpoints. They are never limited and not counted.
const (
	// TruthPath answers GET with the Truth as JSON.
	TruthPath = "/_limitprobe/truth"
	// ResetPath answers POST by resetting limiter state and counters, then
	// returns the fresh Truth as JSON.
	ResetPath = "/_limitprobe/reset"
)

const controlPrefix = "/_limitprobe/"

// Server is an http.Handler that limits requests with one algorithm and
// reports the truth about its limit. It is safe for concurrent use.
type Server struct {
	cfg     Config
	now     func() time.Time
	lim     atomic.Pointer[keyed]
	keyHdr  string // canonical header name when keyed by header
	keyIP   bool
	render  renderer
	done    chan struct{}
	closeMu sync.Once

	requests, accepted, throttled, errs paddedCounter
}

// paddedCounter keeps each counter on its own cache line so cores that
// update different counters do not slow each other down.
type paddedCounter struct {
	atomic.Int64
	_ [56]byte
}

// Truth is what the mock knows about its own limit, served as JSON at
// TruthPath.
type Truth struct {
	// Algorithm is the configured algorithm.
	Algorithm limiter.Kind `json:"algorithm"`
	// EffectiveLimitRPS is the long-run admitted rate, in requests per second
	// per key, of a client that keeps sending more than that. Zero for none,
	// which never limits. For lockout it is the highest rate that does not
	// trigger the lockout; above it goodput falls to about zero.
	EffectiveLimitRPS float64 `json:"effective_limit_rps"`
	// Burst is how many requests are admitted at once after idling (for
	// queue: how many may wait).
	Burst int `json:"burst"`
	// WindowS is the counting window in seconds; zero when there is none.
	WindowS float64 `json:"window_s"`
	// MaxInFlight is the cap on requests in flight; zero when there is none.
	MaxInFlight int `json:"max_in_flight"`
	// QuotaLimit per QuotaWindowS seconds is the quota under the algorithm;
	// zero when there is none. EffectiveLimitRPS is then the lower of the
	// algorithm's limit and the quota's long-run rate.
	QuotaLimit   int     `json:"quota_limit,omitempty"`
	QuotaWindowS float64 `json:"quota_window_s,omitempty"`
	// WindowStart is how windows (the algorithm's and the quota's) are
	// counted: clock or first-use; empty when there are none.
	WindowStart string `json:"window_start,omitempty"`
	// LockoutCount is how a lockout counts: counter or log; empty for
	// other algorithms.
	LockoutCount string `json:"lockout_count,omitempty"`
	// Count is how a sliding counter counts: exact or rounded; empty for
	// other algorithms.
	Count string `json:"count,omitempty"`
	// KeyBy says what the limit is per: none, ip or header:NAME.
	KeyBy string `json:"key_by"`
	// Spec is the configuration in ParseSpec's syntax.
	Spec string `json:"spec"`
	// Requests counts requests to limited paths since start or reset.
	Requests int64 `json:"requests"`
	// Accepted counts requests answered with success.
	Accepted int64 `json:"accepted"`
	// Throttled counts requests answered with the throttle status.
	Throttled int64 `json:"throttled"`
	// Errors counts injected faults (5xx, resets, hangs). Requests whose
	// client went away while they waited are in none of the counters.
	Errors int64 `json:"errors"`
}

// SteadyClock is the wall clock shifted by shift, read once and then
// advanced by the monotonic clock: a step of the wall clock (NTP setting a
// fresh machine's time) does not move the mock's windows under a probe,
// which times its requests by the monotonic clock.
func SteadyClock(shift time.Duration) func() time.Time { return steadyClock(time.Now, shift) }

// steadyClock is SteadyClock reading the wall clock from wall, once.
func steadyClock(wall func() time.Time, shift time.Duration) func() time.Time {
	start := time.Now()
	at := wall().Add(shift)
	return func() time.Time { return at.Add(time.Since(start)) }
}

// New validates cfg (errors are *ParamError values naming the key) and
// returns a Server that limits with it.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, now: cfg.Now, done: make(chan struct{})}
	if s.now == nil {
		s.now = SteadyClock(0)
	}
	switch {
	case cfg.KeyBy == KeyIP:
		s.keyIP = true
	case strings.HasPrefix(cfg.KeyBy, "header:"):
		s.keyHdr = strings.TrimPrefix(cfg.KeyBy, "header:")
	}
	s.lim.Store(newKeyed(&s.cfg))
	s.render = newRenderer(&s.cfg)
	return s, nil
}

// Config returns the validated configuration, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Reset forgets all limiter state (every key starts idle) and zeroes the
// counters, as POST ResetPath does. Requests in flight finish against the old
// state.
func (s *Server) Reset() {
	s.lim.Store(newKeyed(&s.cfg))
	s.requests.Store(0)
	s.accepted.Store(0)
	s.throttled.Store(0)
	s.errs.Store(0)
}

// Close ends every wait in progress (hung responses, queue delays, latency)
// so an http.Server serving s can shut down; later requests are not delayed
// or hung. It does not close connections.
func (s *Server) Close() {
	s.closeMu.Do(func() { close(s.done) })
}

// Truth returns the ground truth of the limit and the counters.
func (s *Server) Truth() Truth {
	c := s.cfg
	t := Truth{Algorithm: c.Algorithm, KeyBy: c.KeyBy, Spec: c.Spec()}
	switch c.Algorithm {
	case limiter.TokenBucket, limiter.GCRA, limiter.Queue:
		t.EffectiveLimitRPS = c.Rate
		t.Burst = c.Burst
	case limiter.FixedWindow, limiter.SlidingLog, limiter.SlidingCounter, limiter.Lockout:
		t.EffectiveLimitRPS = float64(c.Limit) / c.Window.Seconds()
		t.Burst = c.Limit
		t.WindowS = c.Window.Seconds()
	case limiter.Concurrency:
		// Little's law: with every slot busy, each serves one request per
		// mean service time.
		t.EffectiveLimitRPS = float64(c.MaxInFlight) / c.Latency.Mean().Seconds()
		t.Burst = c.MaxInFlight
		t.MaxInFlight = c.MaxInFlight
	}
	if q := c.Quota; q.Limit > 0 {
		t.QuotaLimit, t.QuotaWindowS = q.Limit, q.Window.Seconds()
		rate := float64(q.Limit) / q.Window.Seconds()
		if t.EffectiveLimitRPS == 0 || rate < t.EffectiveLimitRPS {
			t.EffectiveLimitRPS = rate
		}
	}
	if anchorable(c.Algorithm) || c.Quota.Limit > 0 {
		t.WindowStart = c.WindowStart
	}
	t.LockoutCount = c.LockoutCount
	t.Count = c.Count
	t.Requests = s.requests.Load()
	t.Accepted = s.accepted.Load()
	t.Throttled = s.throttled.Load()
	t.Errors = s.errs.Load()
	return t
}

// ServeHTTP limits the request, or answers a control endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		s.serveControl(w, r)
		return
	}
	s.requests.Add(1)
	now := s.now()
	d := s.lim.Load().Admit(s.key(r), now)
	h := w.Header()
	if !d.OK {
		s.throttled.Add(1)
		s.render.limitHeaders(h, &d, now)
		s.render.retryAfter(h, &d, now)
		h["Content-Type"] = s.render.throttleType
		w.WriteHeader(s.cfg.ThrottleStatus)
		w.Write(s.render.throttleBody)
		return
	}
	if d.st != nil {
		defer func() { d.release(s.now()) }()
	}
	ctx := r.Context()
	if d.Delay > 0 && !s.sleep(ctx, d.Delay) {
		return
	}
	if f := s.cfg.Faults; f.ErrorRate+f.ResetRate+f.HangRate > 0 {
		if s.fault(ctx, w, f) {
			return
		}
	}
	if s.cfg.Latency.Dist != "" {
		if l := s.cfg.Latency.sample(rand.Float64(), rand.NormFloat64()); l > 0 && !s.sleep(ctx, l) {
			return
		}
	}
	s.accepted.Add(1)
	s.render.limitHeaders(h, &d, now)
	h["Content-Type"] = s.render.okType
	w.WriteHeader(http.StatusOK)
	w.Write(s.render.okBody)
}

// fault injects at most one fault and reports whether it did.
func (s *Server) fault(ctx context.Context, w http.ResponseWriter, f Faults) bool {
	u := rand.Float64()
	switch {
	case u < f.ErrorRate:
		s.errs.Add(1)
		w.Header()["Content-Type"] = jsonType
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(errorBody)
	case u < f.ErrorRate+f.ResetRate:
		s.errs.Add(1)
		resetConn(w)
	case u < f.ErrorRate+f.ResetRate+f.HangRate:
		s.errs.Add(1)
		select {
		case <-ctx.Done():
		case <-s.done:
		}
		// Close the connection rather than let net/http send an empty 200.
		panic(http.ErrAbortHandler)
	default:
		return false
	}
	return true
}

// resetConn drops the connection without a response, with a TCP reset when
// it can.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 or a recorder: abort the handler, which closes the stream.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// sleep waits for d and reports whether it did, rather than the request
// ending or the server closing first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return true
	}
}

// key returns the limiter key of a request: "" when not keyed.
func (s *Server) key(r *http.Request) string {
	switch {
	case s.keyIP:
		a := r.RemoteAddr
		if i := strings.LastIndexByte(a, ':'); i >= 0 {
			a = a[:i]
		}
		return strings.Trim(a, "[]")
	case s.keyHdr != "":
		if v := r.Header[s.keyHdr]; len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	var want string
	switch r.URL.Path {
	case TruthPath:
		want = http.MethodGet
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			writeTruth(w, s.Truth())
			return
		}
	case ResetPath:
		want = http.MethodPost
		if r.Method == http.MethodPost {
			s.Reset()
			writeTruth(w, s.Truth())
			return
		}
	default:
		http.Error(w, "unknown control path; use GET "+TruthPath+" or POST "+ResetPath, http.StatusNotFound)
		return
	}
	w.Header().Set("Allow", want)
	http.Error(w, "use "+want+" "+r.URL.Path, http.StatusMethodNotAllowed)
}

func writeTruth(w http.ResponseWriter, t Truth) {
	w.Header()["Content-Type"] = jsonType
	w.Header()["Cache-Control"] = noStore
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(t)
}

var (
	jsonType  = []string{"application/json"}
	htmlType  = []string{"text/html"}
	noStore   = []string{"no-store"}
	errorBody = []byte(`{"error":"Internal Server Error","status":500}` + "\n")
)
