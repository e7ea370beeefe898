// Package scenarios reads limitprobe's scenario files (YAML or JSON), checks
// them, expands ${VAR} secrets from the environment and computes the plan a
// probe would follow. It sends nothing; of limitprobe it imports units,
// headers (for header names) and mock (whose vocabulary and rules a mock
// section uses).
//
// A scenario has fixed top-level sections: name, target, probe, limits,
// demand, price and expect. The README is the reference for every key.
package scenarios

import (
	"net"
	"net/url"
	"strings"
	"time"

	"limitprobe/units"
)

// Strategies a probe can follow.
const (
	StrategyAuto        = "auto"
	StrategySteps       = "steps"
	StrategyLinear      = "linear"
	StrategyConcurrency = "concurrency"
	StrategyQuota       = "quota"
)

// Scenario is one validated scenario. Rates are in requests per second,
// shares are fractions in [0, 1]. The zero value is not valid; use Load or
// Parse.
type Scenario struct {
	Name   string
	File   string // path the scenario was read from; "" for one built from flags
	Target Target
	Probe  Probe
	Limits Limits
	Demand units.Rate // what the service will need; 0 when unset
	Price  Price      // cost of the tier; zero when unset
	Expect Expect

	secrets []Secret // values expanded from ${VAR} or given with -H, for redaction
}

// Target says where requests go and what a throttled response looks like.
type Target struct {
	URL            string // absolute http(s) URL; "" when Mock is set
	Mock           *Mock  // the embedded mock; nil when URL is set
	Method         string // default GET
	Headers        []Header
	Body           []byte
	Timeout        time.Duration // per request; default 10s
	ThrottleStatus []int         // statuses that mean "slow down"; default [429]; any from 100 to 599
	ThrottleBody   string        // when set, a response is throttled only if its body contains this text
	// Redirects is how many redirects a request follows, its final status
	// counting; 0 (the default) follows none, and a 3xx is an error.
	Redirects int
	Network   Network
}

// Network is how requests reach the target: through which proxy, trusting
// which certificates, in which HTTP version. The zero value is what users
// have: the environment's proxy, the system's CAs, HTTP/2 where the target
// offers it.
type Network struct {
	// Proxy is the URL of a proxy every request goes through (http, https
	// or socks5); "" takes HTTP_PROXY, HTTPS_PROXY and NO_PROXY from the
	// environment; ProxyNone sends directly.
	Proxy string
	// CACert is the PEM file of CA certificates trusted beside the
	// system's (which SSL_CERT_FILE and SSL_CERT_DIR set), as given; CAPEM
	// is its content, read and checked with the scenario.
	CACert string
	CAPEM  []byte
	// Insecure skips the verification of TLS certificates: for a staging
	// endpoint with a self-signed one. Reports say so.
	Insecure bool
	// HTTP is HTTP1 or HTTP2 to use only that version; "" lets TLS
	// negotiate (HTTP/2 where offered) and uses HTTP/1.1 without TLS.
	HTTP string
}

// Values of Network.Proxy and Network.HTTP.
const (
	ProxyNone = "none"
	HTTP1     = "1.1"
	HTTP2     = "2" // over TLS, or without it (prior knowledge, h2c)
)

// MaxCACertBytes bounds a CA certificate file.
const MaxCACertBytes = 1 << 20

// MaxRedirects bounds Target.Redirects: more is a loop.
const MaxRedirects = 20

// Header is one request header, its value already expanded from the
// environment. The value is never shown: it reads as written, with its
// ${VAR}s, or as ***.
type Header struct {
	Name  string
	Value Secret
}

// Mock is the embedded mock's configuration as written: keys and values in
// the mock's own vocabulary (see package mock), checked by mock's rules when
// the scenario is read (see Config).
type Mock struct {
	Params []Param
	Line   int // line of the mock: key
}

// Param is one key: value of a mock section, with its line.
type Param struct {
	Key, Value string
	Line       int
}

// Probe is how load ramps.
type Probe struct {
	Strategy string
	// Start and Max bound the offered rate of the rate strategies.
	Start, Max units.Rate
	// Increment (requests per second) or Factor grows the rate between steps;
	// exactly one is non-zero. For concurrency they grow the worker count.
	Increment, Factor float64
	// StartConcurrency and MaxConcurrency bound the concurrency strategy.
	StartConcurrency, MaxConcurrency int
	Step                             time.Duration // length of one step
	Cooldown                         time.Duration // idle between steps, from the last request sent; see CooldownAuto
	CooldownAuto                     bool          // honour Retry-After and reset headers, at least MinCooldown
	Threshold                        float64       // throttled share that marks onset
	Precision                        float64       // relative width of the limit's band the auto strategy aims for
	StopAfter                        int           // steps over the threshold before the ramp stops
}

// MinCooldown is the pause an automatic cooldown takes when the target
// advertises no Retry-After or reset.
const MinCooldown = time.Second

// MaxCooldown bounds one automatic cooldown, whatever the target advertises.
const MaxCooldown = time.Minute

// Limits are the safety caps every run enforces.
type Limits struct {
	MaxRate     units.Rate // never exceeded by any step
	MaxRequests int
	MaxDuration time.Duration
	// MaxQuotaShare is the share, in (0, 1], of a window quota (one
	// advertised, or one found spent) the probe may spend knowingly: an
	// advertised quota is checked within it, and a quota is measured
	// outright (spent and waited out) only when it is 1.
	MaxQuotaShare float64
}

// Price is what the tier costs, for comparisons.
type Price struct {
	Amount float64       // in the user's currency
	Per    time.Duration // per hour, per month...
}

// Expect holds the CI gate. Zero values are unset.
type Expect struct {
	MinEffectiveLimit units.Rate
	MinOnset          units.Rate
	MinBurst          int
	MaxErrors         float64 // share of requests that failed
	Algorithm         string
	MeetsDemand       bool // the effective limit, at the recommended margin, covers Demand
}

// Loopback reports whether the target is the embedded mock or an address on
// this machine (127.0.0.0/8, ::1, localhost).
func (t Target) Loopback() bool {
	if t.Mock != nil {
		return true
	}
	u, err := url.Parse(t.URL)
	if err != nil {
		return false
	}
	return IsLoopbackHost(u.Hostname())
}

// IsLoopbackHost reports whether host is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
