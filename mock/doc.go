// Package mock is a rate-limited HTTP server whose limit is known exactly:
// somewhere safe to try limitprobe, and a target for its tests. It limits the
// way real services do, answers like them, and tells the truth about itself
// at GET /_limitprobe/truth.
//
//	srv, err := mock.New(mock.Config{Algorithm: "token-bucket", Rate: 50, Burst: 10})
//	ts := httptest.NewServer(srv)
//
// Every path is limited except the control endpoints, which are never limited
// or counted: GET /_limitprobe/truth returns the Truth as JSON, and POST
// /_limitprobe/reset forgets all limiter state and counters (so one mock can
// serve several runs from idle).
//
// # Algorithms
//
// Each is a real implementation reading an injectable clock (Config.Now).
// Rates are in requests per second; the effective limit is the long-run
// admitted rate of a client that keeps sending faster (Truth.EffectiveLimitRPS).
//
//	algorithm        keys                effective limit       burst
//	token-bucket     rate, burst         rate                  burst
//	gcra             rate, burst         rate                  burst
//	fixed-window     limit, window       limit/window          limit
//	sliding-log      limit, window       limit/window          limit
//	sliding-counter  limit, window       limit/window          limit
//	concurrency      max_in_flight,      max_in_flight/mean    max_in_flight
//	                 latency             latency
//	queue            rate, burst         rate                  burst (waiting)
//	lockout          limit, window       limit/window (see     limit
//	                                     below)
//	none             —                   0 (no limit)          0
//
// token-bucket is golang.org/x/time/rate: a bucket of burst tokens, full at
// start, refilled at rate. gcra is the generic cell rate algorithm as in
// redis_rate (burst requests at once from idle, then one per 1/rate: the same
// admissions as the token bucket; note that throttled's GCRA admits
// MaxBurst+1). fixed-window admits limit requests per window, windows aligned
// to the clock (to the Unix epoch: a 1m window starts on the minute), so up to
// 2·limit pass around a boundary. sliding-log admits a request when fewer
// than limit were admitted in the last window; each slot comes back exactly one
// window after it was used. sliding-counter estimates the last window's count
// from two aligned windows, prev·(1−f)+curr with f the elapsed share of the
// current window, as Cloudflare and HAProxy do. concurrency answers at once
// with the throttle status when max_in_flight requests are being served, as
// text-generation-inference's router does; it has no rate, and its limit
// follows from Little's law, max_in_flight ÷ mean latency (equal to the
// median for fixed and uniform latency; for log-normal latency the mean is
// median·exp(σ²/2)). queue is nginx limit_req without nodelay: at most one
// request per 1/rate is served, an early request waits for its slot while at
// most burst wait, further ones are rejected at once. lockout is the
// sliding counter counting denied requests too, as an HAProxy stick table
// with http_req_rate and a deny rule does: a client above limit/window is
// denied nearly everything for as long as it keeps sending, and recovers after
// idling about a window; its effective limit is the highest rate that does
// not trigger the lockout, limit/window. With lockout_count=log it keeps
// every request's time instead, as a Redis sorted set trimmed to the window
// does: a request is refused while limit fell in the window before it.
// none never limits (for measuring the load generator).
//
// Fixed windows are aligned to the clock unless window_start is first-use:
// then a window starts with the first request admitted after the last one
// ended, as a quota counted from a client's first call does (GitHub's hour).
// A sliding counter's or a lockout's windows then follow one another from
// the first request counted and start anew after a whole window with none
// (HAProxy's stick-table rates).
// A quota (quota=2000/1h) puts a fixed-window quota under any algorithm, as
// gateways put a per-second bucket under an hourly or daily quota: a request
// passes only when both admit it, and only then counts against both; the
// effective limit is the lower of the two long-run rates. With algorithm
// none the quota is the only limit.
//
// With key_by (ip, or header:NAME such as header:Authorization) every client
// key has its own limiter and the truth is per key. At most 10000 keys are
// remembered (fewer for sliding-log, whose memory is limit×keys timestamps);
// beyond that the oldest key is forgotten and that client starts idle.
//
// # Responses
//
// A throttled response has Config.ThrottleStatus (429 unless set; nginx uses
// 503) and a body: json {"error":"rate limit exceeded","status":429}, tgi
// {"error":"Model is overloaded","error_type":"overloaded"}, or html (nginx's
// error page). Admitted responses are 200 and carry the same rate-limit
// headers as throttled ones. Header styles (Config.Headers):
//
//	none         no rate-limit headers
//	ietf         RateLimit-Policy: "p";q=100;w=60   RateLimit: "p";r=50;t=30
//	             (draft-11; concurrency: "p";q=128;qu="concurrent-requests";
//	             with a quota, a second policy: "p";q=20;w=1, "quota";q=2000;w=3600)
//	ietf-legacy  RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (seconds)
//	x-ratelimit  x-ratelimit-limit, -remaining, -used, -reset (Unix epoch
//	             seconds), -resource: core (GitHub)
//	openai       x-ratelimit-limit-requests, -remaining-requests,
//	             -reset-requests (a Go duration such as 6m0s or 12ms)
//	hf-hub       RateLimit: "api";r=…;t=…
//	             RateLimit-Policy: "fixed window";"api";q=…;w=300
//
// What the numbers mean per algorithm: the limit is the quota per window
// for window algorithms, the bucket capacity (burst) for token-bucket and
// gcra, burst+1 for queue (one served, burst waiting) and max_in_flight for
// concurrency. The styles with one policy advertise the algorithm's, or
// the quota under algorithm none. Remaining is what would be admitted right now; the reset is the
// time until the quota is whole again (window end, bucket full), rounded up to
// whole seconds (milliseconds for openai). In the ietf style a rate is
// advertised as its sustained quota, q/w = rate with w the shortest of 1 s,
// 1 min, 1 h, 1 day that makes q whole; r is clipped to q. Windows shorter
// than a second, or not whole seconds, are advertised rounded up.
//
// Retry-After (Config.RetryAfter, off by default) is sent on throttled
// responses only: "seconds" gives whole seconds until a retry could be
// admitted, rounded up and at least 1; "http-date" gives that instant (at
// least a second ahead, rounded up to the second) as an HTTP-date.
//
// # Latency
//
// Admitted requests take Config.Latency before the response (throttled ones
// are answered at once). Its text form, for Set and ParseLatency:
//
//	20ms                  fixed
//	20ms..80ms            uniform between the two
//	lognormal:50ms,400ms  log-normal with median 50ms and 99th percentile 400ms
//	0                     none (the default)
//
// # Faults
//
// Shares of admitted requests fail instead: error_rate answers 500,
// reset_rate resets the connection without a response, hang_rate never
// answers (the handler returns when the request's context ends or Server.Close
// is called, so servers still shut down). Faults count as errors, not as
// accepted, so goodput is the effective limit times (1 − the faults' sum).
//
// # Presets
//
// Preset returns a realistic configuration; PRESETS.md gives each one's truth.
//
//	hf-endpoint  concurrency 128, lognormal:500ms,2s, TGI body, no headers
//	             → 214.35 req/s (128 ÷ 597.1 ms mean), burst 128
//	hf-hub       fixed-window 1000 per 5m, hf-hub headers → 3.333 req/s
//	github       fixed-window 5000 per 1h from first use, x-ratelimit headers,
//	             403 → 1.389 req/s
//	openai       token-bucket 50/s burst 100, openai headers, Retry-After
//	             seconds → 50 req/s, burst 100
//	nginx        queue 10/s burst 20, 503, no headers, html body → 10 req/s
//
// # Configuration text
//
// Set takes one key=value of the vocabulary shared with the command line and
// scenario files: algorithm, rate ("50/s", "600/m"), burst, limit, window
// ("10s"), max_in_flight, quota ("2000/1h"), window_start (clock |
// first-use), lockout_count (counter | log), latency, throttle_status,
// headers, retry_after (seconds | http-date | off), body (json | tgi |
// html), key_by (none | ip | header:NAME), error_rate, reset_rate,
// hang_rate ("1%" or "0.01") and preset.
// ParseSpec reads "preset=nginx,rate=20/s" or
// "algorithm=token-bucket,rate=50/s,burst=10".
package mock
