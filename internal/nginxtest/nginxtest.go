// Package nginxtest runs a real nginx with limit_req on a loopback port, for
// limitprobe's tests and benchmarks: a limiter none of us wrote, configured
// with a known truth.
package nginxtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"limitprobe/internal/daemontest"
)

// Binary returns the path of nginx, looking in PATH and the usual sbin
// directories (Debian installs it in /usr/sbin, often not in a user's PATH).
func Binary() (string, bool) { return daemontest.Find("nginx", "/usr/local/nginx/sbin/nginx") }

// Required reports whether a missing nginx must fail the tests rather than
// skip them: in CI, and when LIMITPROBE_REQUIRE_NGINX is set.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("LIMITPROBE_REQUIRE_NGINX") != ""
}

// Config is one limit_req setup.
type Config struct {
	Rate    string // limit_req_zone rate, such as "50r/s" or "600r/m"
	Burst   int    // limit_req burst; 0 for none
	NoDelay bool   // limit_req nodelay
	Status  int    // limit_req_status; 0 keeps nginx's default 503
	Workers int    // worker processes; 0 means 1
	// Upstream, when set (host:port), is where admitted requests are
	// passed (a slow backend); else nginx answers them itself.
	Upstream string
}

// Server is a running nginx.
type Server struct {
	URL string // http://127.0.0.1:PORT/api
	*daemontest.Proc
}

// Start writes a configuration for cfg into dir and starts nginx in the
// foreground on a free loopback port. Stop it with Stop.
func Start(ctx context.Context, dir string, cfg Config) (*Server, error) {
	bin, ok := Binary()
	if !ok {
		return nil, errors.New("nginx is not installed (Debian: apt-get install nginx-light)")
	}
	port, err := daemontest.FreePort()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"html", "tmp", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "html", "api"), []byte("ok\n"), 0o644); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(render(dir, port, cfg)), 0o644); err != nil {
		return nil, err
	}
	errLog := filepath.Join(dir, "logs", "error.log")
	logs := func() string { b, _ := os.ReadFile(errLog); return string(b) }
	proc, err := daemontest.Start(ctx, bin, []string{"-p", dir, "-c", conf, "-e", errLog}, port, logs)
	if err != nil {
		return nil, err
	}
	return &Server{URL: fmt.Sprintf("http://127.0.0.1:%d/api", port), Proc: proc}, nil
}

func render(dir string, port int, cfg Config) string {
	workers := max(cfg.Workers, 1)
	var limit strings.Builder
	limit.WriteString("limit_req zone=api")
	if cfg.Burst > 0 {
		fmt.Fprintf(&limit, " burst=%d", cfg.Burst)
	}
	if cfg.NoDelay {
		limit.WriteString(" nodelay")
	}
	limit.WriteString(";")
	if cfg.Status != 0 {
		fmt.Fprintf(&limit, " limit_req_status %d;", cfg.Status)
	}
	if cfg.Upstream != "" {
		fmt.Fprintf(&limit, " proxy_pass http://%s/; proxy_http_version 1.1; proxy_set_header Connection \"\";", cfg.Upstream)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers must read files in a private temp dir
	}
	return fmt.Sprintf(`%s
daemon off;
worker_processes %d;
pid %[3]s/nginx.pid;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path %[3]s/tmp/body;
    proxy_temp_path %[3]s/tmp/proxy;
    fastcgi_temp_path %[3]s/tmp/fastcgi;
    uwsgi_temp_path %[3]s/tmp/uwsgi;
    scgi_temp_path %[3]s/tmp/scgi;
    keepalive_requests 1000000;
    limit_req_zone $binary_remote_addr zone=api:1m rate=%[4]s;
    server {
        listen 127.0.0.1:%[5]d;
        root %[3]s/html;
        default_type text/plain;
        location = /api { %[6]s }
    }
}
`, user, workers, dir, cfg.Rate, port, limit.String())
}
