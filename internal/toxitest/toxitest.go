// Package toxitest puts Shopify's toxiproxy between limitprobe and a target
// on loopback, for tests and benchmarks that need the network users have:
// a round trip with delay and jitter. The toxiproxy server is built once
// with the Go toolchain (go install, pinned version) into the user cache
// directory, then started per test on free loopback ports.
package toxitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"limitprobe/internal/daemontest"
)

// Version is the toxiproxy release used.
const Version = "v2.12.0"

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of the toxiproxy server, building it on first use
// (about a minute on a clean machine; then cached).
func Binary() (string, error) {
	build.once.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "limitprobe", "toxiproxy-"+Version)
		build.path = filepath.Join(dir, "server")
		if _, err := os.Stat(build.path); err == nil {
			return
		}
		cmd := exec.Command("go", "install", "github.com/Shopify/toxiproxy/v2/cmd/server@"+Version)
		cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("toxitest: go install toxiproxy %s: %v\n%s", Version, err, out)
		}
	})
	return build.path, build.err
}

// Server is a running toxiproxy.
type Server struct {
	api string
	cmd *exec.Cmd
}

// Start runs a toxiproxy server on a free loopback port until ctx ends or
// Stop is called.
func Start(ctx context.Context) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	port, err := daemontest.FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "-host", "127.0.0.1", "-port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("toxitest: start toxiproxy: %w", err)
	}
	s := &Server{api: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if resp, err := http.Get(s.api + "/version"); err == nil {
			resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, errors.New("toxitest: toxiproxy did not answer within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the server.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

// Delay is a latency toxic: every chunk waits Latency plus a uniform
// random jitter in [−Jitter, +Jitter].
type Delay struct {
	Latency, Jitter time.Duration
}

// Proxy forwards a free loopback port to upstream (host:port), delaying
// each direction by d, and returns its address (host:port).
func (s *Server) Proxy(name, upstream string, d Delay) (string, error) {
	port, err := daemontest.FreePort()
	if err != nil {
		return "", err
	}
	listen := "127.0.0.1:" + strconv.Itoa(port)
	body := map[string]any{"name": name, "listen": listen, "upstream": upstream, "enabled": true}
	if err := s.post("/proxies", body); err != nil {
		return "", err
	}
	for _, stream := range []string{"upstream", "downstream"} {
		toxic := map[string]any{"name": "delay-" + stream, "type": "latency", "stream": stream,
			"attributes": map[string]int64{"latency": d.Latency.Milliseconds(), "jitter": d.Jitter.Milliseconds()}}
		if err := s.post("/proxies/"+name+"/toxics", toxic); err != nil {
			return "", err
		}
	}
	return listen, nil
}

func (s *Server) post(path string, v any) error {
	b, _ := json.Marshal(v)
	resp, err := http.Post(s.api+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("toxitest: %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("toxitest: %s: %s: %s", path, resp.Status, msg)
	}
	return nil
}
