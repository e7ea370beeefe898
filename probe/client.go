package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/http/httpproxy"

	"limitprobe/scenarios"
)

// DefaultTimeout bounds one request when no timeout is given.
const DefaultTimeout = 10 * time.Second

// NewClient returns the HTTP client that sends a target's requests, for a
// probe and for a verification: keep-alive connections, t's timeout per
// request (0 means DefaultTimeout), t.Redirects redirects followed, and
// t.Network's proxy (by default the environment's HTTP_PROXY, HTTPS_PROXY
// and NO_PROXY, read now), CA certificates beside the system's, certificate
// verification and HTTP version. Share one between runs so that
// connections survive.
func NewClient(t scenarios.Target) *http.Client {
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	n := t.Network
	tr := &http.Transport{
		Proxy:               proxyFunc(n.Proxy),
		DialContext:         (&net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        10000,
		MaxIdleConnsPerHost: 10000,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 10 * time.Second,
		TLSClientConfig:     tlsConfig(n),
	}
	switch n.HTTP {
	case scenarios.HTTP1:
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP1(true)
	case scenarios.HTTP2:
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP2(true)
		tr.Protocols.SetUnencryptedHTTP2(true)
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: checkRedirect(t.Redirects),
	}
}

// checkRedirect follows up to n redirects; with n = 0 a 3xx is the
// response.
func checkRedirect(n int) func(*http.Request, []*http.Request) error {
	return func(_ *http.Request, via []*http.Request) error {
		switch {
		case n <= 0:
			return http.ErrUseLastResponse
		case len(via) > n:
			return fmt.Errorf("stopped after %d redirects", n)
		}
		return nil
	}
}

// proxyFunc is the proxy of every request: the environment's for "", none
// for scenarios.ProxyNone, else the one given (a scenario's proxy is
// checked when it is read).
func proxyFunc(proxy string) func(*http.Request) (*url.URL, error) {
	switch proxy {
	case "":
		env := httpproxy.FromEnvironment().ProxyFunc()
		return func(r *http.Request) (*url.URL, error) { return env(r.URL) }
	case scenarios.ProxyNone:
		return nil
	}
	u, err := url.Parse(proxy)
	if err != nil {
		return func(*http.Request) (*url.URL, error) {
			return nil, errors.New("proxy error: the proxy URL does not parse")
		}
	}
	return http.ProxyURL(u)
}

// proxyOf is the URL of the proxy t's requests go through, credentials
// removed; "" when they go directly.
func proxyOf(t scenarios.Target) string {
	f := proxyFunc(t.Network.Proxy)
	req, err := http.NewRequest(http.MethodGet, t.URL, nil)
	if f == nil || err != nil {
		return ""
	}
	if u, err := f(req); err == nil && u != nil {
		return scenarios.RedactURL(u.String())
	}
	return ""
}

// tlsConfig trusts the system's CAs and n's, or, insecure, any
// certificate; nil when n changes nothing.
func tlsConfig(n scenarios.Network) *tls.Config {
	if len(n.CAPEM) == 0 && !n.Insecure {
		return nil
	}
	cfg := &tls.Config{InsecureSkipVerify: n.Insecure} // asked for with --insecure, and marked in the report
	if len(n.CAPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pool.AppendCertsFromPEM(n.CAPEM)
		cfg.RootCAs = pool
	}
	return cfg
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
