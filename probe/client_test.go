package probe

import (
	"net/http"
	"testing"

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
