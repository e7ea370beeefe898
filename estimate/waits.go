package estimate

import (
	"cmp"
	"math"
	"slices"

	"limitprobe/limiter"
)

// waitsTest compares requests pairwise: Kendall's tests at most
// maxWaitTests of them (half a million pairs, a few milliseconds), the
// slope at most maxWaitSlope (its pairs are sorted), each evenly spread
// over the run.
const (
	maxWaitTests = 1000
	maxWaitSlope = 300
)

// waitsTest asks whether the time at the server, ys, rose with the wait
// a queue would have imposed, xs (seconds each), and by how much. slope is
// the rank-based slope of ys over xs (the median of the pairwise slopes,
// each weighted by its gap in xs: Jaeckel's Wilcoxon estimate); none and
// one are Kendall's test that ys − b·xs does not depend on xs, for b = 0
// (a bucket: nobody waits) and b = 1 (a queue: each waits its turn), as
// the size of a normal score: large when that b is excluded.
//
// Ranks beside least squares (see queueOf): a backend's own latency is
// skewed (log-normal behind a hosted model), and against such noise a rank
// test needs a third of the requests that least squares does to see the
// same slope (for σ 0.8, 12σ²(∫f²)² ≈ 3.5). Either test's null is only
// that the backend's latency does not depend on the wait, whatever its
// shape.
func waitsTest(xs, ys []float64) (slope, none, one float64) {
	xs, ys = evenly(xs, ys, maxWaitTests)
	var sNone, sOne float64
	for i := range xs {
		for j := i + 1; j < len(xs); j++ {
			dx, dy := xs[j]-xs[i], ys[j]-ys[i]
			sx := sign(dx)
			sNone += sx * sign(dy)
			sOne += sx * sign(dy-dx)
		}
	}
	sd := math.Sqrt(kendallVar(xs))
	if sd == 0 {
		return 0, 0, 0
	}
	return rankSlope(evenly(xs, ys, maxWaitSlope)), math.Abs(sNone) / sd, math.Abs(sOne) / sd
}

// rankSlope is the median of the pairwise slopes of ys over xs, each
// weighted by its gap in xs.
func rankSlope(xs, ys []float64) float64 {
	type pair struct{ slope, weight float64 }
	var pairs []pair
	var total float64
	for i := range xs {
		for j := i + 1; j < len(xs); j++ {
			if dx := xs[j] - xs[i]; dx != 0 {
				pairs = append(pairs, pair{(ys[j] - ys[i]) / dx, math.Abs(dx)})
				total += math.Abs(dx)
			}
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(a.slope, b.slope) })
	var acc float64
	for _, p := range pairs {
		if acc += p.weight; acc >= total/2 {
			return p.slope
		}
	}
	return 0
}

// evenly keeps at most n of the pairs (xs[i], ys[i]), evenly spread.
func evenly(xs, ys []float64, n int) ([]float64, []float64) {
	if len(xs) <= n {
		return xs, ys
	}
	sx, sy := make([]float64, n), make([]float64, n)
	for i := range n {
		k := i * len(xs) / n
		sx[i], sy[i] = xs[k], ys[k]
	}
	return sx, sy
}

// kendallVar is the variance of Kendall's S under independence when xs
// has ties and the other variable has none.
func kendallVar(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	v := func(t float64) float64 { return t * (t - 1) * (2*t + 5) }
	total := v(float64(len(s)))
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		total -= v(float64(j - i))
		i = j
	}
	return total / 18
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// What the time at the server says of a bucket fit.
const (
	isBucket  = iota // admitted requests did not wait
	isQueue          // they waited their turn
	undecided        // the backend's own latency hides which
)

// queueOf checks a bucket fit for nginx's queue: there an admitted request
// waits its turn, so the time it spends at the server grows with the
// tokens in use when it arrived, one interval each. It returns the queue
// (one token less: the request being served does not wait) and isQueue
// when the time at the server rises with the predicted wait at a slope
// near one, clearly above the noise of the backend's own latency; isBucket
// when a slope of one is as clearly excluded, or nobody would have waited;
// else undecided. With isQueue, waits is how much better the waits fit a
// slope of one than none (what a cap predicts), as the difference of the
// two slopes' squared scores: a BIC's units.
func queueOf(v *view, bucket limiter.Config) (q limiter.Config, verdict int, waits float64) {
	if bucket.Burst <= 1 {
		return bucket, isBucket, 0 // a queue of none: nobody waits
	}
	m := limiter.NewMeter(bucket)
	var xs, ys []float64
	j := 0
	for i, at := range v.arrive {
		level := m.Level(at)
		m.Record(at, v.ok[i])
		if v.ok[i] {
			xs = append(xs, level/bucket.Rate)
			ys = append(ys, v.service[j].Seconds())
			j++
		}
	}
	if len(xs) < 10 || slices.Max(xs) < 0.005 {
		return bucket, isBucket, 0
	}
	// Ranks see through a skewed backend; least squares see more where
	// the backend's own latency is small (a loopback's), where the ranks'
	// scores stop growing once the order is plain. Either may decide, and
	// the waits' evidence is the larger.
	slope, none, one := waitsTest(xs, ys)
	ols, se := regress(xs, ys)
	olsNone, olsOne := ols/se, math.Abs(ols-1)/se
	near := func(b float64) bool { return b >= 0.6 && b <= 1.4 }
	switch {
	case near(slope) && none >= 4 || near(ols) && olsNone >= 4:
		queue := bucket
		queue.Kind, queue.Burst = limiter.Queue, max(0, bucket.Burst-1)
		// Normal scores: the squared score against no slope less that
		// against a slope of one.
		return queue, isQueue, max(none*none-one*one, olsNone*olsNone-olsOne*olsOne)
	case one >= 4 || olsOne >= 4:
		return bucket, isBucket, 0
	}
	return bucket, undecided, 0
}
