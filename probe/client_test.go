package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"limitprobe/scenarios"
)

func TestProxyFunc(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://env-proxy:3128")
	t.Setenv("HTTPS_PROXY", "http://env-proxy:3129")
	t.Setenv("NO_PROXY", "internal.example.com")
	tests := []struct{ proxy, url, want string }{
		{"", "http://api.example.com/", "http://env-proxy:3128"},
		{"", "https://api.example.com/", "http://env-proxy:3129"},
		{"", "https://internal.example.com/", ""}, // NO_PROXY
		{"", "http://127.0.0.1:8080/", ""},        // loopback is never proxied from the environment
		{scenarios.ProxyNone, "http://api.example.com/", ""},
		{"http://u:pw@given:8080", "http://api.example.com/", "http://***@given:8080"},
		{"http://given:8080", "http://127.0.0.1:8080/", "http://given:8080"}, // a given proxy takes everything
	}
	for _, tt := range tests {
		got := proxyOf(scenarios.Target{URL: tt.url, Network: scenarios.Network{Proxy: tt.proxy}})
		if got != tt.want {
			t.Errorf("proxy %q for %s: got %q, want %q", tt.proxy, tt.url, got, tt.want)
		}
	}
}

func TestCheckRedirect(t *testing.T) {
	req := &http.Request{}
	if err := checkRedirect(0)(req, []*http.Request{req}); err != http.ErrUseLastResponse {
		t.Errorf("0 redirects: got %v, want ErrUseLastResponse", err)
	}
	if err := checkRedirect(2)(req, []*http.Request{req, req}); err != nil {
		t.Errorf("the second of 2 redirects: got %v, want it followed", err)
	}
	if err := checkRedirect(2)(req, []*http.Request{req, req, req}); err == nil {
		t.Error("the third of 2 redirects was followed")
	}
}

// An interrupt cuts the requests in flight on NewClient's connections at
// once, refuses new connections until the next run, and leaves the
// transport an *http.Transport (net/http spends a goroutine and a timer per
// request on any other).
func TestCutOnDone(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer ts.Close()
	defer close(release)
	client := NewClient(scenarios.Target{Timeout: time.Minute})
	if _, ok := client.Transport.(*http.Transport); !ok {
		t.Fatalf("transport is %T, want *http.Transport", client.Transport)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop := cutOnDone(ctx, client)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		resp, err := client.Get(ts.URL + "/slow") // no context: vegeta's requests have none
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if err == nil {
			t.Error("the request in flight succeeded; want it cut")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request in flight still runs 5 s after the interrupt")
	}
	if _, err := client.Get(ts.URL); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("a request after the interrupt: got %v, want it refused", err)
	}
	// The next run reopens.
	stop2 := cutOnDone(context.Background(), client)
	defer stop2()
	if resp, err := client.Get(ts.URL); err != nil {
		t.Errorf("a request of the next run: %v", err)
	} else {
		resp.Body.Close()
	}
	// A client of another make is left alone.
	if cutOnDone(ctx, &http.Client{})() {
		t.Error("cutOnDone watched a client it did not make")
	}
}
