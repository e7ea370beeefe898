package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"limitprobe/internal/proxytest"
)

// TestNetworkFlags probes and verifies https://example.com through a
// forward proxy on loopback that tunnels to a TLS server only a private CA
// vouches for: with --proxy and --cacert, the scenario keys proxy and
// cacert, and --insecure, which the report marks.
func TestNetworkFlags(t *testing.T) {
	backend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer backend.Close()
	px := proxytest.Start(t, backend.URL)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: backend.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []string{"--strategy", "steps", "--start", "20/s", "--max", "20/s", "--step", "1s"}

	code, stdout, stderr := runCLI(t, append([]string{"probe", "https://example.com/api", "--quiet", "--format", "json", "--proxy", px.URL, "--cacert", ca}, steps...)...)
	var rep struct {
		RequestsSent int64 `json:"requests_sent"`
		ErrorsTotal  int64 `json:"errors_total"`
		Scenario     struct {
			Target struct {
				Proxy    string `json:"proxy"`
				Insecure bool   `json:"insecure"`
			} `json:"target"`
		} `json:"scenario"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); code != exitOK || err != nil {
		t.Fatalf("probe --proxy --cacert: exit %d, stderr %s", code, stderr)
	}
	if rep.RequestsSent == 0 || rep.ErrorsTotal != 0 || rep.Scenario.Target.Proxy != px.URL || rep.Scenario.Target.Insecure {
		t.Errorf("got %+v; want every request through %s, verified", rep, px.URL)
	}

	scen := filepath.Join(dir, "s.yaml")
	src := "name: via-proxy\ntarget:\n  url: https://example.com/api\n  proxy: " + px.URL + "\n  cacert: ca.pem\n  http: 1.1\n" +
		"probe: {strategy: steps, start: 20/s, max: 20/s, step: 1s}\n"
	if err := os.WriteFile(scen, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "run", "--quiet", scen); code != exitOK {
		t.Errorf("run with proxy and cacert keys: exit %d, stderr %s", code, stderr)
	}

	code, stdout, stderr = runCLI(t, append([]string{"probe", backend.URL + "/", "--insecure"}, steps...)...)
	if code != exitOK || !strings.Contains(stderr, "TLS certificates are not verified (--insecure)") ||
		!strings.Contains(stdout, "warning: TLS certificates were not verified (--insecure)") {
		t.Errorf("probe --insecure: exit %d; want a warning on stderr and in the report:\n%s\n%s", code, stderr, stdout)
	}

	before := px.Requests.Load()
	report := verifyFixture(t, "https://example.com/api", 0)
	code, _, stderr = runVerify(t, context.Background(), report, "--proxy", px.URL, "--cacert", ca, "--demand", "10/s",
		"--duration", "1s", "--deadline", "1s", "--policy", "recommended", "--quiet")
	if code != exitOK || px.Requests.Load() == before {
		t.Errorf("verify --proxy --cacert: exit %d, %d requests through the proxy, stderr %s", code, px.Requests.Load()-before, stderr)
	}
	for _, args := range [][]string{{"probe", "https://example.com/", "--http1", "--http2"}, {"run", scen, "--cacert", scen}, {"verify", report, "--proxy", "ftp://x"}} {
		if code, _, stderr := runCLI(t, args...); code != exitUsage {
			t.Errorf("%q: exit %d, stderr %s; want 2", args, code, stderr)
		}
	}
}
