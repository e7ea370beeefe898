package headers

// ValidName reports whether s can name a request header in a scenario or a
// mock's key_by: one or more ASCII letters, digits, dashes and underscores.
// That is stricter than an RFC 9110 token, which also allows
// !#$%&'*+.^`|~; no header a user sets for a probe needs those.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
