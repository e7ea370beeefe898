package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"limitprobe/estimate"
	"limitprobe/units"
)

// Problem is one thing wrong with a scenario, located in its file, or for
// a scenario built from flags (see FromFlags), naming the flag.
type Problem struct {
	File string // "" for a scenario built from flags
	Line int    // 1-based; 0 when the problem has no single line
	Key  string // dotted path, such as "probe.max", or a flag, such as "--max"; "" for the scenario as a whole
	Msg  string // what is wrong; what to write instead
}

// Error returns "FILE:LINE: KEY: MSG", leaving out the parts that are unset.
func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in one scenario, in file order.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Options adjust how a scenario is read. The zero value reads the process
// environment and files from disk.
type Options struct {
	// LookupEnv resolves ${VAR}; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// Size caps on what a scenario reads. A scenario is a page of settings; a
// request body may be larger, but not without bound.
const (
	MaxScenarioBytes = 1 << 20  // a scenario file
	MaxBodyBytes     = 10 << 20 // a request body: body, body_file or --data
)

// Load reads and checks the scenario file at path. A scenario with problems
// returns a Problems error listing all of them.
func Load(path string, opt Options) (*Scenario, error) {
	data, err := readCapped(path, MaxScenarioBytes)
	switch {
	case errors.Is(err, errTooLarge):
		return nil, Problems{{File: path, Msg: tooLarge}}
	case err != nil:
		return nil, Problems{{File: path, Msg: fmt.Sprintf("cannot read the scenario: %v", err)}}
	}
	return Parse(path, data, opt)
}

var tooLarge = fmt.Sprintf("the file is over %d MiB, the most a scenario may be; move a large request body into body_file", MaxScenarioBytes>>20)

// errTooLarge is readCapped's error for a file over its cap.
var errTooLarge = errors.New("file too large")

// readCapped reads the file at path, refusing one of more than limit bytes
// without reading it all. Its errors leave out the path, which the caller
// names.
func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, pathless(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, pathless(err)
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

// pathless is err without the path a *fs.PathError repeats.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse checks the scenario in data; file names it in problems and anchors
// body_file paths.
func Parse(file string, data []byte, opt Options) (*Scenario, error) {
	if opt.LookupEnv == nil {
		opt.LookupEnv = os.LookupEnv
	}
	if len(data) > MaxScenarioBytes {
		return nil, Problems{{File: file, Msg: tooLarge}}
	}
	p := &parser{file: file, opt: opt, sc: &Scenario{File: file}, set: map[string]bool{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		line, msg := yamlErrorLine(err)
		if msg == "EOF" {
			msg = "the file is empty; write at least name and target (see scenarios/examples/)"
			line = 0
		}
		return nil, Problems{{File: file, Line: line, Msg: msg}}
	}
	p.end(data, dec, &doc)
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		p.add(root.Line, "", "a scenario is a mapping of sections; start with `name: my-api` and `target:`")
		return nil, p.problems
	}
	p.top(root)
	if len(p.problems) == 0 {
		p.defaults()
		p.validate()
	}
	if len(p.problems) > 0 {
		sort.SliceStable(p.problems, func(i, j int) bool { return p.problems[i].Line < p.problems[j].Line })
		return nil, p.problems
	}
	return p.sc, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlErrorLine pulls the line number out of a YAML syntax error.
func yamlErrorLine(err error) (int, string) {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, err.Error()
	}
	n, _ := strconv.Atoi(m[1])
	return n, "invalid YAML: " + m[2]
}

// end reports anything after the scenario's document: text that a JSON or
// YAML reader would stop before (an extra "}", a second object, garbage),
// and further YAML documents.
func (p *parser) end(data []byte, dec *yaml.Decoder, doc *yaml.Node) {
	if line, rest, ok := jsonTrailer(data); ok {
		if rest != "" {
			p.add(line, "", "%q follows the end of the JSON object; remove it, and keep one scenario per file", rest)
		}
		return
	}
	for {
		var extra yaml.Node
		err := dec.Decode(&extra)
		switch {
		case errors.Is(err, io.EOF):
			return
		case err != nil:
			line, msg := yamlErrorLine(err)
			if line == 0 {
				line = lastLine(doc)
			}
			p.add(line, "", "text follows the end of the scenario (%s); remove it, and keep one scenario per file", msg)
			return
		case extra.Kind == yaml.DocumentNode && (len(extra.Content) == 0 || extra.Content[0].Tag == "!!null"):
			// An empty document after "---": nothing to read.
		default:
			p.add(extra.Content[0].Line, "", "the file holds more than one YAML document; keep one scenario per file")
			return
		}
	}
}

// jsonTrailer reads data as JSON when it is JSON: ok is true when its first
// value is a JSON object, and rest is the start of whatever non-space text
// follows it, at line.
func jsonTrailer(data []byte) (line int, rest string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil || len(v) == 0 || v[0] != '{' {
		return 0, "", false
	}
	off := int(dec.InputOffset())
	tail := bytes.TrimLeft(data[off:], " \t\r\n")
	if len(tail) == 0 {
		return 0, "", true
	}
	at := len(data) - len(tail)
	if i := bytes.IndexByte(tail, '\n'); i >= 0 {
		tail = tail[:i]
	}
	rest = strings.TrimSpace(string(tail[:min(len(tail), 24)]))
	return 1 + bytes.Count(data[:at], []byte("\n")), rest, true
}

// lastLine is the last line on which a node of the tree at n starts.
func lastLine(n *yaml.Node) int {
	l := n.Line
	for _, c := range n.Content {
		l = max(l, lastLine(c))
	}
	return l
}

type parser struct {
	file     string
	opt      Options
	sc       *Scenario
	problems Problems
	set      map[string]bool // dotted keys the file sets
	lines    map[string]int  // dotted key -> line
	deferred []deferredKey   // probe keys read once the strategy is known
}

func (p *parser) add(line int, key, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) line(key string) int { return p.lines[key] }

// section walks a mapping, calling handle for each known key and reporting
// unknown and repeated keys with a suggestion.
func (p *parser) section(prefix string, n *yaml.Node, known []string, handle func(key string, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, prefix, "want a mapping, got %s; write its keys (%s) indented on the lines below it", describe(n), strings.Join(known, ", "))
		return
	}
	if p.lines == nil {
		p.lines = map[string]int{}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := join(prefix, k.Value)
		if first, dup := seen[k.Value]; dup {
			p.add(k.Line, path, "given twice (first at line %d); keep one", first)
			continue
		}
		seen[k.Value] = k.Line
		if !contains(known, k.Value) {
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if s := Suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += fmt.Sprintf("; known keys here are %s", strings.Join(known, ", "))
			}
			p.add(k.Line, path, "%s", msg)
			continue
		}
		p.set[path] = true
		p.lines[path] = k.Line
		handle(k.Value, v)
	}
}

