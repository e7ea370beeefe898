package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"limitprobe/mock"
	"limitprobe/scenarios"
)

// runningMock is an embedded mock serving on a loopback port.
type runningMock struct {
	srv  *mock.Server
	http *http.Server
	url  string
}

// startMock serves cfg on a free loopback port until stop is called.
func startMock(cfg mock.Config, listen string) (*runningMock, error) {
	srv, err := mock.New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("mock: %w", err)
	}
	m := &runningMock{srv: srv, http: &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}, url: "http://" + ln.Addr().String() + "/"}
	go m.http.Serve(ln)
	return m, nil
}

func (m *runningMock) stop() {
	m.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = m.http.Shutdown(ctx)
}

// mockFor starts the mock a scenario describes and points the scenario
// at it. It returns nil when the scenario has a real URL.
func mockFor(sc *scenarios.Scenario) (*runningMock, error) {
	if sc.Target.Mock == nil {
		return nil, nil
	}
	cfg, err := sc.Target.Mock.Config()
	if err != nil {
		return nil, err
	}
	m, err := startMock(cfg, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sc.Target.URL = m.url
	return m, nil
}
