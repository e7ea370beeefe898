// Package proxytest is a forward HTTP proxy for tests: it tunnels CONNECT
// and forwards absolute-form requests, all to one backend on loopback,
// whatever host they name, so that a test can probe https://example.com
// through it without any traffic leaving the machine.
package proxytest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
)

// Proxy is a running forward proxy.
type Proxy struct {
	URL      string       // http://127.0.0.1:PORT
	Requests atomic.Int64 // requests forwarded and tunnels opened
	Hosts    chan string  // the host of each, for the test to read (buffered, dropped when full)
}

// Start serves a proxy that sends everything to backend (an httptest
// server's URL) until the test ends.
func Start(t testing.TB, backend string) *Proxy {
	t.Helper()
	be, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Hosts: make(chan string, 4096)}
	tr := &http.Transport{Proxy: nil}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Requests.Add(1)
		select {
		case p.Hosts <- r.Host:
		default:
		}
		if r.Method == http.MethodConnect {
			p.tunnel(w, be.Host)
			return
		}
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Scheme, out.URL.Host = be.Scheme, be.Host
		resp, err := tr.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(func() { srv.Close(); tr.CloseIdleConnections() })
	p.URL = srv.URL
	return p
}

// tunnel joins the client's connection to the backend's.
func (p *Proxy) tunnel(w http.ResponseWriter, addr string) {
	up, err := net.Dial("tcp", addr)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	down, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		up.Close()
		return
	}
	if _, err := io.WriteString(down, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		up.Close()
		down.Close()
		return
	}
	go func() {
		io.Copy(up, buf)
		up.Close()
	}()
	io.Copy(down, up)
	down.Close()
}
