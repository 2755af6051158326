package router

import (
	"testing"

	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/router/routertest"
)

func BenchmarkRouteHTTP(b *testing.B) {
	tab := fixtureTable(b)
	for _, bc := range []struct {
		name string
		req  *Request
	}{
		{"cz-closest", httpReq("tr.http-only-test.thecdn.example.com", "/stuff", "fakeClientIpAddress=12.34.0.123", "12.34.0.123")},
		{"regex-host", httpReq("edge.http-only-test.thecdn.example.com", "/some/path/thing", "", "12.34.3.9")},
		{"geo-miss", httpReq("tr.http-only-test.thecdn.example.com", "/stuff", "", "192.0.2.1")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var sc Scratch
			var sel Selection
			b.ReportAllocs()
			for b.Loop() {
				_ = tab.RouteHTTP(bc.req, &sc, &sel)
			}
		})
	}
}

func BenchmarkRouteDNS(b *testing.B) {
	tab := fixtureTable(b)
	for _, bc := range []struct {
		name string
		req  *Request
	}{
		{"cz", dnsReq("edge.dns-test.thecdn.example.com", "12.34.0.5", false)},
		{"federation", dnsReq("edge.federation-test.thecdn.example.com", "12.34.10.1", false)},
		{"geo", dnsReq("edge.dns-test.thecdn.example.com", "81.2.69.142", false)}, // closest location by MaxMind
	} {
		b.Run(bc.name, func(b *testing.B) {
			var sc Scratch
			var sel Selection
			b.ReportAllocs()
			for b.Loop() {
				tab.RouteDNS(bc.req, &sc, &sel)
			}
		})
	}
}

// BenchmarkBuildFixture measures compiling the fixture CDN into a Table
// with a warm point cache (a reload).
func BenchmarkBuildFixture(b *testing.B) {
	set := routertest.LoadSet(b, fixture.DefaultDir(b))
	bld := NewBuilder(hashring.MD5, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bld.Build(set); err != nil {
			b.Fatal(err)
		}
	}
}
