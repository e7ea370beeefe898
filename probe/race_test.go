//go:build race

package probe_test

// raceDetector: under -race (ten to twenty times slower here) auto's
// accuracy table against the mock takes one case, enough to race the
// engine's steps; make test runs it whole without it. The estimator, run
// between steps, takes tens of seconds there: a lockout's count clears
// meanwhile, and a saturation shorter than its window is not refused, so
// the creep never runs.
const raceDetector = true
