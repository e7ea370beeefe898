package traffic

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// at is a Unix time of 2024-05-01 12:00 UTC plus d.
func at(d time.Duration) time.Duration { return 1714564800*time.Second + d }

func readFile(t *testing.T, name string) (*Reader, []Request) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f, name)
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return r, reqs
}

// TestFormats reads a sample of each format: detected by content, in time
// order, with the times, latencies and costs the file wrote.
func TestFormats(t *testing.T) {
	ms := time.Millisecond
	vegeta := []Request{
		{At: at(0), Latency: 30 * ms, Cost: 1}, {At: at(10 * ms), Latency: 5 * ms, Cost: 1},
		{At: at(20 * ms), Latency: 12 * ms, Cost: 1}, {At: at(30 * ms), Latency: 3 * ms, Cost: 1},
		{At: at(40 * ms), Latency: 40 * ms, Cost: 1}, {At: at(50 * ms), Latency: 8 * ms, Cost: 1},
	}
	tests := []struct {
		file   string
		format Format
		want   []Request // nil: check only the count and the seconds
		n      int
		second []time.Duration // for whole-second files: each request's second
	}{
		{file: "timestamps.txt", format: Timestamps, want: []Request{
			{At: at(0), Cost: 1}, {At: at(250 * ms), Cost: 2}, {At: at(500 * ms), Cost: 3}, {At: at(1125 * ms), Cost: 1}}},
		{file: "table.csv", format: CSV, want: []Request{
			{At: at(100 * ms), Latency: 120 * ms, Cost: 1}, {At: at(200 * ms), Cost: 1}, {At: at(300 * ms), Latency: 80500 * time.Microsecond, Cost: 4}}},
		{file: "lines.jsonl", format: JSONLines, want: []Request{
			{At: at(500 * ms), Latency: 250 * ms, Cost: 1}, {At: at(750 * ms), Latency: 1500 * ms, Cost: 2}, {At: at(time.Second), Cost: 1}}},
		{file: "results.bin", format: VegetaBinary, want: vegeta},
		{file: "results.json", format: VegetaJSON, want: vegeta},
		{file: "results.csv", format: VegetaCSV, want: vegeta},
		{file: "unix.txt", format: Timestamps, n: 5, second: []time.Duration{0, 0, 0, 1, 2}},
		{file: "access.log", format: AccessLog, n: 4, second: []time.Duration{0, 0, 1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, got := readFile(t, tt.file)
			if r.Format() != tt.format {
				t.Errorf("format: got %s, want %s", r.Format(), tt.format)
			}
			if !slices.IsSortedFunc(got, func(a, b Request) int { return int(a.At - b.At) }) {
				t.Errorf("requests out of time order: %v", got)
			}
			if tt.want != nil {
				if !slices.Equal(got, tt.want) {
					t.Errorf("got  %v\nwant %v", got, tt.want)
				}
				return
			}
			if len(got) != tt.n {
				t.Fatalf("got %d requests, want %d", len(got), tt.n)
			}
			for i, q := range got {
				sec := at(tt.second[i] * time.Second)
				if q.At < sec || q.At >= sec+time.Second {
					t.Errorf("request %d at %v, want within the second %v", i, q.At-at(0), sec-at(0))
				}
			}
			if s := r.Stats(); s.Spread != int64(tt.n) {
				t.Errorf("spread %d requests, want all %d", s.Spread, tt.n)
			}
		})
	}
}

// TestAccessLogDetails checks what an access log line carries beyond its
// time: nginx's $request_time, bare or as rt=, and none in the common format.
func TestAccessLogDetails(t *testing.T) {
	_, got := readFile(t, "access.log")
	var lats []time.Duration
	for _, q := range got {
		lats = append(lats, q.Latency)
	}
	slices.Sort(lats)
	want := []time.Duration{0, time.Millisecond, 182 * time.Millisecond, 201 * time.Millisecond}
	if !slices.Equal(lats, want) {
		t.Errorf("latencies: got %v, want %v", lats, want)
	}
}

