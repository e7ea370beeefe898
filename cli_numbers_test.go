package main

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestAbsurdAdvertisedNumbers: a target that advertises a quota of 1e300
// per 1e-10 s gets a report whose every number is finite and short.
func TestAbsurdAdvertisedNumbers(t *testing.T) {
	huge := "1" + strings.Repeat("0", 300)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("RateLimit-Policy", `"p";q=`+huge+`;w=0.0000000001`)
		w.Header().Set("RateLimit", `"p";r=`+huge+`;t=0.0000000001`)
		w.Write([]byte("ok"))
	}))
	defer ts.Close()
	code, stdout, stderr := runCLI(t, "probe", ts.URL+"/", "--quiet", "--format", "table,json,markdown,html",
		"--strategy", "steps", "--start", "20/s", "--max", "20/s", "--step", "1s")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	if long := regexp.MustCompile(`[0-9]{16,}`).FindString(stdout); long != "" || strings.Contains(stdout, "Inf") || strings.Contains(stdout, "NaN") {
		t.Errorf("the report holds an absurd number (%q):\n%s", long, stdout)
	}
}
