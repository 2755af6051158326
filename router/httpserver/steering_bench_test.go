package httpserver

import "testing"

// steeringCases are steering requests through the whole handler.
var steeringCases = []struct {
	name, host, target string
	hdr                []string
}{
	{"steering-ring", "foo.steering-test-1.thecdn.example.com", "/stuff?fakeClientIpAddress=12.34.3.5", nil},
	{"steering-filter", "foo.steering-test-1.thecdn.example.com", "/qwerytuiop/force-to-target-2/asdfghjkl?fakeClientIpAddress=12.34.3.5", nil},
	{"steering-option", "foo.steering-test-1.thecdn.example.com", "/stuff?fakeClientIpAddress=12.34.3.5", []string{"X-TC-Steering-Option", "steering-target-1"}},
	{"client-steering-2", "tr.client-steering-test-1.thecdn.example.com", "/qwerytuiop/asdfghjkl?fakeClientIpAddress=12.34.56.78", nil},
	{"client-steering-5", "cdn.client-steering-diversity-test.thecdn.example.com", "/foo?fakeClientIpAddress=192.168.42.10", nil},
	{"client-steering-8-trred", "tr.client-steering-test-2.thecdn.example.com", "/qwerytuiop/asdfghjkl?fakeClientIpAddress=12.34.56.78&trred=false", nil},
}

func BenchmarkSteeringRouting(b *testing.B) {
	s := newBenchServer(b, true)
	for _, bc := range steeringCases {
		b.Run(bc.name, func(b *testing.B) {
			ctx := benchCtx(bc.host, bc.target, bc.hdr...)
			b.ReportAllocs()
			for b.Loop() {
				ctx.Response.Reset()
				s.serveRouting(ctx)
			}
		})
	}
}
