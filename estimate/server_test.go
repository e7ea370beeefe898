package estimate

import (
	"testing"
	"time"
)

// A pulse that left within the timing noise is replayed in the order its
// outcomes say it arrived in: admitted first. One spread wider than the
// noise, or a step that sent no pulses, keeps its send order.
func TestOrderPulses(t *testing.T) {
	ms := func(x float64) time.Duration { return time.Duration(x * float64(time.Millisecond)) }
	pulse := func(step int, at float64, oks ...bool) []sentReq {
		var rs []sentReq
		for i, ok := range oks {
			rs = append(rs, sentReq{sent: ms(at + 0.6*float64(i)), ok: ok, step: step})
		}
		return rs
	}
	outcomes := func(rs []sentReq) string {
		b := make([]byte, len(rs))
		for i, r := range rs {
			b[i] = '.'
			if r.ok {
				b[i] = 'o'
			}
		}
		return string(b)
	}
	for _, tt := range []struct {
		name string
		rs   []sentReq
		pair float64 // seconds
		want string
	}{
		{"two pulses through 17 ms of noise", append(append(pulse(3, 0, false, true, true, false, true), pulse(3, 300, true, false, false, true, true)...), pulse(4, 600, false, true)...), 0.017, "ooo..ooo...o"},
		{"on a sharp network", append(pulse(3, 0, false, true, true, false, true), pulse(3, 300, true, false, false, true, true)...), 0.0001, ".oo.oo..oo"},
		{"a step of no pulses", pulse(2, 0, false, true, true, false, true), 0.017, ".oo.o"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sent := make([]time.Duration, len(tt.rs))
			for i, r := range tt.rs {
				sent[i] = r.sent
			}
			orderPulses(tt.rs, map[int]bool{3: true}, tt.pair)
			if got := outcomes(tt.rs); got != tt.want {
				t.Errorf("outcomes in send order %s, want %s", got, tt.want)
			}
			for i, r := range tt.rs {
				if r.sent != sent[i] {
					t.Errorf("request %d sent at %v, want the send times kept in order (%v)", i, r.sent, sent[i])
				}
			}
		})
	}
}

// TestThinKeepsRefusals: a view with more admissions than a fit replays
// keeps every admission and still a quarter of the budget in refusals,
// each standing for the ones it replaces (it kept one for all of them).
func TestThinKeepsRefusals(t *testing.T) {
	var v view
	for i := range 30000 {
		ok := i%5 != 0 // 24,000 admitted, 6,000 refused
		v.arrive = append(v.arrive, time.Duration(i)*time.Millisecond)
		v.ok = append(v.ok, ok)
		v.step = append(v.step, 0)
		v.reorder = append(v.reorder, 0)
		v.weight = append(v.weight, 1)
		if ok {
			v.admitted++
		} else {
			v.refused++
		}
	}
	th := v.thin(12000)
	var admitted, refused, stand int
	for i := range th.arrive {
		if th.ok[i] {
			admitted++
			continue
		}
		refused++
		stand += int(th.w(i))
	}
	if admitted != 24000 || refused != 3000 || stand != 6000 {
		t.Errorf("thinned to %d admitted and %d refused standing for %d; want 24000, 3000 and 6000", admitted, refused, stand)
	}
}
