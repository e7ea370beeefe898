package scenarios

import (
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Secret is a value limitprobe sends but never shows. In every fmt verb, as
// JSON and as text it reads as it was written in the scenario with its
// ${VAR}s unexpanded ("Bearer ${API_TOKEN}"), or as *** when it was given
// literally (-H values, literal header values). Reveal returns the value;
// only the code that builds a request calls it. The zero value is empty.
type Secret struct {
	shown, value string
}

// NewSecret returns value as a secret shown as shown; "" shows "***".
func NewSecret(value, shown string) Secret { return Secret{shown: shown, value: value} }

// Reveal returns the value, to put in a request.
func (s Secret) Reveal() string { return s.value }

// String returns the secret as it may be shown.
func (s Secret) String() string {
	if s.shown == "" {
		return "***"
	}
	return s.shown
}

// GoString is String: %#v shows no more than %v.
func (s Secret) GoString() string { return s.String() }

// Format writes String whatever the verb.
func (s Secret) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// MarshalText is String, for JSON and YAML.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// minURLSecret is the shortest credential or query value of the URL that
// Redact hides wherever it appears in text; a shorter one is no secret worth
// the mangled text, and the URL itself is still shown redacted.
const minURLSecret = 4

// replacement is one value to hide in text, and what to show instead.
type replacement struct{ old, new string }

// redactions lists what Redact replaces, longest first so that a secret
// inside the URL is hidden with the URL: the target URL as written, the
// values expanded from the environment, -H values, and the URL's
// credentials and secret query values.
func (s *Scenario) redactions() []replacement {
	var rs []replacement
	if raw := s.Target.URL; raw != "" {
		if shown := s.shownURL(); shown != raw {
			rs = append(rs, replacement{raw, shown})
		}
		for _, v := range urlSecrets(raw) {
			if len(v) >= minURLSecret {
				rs = append(rs, replacement{v, "***"})
			}
		}
	}
	for _, v := range urlSecrets(s.Target.Network.Proxy) {
		if len(v) >= minURLSecret {
			rs = append(rs, replacement{v, "***"})
		}
	}
	for _, sec := range s.secrets {
		if sec.value != "" {
			rs = append(rs, replacement{sec.value, sec.String()})
		}
	}
	// Longest first: a value that contains another is replaced whole.
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && len(rs[j].old) > len(rs[j-1].old); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	return rs
}

// Redactor returns what Redact does as a replacer, built once, for text
// written many times (every result of results.bin).
func (s *Scenario) Redactor() *strings.Replacer {
	rs := s.redactions()
	args := make([]string, 0, 2*len(rs))
	for _, r := range rs {
		args = append(args, r.old, r.new)
	}
	return strings.NewReplacer(args...)
}

// Redact replaces, in text, the target URL with its DisplayURL, every
// secret the scenario expanded from the environment or was given with -H
// by its placeholder, and the URL's password and secret query values (see
// SecretParam) by ***. Use it on anything that is about to be printed or
// written.
func (s *Scenario) Redact(text string) string { return s.Redactor().Replace(text) }

// DisplayURL is the target URL fit to print: credentials and secret query
// values removed, ${VAR} values shown as ${VAR}; for the mock, "mock SPEC".
func (s *Scenario) DisplayURL() string {
	if m := s.Target.Mock; m != nil {
		return "mock " + m.Spec()
	}
	return s.shownURL()
}

// shownURL is the target URL with its ${VAR} values and secrets hidden.
func (s *Scenario) shownURL() string {
	u := s.Target.URL
	for _, sec := range s.secrets {
		if sec.value != "" {
			u = strings.ReplaceAll(u, sec.value, sec.String())
		}
	}
	return RedactURL(u)
}

// AddSecret marks value as secret, so Redact hides it as ***. Use it for
// values that came from flags or files rather than ${VAR}.
func (s *Scenario) AddSecret(value string) {
	if value != "" {
		s.secrets = append(s.secrets, NewSecret(value, ""))
	}
}

// SecretParam reports whether a query parameter's value is a secret by its
// name: key, api_key, token, access_token, sig, signature, password and the
// like (X-Amz-Signature, client_secret, apikey), whatever the case.
func SecretParam(name string) bool {
	n := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return -1
	}, name)
	for _, suffix := range []string{"key", "token", "secret", "password", "passwd", "pwd", "sig", "signature", "credential", "auth"} {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

// secretHeader reports whether a header's value is a credential by its
// name: Authorization, Cookie, and names SecretParam takes (X-Api-Key).
func secretHeader(name string) bool {
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization", "cookie":
		return true
	}
	return SecretParam(name)
}

// RedactURL hides a URL's user information and the values of its secret
// query parameters (see SecretParam) behind ***, leaving ${VAR}
// placeholders as they are. It works on the text, so a URL that does not
// parse is redacted too, and nothing else of it is re-encoded.
func RedactURL(raw string) string {
	rest, frag, hasFrag := strings.Cut(raw, "#")
	base, query, hasQuery := strings.Cut(rest, "?")
	if scheme, after, ok := strings.Cut(base, "://"); ok {
		auth, path := after, ""
		if i := strings.IndexByte(after, '/'); i >= 0 {
			auth, path = after[:i], after[i:]
		}
		if i := strings.LastIndexByte(auth, '@'); i >= 0 {
			auth = "***" + auth[i:]
		}
		base = scheme + "://" + auth + path
	}
	if hasQuery {
		parts := strings.Split(query, "&")
		for i, p := range parts {
			name, val, ok := strings.Cut(p, "=")
			if !ok || val == "" || isPlaceholder(val) {
				continue
			}
			if un, err := url.QueryUnescape(name); err == nil {
				name = un
			}
			if SecretParam(name) {
				parts[i] = p[:len(p)-len(val)] + "***"
			}
		}
		base += "?" + strings.Join(parts, "&")
	}
	if hasFrag {
		base += "#" + frag
	}
	return base
}

// urlSecrets are the values RedactURL hides in raw: its user information
// and secret query values, raw and unescaped.
func urlSecrets(raw string) []string {
	var vals []string
	add := func(v string) {
		if v != "" && !isPlaceholder(v) {
			vals = append(vals, v)
			if un, err := url.QueryUnescape(v); err == nil && un != v {
				vals = append(vals, un)
			}
		}
	}
	rest, _, _ := strings.Cut(raw, "#")
	base, query, _ := strings.Cut(rest, "?")
	if _, after, ok := strings.Cut(base, "://"); ok {
		auth, _, _ := strings.Cut(after, "/")
		if i := strings.LastIndexByte(auth, '@'); i >= 0 {
			user, pass, _ := strings.Cut(auth[:i], ":")
			add(pass)
			if pass == "" {
				add(user) // a key given as the user name (user@host)
			}
		}
	}
	for _, p := range strings.Split(query, "&") {
		name, val, ok := strings.Cut(p, "=")
		if un, err := url.QueryUnescape(name); err == nil {
			name = un
		}
		if ok && SecretParam(name) {
			add(val)
		}
	}
	return vals
}

// isPlaceholder reports whether v is already a placeholder: ***, or a
// ${VAR} that Redact put there.
func isPlaceholder(v string) bool {
	return v == "***" || envRE.MatchString(v) && envRE.FindString(v) == v
}
