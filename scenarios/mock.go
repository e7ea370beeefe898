package scenarios

import (
	"errors"

	"limitprobe/mock"
)

// Config returns the mock's configuration, checked by package mock as
// mock.New would check it and with its defaults filled in. Errors are
// *mock.ParamError values naming the key at fault.
func (m *Mock) Config() (mock.Config, error) {
	ps := make([]mock.Param, len(m.Params))
	for i, p := range m.Params {
		ps[i] = mock.Param{Key: p.Key, Value: p.Value}
	}
	cfg, err := mock.FromParams(ps)
	if err != nil {
		return mock.Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return mock.Config{}, err
	}
	return cfg, nil
}

// problemLine is the line of the key a mock error names, else of the mock.
func (m *Mock) problemLine(err error) int {
	var pe *mock.ParamError
	if errors.As(err, &pe) {
		for _, p := range m.Params {
			if p.Key == pe.Key {
				return p.Line
			}
		}
	}
	return m.Line
}
