package advise

import (
	"fmt"
	"strconv"
	"strings"

	"limitprobe/estimate"
	"limitprobe/units"
)

// Snippet is paste-ready client code (or configuration) generated from a
// recommendation's numbers.
type Snippet struct {
	Lang  string // "go", "python" or "yaml": the fence tag in Markdown
	Title string // a caption: what it is and what it needs
	Code  string
}

// Snippets returns rec as Go (golang.org/x/time/rate and a retry loop),
// Python (requests and tenacity) and YAML settings. Each opens with a
// comment that says where the numbers come from: the scenario's name, the
// schema of the report they were written in, and s, the estimate rec was
// made from.
func Snippets(rec Recommendation, s estimate.Summary, scenario, schema string) []Snippet {
	head := snippetHead(rec, s, scenario, schema)
	return []Snippet{
		{Lang: "go", Title: "Go: golang.org/x/time/rate and a retry loop", Code: goSnippet(head, rec)},
		{Lang: "python", Title: "Python: requests and tenacity", Code: pySnippet(head, rec)},
		{Lang: "yaml", Title: "Settings (YAML)", Code: yamlSnippet(head, rec)},
	}
}

// snippetHead is the comment that opens every snippet: where the numbers
// come from.
func snippetHead(rec Recommendation, s estimate.Summary, name, schema string) []string {
	if name == "" {
		name = "unnamed scenario"
	}
	alg := s.Algorithm
	if alg == "" {
		alg = estimate.AlgorithmUnknown
	}
	lines := []string{fmt.Sprintf("Client settings from limitprobe for %s (%s).", name, schema)}
	switch rec.Basis {
	case BasisConcurrencyCap:
		lines = append(lines, fmt.Sprintf("Measured: %s, cap %d in flight; keep at most %d in flight.", alg, s.MaxInFlight, rec.MaxConcurrency))
	case BasisHighestTestedRate:
		lines = append(lines, fmt.Sprintf("Measured: no throttling up to %s; pace at that rate (a lower bound, not a limit).", units.RateOrDash(rec.ClientRateRPS)))
	default:
		lines = append(lines, fmt.Sprintf("Measured: %s, effective limit %s; pace at %s, burst %d.", alg, units.RateOrDash(s.EffectiveLimitRPS), units.RateOrDash(rec.ClientRateRPS), rec.ClientBurst))
	}
	return lines
}

