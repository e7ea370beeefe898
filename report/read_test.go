package report

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// edited returns the JSON of the first fixture's report with edit applied
// to its decoded form.
func edited(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, fixtures()[0].rep, FormatJSON, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadRefusesWhatNoRunWrites(t *testing.T) {
	sub := func(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }
	tests := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"negative client rate", func(m map[string]any) { sub(m, "recommendation")["client_rate_rps"] = -50 }, "recommendation.client_rate_rps is -50, outside 0..10000000"},
		{"negative burst", func(m map[string]any) { sub(m, "recommendation")["client_burst"] = -5 }, "recommendation.client_burst is -5"},
		{"huge burst", func(m map[string]any) { sub(m, "summary")["burst"] = 2e12 }, "summary.burst is 2000000000000"},
		{"share above 1", func(m map[string]any) { sub(sub(m, "recommendation"), "retry")["budget_ratio"] = 1.5 }, "recommendation.retry.budget_ratio is 1.5"},
		{"absurd limit", func(m map[string]any) { sub(m, "summary")["effective_limit_rps"] = 1e308 }, "summary.effective_limit_rps is 1e+308"},
		{"more ok than requests", func(m map[string]any) { m["steps"].([]any)[0].(map[string]any)["ok"] = 1e9 }, "steps[0].ok"},
		{"no timeline resolution", func(m map[string]any) { sub(m, "timeline")["resolution_s"] = 0 }, "timeline.resolution_s is 0"},
		{"escape in the name", func(m map[string]any) { sub(m, "scenario")["name"] = "x\x1b[2J" }, "scenario.name holds a control character"},
		{"escape in a reason", func(m map[string]any) { sub(m, "summary")["reasons"] = []any{"ok", "\x1b]0;pwned\x07"} }, "summary.reasons[1] holds a control character"},
	}
	for _, tt := range tests {
		_, err := Read(bytes.NewReader(edited(t, tt.edit)))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "was it edited?") {
			t.Errorf("%s: got %v, want an error naming %q", tt.name, err, tt.want)
		}
	}
	if _, err := Read(bytes.NewReader(edited(t, func(map[string]any) {}))); err != nil {
		t.Errorf("an untouched report: %v", err)
	}
}

func TestReadRefusesAHugeFile(t *testing.T) {
	big := io.MultiReader(strings.NewReader(`{"schema": "limitprobe.report/v1", "x": "`), io.LimitReader(zeros{}, MaxReportBytes))
	if _, err := Read(big); err == nil || !strings.Contains(err.Error(), "over 64 MiB") {
		t.Errorf("got %v, want a refusal of a file over 64 MiB", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}

// FuzzRead feeds Read any bytes: it never panics, and a report it accepts
// renders in every format without an error or a control character.
func FuzzRead(f *testing.F) {
	// A fixture cut short: the fuzzer mutates small inputs far faster.
	for _, fx := range fixtures()[2:] {
		rep := *fx.rep
		rep.Timeline.Buckets = rep.Timeline.Buckets[:min(4, len(rep.Timeline.Buckets))]
		rep.Steps = rep.Steps[:min(2, len(rep.Steps))]
		var buf bytes.Buffer
		if err := Write(&buf, &rep, FormatJSON, RenderOptions{}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte(`{"schema": "limitprobe.report/v1", "steps": [{"requests": 1, "ok": 2}], "timeline": {"resolution_s": 0, "buckets": [{}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, format := range Formats {
			var buf bytes.Buffer
			if err := Write(&buf, rep, format, RenderOptions{}); err != nil {
				t.Fatalf("an accepted report does not render as %s: %v", format, err)
			}
			if i := bytes.IndexFunc(buf.Bytes(), func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' }); i >= 0 {
				t.Fatalf("%s output holds control character %q at %d", format, buf.Bytes()[i], i)
			}
		}
	})
}
