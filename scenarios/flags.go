package scenarios

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"limitprobe/mock"
	"limitprobe/units"
)

// Flags are the words of a command line that describe a scenario, as typed
// (limitprobe probe's flags). An empty field leaves its key to the defaults.
type Flags struct {
	Args           []string // the positional arguments: one target URL
	Name           string   // the run's name; default the host, or "mock"
	Mock           string   // a mock spec such as "algorithm=token-bucket,rate=50/s", instead of a URL
	Method         string
	Headers        []string // "Name: value"; every value is a secret
	Data           string   // the request body, or @FILE to read it from a file
	ThrottleStatus []string // statuses that mean slow down, such as "429"
	ThrottleBody   string
	Strategy       string
	Start, Max     string // rates, or worker counts with the concurrency strategy
	Step           string
	Threshold      string
	MaxRate        string
	MaxRequests    int
	MaxDuration    string
	MaxQuotaShare  string
	Timeout        string // per request
	Redirects      int    // redirects to follow
	Network        NetworkFlags
}

// NetworkFlags are the flags run, probe and verify share to say how
// requests reach the target (see Network). Unset ones leave the scenario's
// keys as they are.
type NetworkFlags struct {
	Proxy, CACert          string
	Insecure, HTTP1, HTTP2 bool
}

// Apply sets on t what the flags give. Its problems name the flags.
func (nf NetworkFlags) Apply(t *Target) Problems {
	var ps Problems
	n := &t.Network
	if nf.Proxy != "" {
		if msg := proxyProblem(nf.Proxy); msg != "" {
			ps = append(ps, Problem{Key: "--proxy", Msg: msg})
		}
		n.Proxy = nf.Proxy
	}
	if nf.CACert != "" {
		pem, err := ReadCACert(nf.CACert)
		if err != nil {
			ps = append(ps, Problem{Key: "--cacert", Msg: err.Error()})
		}
		n.CACert, n.CAPEM = nf.CACert, pem
	}
	n.Insecure = n.Insecure || nf.Insecure
	switch {
	case nf.HTTP1 && nf.HTTP2:
		ps = append(ps, Problem{Key: "--http1 --http2", Msg: "give one of them, or neither to let TLS negotiate"})
	case nf.HTTP1:
		n.HTTP = HTTP1
	case nf.HTTP2:
		n.HTTP = HTTP2
	}
	return ps
}

// FromFlags builds the scenario the flags describe, applies the defaults a
// file gets and checks it as a file is checked. It returns the scenario, or
// every problem found, each naming the flag at fault ("--max") in Key.
// Nothing is sent; only a body given as @FILE is read.
func FromFlags(f Flags) (*Scenario, Problems) {
	fb := flagBuilder{sc: &Scenario{Name: f.Name}}
	fb.target(f)
	fb.probe(f)
	if len(fb.probs) > 0 {
		return nil, fb.probs
	}
	sc := fb.sc
	ApplyDefaults(sc)
	fb.probs = append(fb.probs, CheckNamed(sc, ProbeFlag)...)
	if len(fb.probs) > 0 {
		return nil, fb.probs
	}
	return sc, nil
}

// flagBuilder collects a scenario from flags and the problems found.
type flagBuilder struct {
	sc    *Scenario
	probs Problems
}

func (fb *flagBuilder) add(key, format string, a ...any) {
	fb.probs = append(fb.probs, Problem{Key: key, Msg: fmt.Sprintf(format, a...)})
}

// addErr records err, a Problem when it names its flag.
func (fb *flagBuilder) addErr(key string, err error) {
	if p, ok := err.(Problem); ok {
		fb.probs = append(fb.probs, p)
		return
	}
	fb.add(key, "%v", err)
}

func (fb *flagBuilder) target(f Flags) {
	sc := fb.sc
	t := &sc.Target
	switch {
	case f.Mock != "" && len(f.Args) > 0:
		fb.add("", "give a URL or --mock, not both")
	case f.Mock != "":
		m, err := MockSpec(f.Mock)
		if err != nil {
			fb.addErr("--mock", err)
		}
		t.Mock = m
		if sc.Name == "" {
			sc.Name = "mock"
		}
	case len(f.Args) == 1 && f.Args[0] != "":
		t.URL = f.Args[0]
		if sc.Name == "" {
			sc.Name = cmp.Or(hostOf(t.URL), "probe")
		}
	default:
		fb.add("", "name one URL, e.g. limitprobe probe http://127.0.0.1:8080/api, or use --mock")
	}
	t.Method = strings.ToUpper(f.Method)
	for _, h := range f.Headers {
		hd, err := HeaderFlag(h)
		if err != nil {
			fb.addErr("-H", err)
			continue
		}
		t.Headers = append(t.Headers, hd)
		sc.AddSecret(hd.Value.Reveal())
	}
	if f.Data != "" {
		if name, ok := strings.CutPrefix(f.Data, "@"); ok {
			b, err := readCapped(name, MaxBodyBytes)
			switch {
			case errors.Is(err, errTooLarge):
				fb.add("--data @"+name, "is over %d MiB, the most a request body may be; send a smaller body", MaxBodyBytes>>20)
			case err != nil:
				fb.add("--data @"+name, "cannot read it (%v); write the path of an existing file", err)
			}
			t.Body = b
		} else {
			t.Body = []byte(f.Data)
		}
	}
	for _, s := range f.ThrottleStatus {
		n, err := ThrottleStatusFlag(s)
		if err != nil {
			fb.addErr("--throttle-status", err)
			continue
		}
		t.ThrottleStatus = append(t.ThrottleStatus, n)
	}
	t.ThrottleBody = f.ThrottleBody
	if t.ThrottleBody == "" {
		for _, st := range t.ThrottleStatus {
			if st < 400 {
				fb.add(fmt.Sprintf("--throttle-status %d", st), "is a success or redirect status; it means throttled only with --throttle-body, such as --throttle-body 'rate limit exceeded'")
			}
		}
	}
	fb.probs = append(fb.probs, f.Network.Apply(t)...)
	if f.Redirects < 0 || f.Redirects > MaxRedirects {
		fb.add(fmt.Sprintf("--redirects %d", f.Redirects), "write how many redirects to follow, from 0 to %d", MaxRedirects)
	}
	t.Redirects = f.Redirects
}

