package postgres

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSource(t *testing.T) {
	opts, err := ParseSource("postgres://router:pw@db.example.net:5433/ops?cdn=my%20cdn&mode=trafficops&sslmode=require", "")
	if err != nil {
		t.Fatal(err)
	}
	if opts.CDN != "my cdn" || opts.Mode != ModeTrafficOps || opts.URL != "postgres://router:pw@db.example.net:5433/ops?sslmode=require" {
		t.Fatalf("%+v", opts)
	}
	if _, err := New(opts); err != nil {
		t.Fatal(err)
	}

	creds := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(creds, []byte("reader:p:w:d\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err = ParseSource("postgresql://db/ops?cdn=c", creds)
	if err != nil || opts.Username != "reader" || opts.Password != "p:w:d" || opts.Mode != "" {
		t.Fatalf("%+v %v", opts, err)
	}

	for _, c := range []struct{ in, want string }{
		{"postgres://u:topsecret@db/ops", "the CDN name is required"},
		{"postgres://u:topsecret@db/ops?cdn=a&mode=x", `mode "x": want signpost or trafficops`},
		{"postgres://u:topsecret@db/ops?cdn=a&cdn=b", "given once"},
		{"mysql://u:topsecret@db/ops?cdn=a", "scheme must be"},
	} {
		_, err := ParseSource(c.in, "")
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "topsecret") {
			t.Errorf("%s: %v (want %q, no password)", c.in, err, c.want)
		}
	}
	if _, err := ParseSource("postgres://db/ops?cdn=a", filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing credentials file accepted")
	}
}