func (p *parser) top(n *yaml.Node) {
	known := []string{"name", "target", "probe", "limits", "demand", "price", "expect"}
	p.section("", n, known, func(key string, v *yaml.Node) {
		switch key {
		case "name":
			p.sc.Name = p.str("name", v)
		case "target":
			p.target(v)
		case "probe":
			p.probe(v)
		case "limits":
			p.limits(v)
		case "demand":
			p.sc.Demand = p.rate("demand", v)
		case "price":
			p.sc.Price = p.price("price", v)
		case "expect":
			p.expect(v)
		}
	})
	if !p.set["name"] {
		p.add(n.Line, "name", "missing; add a name such as `name: my-api`")
	} else if msg := nameProblem(p.sc.Name); msg != "" {
		p.add(p.line("name"), "name", "%s", msg)
	}
	if !p.set["target"] {
		p.add(n.Line, "target", "missing; add `target:` with a `url:` or a `mock:`")
	}
}

func (p *parser) target(n *yaml.Node) {
	t := &p.sc.Target
	known := []string{"url", "mock", "method", "headers", "body", "body_file", "timeout", "throttle_status", "throttle_body", "redirects",
		"proxy", "cacert", "insecure", "http"}
	p.section("target", n, known, func(key string, v *yaml.Node) {
		path := "target." + key
		switch key {
		case "url":
			raw := p.str(path, v)
			t.URL = p.expand(path, v, raw)
			if msg := urlProblem(t.URL); t.URL != "" && msg != "" {
				// As written, so that a ${VAR} is not expanded in the message.
				p.add(v.Line, path, "%q %s", RedactURL(raw), msg)
			}
		case "mock":
			t.Mock = p.mock(v)
		case "method":
			t.Method = strings.ToUpper(p.str(path, v))
			if msg := methodProblem(t.Method); v.Kind == yaml.ScalarNode && msg != "" {
				p.add(v.Line, path, "%s", msg)
			}
		case "headers":
			p.headers(v)
		case "body":
			t.Body = []byte(p.expand(path, v, p.str(path, v)))
		case "body_file":
			name := p.str(path, v)
			if name == "" {
				return
			}
			full := name
			if !filepath.IsAbs(name) && p.file != "" {
				full = filepath.Join(filepath.Dir(p.file), name)
			}
			b, err := readCapped(full, MaxBodyBytes)
			if errors.Is(err, errTooLarge) {
				p.add(v.Line, path, "%q is over %d MiB, the most a request body may be; send a smaller body", name, MaxBodyBytes>>20)
				return
			}
			if err != nil {
				p.add(v.Line, path, "cannot read %q (paths are relative to the scenario file); write the path of an existing file", name)
				return
			}
			t.Body = b
		case "timeout":
			t.Timeout = p.duration(path, v)
		case "throttle_status":
			t.ThrottleStatus = p.statuses(path, v)
		case "throttle_body":
			t.ThrottleBody = p.str(path, v)
		case "redirects":
			if t.Redirects = p.count(path, v, 0); t.Redirects > MaxRedirects {
				p.add(v.Line, path, "%d redirects is a loop; write at most %d (0 follows none)", t.Redirects, MaxRedirects)
			}
		case "proxy":
			t.Network.Proxy = p.expand(path, v, p.str(path, v))
			if msg := proxyProblem(t.Network.Proxy); msg != "" {
				p.add(v.Line, path, "%s", msg)
			}
		case "cacert":
			if t.Network.CACert = p.str(path, v); t.Network.CACert != "" {
				full := t.Network.CACert
				if !filepath.IsAbs(full) && p.file != "" {
					full = filepath.Join(filepath.Dir(p.file), full)
				}
				var err error
				if t.Network.CAPEM, err = ReadCACert(full); err != nil {
					p.add(v.Line, path, "%v (paths are relative to the scenario file)", err)
				}
			}
		case "insecure":
			t.Network.Insecure = p.bool(path, v)
		case "http":
			if t.Network.HTTP = p.str(path, v); httpProblem(t.Network.HTTP) != "" {
				p.add(v.Line, path, "%s", httpProblem(t.Network.HTTP))
			}
		}
	})
	if p.set["target.throttle_status"] && t.ThrottleBody == "" {
		for _, st := range t.ThrottleStatus {
			if st < 400 {
				p.add(p.line("target.throttle_status"), "target.throttle_status", "%d is a success or redirect status; it means throttled only with a throttle_body, such as throttle_body: rate limit exceeded", st)
			}
		}
	}
	if p.set["target.body"] && p.set["target.body_file"] {
		p.add(p.line("target.body_file"), "target.body_file", "both body and body_file are set; keep one")
	}
	switch {
	case p.set["target.url"] && p.set["target.mock"]:
		p.add(p.line("target.mock"), "target.mock", "both url and mock are set; keep url to probe a real endpoint or mock to probe the embedded mock")
	case !p.set["target.url"] && !p.set["target.mock"] && n.Kind == yaml.MappingNode:
		p.add(p.line("target"), "target", "has neither url nor mock; write `url: http://127.0.0.1:8080/api` or `mock: {preset: openai}`")
	}
}