func (fb *flagBuilder) probe(f Flags) {
	sc := fb.sc
	pr := &sc.Probe
	pr.Strategy = f.Strategy
	if pr.Strategy != "" && !contains(strategies, pr.Strategy) {
		fb.add(fmt.Sprintf("--strategy %q", pr.Strategy), "write %s", orList(strategies))
	}
	if pr.Strategy == StrategyConcurrency {
		pr.StartConcurrency = fb.workers("start", f.Start)
		pr.MaxConcurrency = fb.workers("max", f.Max)
	} else {
		pr.Start = readFlag(fb, "start", f.Start, units.ParseRate)
		pr.Max = readFlag(fb, "max", f.Max, units.ParseRate)
	}
	sc.Limits.MaxRate = readFlag(fb, "max-rate", f.MaxRate, units.ParseRate)
	pr.Step = readFlag(fb, "step", f.Step, units.ParseDuration)
	sc.Limits.MaxDuration = readFlag(fb, "max-duration", f.MaxDuration, units.ParseDuration)
	sc.Limits.MaxQuotaShare = readFlag(fb, "max-quota-share", f.MaxQuotaShare, QuotaShare)
	sc.Target.Timeout = readFlag(fb, "timeout", f.Timeout, units.ParseDuration)
	if f.Threshold != "" {
		s, err := units.ParseShare(f.Threshold)
		if err != nil || s == 0 {
			fb.add(fmt.Sprintf("--threshold %q", f.Threshold), "write a share such as 1%%")
		}
		pr.Threshold = s
	}
	if f.MaxRequests < 0 {
		fb.add(fmt.Sprintf("--max-requests %d", f.MaxRequests), "write a positive number")
	}
	sc.Limits.MaxRequests = f.MaxRequests
}

// readFlag parses the value of --name, if given, reporting parse's error.
func readFlag[T any](fb *flagBuilder, name, v string, parse func(string) (T, error)) T {
	var zero T
	if v == "" {
		return zero
	}
	x, err := parse(v)
	if err != nil {
		fb.add("--"+name, "%v", err)
	}
	return x
}

// workers parses a worker count for the concurrency strategy.
func (fb *flagBuilder) workers(name, v string) int {
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		fb.add(fmt.Sprintf("--%s %q", name, v), "with --strategy concurrency write a whole number of workers such as 8")
	}
	return n
}

// MockSpec reads a mock spec as --mock takes it ("algorithm=token-bucket,
// rate=50/s,burst=10", see mock.SpecParams) and checks it as a scenario's
// mock section is checked.
func MockSpec(spec string) (*Mock, error) {
	ps, err := mock.SpecParams(spec)
	m := &Mock{}
	for _, p := range ps {
		m.Params = append(m.Params, Param{Key: p.Key, Value: p.Value})
	}
	if err == nil {
		_, err = m.Config()
	}
	return m, err
}

// HeaderFlag reads a request header given as "Name: value" (curl's -H). The
// value is marked secret. Its error is a Problem that shows the name but
// never the value.
func HeaderFlag(h string) (Header, error) {
	k, v, ok := strings.Cut(h, ":")
	key := fmt.Sprintf("-H %q", RedactHeader(h))
	if !ok || strings.TrimSpace(k) == "" {
		return Header{}, Problem{Key: key, Msg: "write 'Name: value'"}
	}
	hd := Header{Name: strings.TrimSpace(k), Value: NewSecret(strings.TrimSpace(v), "")}
	if msg := headerNameProblem(hd.Name); msg != "" {
		return Header{}, Problem{Key: key, Msg: msg}
	}
	if msg := headerValueProblem(hd.Value.Reveal()); msg != "" {
		return Header{}, Problem{Key: key, Msg: msg}
	}
	return hd, nil
}

// RedactHeader shows a "Name: value" header's name but never its value.
func RedactHeader(h string) string {
	if k, _, ok := strings.Cut(h, ":"); ok {
		return k + ": ***"
	}
	return "***"
}

// ThrottleStatusFlag reads one status of --throttle-status, from 100 to
// 599. Its error is a Problem naming the flag.
func ThrottleStatusFlag(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 599 {
		return 0, Problem{Key: fmt.Sprintf("--throttle-status %q", s), Msg: "write HTTP statuses such as 429,503"}
	}
	return n, nil
}

// ProbeFlag names the part of limitprobe probe's command line that sets a
// scenario key: "limits.max_rate" is "--max-rate", a header "-H NAME", and
// the URL, an argument, "".
func ProbeFlag(key string) string {
	switch {
	case key == "target.url":
		return ""
	case key == "target.method":
		return "-X"
	case strings.HasPrefix(key, "target.headers."):
		return "-H " + strings.TrimPrefix(key, "target.headers.")
	case key == "target.body":
		return "--data"
	case key == "target":
		return ""
	case key == "target.cacert", key == "target.insecure", key == "target.proxy":
		return "--" + strings.TrimPrefix(key, "target.")
	case key == "target.http":
		return "--http1/--http2"
	}
	k := key[strings.LastIndex(key, ".")+1:]
	return "--" + strings.ReplaceAll(k, "_", "-")
}

// hostOf is the host (and port) of a URL, "" when it has none.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// orList writes "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
