//go:build race

package probe_test

// raceDetector: under -race (ten to twenty times slower here) the
// accuracy tables take a few cases, enough to race the engine's steps;
// make test runs them whole without it. The estimator, run between steps,
// takes tens of seconds there: a lockout's count clears meanwhile, and a
// saturation shorter than its window is not refused, so the creep never
// runs.
const raceDetector = true
