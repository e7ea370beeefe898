package mock

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"limitprobe/limiter"
)

func TestStartServesUntilClose(t *testing.T) {
	e, err := Start(context.Background(), Config{Algorithm: limiter.TokenBucket, Rate: 50, Burst: 2}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !strings.HasPrefix(e.URL, "http://127.0.0.1:") || strings.HasSuffix(e.URL, "/") {
		t.Errorf("got URL %q, want http://127.0.0.1:PORT", e.URL)
	}
	resp, err := http.Get(e.URL + TruthPath)
	if err != nil {
		t.Fatal(err)
	}
	var truth Truth
	err = json.NewDecoder(resp.Body).Decode(&truth)
	resp.Body.Close()
	if err != nil || truth.EffectiveLimitRPS != 50 || truth.Burst != 2 {
		t.Errorf("got truth %+v, %v; want 50/s, burst 2", truth, err)
	}
	e.Close()
	select {
	case <-e.Done():
	default:
		t.Fatal("Done is open after Close, want closed")
	}
	if err := e.Err(); !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("got Err %v, want http.ErrServerClosed", err)
	}
	e.Close() // a second Close does nothing
}

func TestStartEndsHangsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	e, err := Start(ctx, Config{Algorithm: limiter.None, Faults: Faults{HangRate: 1}}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get(e.URL) // no client timeout: only the server can end it
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for e.Truth().Errors == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-errc:
		if err == nil {
			t.Error("got a response to a hung request, want a transport error")
		}
	case <-time.After(shutdownGrace):
		t.Fatal("the hung request outlived its server's context")
	}
}

func TestStartRefusesBadConfigsAndAddresses(t *testing.T) {
	_, err := Start(context.Background(), Config{Algorithm: limiter.TokenBucket}, "127.0.0.1:0")
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Key != "rate" {
		t.Errorf("got %v, want a *ParamError for rate", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Start(context.Background(), Config{Algorithm: limiter.None}, ln.Addr().String())
	if err == nil || !strings.HasPrefix(err.Error(), "cannot listen on "+ln.Addr().String()+": ") {
		t.Errorf("got %v, want cannot listen on %s", err, ln.Addr())
	}
}
