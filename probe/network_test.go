package probe_test

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"limitprobe/internal/proxytest"
	"limitprobe/probe"
	"limitprobe/scenarios"
)

// remoteSteps is a short run against a target off this machine: its caps
// are the remote defaults (50/s, 5000 requests).
func remoteSteps(sc *scenarios.Scenario) {
	sc.Probe = scenarios.Probe{Strategy: scenarios.StrategySteps, Start: 20, Max: 20, Step: time.Second}
}

// okServer counts the requests it serves and the HTTP versions they came in.
type okServer struct {
	n, h1, h2 atomic.Int64
}

func (s *okServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.n.Add(1)
	if r.ProtoMajor == 2 {
		s.h2.Add(1)
	} else {
		s.h1.Add(1)
	}
	w.Write([]byte("ok"))
}

func caPEM(ts *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
}

// TestProxyFromTheEnvironment probes http://example.com through the proxy
// HTTP_PROXY names, which sends it to a server on loopback.
func TestProxyFromTheEnvironment(t *testing.T) {
	var be okServer
	backend := httptest.NewServer(&be)
	defer backend.Close()
	px := proxytest.Start(t, backend.URL)
	t.Setenv("HTTP_PROXY", px.URL)
	t.Setenv("NO_PROXY", "")
	run, err := probe.Execute(context.Background(), scenario(t, "http://example.com/api", remoteSteps), probe.Options{})
	if err != nil || run.RequestsSent == 0 || run.ErrorsTotal != 0 || px.Requests.Load() != run.RequestsSent {
		t.Fatalf("got err %v, %d sent, %d errors, %d through the proxy; want all through it", err, run.RequestsSent, run.ErrorsTotal, px.Requests.Load())
	}
	if got := run.Scenario.Target.Proxy; got != px.URL {
		t.Errorf("report names proxy %q, want %q", got, px.URL)
	}
	if h := <-px.Hosts; h != "example.com" {
		t.Errorf("the proxy was asked for %q, want example.com", h)
	}
}

// TestProxyAndPrivateCA probes https://example.com through an explicit
// proxy (CONNECT) to a TLS server whose certificate only a private CA
// vouches for.
func TestProxyAndPrivateCA(t *testing.T) {
	var be okServer
	backend := httptest.NewUnstartedServer(&be)
	backend.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	backend.StartTLS()
	defer backend.Close()
	px := proxytest.Start(t, backend.URL)
	with := func(n scenarios.Network) *scenarios.Scenario {
		return scenario(t, "https://example.com/api", func(sc *scenarios.Scenario) {
			remoteSteps(sc)
			sc.Target.Network = n
		})
	}
	run, err := probe.Execute(context.Background(), with(scenarios.Network{Proxy: px.URL}), probe.Options{})
	if !errors.Is(err, probe.ErrUnusable) || run.ErrorsTotal != run.RequestsSent || !strings.Contains(err.Error(), "--cacert FILE") {
		t.Errorf("without the CA: got err %v, %d errors of %d; want every request refused by TLS, and how to trust the CA", err, run.ErrorsTotal, run.RequestsSent)
	}
	run, err = probe.Execute(context.Background(), with(scenarios.Network{Proxy: px.URL, CAPEM: caPEM(backend)}), probe.Options{})
	if err != nil || run.RequestsSent == 0 || run.ErrorsTotal != 0 || be.n.Load() != run.RequestsSent {
		t.Errorf("with the CA: got err %v, %d sent, %d errors, %d served; want all served", err, run.RequestsSent, run.ErrorsTotal, be.n.Load())
	}
	if run.Scenario.Target.Insecure {
		t.Error("the run is marked insecure; it verified certificates")
	}
}

func TestInsecureIsMarked(t *testing.T) {
	var be okServer
	backend := httptest.NewTLSServer(&be)
	defer backend.Close()
	sc := scenario(t, backend.URL+"/", func(sc *scenarios.Scenario) {
		steps(sc)
		sc.Target.Network.Insecure = true
	})
	run, err := probe.Execute(context.Background(), sc, probe.Options{})
	if err != nil || run.ErrorsTotal != 0 || !run.Scenario.Target.Insecure {
		t.Errorf("got err %v, %d errors, insecure %t; want every request served and the run marked insecure", err, run.ErrorsTotal, run.Scenario.Target.Insecure)
	}
}

func TestHTTPVersion(t *testing.T) {
	var be okServer
	backend := httptest.NewUnstartedServer(&be)
	backend.EnableHTTP2 = true
	backend.StartTLS()
	defer backend.Close()
	for _, tt := range []struct {
		http   string
		h1, h2 bool
	}{{"", false, true}, {scenarios.HTTP1, true, false}, {scenarios.HTTP2, false, true}} {
		be.h1.Store(0)
		be.h2.Store(0)
		sc := scenario(t, backend.URL+"/", func(sc *scenarios.Scenario) {
			steps(sc)
			sc.Target.Network = scenarios.Network{CAPEM: caPEM(backend), HTTP: tt.http}
		})
		if _, err := probe.Execute(context.Background(), sc, probe.Options{}); err != nil {
			t.Fatalf("http %q: %v", tt.http, err)
		}
		if (be.h1.Load() > 0) != tt.h1 || (be.h2.Load() > 0) != tt.h2 {
			t.Errorf("http %q: %d HTTP/1 and %d HTTP/2 requests; want HTTP/1 %t, HTTP/2 %t", tt.http, be.h1.Load(), be.h2.Load(), tt.h1, tt.h2)
		}
	}
}

func TestHTTP2WithoutTLS(t *testing.T) {
	var be okServer
	backend := httptest.NewUnstartedServer(&be)
	backend.Config.Protocols = new(http.Protocols)
	backend.Config.Protocols.SetHTTP1(true)
	backend.Config.Protocols.SetUnencryptedHTTP2(true)
	backend.Start()
	defer backend.Close()
	sc := scenario(t, backend.URL+"/", func(sc *scenarios.Scenario) {
		steps(sc)
		sc.Target.Network.HTTP = scenarios.HTTP2
	})
	if _, err := probe.Execute(context.Background(), sc, probe.Options{}); err != nil || be.h2.Load() == 0 || be.h1.Load() != 0 {
		t.Errorf("got err %v, %d HTTP/2 and %d HTTP/1 requests; want h2c only", err, be.h2.Load(), be.h1.Load())
	}
}
