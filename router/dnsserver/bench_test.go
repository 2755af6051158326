package dnsserver

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

func BenchmarkServe(b *testing.B) {
	p := NewProcessor(newStaticHandler(b))
	dst := make([]byte, 0, dnswire.MaxUDPSize)
	for _, c := range []struct {
		name string
		msg  []byte
	}{
		{"A", packMsg(b, newQuery("a.test.example.", dns.TypeA))},
		{"A-ecs", packMsg(b, addECS(newQuery("a.test.example.", dns.TypeA), "192.168.33.0/24"))},
		{"nxdomain", packMsg(b, newQuery("x.y.test.example.", dns.TypeA))},
		{"formerr", packMsg(b, newQuery("a.test.example.", dns.TypeA))[:20]},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Serve(dst, c.msg, testClient, UDP)
			}
		})
	}
}
