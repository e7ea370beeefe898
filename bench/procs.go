package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// command is exec.CommandContext in a process group of its own: when ctx
// ends, the whole group gets SIGTERM (so a server shuts down cleanly and a
// program under /usr/bin/time is not orphaned), and Wait gives up on it 5 s
// later.
func command(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// mockProc is `limitprobe mock` running as its own process, so a load
// generator under test does not share a Go runtime with the server.
type mockProc struct {
	URL    string // http://127.0.0.1:PORT
	cmd    *exec.Cmd
	cancel context.CancelFunc
	done   chan error
}

// mock starts `limitprobe mock --listen 127.0.0.1:0 args...`, from the
// binary built once, and waits for its URL.
func (e *env) mock(ctx context.Context, args ...string) (*mockProc, error) {
	bin, err := e.binary(ctx)
	if err != nil {
		return nil, err
	}
	return startMock(ctx, bin, args...)
}

// startMock runs `bin mock --listen 127.0.0.1:0 args...` and waits for the
// URL it prints on its first line.
func startMock(ctx context.Context, bin string, args ...string) (*mockProc, error) {
	ctx, cancel := context.WithCancel(ctx)
	cmd := command(ctx, "", bin, append([]string{"mock", "--listen", "127.0.0.1:0"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("starting the mock: %w", err)
	}
	m := &mockProc{cmd: cmd, cancel: cancel, done: make(chan error, 1)}
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			first <- strings.TrimSpace(sc.Text())
		}
		close(first)
		_, _ = io.Copy(io.Discard, out) // the truth JSON that follows
		m.done <- cmd.Wait()
	}()
	select {
	case u, ok := <-first:
		if ok && strings.HasPrefix(u, "http://127.0.0.1:") {
			m.URL = u
			return m, nil
		}
		m.Stop()
		return nil, fmt.Errorf("the mock printed %q, not its URL: %s", u, stderr.String())
	case <-time.After(10 * time.Second):
		m.Stop()
		return nil, errors.New("the mock did not print its URL within 10 s")
	}
}

// Stop ends the mock and waits for it.
func (m *mockProc) Stop() {
	m.cancel()
	<-m.done
}

// usage is what the kernel accounted to a finished child process.
type usage struct {
	wall, cpu time.Duration
	maxRSSKB  int64 // peak resident set size, kilobytes
}

// timeBin is GNU time (Debian package time).
const timeBin = "/usr/bin/time"

// measured wraps name and args in GNU time, which writes the child's
// resource usage to out. Go cannot measure the child itself: os/exec starts
// it with vfork semantics, so its ru_maxrss starts at this process's RSS.
func measured(ctx context.Context, out, name string, args ...string) *exec.Cmd {
	return command(ctx, "", timeBin, append([]string{"-f", "%M %e %U %S", "-o", out, name}, args...)...)
}

// runMeasured runs a command built by measured and reads the usage GNU time
// wrote to out.
func runMeasured(cmd *exec.Cmd, out string) (usage, error) {
	runErr := cmd.Run()
	b, err := os.ReadFile(out)
	if err != nil {
		return usage{}, errors.Join(runErr, err)
	}
	u, err := parseTime(string(b))
	return u, errors.Join(runErr, err)
}

// parseTime reads the last line of GNU time's "%M %e %U %S" output (lines
// before it say how the child exited, when it failed).
func parseTime(s string) (usage, error) {
	f := strings.Fields(lastLine(s))
	if len(f) != 4 {
		return usage{}, fmt.Errorf("unexpected output of %s: %q", timeBin, s)
	}
	rss, err1 := strconv.ParseInt(f[0], 10, 64)
	wall, err2 := strconv.ParseFloat(f[1], 64)
	user, err3 := strconv.ParseFloat(f[2], 64)
	sys, err4 := strconv.ParseFloat(f[3], 64)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return usage{}, fmt.Errorf("unexpected output of %s: %q", timeBin, s)
	}
	sec := func(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
	return usage{wall: sec(wall), cpu: sec(user + sys), maxRSSKB: rss}, nil
}

// wrkResult is what one wrk run reports.
type wrkResult struct {
	rps      float64 // Requests/sec
	requests int64   // requests completed
	non2xx   int64   // "Non-2xx or 3xx responses"; throttled, for a limiter
	errors   int64   // socket errors of any kind
}

// runWrk runs wrk with threads and connections for d against url.
func runWrk(ctx context.Context, url string, threads, conns int, d time.Duration) (wrkResult, error) {
	ctx, cancel := context.WithTimeout(ctx, d+15*time.Second)
	defer cancel()
	out, err := command(ctx, "", "wrk", fmt.Sprintf("-t%d", threads), fmt.Sprintf("-c%d", conns),
		fmt.Sprintf("-d%ds", int(d.Seconds())), url).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	return parseWrk(string(out))
}

var (
	wrkRPS      = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk's report.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk printed no Requests/sec: %s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	if m := wrkRequests.FindStringSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.errors += n
		}
	}
	return r, nil
}

// have reports whether a program is installed, and says how to get it.
func have(e *env, name string) bool {
	if _, err := exec.LookPath(name); err != nil {
		fmt.Fprintf(e.log, "bench: %s is not installed; run bench/setup.sh (or apt-get install -y %s) first\n", name, name)
		return false
	}
	return true
}

// median of xs; 0 for none. xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// kilo formats a rate such as 12400 as "12.4k".
func kilo(r float64) string {
	if r >= 1000 {
		return strconv.FormatFloat(r/1000, 'f', 1, 64) + "k"
	}
	return strconv.FormatFloat(r, 'f', 0, 64)
}
