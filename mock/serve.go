package mock

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// shutdownGrace is how long Close lets an Endpoint's connections finish.
const shutdownGrace = 5 * time.Second

// Endpoint is a Server answering HTTP on a TCP address, as `limitprobe
// mock` and a scenario's embedded mock serve it.
type Endpoint struct {
	*Server
	// URL is "http://HOST:PORT", without a trailing slash.
	URL string

	hs        *http.Server
	shutdown  func() // ends request contexts, then shuts hs down
	done      chan struct{}
	err       error // what ended Serve, set before done is closed
	closeOnce sync.Once
}

// Start validates cfg as New does and serves it on addr ("127.0.0.1:0"
// picks a free port) until Close. Requests' contexts derive from ctx, so
// ending ctx ends every hung or waiting request. Start does not check that
// addr is a loopback address: callers that take addr from a user must.
// Validation errors are *ParamError values; a listen error says "cannot
// listen on ADDR".
func Start(ctx context.Context, cfg Config, addr string) (*Endpoint, error) {
	srv, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	base, cancel := context.WithCancel(ctx)
	e := &Endpoint{Server: srv, URL: "http://" + ln.Addr().String(), done: make(chan struct{})}
	e.hs = &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	e.shutdown = func() {
		cancel()
		grace, stop := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer stop()
		if err := e.hs.Shutdown(grace); err != nil {
			e.hs.Close()
		}
	}
	go func() {
		e.err = e.hs.Serve(ln)
		close(e.done)
	}()
	return e, nil
}

// Done is closed when the endpoint has stopped serving: after Close, or
// when serving failed on its own (see Err).
func (e *Endpoint) Done() <-chan struct{} { return e.done }

// Err waits until Done is closed and returns what stopped the endpoint:
// http.ErrServerClosed after Close, else the error that ended serving.
func (e *Endpoint) Err() error {
	<-e.done
	return e.err
}

// Close ends every wait in progress and every request's context, shuts the
// HTTP server down (closing connections still busy after 5 seconds) and
// waits until it has stopped. Calling it again does nothing.
func (e *Endpoint) Close() {
	e.closeOnce.Do(func() {
		e.Server.Close()
		e.shutdown()
		<-e.done
	})
}
