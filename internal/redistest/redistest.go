// Package redistest runs a real Redis on a loopback port behind the two
// most common home-made rate limits, for limitprobe's tests. The counter:
// for each request the front INCRs a key and, when the count is 1, sets it
// to expire a window later (PEXPIRE); a count above the limit is refused.
// Its window is counted from the first request after the last one
// expired, by Redis's clock: a fixed window from first use. The log: for
// each request the front drops the times older than a window from a
// sorted set (ZREMRANGEBYSCORE), adds its own (ZADD) and counts them
// (ZCARD), refusing a count above the limit; refused requests stay in the
// set, so a client that keeps sending faster stays shut out.
package redistest

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"limitprobe/internal/daemontest"
)

// Binary returns the path of redis-server.
func Binary() (string, bool) { return daemontest.Find("redis-server") }

// Required reports whether a missing redis-server must fail the tests
// rather than skip them: in CI, and when LIMITPROBE_REQUIRE_REDIS is set.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("LIMITPROBE_REQUIRE_REDIS") != ""
}

// Config is one limit: Limit requests per Window, counted from first use.
type Config struct {
	Limit  int
	Window time.Duration
	// Log limits with the sorted set of request times; else the counter.
	Log bool
	// Upstream, when set (http://host:port), is where admitted requests
	// are passed (a slow backend); else the front answers them itself.
	Upstream string
}

// Server is a running redis-server and the front that limits with it.
type Server struct {
	URL   string // http://127.0.0.1:PORT/api
	redis *daemontest.Proc
	db    *client
	http  *http.Server
	seq   sync.Mutex // one log update at a time
	n     int64      // log members made so far
}

// Start starts redis-server in dir (nothing saved) and the front on free
// loopback ports. Stop them with Stop.
func Start(ctx context.Context, dir string, cfg Config) (*Server, error) {
	bin, ok := Binary()
	if !ok {
		return nil, errors.New("redis-server is not installed (Debian: apt-get install redis-server)")
	}
	if cfg.Limit <= 0 || cfg.Window < time.Millisecond {
		return nil, fmt.Errorf("redistest: limit %d per %v: want a limit above 0 per a window of 1 ms or more", cfg.Limit, cfg.Window)
	}
	port, err := daemontest.FreePort()
	if err != nil {
		return nil, err
	}
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}
	proc, err := daemontest.Start(ctx, bin, args, port, nil)
	if err != nil {
		return nil, err
	}
	s := &Server{redis: proc}
	if s.db, err = dial(fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		proc.Stop()
		return nil, err
	}
	var next http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	if cfg.Upstream != "" {
		u, err := url.Parse(cfg.Upstream)
		if err != nil {
			s.Stop()
			return nil, err
		}
		next = httputil.NewSingleHostReverseProxy(u)
	}
	count := s.counter
	if cfg.Log {
		count = s.log
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := count(cfg.Window)
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		case n > int64(cfg.Limit):
			http.Error(w, "rate limit exceeded", http.StatusTooManyRequests)
		default:
			next.ServeHTTP(w, r)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.http = &http.Server{Handler: h}
	go s.http.Serve(ln)
	s.URL = "http://" + ln.Addr().String() + "/api"
	return s, nil
}

// counter is the request's count in its window, by INCR and PEXPIRE.
func (s *Server) counter(w time.Duration) (int64, error) {
	n, err := s.db.do("INCR", "limitprobe:count")
	if err == nil && n == 1 {
		_, err = s.db.do("PEXPIRE", "limitprobe:count", strconv.FormatInt(w.Milliseconds(), 10))
	}
	return n, err
}

// log is the number of requests in the window up to this one, by a
// sorted set of their times in microseconds, its commands one after
// another as MULTI would run them.
func (s *Server) log(w time.Duration) (int64, error) {
	s.seq.Lock()
	defer s.seq.Unlock()
	now := time.Now().UnixMicro()
	s.n++
	key := "limitprobe:log"
	var n int64
	var err error
	for _, cmd := range [][]string{
		{"ZREMRANGEBYSCORE", key, "0", strconv.FormatInt(now-w.Microseconds(), 10)},
		{"ZADD", key, strconv.FormatInt(now, 10), strconv.FormatInt(now, 10) + "-" + strconv.FormatInt(s.n, 10)},
		{"ZCARD", key},
		{"PEXPIRE", key, strconv.FormatInt(w.Milliseconds(), 10)},
	} {
		r, e := s.db.do(cmd...)
		if cmd[0] == "ZCARD" {
			n = r
		}
		err = cmp.Or(err, e)
	}
	return n, err
}

// Stop ends the front and redis-server.
func (s *Server) Stop() {
	if s.http != nil {
		s.http.Close()
	}
	if s.db != nil {
		s.db.c.Close()
	}
	s.redis.Stop()
}

// client speaks Redis's protocol (RESP) over one connection, a command at
// a time: enough for commands whose replies are integers.
type client struct {
	mu sync.Mutex
	c  net.Conn
	r  *bufio.Reader
}

func dial(addr string) (*client, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	return &client{c: c, r: bufio.NewReader(c)}, nil
}

// do sends one command and returns its integer reply.
func (c *client) do(args ...string) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.c.Write([]byte(b.String())); err != nil {
		return 0, err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" || line[0] != ':' {
		return 0, fmt.Errorf("redistest: %s: reply %q, want an integer", args[0], line)
	}
	return strconv.ParseInt(line[1:], 10, 64)
}
