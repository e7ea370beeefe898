//go:build race

package estimate

// raceDetector: under -race (ten to twenty times slower here) the fit
// matrices take a few of their runs, enough to race the parallel fits;
// make test runs them whole without it.
const raceDetector = true
