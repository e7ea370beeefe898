// Package haproxytest runs a real HAProxy on a loopback port with a rate
// limit from a stick table, for limitprobe's tests: a second limiter none
// of us wrote. HAProxy's rates are sliding counters (its freq_ctr: the
// period so far plus the period before, weighted by what is left of it).
package haproxytest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"limitprobe/internal/daemontest"
)

// Binary returns the path of haproxy, looking in PATH and /usr/sbin
// (where Debian installs it, often not in a user's PATH).
func Binary() (string, bool) { return daemontest.Find("haproxy") }

// Required reports whether a missing haproxy must fail the tests rather
// than skip them: in CI, and when LIMITPROBE_REQUIRE_HAPROXY is set.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("LIMITPROBE_REQUIRE_HAPROXY") != ""
}

// Config is one limit: Limit requests per Period for each client address.
type Config struct {
	Limit  int
	Period time.Duration
	// CountRefused counts every request, refused ones too
	// (sc_http_req_rate, the usual recipe): a client that keeps sending
	// stays shut out. Otherwise only admitted requests count (a gpc0
	// incremented after the deny rule).
	CountRefused bool
	Status       int // deny_status; 0 means 429
	// Upstream, when set (host:port), is where admitted requests are
	// passed (a slow backend); else haproxy answers them itself.
	Upstream string
}

// Server is a running haproxy.
type Server struct {
	URL string // http://127.0.0.1:PORT/api
	*daemontest.Proc
}

// Start writes a configuration for cfg into dir and starts haproxy in the
// foreground on a free loopback port. Stop it with Stop.
func Start(ctx context.Context, dir string, cfg Config) (*Server, error) {
	bin, ok := Binary()
	if !ok {
		return nil, errors.New("haproxy is not installed (Debian: apt-get install haproxy)")
	}
	if cfg.Limit <= 0 || cfg.Period < time.Millisecond {
		return nil, fmt.Errorf("haproxytest: limit %d per %v: want a limit above 0 per a period of 1 ms or more", cfg.Limit, cfg.Period)
	}
	port, err := daemontest.FreePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(conf, []byte(render(port, cfg)), 0o644); err != nil {
		return nil, err
	}
	proc, err := daemontest.Start(ctx, bin, []string{"-db", "-f", conf}, port, nil)
	if err != nil {
		return nil, err
	}
	return &Server{URL: fmt.Sprintf("http://127.0.0.1:%d/api", port), Proc: proc}, nil
}

func render(port int, cfg Config) string {
	status := cfg.Status
	if status == 0 {
		status = 429
	}
	period := fmt.Sprintf("%dms", cfg.Period.Milliseconds())
	// sc_http_req_rate counts the request in hand, tracked before the
	// check: the limit-th is the last admitted. A gpc0 is incremented
	// only by requests past the deny rule.
	limit := fmt.Sprintf(`    stick-table type ip size 1k expire 10m store http_req_rate(%s)
    http-request track-sc0 src
    http-request deny deny_status %d if { sc_http_req_rate(0) gt %d }`, period, status, cfg.Limit)
	if !cfg.CountRefused {
		limit = fmt.Sprintf(`    stick-table type ip size 1k expire 10m store gpc0_rate(%s)
    http-request track-sc0 src
    http-request deny deny_status %d if { sc_gpc0_rate(0) ge %d }
    http-request sc-inc-gpc0(0)`, period, status, cfg.Limit)
	}
	answer := `    http-request return status 200 content-type text/plain string "ok"`
	if cfg.Upstream != "" {
		answer = fmt.Sprintf("    default_backend app\nbackend app\n    server app %s", cfg.Upstream)
	}
	return fmt.Sprintf(`global
    maxconn 4000
defaults
    mode http
    timeout client 30s
    timeout server 30s
    timeout connect 1s
frontend api
    bind 127.0.0.1:%d
%s
%s
`, port, limit, answer)
}