func comment(prefix string, lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(prefix)
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// goDuration prints milliseconds as a Go duration expression.
func goDuration(ms int64) string {
	switch {
	case ms%60_000 == 0:
		return strconv.FormatInt(ms/60_000, 10) + " * time.Minute"
	case ms%1000 == 0:
		return strconv.FormatInt(ms/1000, 10) + " * time.Second"
	default:
		return strconv.FormatInt(ms, 10) + " * time.Millisecond"
	}
}

func goSnippet(head []string, rec Recommendation) string {
	var b strings.Builder
	goSettings(&b, head, rec)
	goDo(&b, rec)
	goHelpers(&b, rec.Retry)
	return b.String()
}

// goSettings writes the package clause, the imports and the settings as
// constants and variables.
func goSettings(b *strings.Builder, head []string, rec Recommendation) {
	r := rec.Retry
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	b.WriteString(comment("// ", head))
	b.WriteString("package client\n\nimport (\n\t\"context\"\n\t\"math/rand/v2\"\n\t\"net/http\"\n")
	if r.HonorRetryAfter {
		b.WriteString("\t\"strconv\"\n")
	}
	b.WriteString("\t\"sync\"\n\t\"time\"\n")
	if rec.ClientRateRPS > 0 {
		b.WriteString("\n\t\"golang.org/x/time/rate\"\n")
	}
	b.WriteString(")\n\n")
	b.WriteString("// Retry policy: full jitter, retries bounded per request and by a budget.\nconst (\n")
	w("\tbaseDelay   = %s\n", goDuration(r.BaseDelayMS))
	w("\tmaxDelay    = %s\n", goDuration(r.MaxDelayMS))
	w("\tmaxRetries  = %d\n", r.MaxRetries)
	w("\tbudgetRatio = %s // retries at most %s of requests\n", units.Exact(r.BudgetRatio), units.PercentWhole(r.BudgetRatio))
	b.WriteString(")\n\n")
	if rec.ClientRateRPS > 0 {
		w("// limiter paces every attempt, retries included: %s requests/s, burst %d.\n", units.Exact(rec.ClientRateRPS), rec.ClientBurst)
		w("var limiter = rate.NewLimiter(%s, %d)\n\n", units.Exact(rec.ClientRateRPS), rec.ClientBurst)
	}
	if rec.MaxConcurrency > 0 {
		w("// inFlight caps requests in flight at %d.\n", rec.MaxConcurrency)
		w("var inFlight = make(chan struct{}, %d)\n\n", rec.MaxConcurrency)
	}
}

// goDo writes Do, which paces, caps and retries one request.
func goDo(b *strings.Builder, rec Recommendation) {
	r := rec.Retry
	b.WriteString(`// Do sends the request newReq builds, retrying throttled responses.
// newReq is called for every attempt, so a body can be sent again.
func Do(ctx context.Context, c *http.Client, newReq func(context.Context) (*http.Request, error)) (*http.Response, error) {
	budget.request()
	for attempt := 0; ; attempt++ {
`)
	if rec.ClientRateRPS > 0 {
		b.WriteString(`		if err := limiter.Wait(ctx); err != nil {
			return nil, err
		}
`)
	}
	b.WriteString(`		req, err := newReq(ctx)
		if err != nil {
			return nil, err
		}
`)
	if rec.MaxConcurrency > 0 {
		b.WriteString(`		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		resp, err := c.Do(req)
		<-inFlight
`)
	} else {
		b.WriteString("\t\tresp, err := c.Do(req)\n")
	}
	b.WriteString(`		if err != nil || !throttled(resp.StatusCode) {
			return resp, err
		}
		if attempt == maxRetries || !budget.allowRetry() {
			return resp, nil // out of retries: the caller sees the throttled response
		}
`)
	if r.HonorRetryAfter {
		b.WriteString(`		delay, ok := retryAfter(resp.Header)
		if !ok {
			delay = backoff(attempt)
		}
`)
	} else {
		b.WriteString("\t\tdelay := backoff(attempt)\n")
	}
	b.WriteString(`		resp.Body.Close()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}
`)
}

// goHelpers writes what Do calls: throttled, backoff, retryAfter and the
// retry budget.
func goHelpers(b *strings.Builder, r Retry) {
	b.WriteString(`
// throttled reports whether a status means "slow down".
func throttled(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
}

// backoff is full jitter: random(0, min(maxDelay, baseDelay × 2^attempt)).
func backoff(attempt int) time.Duration {
	d := maxDelay
	if attempt < 20 && baseDelay<<attempt < maxDelay {
		d = baseDelay << attempt
	}
	return rand.N(d + 1)
}
`)
	if r.HonorRetryAfter {
		b.WriteString(`
// retryAfter reads Retry-After as delta-seconds or an HTTP-date.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}
`)
	}
	b.WriteString(`
// budget allows retries up to budgetRatio of the requests of the last 10 s,
// and at least 10, so that retries cannot amplify an overload.
var budget retryBudget

type retryBudget struct {
	mu                sync.Mutex
	start             time.Time
	requests, retries float64
}

func (b *retryBudget) roll() {
	if now := time.Now(); now.Sub(b.start) > 10*time.Second {
		b.start, b.requests, b.retries = now, 0, 0
	}
}

func (b *retryBudget) request() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	b.requests++
}

func (b *retryBudget) allowRetry() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	if b.retries >= max(10, budgetRatio*b.requests) {
		return false
	}
	b.retries++
	return true
}
`)
}

func pySnippet(head []string, rec Recommendation) string {
	var b strings.Builder
	pySettings(&b, head, rec)
	pyClasses(&b, rec)
	pyRetry(&b, rec)
	return b.String()
}

// pySettings writes the imports and the settings as constants.
func pySettings(b *strings.Builder, head []string, rec Recommendation) {
	r := rec.Retry
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	b.WriteString(comment("# ", head))
	b.WriteString("# pip install requests tenacity\n")
	if rec.MaxConcurrency <= 0 {
		b.WriteString("import contextlib\n")
	}
	b.WriteString("import threading\nimport time\n")
	if r.HonorRetryAfter {
		b.WriteString("from email.utils import parsedate_to_datetime\n")
	}
	b.WriteString("\nimport requests\nfrom tenacity import retry, retry_if_result, stop_after_attempt, wait_random_exponential\n\n")
	if rec.ClientRateRPS > 0 {
		w("RATE = %s  # requests per second\n", units.Exact(rec.ClientRateRPS))
		w("BURST = %d\n", rec.ClientBurst)
	}
	if rec.MaxConcurrency > 0 {
		w("MAX_IN_FLIGHT = %d\n", rec.MaxConcurrency)
	}
	w("BASE_DELAY = %s  # seconds\n", units.Exact(float64(r.BaseDelayMS)/1000))
	w("MAX_DELAY = %s  # seconds\n", units.Exact(float64(r.MaxDelayMS)/1000))
	w("MAX_RETRIES = %d\n", r.MaxRetries)
	w("BUDGET_RATIO = %s  # retries at most %s of requests\n\n\n", units.Exact(r.BudgetRatio), units.PercentWhole(r.BudgetRatio))
}

// pyClasses writes the token bucket and the retry budget, and makes one of
// each (and the in-flight cap).
func pyClasses(b *strings.Builder, rec Recommendation) {
	if rec.ClientRateRPS > 0 {
		b.WriteString(`class TokenBucket:
    """Blocks until a request may go: rate per second, burst at once."""

    def __init__(self, rate, burst):
        self.rate, self.burst = rate, burst
        self.tokens, self.last = float(burst), time.monotonic()
        self.lock = threading.Lock()

    def wait(self):
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            self.tokens -= 1  # below zero: a reservation to wait for
            delay = -self.tokens / self.rate if self.tokens < 0 else 0.0
        time.sleep(delay)


`)
	}
	b.WriteString(`class RetryBudget:
    """Allows retries up to a share of the requests of the last 10 s (at least 10)."""

    def __init__(self, ratio, window=10.0, minimum=10):
        self.ratio, self.window, self.minimum = ratio, window, minimum
        self.start, self.requests, self.retries = time.monotonic(), 0, 0
        self.lock = threading.Lock()

    def _roll(self):
        now = time.monotonic()
        if now - self.start > self.window:
            self.start, self.requests, self.retries = now, 0, 0

    def request(self):
        with self.lock:
            self._roll()
            self.requests += 1

    def spent(self, _state=None):
        """A tenacity stop condition: true when no retry is left."""
        with self.lock:
            self._roll()
            if self.retries >= max(self.minimum, self.ratio * self.requests):
                return True
            self.retries += 1
            return False


`)
	if rec.ClientRateRPS > 0 {
		b.WriteString("bucket = TokenBucket(RATE, BURST)\n")
	}
	if rec.MaxConcurrency > 0 {
		b.WriteString("in_flight = threading.BoundedSemaphore(MAX_IN_FLIGHT)\n")
	} else {
		b.WriteString("in_flight = contextlib.nullcontext()\n")
	}
	b.WriteString("budget = RetryBudget(BUDGET_RATIO)\n")
	b.WriteString("# Full jitter: random(0, min(MAX_DELAY, BASE_DELAY * 2**n)).\n")
	b.WriteString("backoff = wait_random_exponential(multiplier=BASE_DELAY, max=MAX_DELAY)\n\n\n")
}

// pyRetry writes the retry decorator and send, which paces, caps and
// retries one request.
func pyRetry(b *strings.Builder, rec Recommendation) {
	r := rec.Retry
	if r.HonorRetryAfter {
		b.WriteString(`def retry_after(resp):
    """Retry-After in seconds (delta-seconds or an HTTP-date), or None."""
    value = resp.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def wait(state):
    delay = retry_after(state.outcome.result())
    return backoff(state) if delay is None else delay


`)
	}
	b.WriteString(`def throttled(resp):
    return resp.status_code in (429, 503)


@retry(
    retry=retry_if_result(throttled),
`)
	if r.HonorRetryAfter {
		b.WriteString("    wait=wait,\n")
	} else {
		b.WriteString("    wait=backoff,\n")
	}
	b.WriteString(`    stop=stop_after_attempt(MAX_RETRIES + 1) | budget.spent,
    retry_error_callback=lambda state: state.outcome.result(),  # give back the last response
)
def _attempt(session, method, url, **kwargs):
`)
	if rec.ClientRateRPS > 0 {
		b.WriteString("    bucket.wait()\n")
	}
	b.WriteString(`    with in_flight:
        return session.request(method, url, **kwargs)


def send(session: requests.Session, method, url, **kwargs):
    """Sends a request within the limit, retrying throttled responses."""
    budget.request()
    return _attempt(session, method, url, **kwargs)
`)
}

func yamlSnippet(head []string, rec Recommendation) string {
	r := rec.Retry
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	b.WriteString(comment("# ", head))
	b.WriteString("client:\n")
	if rec.ClientRateRPS > 0 {
		w("  rate: %s\n", units.RateOrDash(rec.ClientRateRPS))
		w("  burst: %d\n", rec.ClientBurst)
	} else {
		b.WriteString("  rate: 0      # no rate limit: the cap on requests in flight is what matters\n  burst: 0\n")
	}
	if rec.MaxConcurrency > 0 {
		w("  max_concurrency: %d\n", rec.MaxConcurrency)
	} else {
		b.WriteString("  max_concurrency: 0   # no cap needed\n")
	}
	b.WriteString("retry:\n")
	w("  honor_retry_after: %t\n", r.HonorRetryAfter)
	w("  base_delay: %s\n", goDurationString(r.BaseDelayMS))
	w("  multiplier: %s\n", units.Exact(r.Multiplier))
	w("  max_delay: %s\n", goDurationString(r.MaxDelayMS))
	w("  jitter: %s\n", r.Jitter)
	w("  max_retries: %d\n", r.MaxRetries)
	w("  budget_ratio: %s\n", units.Exact(r.BudgetRatio))
	return b.String()
}

// goDurationString prints milliseconds as a duration literal: "25ms", "5s", "1m".
func goDurationString(ms int64) string {
	switch {
	case ms >= 60_000 && ms%60_000 == 0:
		return strconv.FormatInt(ms/60_000, 10) + "m"
	case ms >= 1000 && ms%1000 == 0:
		return strconv.FormatInt(ms/1000, 10) + "s"
	default:
		return strconv.FormatInt(ms, 10) + "ms"
	}
}
