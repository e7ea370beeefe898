package simulate

import (
	"time"
)

// Timeline is the traffic and its fate in buckets of ResolutionS seconds
// from Start, for charts: at most about maxBuckets over the traffic, and a
// few more for requests the client sent after it ended.
type Timeline struct {
	Start       time.Time `json:"start"`
	ResolutionS float64   `json:"resolution_s"`
	Buckets     []Bucket  `json:"buckets"`
}

// Bucket is one slice of the timeline. Counts are of the traffic's
// requests (costs counted); a batch counts as the requests in it.
type Bucket struct {
	Arrived int64 `json:"arrived"` // requests that arrived
	Refused int64 `json:"refused"` // of them, refused by the measured limiter, sent as they came
	// Sent counts requests the client limiter sent, by when it sent them;
	// Left those the measured limiter still refused; Shed those that
	// arrived here and were shed for waiting past the deadline.
	Sent int64 `json:"sent"`
	Left int64 `json:"left"`
	Shed int64 `json:"shed"`
	// DelayMSMean and DelayMSMax are the delay the client limiter added to
	// the requests that arrived here, milliseconds.
	DelayMSMean float64 `json:"delay_ms_mean"`
	DelayMSMax  float64 `json:"delay_ms_max"`
}

// maxBuckets bounds the buckets that cover the traffic: a chart's worth,
// each holding enough requests that a rate reads steadily.
const maxBuckets = 240

// resolutions are the bucket widths a timeline may have, finest first;
// each divides a day, so buckets start on round times.
var resolutions = []time.Duration{
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	200 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second,
	10 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute,
	10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour,
	6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// laneline is what one lane puts on the timeline: sends by when they
// reached the limiter, delays and shedding by when they arrived.
type laneline struct {
	start, res           time.Duration
	sent, refused, shedN []int64
	delaySum, delayMax   []float64 // milliseconds
	delayN               []int64
}

// newLaneline covers first..last, and slack beyond it.
func newLaneline(first, last, slack time.Duration) *laneline {
	span := last - first
	res := resolutions[len(resolutions)-1]
	for _, r := range resolutions {
		if span/r < maxBuckets {
			res = r
			break
		}
	}
	start := first - first%res
	n := int((last+slack-start)/res) + 1
	return &laneline{start: start, res: res,
		sent: make([]int64, n), refused: make([]int64, n), shedN: make([]int64, n),
		delaySum: make([]float64, n), delayMax: make([]float64, n), delayN: make([]int64, n)}
}

func (l *laneline) index(t time.Duration) int {
	return min(max(int((t-l.start)/l.res), 0), len(l.sent)-1)
}

func (l *laneline) add(at time.Duration, n int64, ok bool) {
	i := l.index(at)
	l.sent[i] += n
	if !ok {
		l.refused[i] += n
	}
}

func (l *laneline) delay(arrived, d time.Duration) {
	i := l.index(arrived)
	ms := float64(d) / float64(time.Millisecond)
	l.delaySum[i] += ms
	l.delayN[i]++
	l.delayMax[i] = max(l.delayMax[i], ms)
}

func (l *laneline) shed(arrived time.Duration, n int64) { l.shedN[l.index(arrived)] += n }

// merge builds the timeline from the lane of the traffic as it came
// (asIs) and the lane behind the client limiter (smooth, nil when none),
// which share their buckets.
func merge(asIs, smooth *laneline) Timeline {
	tl := Timeline{Start: unixTime(asIs.start), ResolutionS: asIs.res.Seconds(), Buckets: make([]Bucket, len(asIs.sent))}
	// Trailing buckets only the client's late sends reach are kept; empty
	// ones after them are not.
	last := 0
	for i := range tl.Buckets {
		b := &tl.Buckets[i]
		b.Arrived, b.Refused = asIs.sent[i], asIs.refused[i]
		if smooth != nil {
			b.Sent, b.Left, b.Shed = smooth.sent[i], smooth.refused[i], smooth.shedN[i]
			if smooth.delayN[i] > 0 {
				b.DelayMSMean = smooth.delaySum[i] / float64(smooth.delayN[i])
				b.DelayMSMax = smooth.delayMax[i]
			}
		}
		if b.Arrived > 0 || b.Sent > 0 || b.Shed > 0 {
			last = i
		}
	}
	tl.Buckets = tl.Buckets[:last+1]
	return tl
}
