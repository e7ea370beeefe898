package probe

import (
	"context"
	"net"
	"net/http"
	"time"
)

// DefaultTimeout bounds one request when no timeout is given.
const DefaultTimeout = 10 * time.Second

// NewClient returns the HTTP client that sends a target's requests, for a
// probe and for a verification: keep-alive connections, timeout per request
// (0 means DefaultTimeout), no proxy, no redirects followed. Share one
// between runs so that connections survive.
func NewClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := &http.Transport{
		Proxy:               nil, // measure the target, not a proxy
		DialContext:         (&net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        10000,
		MaxIdleConnsPerHost: 10000,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ctxTransport ties every request to the run's context, so an interrupt
// cancels requests in flight instead of waiting out their timeouts.
type ctxTransport struct {
	ctx  context.Context
	next http.RoundTripper
}

func (t ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(req.WithContext(t.ctx))
}
