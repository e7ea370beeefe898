package main

import "testing"

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"mock-token-bucket":   "mock-token-bucket",
		"api.example.com:443": "api.example.com_443",
		"..":                  "_..",
		".":                   "_.",
		"":                    "_",
		"../../etc":           ".._.._etc",
		"a/b":                 "a_b",
	} {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}
