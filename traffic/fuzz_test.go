package traffic

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRead feeds NewReader arbitrary files, seeded from testdata: it must
// never panic; what it accepts comes in time order with costs from 1 to
// MaxCost and no negative latency; a bad line is a LineError that names
// the file and a line from 1.
func FuzzRead(f *testing.F) {
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"1714564800\n1714564800.5 3\n",
		"time,latency\n1714564800,1s\n",
		"{\"@timestamp\":\"2024-05-01T12:00:00Z\",\"count\":\"7\"}\n",
		"a - - [01/May/2024:12:00:00 +0000] \"GET /\" 200 1 rt=0.5\n",
		// Found in CI: 2500 wrapped to before 1970.
		"0   [01/May/2500:00:00:00 +0000] \"\n[01/May/2000:00:00:00 +0000] \"\n[00/May/0000:00:00:00 0000A] \"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewReader(strings.NewReader(string(in)), "f")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f:") && !strings.HasPrefix(err.Error(), "f: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		reqs, err := ReadAll(r)
		var le *LineError
		if err != nil && errors.As(err, &le) && (le.Line < 1 || le.File != "f") {
			t.Fatalf("bad line error %+v", le)
		}
		for i, q := range reqs {
			if i > 0 && q.At < reqs[i-1].At {
				t.Fatalf("request %d at %v before request %d at %v", i, q.At, i-1, reqs[i-1].At)
			}
			if q.Cost < 1 || q.Cost > MaxCost || q.Latency < 0 || q.At <= 0 {
				t.Fatalf("request %d: %+v", i, q)
			}
		}
		if err == nil && int64(len(reqs)) != r.Stats().Lines {
			t.Fatalf("got %d requests of %d lines", len(reqs), r.Stats().Lines)
		}
	})
}

// FuzzParseTime feeds parseTime arbitrary text: it must never panic, and a
// time it accepts is after 1970 and reads back the same written as Unix
// seconds with nanoseconds.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"1714564800", "1714564800.123456789", "1714564800123", "2024-05-01T12:00:00Z",
		"2024-05-01T14:00:00.5+02:00", "0", "99999999999999999999", "1.", "2024-05-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, _, err := parseTime(s)
		if err != nil {
			return
		}
		if ns <= 0 {
			t.Fatalf("parseTime(%q) = %d, not after 1970", s, ns)
		}
		back, _, err := parseTime(fmt.Sprintf("%d.%09d", ns/1e9, ns%1e9))
		if err != nil || back != ns {
			t.Fatalf("parseTime(%q) = %d; written back it reads %d, %v", s, ns, back, err)
		}
	})
}
