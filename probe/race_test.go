//go:build race

package probe_test

// raceDetector: under -race (ten to twenty times slower here, and the
// estimator runs between steps, so the target sees long pauses) the
// accuracy tables take the cases that run each of auto's experiments;
// make test runs them whole without it.
const raceDetector = true
