package main

import (
	"context"

	"limitprobe/mock"
	"limitprobe/scenarios"
	"limitprobe/verify"
)

// runningMock is an embedded mock serving on a loopback port.
type runningMock struct {
	ep  *mock.Endpoint
	srv *mock.Server
	url string // ep.URL with a trailing slash, a target URL
}

// startMock serves cfg on listen until stop is called.
func startMock(cfg mock.Config, listen string) (*runningMock, error) {
	ep, err := mock.Start(context.Background(), cfg, listen)
	if err != nil {
		return nil, err
	}
	return &runningMock{ep: ep, srv: ep.Server, url: ep.URL + "/"}, nil
}

func (m *runningMock) stop() { m.ep.Close() }

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

// prepareMocks returns the Prepare of a verification: a fresh mock per policy
// when cfgMock is set, else the real target t as it is.
func prepareMocks(t verify.Target, cfgMock *mock.Config) func(context.Context, int, verify.Policy) (verify.Target, func(), error) {
	return func(context.Context, int, verify.Policy) (verify.Target, func(), error) {
		if cfgMock == nil {
			return t, nil, nil
		}
		m, err := startMock(*cfgMock, "127.0.0.1:0")
		if err != nil {
			return t, nil, err
		}
		mt := t
		mt.URL = m.url
		return mt, m.stop, nil
	}
}
