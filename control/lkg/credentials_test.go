package lkg

import "testing"

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:topsecret@db/ops?cdn=a":        "postgres://u:***@db/ops?cdn=a",
		"postgres://db/ops?password=topsecret&cdn=a": "postgres://db/ops?cdn=a&password=***",
		"postgres://u@db/ops":                        "postgres://u@db/ops",
		"https://u:topsecret@h/?cdn=a":               "https://u:***@h/?cdn=a",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