func (p *parser) mock(n *yaml.Node) *Mock {
	m := &Mock{Line: n.Line}
	if n.Kind == yaml.ScalarNode && n.Value != "" {
		// `mock: openai` is short for `mock: {preset: openai}`.
		m.Params = []Param{{Key: "preset", Value: n.Value, Line: n.Line}}
	} else if n.Kind != yaml.MappingNode {
		p.add(n.Line, "target.mock", "want a preset name or a mapping such as {algorithm: token-bucket, rate: 50/s, burst: 10}, got %s", describe(n))
		return m
	} else {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				p.add(v.Line, "target.mock."+k.Value, "want a single value, got %s", describe(v))
				continue
			}
			m.Params = append(m.Params, Param{Key: k.Value, Value: v.Value, Line: k.Line})
		}
	}
	if _, err := m.Config(); err != nil {
		p.add(m.problemLine(err), "target.mock", "%v", err)
	}
	return m
}

func (p *parser) headers(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, "target.headers", "want a mapping such as {Authorization: \"Bearer ${API_TOKEN}\"}, got %s", describe(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := "target.headers." + k.Value
		if msg := headerNameProblem(k.Value); msg != "" {
			p.add(k.Line, path, "%s", msg)
			continue
		}
		raw := p.str(path, v)
		val := p.expand(path, v, raw)
		if msg := headerValueProblem(val); msg != "" {
			p.add(v.Line, path, "%s", msg)
		}
		shown := "" // a literal value may be a token too: ***
		if strings.Contains(raw, "${") {
			shown = raw
		} else if secretHeader(k.Value) {
			p.sc.AddSecret(val)
		}
		p.sc.Target.Headers = append(p.sc.Target.Headers, Header{Name: k.Value, Value: NewSecret(val, shown)})
	}
}

