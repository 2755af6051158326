package opsapi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSource(t *testing.T) {
	env := map[string]string{EnvUser: "envuser", EnvPassword: "envpw"}
	getenv := func(k string) string { return env[k] }
	opts, err := ParseSource("https://router:p%40ss@ops.example.net:8443/prefix/?cdn=my-cdn", "", getenv)
	if err != nil || opts.URL != "https://ops.example.net:8443/prefix" || opts.CDN != "my-cdn" || opts.Username != "router" || opts.Password != "p@ss" {
		t.Fatalf("%+v %v", opts, err)
	}
	if _, err := New(opts); err != nil {
		t.Fatal(err)
	}
	opts, err = ParseSource("https://ops.example.net?cdn=c", "", getenv)
	if err != nil || opts.Username != "envuser" || opts.Password != "envpw" || opts.URL != "https://ops.example.net" {
		t.Fatalf("env: %+v %v", opts, err)
	}
	creds := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(creds, []byte("fileuser:filepw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err = ParseSource("https://ops.example.net?cdn=c", creds, getenv)
	if err != nil || opts.Username != "fileuser" || opts.Password != "filepw" {
		t.Fatalf("file: %+v %v", opts, err)
	}
	for _, c := range []struct{ in, want string }{
		{"https://u:topsecret@ops.example.net/", "the CDN name is required: add ?cdn=NAME"},
		{"https://u:topsecret@ops.example.net/?cdn=a&cdn=b", "cdn given more than once"},
		{"https://u:topsecret@ops.example.net/?cdn=a&cdnName=b", `unknown parameter "cdnName" (only cdn)`},
		{"ftp://u:topsecret@ops.example.net/?cdn=a", "scheme must be https://"},
		{"https://u:topsecret@/?cdn=a", "host missing"},
	} {
		_, err := ParseSource(c.in, "", nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "topsecret") {
			t.Errorf("%s: %v (want %q, no password)", c.in, err, c.want)
		}
	}
}