// TestSpreadRepeats checks that spreading whole seconds is reproducible and
// depends on the second, not on how the file is read.
func TestSpreadRepeats(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, "%d\n", 1714564800+i/300)
	}
	read := func(chunk int) []Request {
		r, err := NewReader(strings.NewReader(b.String()), "x")
		if err != nil {
			t.Fatal(err)
		}
		var all []Request
		buf := make([]Request, chunk)
		for {
			n, err := r.Read(buf)
			all = append(all, buf[:n]...)
			if errors.Is(err, io.EOF) {
				return all
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	a, c := read(7), read(4096)
	if !slices.Equal(a, c) {
		t.Fatal("two reads of one file spread it differently")
	}
	// 300 a second: the spread should cover each second, not bunch.
	var first, last time.Duration = a[0].At - at(0), a[299].At - at(0)
	if first > 20*time.Millisecond || last < 980*time.Millisecond {
		t.Errorf("second 0 spans %v..%v, want nearly all of it", first, last)
	}
}

// TestFineFile checks that a file with fractions is replayed as written,
// even its lines that fall on whole seconds.
func TestFineFile(t *testing.T) {
	in := "1714564800\n1714564800.5\n1714564801\n"
	r, err := NewReader(strings.NewReader(in), "x")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []Request{{At: at(0), Cost: 1}, {At: at(500 * time.Millisecond), Cost: 1}, {At: at(time.Second), Cost: 1}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestOrder puts lines back in order within Horizon and moves older ones
// to the time of the request before them, counting them.
func TestOrder(t *testing.T) {
	s := func(d time.Duration) string { return fmt.Sprintf("%d.%09d", at(d)/time.Second, at(d)%time.Second) }
	sec := time.Second
	lines := []string{s(0), s(2 * sec), s(sec), s(40 * sec), s(41 * sec), s(1500 * time.Millisecond), s(42 * sec)}
	r, err := NewReader(strings.NewReader(strings.Join(lines, "\n")), "x")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	var offsets []time.Duration
	for _, q := range got {
		offsets = append(offsets, q.At-at(0))
	}
	// 1.5 s came after 41 s, once 2 s was passed on: it replays at 2 s.
	if want := []time.Duration{0, sec, 2 * sec, 2 * sec, 40 * sec, 41 * sec, 42 * sec}; !slices.Equal(offsets, want) {
		t.Errorf("got %v, want %v", offsets, want)
	}
	if st := r.Stats(); st.Late != 1 || st.MaxLate != 500*time.Millisecond {
		t.Errorf("late: got %d (worst %v), want 1 (500ms)", st.Late, st.MaxLate)
	}
}

// TestErrors checks that a bad line is reported with its file and line and
// says what to write instead.
func TestErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"time", "2024-05-01T12:00:00.5Z\n\n2024-05-01 12:00:01\n", "t.txt:3: \"2024-05-01\" is not a time; write an RFC 3339 time"},
		{"cost", "1714564800.5 0\n", "t.txt:1: cost \"0\" is not a whole number"},
		{"extra", "1714564800.5 2 3\n", "t.txt:1: \"1714564800.5 2 3\" has more than a time and a cost"},
		{"unknown", "hello world\n", "t.txt:1: cannot tell the format"},
		{"empty", "", "t.txt: the traffic file is empty"},
		{"comments only", "# nothing\n\n", "no request in the first"},
		{"csv time", "time,latency_ms\n2024-05-01T12:00:00.5Z,3\nnoon,4\n", "t.txt:3: \"noon\" is not a time"},
		{"csv latency", "time,latency_ms\n2024-05-01T12:00:00.5Z,fast\n", "t.txt:2: latency_ms \"fast\" is not a number of milliseconds"},
		{"csv latency unit", "time;latency\n2024-05-01T12:00:00.5Z;120\n", "t.txt:2: latency \"120\" is not a duration; write for example \"120ms\""},
		{"json", "{\"time\": \"2024-05-01T12:00:00.5Z\"}\n{\"time\": \n", "t.txt:2: not a JSON object"},
		{"json no time", "{\"time\": \"2024-05-01T12:00:00.5Z\"}\n{\"when\": 3}\n", "t.txt:2: no time key; name it one of time, timestamp"},
		{"json bare latency", "{\"time\": 1714564800.5, \"latency\": 120}\n", "t.txt:1: latency 120 has no unit"},
		{"access log", "1.2.3.4 - - [01/May/2024:12:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n1.2.3.4 - - [01/May/2024:12:00:00] \"GET /\n", "t.txt:2: \"01/May/2024:12:00:00\" is not a log time"},
		{"access log date", "1.2.3.4 - - [01/May/2024:12:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n1.2.3.4 - - [31/Apr/2024:12:00:00 +0000] \"GET /\n", "t.txt:2: \"31/Apr/2024:12:00:00 +0000\" is not a date: April has no day 31"},
		// Beyond 2262 nanoseconds since 1970 wrap: May 2500 read as October 1915.
		{"access log after 2262", "1.2.3.4 - - [01/May/2024:12:00:00 +0000] \"GET /\n1.2.3.4 - - [01/May/2500:00:00:00 +0000] \"GET /\n", "t.txt:2: \"01/May/2500:00:00:00 +0000\" is not between 1970 and 2262"},
		{"access log before 1970", "1.2.3.4 - - [01/May/2024:12:00:00 +0000] \"GET /\n1.2.3.4 - - [01/Jan/1970:00:30:00 +0100] \"GET /\n", "t.txt:2: \"01/Jan/1970:00:30:00 +0100\" is not between 1970 and 2262"},
		{"time after 2262", "2024-05-01T12:00:00Z\n2500-05-01T12:00:00Z\n", "t.txt:2: \"2500-05-01T12:00:00Z\" is not between 1970 and 2262"},
		{"vegeta binary", "\x00\x01\x02garbage", "t.txt: record 1: not vegeta's binary results"},
		{"long line", "1714564800.5\n" + strings.Repeat("9", 2<<20), "t.txt:2: line longer than 1 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.in), "t.txt")
			if err == nil {
				_, err = ReadAll(r)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestVegetaBinaryCutShort reads a results.bin that ends inside a result.
func TestVegetaBinaryCutShort(t *testing.T) {
	raw, err := os.ReadFile("testdata/results.bin")
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(raw[:len(raw)-5]), "results.bin")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ReadAll(r)
	if err == nil || !strings.Contains(err.Error(), "results.bin: record 6: the file ends inside a result") {
		t.Errorf("got %v, want the cut-short record named", err)
	}
}

// TestParseTime checks the Unix units told by size and exact fractions.
func TestParseTime(t *testing.T) {
	tests := []struct {
		in    string
		want  int64
		whole bool
	}{
		{"1714564800", 1714564800e9, true},
		{"1714564800.123456789", 1714564800123456789, false},
		{"1714564800123", 1714564800123e6, false},
		{"1714564800123.5", 1714564800123500000, false},
		{"1714564800123456", 1714564800123456e3, false},
		{"1714564800123456789", 1714564800123456789, false},
		{"2024-05-01T12:00:00Z", 1714564800e9, true},
		{"2024-05-01T14:00:00.5+02:00", 1714564800500000000, false},
	}
	for _, tt := range tests {
		got, whole, err := parseTime(tt.in)
		if err != nil || got != tt.want || whole != tt.whole {
			t.Errorf("parseTime(%q) = %d, %v, %v; want %d, %v", tt.in, got, whole, err, tt.want, tt.whole)
		}
	}
	for _, bad := range []string{"", "0", "1.", ".5", "12e3", "99999999999999999999", "-5", "2024-05-01"} {
		if _, _, err := parseTime(bad); err == nil {
			t.Errorf("parseTime(%q) accepted it", bad)
		}
	}
}

// TestSpill writes requests to a spill and reads them back twice.
func TestSpill(t *testing.T) {
	_, want := readFile(t, "results.bin")
	s, err := NewSpill(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(want[:2]); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(want[2:]); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		src, err := s.Reader()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadAll(src)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	if err := s.Write([]Request{{At: 1, Cost: 1}}); err == nil {
		t.Error("a request earlier than the last was accepted")
	}
}

// TestVegetaTimestampRange: a result timed after 2262, which nanoseconds
// since 1970 cannot hold, is an error, as one without a time is.
func TestVegetaTimestampRange(t *testing.T) {
	for _, at := range []time.Time{{}, time.Date(2500, 5, 1, 0, 0, 0, 0, time.UTC)} {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(vegetaResult{Timestamp: at}); err != nil {
			t.Fatal(err)
		}
		_, _, err := newVegetaBinary(&buf, "results.bin").next()
		if err == nil || !strings.Contains(err.Error(), "results.bin: record 1: a result without a timestamp between 1970 and 2262") {
			t.Errorf("timestamp %v: got %v, want it refused", at, err)
		}
	}
}
