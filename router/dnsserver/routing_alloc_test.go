//go:build !race

package dnsserver

import (
	"testing"

	"github.com/signpost-cdn/signpost/internal/dnswire"
	"github.com/signpost-cdn/signpost/internal/fixture"
)

// TestRoutingAllocs proves the routing handler answers routed, static,
// negative and refused queries, with access log and metrics, without
// allocating (through Processor.Serve with a reused buffer).
func TestRoutingAllocs(t *testing.T) {
	for _, cfg := range []struct {
		name    string
		dir     string
		withLog bool
	}{
		{"edge", fixture.DefaultDir(t), false},
		{"edge-log", fixture.DefaultDir(t), true},
		{"noedge-log", copyFixture(t, map[string]string{"edge.dns.routing": "false", "edge.http.routing": "false", "ecsEnable": "true"}), true},
	} {
		p := routingProcessor(t, cfg.dir, cfg.withLog)
		dst := make([]byte, 0, dnswire.MaxTCPSize)
		for _, c := range routingCases(t) {
			for _, tr := range []Transport{UDP, TCP} {
				if p.Serve(dst, c.msg, c.client, tr) == nil {
					t.Fatalf("%s/%s: no response", cfg.name, c.name)
				}
				if n := testing.AllocsPerRun(500, func() { p.Serve(dst, c.msg, c.client, tr) }); n != 0 {
					t.Errorf("%s/%s over %v: %v allocs per query", cfg.name, c.name, tr, n)
				}
			}
		}
	}
}
