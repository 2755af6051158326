//go:build !race

package httpserver

import "testing"

// TestSteeringAllocs: STEERING and CLIENT_STEERING answers (302 and JSON,
// access log included) allocate nothing per request with a reused
// RequestCtx.
func TestSteeringAllocs(t *testing.T) {
	s := newBenchServer(t, true)
	for _, bc := range steeringCases {
		ctx := benchCtx(bc.host, bc.target, bc.hdr...)
		ctx.Response.Reset()
		s.serveRouting(ctx) // warm pools and buffers
		if status := ctx.Response.StatusCode(); status != 302 && status != 200 {
			t.Fatalf("%s: status %d", bc.name, status)
		}
		if n := testing.AllocsPerRun(200, func() {
			ctx.Response.Reset()
			s.serveRouting(ctx)
		}); n != 0 {
			t.Errorf("%s: %v allocations per request", bc.name, n)
		}
	}
}
