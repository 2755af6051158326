package httpserver

import (
	"testing"

	"github.com/signpost-cdn/signpost/control"
)

// TestHTTPSPort: a cache's httpsPort other than 443 appears in HTTPS
// Locations (Traffic Router ignores it, quirk 5); 443 or absent does not.
func TestHTTPSPort(t *testing.T) {
	e := newEnv(t, loadSet(t, editJSON(t, control.FileSnapshot, func(doc map[string]any) {
		cs := doc["contentServers"].(map[string]any)
		for _, id := range []string{"edge-cache-000", "edge-cache-001", "edge-cache-002"} {
			cs[id].(map[string]any)["httpsPort"] = "8443"
		}
	})))
	r := e.do(t, "GET", "https://tr.https-only-test.thecdn.example.com/stuff?fakeClientIpAddress=12.34.0.123")
	if want := "https://edge-cache-002.https-only-test.thecdn.example.com:8443/stuff?fakeClientIpAddress=12.34.0.123"; r.status != 302 || r.header.Get("Location") != want {
		t.Fatalf("%d %q, want %q", r.status, r.header.Get("Location"), want)
	}
}
