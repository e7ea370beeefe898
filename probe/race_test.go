//go:build race

package probe_test

// raceDetector: under -race the engine's consumer lags its generator, so
// a burst's requests in flight when the first refusal is read (the
// overshoot a quota budget bounds) are no longer the engine's; make test
// runs the quota budget tests without it.
const raceDetector = true
