package scenarios

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"limitprobe/headers"
)

// The rules below decide what a request may hold before anything is sent:
// the parser applies them key by key, Check to a scenario built in code.
// Their messages never quote a header value, which may be a secret.

// urlProblem says what is wrong with a target URL (already expanded from
// the environment), without quoting it; "" when it can be sent as written.
func urlProblem(raw string) string {
	const example = "write for example http://127.0.0.1:8080/api"
	for _, c := range []byte(raw) {
		switch {
		case c == ' ':
			return "has a space; write %20 in its place"
		case c < ' ' || c == 0x7f:
			return "has a control character (a line break or tab); write the URL on one line, with %0A or %09 for one that belongs there"
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return "is not an absolute http(s) URL; " + example
	}
	if u.Hostname() == "" {
		return "has no host; " + example
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("has port %s, out of range; write a port from 1 to 65535, or none for the scheme's default", p)
		}
	}
	return ""
}

// methodProblem says what is wrong with an HTTP method; "" when it is an
// RFC 9110 token.
func methodProblem(m string) string {
	if m == "" {
		return "is empty; write GET, POST, PUT, PATCH, DELETE or HEAD"
	}
	if !isToken(m) {
		return fmt.Sprintf("%q is not an HTTP method (a single word of letters, digits and !#$%%&'*+-.^_`|~); write GET, POST, PUT, PATCH, DELETE or HEAD", m)
	}
	if !contains(knownMethods, strings.ToLower(m)) {
		if s := Suggest(m, knownMethods); s != "" {
			return fmt.Sprintf("unknown method %q; did you mean %q?", m, strings.ToUpper(s))
		}
	}
	return ""
}

// knownMethods are the registered methods an API is likely to use (RFC
// 9110, 5789, WebDAV, the QUERY draft), lower-case for Suggest. Another
// token is sent as written unless it looks like a typo of one of these.
var knownMethods = []string{"get", "head", "post", "put", "delete", "options", "trace", "patch", "query",
	"propfind", "proppatch", "mkcol", "copy", "move", "lock", "unlock", "report", "search", "purge"}

// headerValueProblem says what is wrong with a header value, without
// quoting it; "" when it can be sent as it is (RFC 9110: visible
// characters, spaces and tabs).
func headerValueProblem(v string) string {
	for _, c := range []byte(v) {
		if c < ' ' && c != '\t' || c == 0x7f {
			return "the value holds a line break or another control character, which would end the header early; write it on one line"
		}
	}
	return ""
}

// headerNameProblem says what is wrong with a header name; "" when it is a
// name a probe may send.
func headerNameProblem(n string) string {
	if !headers.ValidName(n) {
		return fmt.Sprintf("%q is not a valid header name; use letters, digits and dashes", n)
	}
	return ""
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// nameProblem says what is wrong with a scenario's name; "" when none.
func nameProblem(n string) string {
	if strings.TrimSpace(n) == "" {
		return "is empty; write a short name such as `name: my-api`"
	}
	for _, r := range n {
		if r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return "holds a control character; write a short name on one line such as `name: my-api`"
		}
	}
	return ""
}

// proxyProblem says what is wrong with a proxy URL; "" when it is none,
// ProxyNone or a URL a client can use.
func proxyProblem(raw string) string {
	if raw == "" || raw == ProxyNone {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !contains([]string{"http", "https", "socks5", "socks5h"}, u.Scheme) {
		return fmt.Sprintf("%q is not a proxy URL; write for example http://127.0.0.1:3128, socks5://127.0.0.1:1080, or none to ignore HTTP_PROXY", RedactURL(raw))
	}
	return ""
}

// httpProblem says what is wrong with an HTTP version; "" when it is one
// a probe can force.
func httpProblem(v string) string {
	if v == "" || v == HTTP1 || v == HTTP2 {
		return ""
	}
	return fmt.Sprintf("%q is not an HTTP version limitprobe can use; write 1.1 or 2, or leave it out to let TLS negotiate", v)
}

// ReadCACert reads a PEM file of CA certificates, of at most
// MaxCACertBytes, and checks that it holds at least one. Its error says
// what to write instead.
func ReadCACert(path string) ([]byte, error) {
	b, err := readCapped(path, MaxCACertBytes)
	switch {
	case errors.Is(err, errTooLarge):
		return nil, fmt.Errorf("%q is over %d MiB; write the path of a PEM file of CA certificates", path, MaxCACertBytes>>20)
	case err != nil:
		return nil, fmt.Errorf("cannot read %q (%v); write the path of a PEM file of CA certificates", path, err)
	case !x509.NewCertPool().AppendCertsFromPEM(b):
		return nil, fmt.Errorf("%q holds no PEM certificate; write the path of a CA certificate in PEM (-----BEGIN CERTIFICATE-----)", path)
	}
	return b, nil
}

// targetProblems checks the request a target describes: URL, method,
// headers and network, each under its key.
func targetProblems(sc *Scenario, add func(key, format string, a ...any)) {
	t := sc.Target
	if msg := proxyProblem(t.Network.Proxy); msg != "" {
		add("target.proxy", "%s", msg)
	}
	if msg := httpProblem(t.Network.HTTP); msg != "" {
		add("target.http", "%s", msg)
	}
	if t.URL != "" {
		if msg := urlProblem(t.URL); msg != "" {
			add("target.url", "%q %s", sc.shownURL(), msg)
		}
	}
	if t.Method != "" {
		if msg := methodProblem(t.Method); msg != "" {
			add("target.method", "%s", msg)
		}
	}
	for _, h := range t.Headers {
		if msg := headerNameProblem(h.Name); msg != "" {
			add("target.headers."+h.Name, "%s", msg)
		} else if msg := headerValueProblem(h.Value.Reveal()); msg != "" {
			add("target.headers."+h.Name, "%s", msg)
		}
	}
}
