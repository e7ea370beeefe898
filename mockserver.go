package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"limitprobe/mock"
	"limitprobe/scenarios"
)

// checkMock is the scenarios hook that checks a mock section with the
// mock's own vocabulary.
func checkMock(params map[string]string) (string, error) {
	ps := make([]mock.Param, 0, len(params))
	for _, k := range mock.Keys { // a fixed order: preset first
		if v, ok := params[k]; ok {
			ps = append(ps, mock.Param{Key: k, Value: v})
		}
	}
	for k, v := range params {
		if !slices.Contains(mock.Keys, k) {
			ps = append(ps, mock.Param{Key: k, Value: v})
		}
	}
	cfg, err := mock.FromParams(ps)
	if err == nil {
		var srv *mock.Server
		if srv, err = mock.New(cfg); err == nil {
			srv.Close()
		}
	}
	var pe *mock.ParamError
	if errors.As(err, &pe) {
		return pe.Key, err
	}
	return "", err
}

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
	ps := make([]mock.Param, len(sc.Target.Mock.Params))
	for i, p := range sc.Target.Mock.Params {
		ps[i] = mock.Param{Key: p.Key, Value: p.Value}
	}
	cfg, err := mock.FromParams(ps)
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
