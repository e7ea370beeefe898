package report

import "testing"

func TestNumberFormats(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtDelay(25), "25 ms"}, {fmtDelay(1500), "1.5 s"}, {fmtDelay(120000), "120 s"}, {fmtDelay(300000), "5 min"},
		{fmtBand(bandLike{48.9, 51.5}), "48.9–51.5/s"}, {fmtBand(bandLike{}), "—"},
		{fmtPrice(&Price{Amount: 0.6, PerS: 3600}), "0.6/h"}, {fmtPrice(&Price{Amount: 20, PerS: 730 * 3600}), "20/month"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}
