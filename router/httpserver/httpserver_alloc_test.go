//go:build !race

package httpserver

import "testing"

// TestRoutingAllocs: the routing handler allocates nothing per request,
// with and without an access log, with a reused RequestCtx.
func TestRoutingAllocs(t *testing.T) {
	for _, withLog := range []bool{true, false} {
		s := newBenchServer(t, withLog)
		for _, bc := range benchCases {
			ctx := benchCtx(bc.host, bc.target, bc.hdr...)
			ctx.Response.Reset()
			s.serveRouting(ctx) // warm pools and buffers
			status := ctx.Response.StatusCode()
			if status != 302 && status != 200 && status != 503 {
				t.Fatalf("%s: status %d", bc.name, status)
			}
			if n := testing.AllocsPerRun(200, func() {
				ctx.Response.Reset()
				s.serveRouting(ctx)
			}); n != 0 {
				t.Errorf("%s (access log %v): %v allocations per request", bc.name, withLog, n)
			}
		}
	}
}