func (p *parser) probe(n *yaml.Node) {
	pr := &p.sc.Probe
	known := []string{"strategy", "start", "max", "increment", "factor", "step", "cooldown", "threshold", "precision", "stop_after"}
	p.section("probe", n, known, func(key string, v *yaml.Node) {
		path := "probe." + key
		switch key {
		case "strategy":
			pr.Strategy = p.str(path, v)
			if !contains(strategies, pr.Strategy) {
				msg := fmt.Sprintf("unknown strategy %q; write one of %s", pr.Strategy, strings.Join(strategies, ", "))
				if s := Suggest(pr.Strategy, strategies); s != "" {
					msg = fmt.Sprintf("unknown strategy %q; did you mean %q?", pr.Strategy, s)
				}
				p.add(v.Line, path, "%s", msg)
			}
		case "start", "max", "increment":
			// Read later, once the strategy says whether these are rates or
			// worker counts.
			p.deferred = append(p.deferred, deferredKey{key, v})
		case "factor":
			pr.Factor = p.number(path, v)
			if pr.Factor != 0 && pr.Factor <= 1 {
				p.add(v.Line, path, "factor %v does not grow the rate; write a number above 1 such as 1.5 or 2", v.Value)
			}
		case "step":
			pr.Step = p.duration(path, v)
		case "cooldown":
			if v.Value == "auto" {
				pr.CooldownAuto = true
				return
			}
			pr.Cooldown = p.durationOrZero(path, v)
		case "threshold":
			pr.Threshold = p.share(path, v)
			if pr.Threshold == 0 && p.ok(v) {
				p.add(v.Line, path, "a threshold of 0 marks onset on a single throttled response; write at least 0.1%%, typically 1%%")
			}
		case "precision":
			pr.Precision = p.share(path, v)
			if p.ok(v) && (pr.Precision < 0.005 || pr.Precision > 0.5) {
				p.add(v.Line, path, "precision %s is outside 0.5%%..50%%; write for example 3%%", v.Value)
			}
		case "stop_after":
			pr.StopAfter = p.count(path, v, 1)
		}
	})
	for _, d := range p.deferred {
		path := "probe." + d.key
		if pr.Strategy == StrategyConcurrency {
			c := p.count(path, d.node, 1)
			switch d.key {
			case "start":
				pr.StartConcurrency = c
			case "max":
				pr.MaxConcurrency = c
			case "increment":
				pr.Increment = float64(c)
			}
			continue
		}
		r := p.rate(path, d.node)
		switch d.key {
		case "start":
			pr.Start = r
		case "max":
			pr.Max = r
		case "increment":
			pr.Increment = float64(r)
		}
	}
	if p.set["probe.increment"] && p.set["probe.factor"] {
		p.add(p.line("probe.factor"), "probe.factor", "both increment and factor are set; keep one")
	}
}

