package headers

import (
	"iter"
	"strings"
)

// sfItem is one member of a structured-field list, parsed leniently: bare
// items (tokens, strings, numbers) and key=value parameters in any order.
// Hugging Face Hub's "fixed window";"api";q=500;w=300, which is not a valid
// structured field, reads as two bare items and two parameters.
type sfItem struct {
	bare   []string
	params []sfParam
}

type sfParam struct{ key, val string }

// param returns the value of the first parameter named key.
func (it sfItem) param(key string) (string, bool) {
	for _, kv := range it.params {
		if kv.key == key {
			return kv.val, true
		}
	}
	return "", false
}

// isDraft7 reports whether it is a draft-07 RateLimit dictionary member
// (limit=100), not a draft-11 item ("p";r=50).
func (it sfItem) isDraft7() bool {
	if len(it.bare) > 0 || len(it.params) == 0 {
		return false
	}
	switch it.params[0].key {
	case "limit", "remaining", "reset":
		return true
	}
	return false
}

// parseSFList splits field values into list members at commas and members
// into parts at semicolons, outside double quotes. It never fails: whatever
// cannot be read is kept as a bare item and ignored by the callers.
func parseSFList(vals []string) []sfItem {
	var items []sfItem
	for _, v := range vals {
		for m := range splitOutsideQuotes(v, ',') {
			var it sfItem
			for part := range splitOutsideQuotes(m, ';') {
				part = trimOWS(part)
				if part == "" {
					continue
				}
				if part[0] != '"' {
					if i := strings.IndexByte(part, '='); i >= 0 {
						it.params = append(it.params, sfParam{strings.ToLower(trimOWS(part[:i])), unquote(trimOWS(part[i+1:]))})
						continue
					}
				}
				it.bare = append(it.bare, unquote(part))
			}
			if len(it.bare)+len(it.params) > 0 {
				items = append(items, it)
			}
		}
	}
	return items
}

// splitOutsideQuotes yields the parts of s between separators that are not
// inside a double-quoted string. A backslash escapes the next byte inside a
// string; an unterminated string runs to the end.
func splitOutsideQuotes(s string, sep byte) iter.Seq[string] {
	return func(yield func(string) bool) {
		start, inQuote := 0, false
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case inQuote && c == '\\':
				i++
			case c == '"':
				inQuote = !inQuote
			case !inQuote && c == sep:
				if !yield(s[start:i]) {
					return
				}
				start = i + 1
			}
		}
		yield(s[start:])
	}
}

// unquote removes the double quotes around a string and its backslash
// escapes; other values are returned as they are. Text after the closing
// quote is dropped; an unterminated string runs to the end.
func unquote(s string) string {
	if len(s) == 0 || s[0] != '"' {
		return s
	}
	end, escaped := len(s), false
loop:
	for i := 1; i < len(s); i++ {
		switch {
		case escaped:
			escaped = false
		case s[i] == '\\':
			escaped = true
		case s[i] == '"':
			end = i
			break loop
		}
	}
	body := s[1:end]
	if strings.IndexByte(body, '\\') < 0 {
		return body
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' && i+1 < len(body) {
			i++
		}
		b.WriteByte(body[i])
	}
	return b.String()
}

// trimOWS trims HTTP optional whitespace (spaces and tabs).
func trimOWS(s string) string { return strings.Trim(s, " \t") }
