package scenarios

import (
	"errors"
	"strings"

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

// Spec is the mock as --mock takes it: its key=value pairs, as written,
// joined by commas ("algorithm=token-bucket,rate=50/s").
func (m *Mock) Spec() string {
	parts := make([]string, len(m.Params))
	for i, p := range m.Params {
		parts[i] = p.Key + "=" + p.Value
	}
	return strings.Join(parts, ",")
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