type deferredKey struct {
	key  string
	node *yaml.Node
}

var strategies = []string{StrategyAuto, StrategySteps, StrategyLinear, StrategyConcurrency, StrategyQuota}

func (p *parser) limits(n *yaml.Node) {
	l := &p.sc.Limits
	p.section("limits", n, []string{"max_rate", "max_requests", "max_duration", "max_quota_share"}, func(key string, v *yaml.Node) {
		path := "limits." + key
		switch key {
		case "max_rate":
			l.MaxRate = p.rate(path, v)
		case "max_requests":
			l.MaxRequests = p.count(path, v, 1)
		case "max_duration":
			l.MaxDuration = p.duration(path, v)
		case "max_quota_share":
			l.MaxQuotaShare = read(p, path, v, QuotaShare)
		}
	})
}

// QuotaShare reads limits.max_quota_share: a share above zero ("10%",
// "0.1", "100%").
func QuotaShare(s string) (float64, error) {
	f, err := units.ParseShare(s)
	if err == nil && f == 0 {
		err = fmt.Errorf("%q spends nothing, so nothing could be measured; write a share above zero such as 10%%, or 100%% to allow measuring a quota outright", s)
	}
	return f, err
}

func (p *parser) expect(n *yaml.Node) {
	e := &p.sc.Expect
	known := []string{"min_effective_limit", "min_onset", "min_burst", "max_errors", "algorithm", "meets_demand"}
	p.section("expect", n, known, func(key string, v *yaml.Node) {
		path := "expect." + key
		switch key {
		case "min_effective_limit":
			e.MinEffectiveLimit = p.rate(path, v)
		case "min_onset":
			e.MinOnset = p.rate(path, v)
		case "min_burst":
			e.MinBurst = p.count(path, v, 0)
		case "max_errors":
			e.MaxErrors = p.share(path, v)
		case "algorithm":
			e.Algorithm = p.str(path, v)
			if !contains(estimate.Algorithms, e.Algorithm) {
				p.add(v.Line, path, "unknown algorithm %q; write one of %s", e.Algorithm, strings.Join(estimate.Algorithms, ", "))
			}
		case "meets_demand":
			e.MeetsDemand = p.bool(path, v)
		}
	})
}

// --- scalar readers; each reports its own problem and returns a zero value.

// ok reports whether the scalar at v was read without a problem.
func (p *parser) ok(v *yaml.Node) bool {
	for _, pr := range p.problems {
		if pr.Line == v.Line {
			return false
		}
	}
	return true
}

// bool reads true or false.
func (p *parser) bool(path string, v *yaml.Node) bool {
	if v.Kind != yaml.ScalarNode || (v.Value != "true" && v.Value != "false") {
		p.add(v.Line, path, "want true or false, got %s", describe(v))
		return false
	}
	return v.Value == "true"
}

func (p *parser) str(path string, v *yaml.Node) string {
	if v.Kind != yaml.ScalarNode {
		p.add(v.Line, path, "want a single value, got %s", describe(v))
		return ""
	}
	return v.Value
}

// read reads the scalar at v with parse, reporting parse's error at v's
// line; it returns the zero value on any problem.
func read[T any](p *parser, path string, v *yaml.Node, parse func(string) (T, error)) T {
	var zero T
	s := p.str(path, v)
	if v.Kind != yaml.ScalarNode {
		return zero
	}
	x, err := parse(s)
	if err != nil {
		p.add(v.Line, path, "%v", err)
		return zero
	}
	return x
}

