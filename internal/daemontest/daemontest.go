// Package daemontest runs a server program for limitprobe's tests and
// benchmarks: found in PATH or the usual sbin directories, started in its
// own process group on a loopback port, up once the port accepts, and
// stopped with its whole group.
package daemontest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Find returns the path of the program name, looking in PATH and then in
// the sbin directories where Debian installs servers, often not in a
// user's PATH.
func Find(name string, more ...string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, p := range append([]string{"/usr/sbin/" + name, "/usr/local/sbin/" + name}, more...) {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, true
		}
	}
	return "", false
}

// FreePort is a loopback port free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Proc is a running server.
type Proc struct{ cmd *exec.Cmd }

// Start runs bin with args and waits up to 5 s for 127.0.0.1:port to
// accept. On failure the error holds what the program printed and, when
// logs is set, what it returns (a log file the program writes).
func Start(ctx context.Context, bin string, args []string, port int, logs func() string) (*Proc, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &Proc{cmd: cmd}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return p, nil
		}
		if time.Now().After(deadline) {
			p.Stop()
			more := ""
			if logs != nil {
				more = " " + logs()
			}
			return nil, fmt.Errorf("%s did not listen on port %d: %s%s", bin, port, out.String(), more)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop ends the program and its process group: SIGTERM, then SIGKILL
// after 3 s.
func (p *Proc) Stop() {
	if p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}
