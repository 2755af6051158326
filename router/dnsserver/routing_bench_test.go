package dnsserver

import (
	"context"
	"io"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/internal/dnswire"
	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/internal/metrics"
	"github.com/signpost-cdn/signpost/router/accesslog"
)

// routingCase is one query of the routing benchmarks and allocation tests.
type routingCase struct {
	name   string
	msg    []byte
	client netip.AddrPort
}

func routingCases(tb testing.TB) []routingCase {
	tb.Helper()
	c := func(name, qname string, qtype uint16, client string) routingCase {
		return routingCase{name, packMsg(tb, newQuery(qname, qtype)), netip.AddrPortFrom(netip.MustParseAddr(client), 5353)}
	}
	return []routingCase{
		c("routed-A-cz", "edge.dns-test.thecdn.example.com.", dns.TypeA, "12.34.0.5"),
		c("routed-A-edge-miss", "tr.http-only-test.thecdn.example.com.", dns.TypeA, "127.0.0.1"),
		c("static-A", "mm.steering-test-1.thecdn.example.com.", dns.TypeA, "12.34.0.5"),
		c("cname-chase", "mm-cname.steering-test-1.thecdn.example.com.", dns.TypeA, "12.34.0.5"),
		c("nxdomain", "nonexistent.thecdn.example.com.", dns.TypeA, "12.34.0.5"),
		c("refused", "www.google.com.", dns.TypeA, "12.34.0.5"),
		c("federation", "edge.federation-test.thecdn.example.com.", dns.TypeA, "12.34.10.1"),
		{"routed-A-ecs", packMsg(tb, addECS(newQuery("edge.dns-test.thecdn.example.com.", dns.TypeA), "12.34.0.0/24")), netip.MustParseAddrPort("127.0.0.1:5353")},
	}
}

// routingProcessor builds a Processor over the fixture; withLog adds an
// access log (to io.Discard) and a metrics registry.
func routingProcessor(tb testing.TB, dir string, withLog bool) *Processor {
	tb.Helper()
	opts := Options{}
	if withLog {
		lw, err := accesslog.New(accesslog.Config{Out: io.Discard})
		if err != nil {
			tb.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { lw.Run(ctx); close(done) }()
		tb.Cleanup(func() { cancel(); <-done })
		opts.AccessLog, opts.Metrics = lw, metrics.NewRegistry(metrics.Options{})
	}
	h, _ := newRouting(tb, dir, opts)
	return NewProcessor(h)
}

func BenchmarkRouting(b *testing.B) {
	for _, cfg := range []struct {
		name    string
		edge    bool
		withLog bool
	}{{"edge", true, false}, {"noedge", false, false}, {"edge-log", true, true}} {
		dir := fixture.DefaultDir(b)
		if !cfg.edge {
			dir = copyFixture(b, map[string]string{"edge.dns.routing": "false", "edge.http.routing": "false"})
		}
		p := routingProcessor(b, dir, cfg.withLog)
		dst := make([]byte, 0, dnswire.MaxUDPSize)
		for _, c := range routingCases(b) {
			b.Run(cfg.name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					p.Serve(dst, c.msg, c.client, UDP)
				}
			})
		}
	}
}