func (p *parser) rate(path string, v *yaml.Node) units.Rate {
	return read(p, path, v, units.ParseRate)
}

func (p *parser) duration(path string, v *yaml.Node) time.Duration {
	return read(p, path, v, units.ParseDuration)
}

// durationOrZero is duration that also accepts "0" and "0s" (no pause).
func (p *parser) durationOrZero(path string, v *yaml.Node) time.Duration {
	if v.Kind == yaml.ScalarNode && (v.Value == "0" || v.Value == "0s") {
		return 0
	}
	return p.duration(path, v)
}

func (p *parser) share(path string, v *yaml.Node) float64 {
	return read(p, path, v, units.ParseShare)
}

func (p *parser) number(path string, v *yaml.Node) float64 {
	return read(p, path, v, func(s string) (float64, error) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("%q is not a number; write for example 2 or 1.5", s)
		}
		return f, nil
	})
}

// count reads a whole number of at least min.
func (p *parser) count(path string, v *yaml.Node, min int) int {
	s := p.str(path, v)
	if v.Kind != yaml.ScalarNode {
		return 0
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil || n > math.MaxInt32 {
		p.add(v.Line, path, "%q is not a whole number; write for example 20000", s)
		return 0
	}
	if n < int64(min) {
		p.add(v.Line, path, "%d is below %d; write a whole number of at least %d", n, min, min)
		return 0
	}
	return int(n)
}

func (p *parser) statuses(path string, v *yaml.Node) []int {
	var items []*yaml.Node
	switch v.Kind {
	case yaml.SequenceNode:
		items = v.Content
	case yaml.ScalarNode:
		items = []*yaml.Node{v}
	default:
		p.add(v.Line, path, "want a list of statuses such as [429, 503], got %s", describe(v))
		return nil
	}
	var out []int
	for _, it := range items {
		n, err := strconv.Atoi(it.Value)
		if err != nil || n < 100 || n > 599 || it.Kind != yaml.ScalarNode {
			p.add(it.Line, path, "%q is not an HTTP status; write a list such as [429, 503]", it.Value)
			continue
		}
		out = append(out, n)
	}
	if len(out) == 0 && len(items) == 0 {
		p.add(v.Line, path, "the list is empty; write at least [429]")
	}
	return out
}

func (p *parser) price(path string, v *yaml.Node) Price {
	return read(p, path, v, ParsePrice)
}

// ParsePrice reads a price such as "0.06/h", "20/month" or "1.5/d".
func ParsePrice(s string) (Price, error) {
	amount, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	a, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimSpace(amount), "$"), 64)
	periods := map[string]time.Duration{"s": time.Second, "m": time.Minute, "min": time.Minute, "h": time.Hour, "hour": time.Hour,
		"d": 24 * time.Hour, "day": 24 * time.Hour, "month": 730 * time.Hour, "mo": 730 * time.Hour}
	d, known := periods[strings.ToLower(strings.TrimSpace(per))]
	if !ok || err != nil || !known || a < 0 || math.IsNaN(a) || math.IsInf(a, 0) {
		return Price{}, fmt.Errorf("%q is not a price; write an amount per period such as \"0.06/h\" or \"20/month\"", s)
	}
	return Price{Amount: a, Per: d}, nil
}

var envRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expand replaces ${VAR} with the environment's value, remembering it as a
// secret. A variable that is not set is a problem.
func (p *parser) expand(path string, v *yaml.Node, s string) string {
	return envRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		val, ok := p.opt.LookupEnv(name)
		if !ok {
			p.add(v.Line, path, "environment variable %s is not set; export it before the run (export %s=...) or remove the ${%s}", name, name, name)
			return ""
		}
		if val != "" {
			p.sc.secrets = append(p.sc.secrets, NewSecret(val, "${"+name+"}"))
		}
		return val
	})
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Value == "" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Suggest returns the word of known closest to s when it is close enough to
// be a typo of it, else "".
func Suggest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := levenshtein(strings.ToLower(s), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
