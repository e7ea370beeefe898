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
	"runtime"
	"sync"
	"time"
	"weak"

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
	conns := &connSet{conns: map[*trackedConn]struct{}{}}
	tr := &http.Transport{
		Proxy:               proxyFunc(n.Proxy),
		DialContext:         conns.dialer((&net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}).DialContext),
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
	track(tr, conns)
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

// tracked maps the transports NewClient made to their connections, so
// that an interrupt can cut the requests in flight (see cutOnDone). The
// client's Transport stays an *http.Transport: net/http sets up a timer
// and a goroutine per request for any other RoundTripper (the per-request
// wrapper this replaces cost that, and an allocation). An entry leaves the
// map when its transport is collected.
var tracked sync.Map // weak.Pointer[http.Transport] -> *connSet

func track(tr *http.Transport, s *connSet) {
	key := weak.Make(tr)
	tracked.Store(key, s)
	runtime.AddCleanup(tr, func(k weak.Pointer[http.Transport]) { tracked.Delete(k) }, key)
}

// errInterrupted fails what an interrupt cut off, and the dials after it
// (the transport retries some requests on a new connection).
var errInterrupted = errors.New("interrupted")

// connSet is the open connections of a transport.
type connSet struct {
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
	cut   bool // by an interrupt: no new connection until reopen
}

// dialer wraps dial so that every connection it makes joins s.
func (s *connSet) dialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if s.isCut() {
			return nil, errInterrupted
		}
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, set: s}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.cut {
			c.Close()
			return nil, errInterrupted
		}
		s.conns[tc] = struct{}{}
		return tc, nil
	}
}

func (s *connSet) isCut() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cut
}

// cutAll closes every open connection, failing the requests on them at
// once, and refuses new ones until reopen.
func (s *connSet) cutAll() {
	s.mu.Lock()
	s.cut = true
	open := make([]*trackedConn, 0, len(s.conns))
	for c := range s.conns {
		open = append(open, c)
	}
	s.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
}

func (s *connSet) reopen() {
	s.mu.Lock()
	s.cut = false
	s.mu.Unlock()
}

// trackedConn leaves its set when closed.
type trackedConn struct {
	net.Conn
	set  *connSet
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.set.mu.Lock()
		delete(c.set.conns, c)
		c.set.mu.Unlock()
	})
	return c.Conn.Close()
}

// cutOnDone cuts the connections of client, made by NewClient, when ctx is
// done: requests in flight fail at once instead of waiting out their
// timeouts, and none starts on a new connection. It returns the function
// that stops watching ctx; for a client of another make it does nothing,
// and requests in flight end by their timeout.
func cutOnDone(ctx context.Context, client *http.Client) (stop func() bool) {
	tr, _ := client.Transport.(*http.Transport)
	v, ok := tracked.Load(weak.Make(tr))
	if tr == nil || !ok {
		return func() bool { return false }
	}
	conns := v.(*connSet)
	conns.reopen()
	return context.AfterFunc(ctx, conns.cutAll)
}
