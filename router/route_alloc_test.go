//go:build !race

package router

import "testing"

// TestRouteAllocs guards the zero-allocation selection path: delivery
// service match, location, ordered caches, for HTTP and DNS requests.
func TestRouteAllocs(t *testing.T) {
	tab := fixtureTable(t)
	for name, req := range map[string]*Request{
		"http-cz":       httpReq("tr.http-only-test.thecdn.example.com", "/stuff", "fakeClientIpAddress=12.34.0.123", "12.34.0.123"),
		"http-ds-miss":  httpReq("foo.invalid.bar", "/", "", "12.34.0.123"),
		"http-geo-miss": httpReq("tr.http-only-test.thecdn.example.com", "/stuff", "", "192.0.2.1"),
		"http-regex":    httpReq("edge.http-only-test.thecdn.example.com", "/a/b/c", "x=1", "12.34.3.9"),
	} {
		var sc Scratch
		var sel Selection
		_ = tab.RouteHTTP(req, &sc, &sel) // warm the scratch buffers
		if n := testing.AllocsPerRun(200, func() { _ = tab.RouteHTTP(req, &sc, &sel) }); n != 0 {
			t.Errorf("RouteHTTP %s: %v allocs/op, want 0", name, n)
		}
	}
	for name, req := range map[string]*Request{
		"dns-cz":        dnsReq("edge.dns-test.thecdn.example.com", "12.34.0.5", false),
		"dns-cz-aaaa":   dnsReq("edge.dns-test.thecdn.example.com", "12.34.0.5", true),
		"dns-fed":       dnsReq("edge.federation-test.thecdn.example.com", "12.34.10.1", false),
		"dns-geo":       dnsReq("edge.dns-test.thecdn.example.com", "81.2.69.142", false), // closest location by MaxMind
		"dns-not-route": dnsReq("mm.steering-test-1.thecdn.example.com", "12.34.0.5", false),
	} {
		var sc Scratch
		var sel Selection
		tab.RouteDNS(req, &sc, &sel)
		if n := testing.AllocsPerRun(200, func() { tab.RouteDNS(req, &sc, &sel) }); n != 0 {
			t.Errorf("RouteDNS %s: %v allocs/op, want 0", name, n)
		}
	}
}
