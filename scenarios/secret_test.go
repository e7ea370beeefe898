package scenarios

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestSecretNeverFormats(t *testing.T) {
	for _, s := range []Secret{NewSecret("tok-123", "Bearer ${TOKEN}"), NewSecret("tok-123", "")} {
		js, _ := json.Marshal(map[string]any{"v": s, "h": Header{"Authorization", s}})
		shown := fmt.Sprintf("%v %+v %#v %s %q %x %d", s, s, s, s, s, s, s) + fmt.Sprint(s) + string(js) + s.String()
		if strings.Contains(shown, "tok-123") {
			t.Errorf("secret shown: %s", shown)
		}
		if s.Reveal() != "tok-123" {
			t.Errorf("Reveal() = %q, want tok-123", s.Reveal())
		}
	}
}

func TestSecretParam(t *testing.T) {
	for _, name := range []string{"key", "api_key", "API-KEY", "apikey", "token", "access_token", "sig", "signature", "password",
		"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "client_secret", "auth", "subscription-key", "pwd"} {
		if !SecretParam(name) {
			t.Errorf("SecretParam(%q) = false, want true", name)
		}
	}
	for _, name := range []string{"q", "page", "limit", "model", "keys_only", "signed", "tokens_used"} {
		if SecretParam(name) {
			t.Errorf("SecretParam(%q) = true, want false", name)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.example.com/v1?q=1", "https://api.example.com/v1?q=1"},
		{"https://user:pw@api.example.com/v1", "https://***@api.example.com/v1"},
		{"https://sk_live_123@api.example.com/v1", "https://***@api.example.com/v1"},
		{"https://api.example.com/v1?api_key=abc123&q=1&sig=x%2By#frag", "https://api.example.com/v1?api_key=***&q=1&sig=***#frag"},
		{"https://api.example.com/v1?token=${API_TOKEN}&access_token=***", "https://api.example.com/v1?token=${API_TOKEN}&access_token=***"},
		{"https://h/p?X-Amz-Signature=deadbeef&X-Amz-Date=20260101", "https://h/p?X-Amz-Signature=***&X-Amz-Date=20260101"},
		{"https://h/p?password=", "https://h/p?password="},
		{"http://u:pw@h:99999/a b?key=k1 k2", "http://***@h:99999/a b?key=***"}, // not a URL Go parses
		{"not a url ?api_key=abc", "not a url ?api_key=***"},
		{"https://h/user@example.com", "https://h/user@example.com"}, // an @ in the path is no credential
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactHidesEverySecret(t *testing.T) {
	src := `name: x
target:
  url: "https://user:pw-4567@api.example.com/${TENANT}/v1?api_key=literal-key&q=1&token=${TOKEN}"
  headers: {Authorization: "Bearer ${TOKEN}", X-Api-Key: literal-header}
`
	sc := mustParse(t, src, Options{LookupEnv: env(map[string]string{"TOKEN": "tok-123", "TENANT": "tenant-789"})})
	want := "https://***@api.example.com/${TENANT}/v1?api_key=***&q=1&token=${TOKEN}"
	if got := sc.DisplayURL(); got != want {
		t.Errorf("DisplayURL() = %q, want %q", got, want)
	}
	// What Go's client and vegeta write into errors and results.
	for _, text := range []string{
		`Get "https://user:***@api.example.com/tenant-789/v1?api_key=literal-key&q=1&token=tok-123": EOF`,
		`Get "` + sc.Target.URL + `": dial tcp: lookup api.example.com: no such host`,
		"literal-key pw-4567 tok-123 tenant-789",
	} {
		got := sc.Redact(text)
		for _, leak := range []string{"literal-key", "pw-4567", "tok-123", "tenant-789"} {
			if strings.Contains(got, leak) {
				t.Errorf("Redact(%q) = %q leaks %q", text, got, leak)
			}
		}
	}
	if got := sc.Redact(`Get "` + sc.Target.URL + `": EOF`); got != `Get "`+want+`": EOF` {
		t.Errorf("Redact of the URL in an error = %q, want the display URL", got)
	}
	if got := sc.Redact("literal-header"); got != "***" {
		t.Errorf("Redact(literal X-Api-Key value) = %q, want ***", got)
	}
	sc.AddSecret("flag-value")
	if got := sc.Redact("flag-value"); got != "***" {
		t.Errorf("Redact(AddSecret value) = %q, want ***", got)
	}
}
