package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// TestNoSecretWritten probes a target whose URL holds a password, a
// literal api_key and a ${VAR}, and whose every fourth request fails, and
// checks that no secret reaches stdout, stderr, the reports or results.bin.
func TestNoSecretWritten(t *testing.T) {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Write([]byte("not http\r\n\r\n")) // an error whose message quotes the URL
				c.Close()
			}
			return
		}
		w.Write([]byte("ok"))
	}))
	defer ts.Close()
	t.Setenv("TENANT_ID", "tenant-secret-789")
	secrets := []string{"pw-secret-456", "literal-key-123", "tenant-secret-789", "header-secret-321"}
	dir := t.TempDir()
	scen := filepath.Join(dir, "s.yaml")
	u := strings.Replace(ts.URL, "http://", "http://user:pw-secret-456@", 1) + "/${TENANT_ID}/v1?api_key=literal-key-123&q=1"
	src := "name: secrets\ntarget:\n  url: \"" + u + "\"\n" +
		"probe: {strategy: steps, start: 40/s, max: 40/s, step: 1s}\nlimits: {max_requests: 40}\n"
	if err := os.WriteFile(scen, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI(t, "run", "--out", out, "--format", "table,json,markdown", scen)
	_, pstdout, pstderr := runCLI(t, "probe", "--quiet", strings.Replace(u, "${TENANT_ID}", "t", 1),
		"-H", "X-Api-Key: header-secret-321", "--strategy", "steps", "--start", "40/s", "--max", "40/s", "--step", "1s", "--max-requests", "40")
	if code != exitOK {
		t.Fatalf("run: exit %d, stderr %s", code, stderr)
	}
	written := stdout + stderr + pstdout + pstderr
	for _, f := range []string{"report.json", "report.md", "report.html", "results.bin"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		written += string(b)
	}
	for _, s := range secrets {
		if strings.Contains(written, s) {
			t.Errorf("%s was written", s)
		}
	}
	// results.bin keeps the redacted URL, and errors with it.
	raw, err := os.ReadFile(filepath.Join(out, "results.bin"))
	if err != nil {
		t.Fatal(err)
	}
	dec := vegeta.NewDecoder(bytes.NewReader(raw))
	var results, errs int
	for {
		var res vegeta.Result
		if dec.Decode(&res) != nil {
			break
		}
		results++
		want := strings.Replace(ts.URL, "http://", "http://***@", 1) + "/${TENANT_ID}/v1?api_key=***&q=1"
		if res.URL != want {
			t.Fatalf("results.bin URL = %q, want %q", res.URL, want)
		}
		if res.Code == 0 {
			errs++
		}
	}
	if results != 40 || errs == 0 {
		t.Errorf("results.bin holds %d results, %d errors; want 40 with some errors", results, errs)
	}
}
