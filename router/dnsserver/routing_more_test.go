package dnsserver

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/internal/metrics"
	"github.com/signpost-cdn/signpost/internal/syncbuf"
	"github.com/signpost-cdn/signpost/router"
	"github.com/signpost-cdn/signpost/router/accesslog"
	"github.com/signpost-cdn/signpost/router/routertest"
)

// TestD2Consistent is D2 with consistent.dns.routing (vector C5).
func TestD2Consistent(t *testing.T) {
	h, _ := newRouting(t, copyFixture(t, map[string]string{"consistent.dns.routing": "true"}), Options{})
	p := NewProcessor(h)
	for range 10 {
		r := serveMsg(t, p, newQuery("edge.dns-test.thecdn.example.com.", dns.TypeA), "12.34.0.5")
		if got := rdatas(r.Answer, dns.TypeA); !slices.Equal(got, []string{"12.34.0.101", "12.34.0.102"}) {
			t.Fatalf("answer %v, want {12.34.0.101, 12.34.0.102}", got)
		}
	}
}

// TestD12 is ECS with ecsEnable: the longest source prefix wins and is
// echoed with scope = source.
func TestD12(t *testing.T) {
	h, _ := newRouting(t, copyFixture(t, map[string]string{"ecsEnable": "true"}), Options{})
	p := NewProcessor(h)
	m := addECS(addECS(newQuery("edge.dns-test.thecdn.example.com.", dns.TypeA), "192.168.0.0/16"), "192.168.33.0/24")
	r := serveMsg(t, p, m, "127.0.0.1")
	opt := r.IsEdns0()
	if opt == nil || len(opt.Option) != 1 {
		t.Fatalf("OPT %v, want one ECS option", opt)
	}
	e, ok := opt.Option[0].(*dns.EDNS0_SUBNET)
	if !ok || e.SourceNetmask != 24 || e.SourceScope != 24 || e.Address.String() != "192.168.33.0" {
		t.Fatalf("ECS %v, want 192.168.33.0/24 scope 24", opt.Option[0])
	}
	// Without ecsEnable the option is not echoed and the source address
	// routes.
	h2, _ := newRouting(t, fixture.DefaultDir(t), Options{})
	r = serveMsg(t, NewProcessor(h2), m, "127.0.0.1")
	if opt := r.IsEdns0(); opt == nil || len(opt.Option) != 0 {
		t.Fatalf("OPT %v, want no ECS echo", opt)
	}
}

// TestECSRoutes checks that the ECS address, not the resolver, is routed:
// 12.34.0.0/24 is cache-group-0 (location-0 caches).
func TestECSRoutes(t *testing.T) {
	h, _ := newRouting(t, copyFixture(t, map[string]string{"ecsEnable": "true"}), Options{})
	r := serveMsg(t, NewProcessor(h), addECS(newQuery("edge.dns-test.thecdn.example.com.", dns.TypeA), "12.34.0.0/24"), "127.0.0.1")
	for _, a := range rdatas(r.Answer, dns.TypeA) {
		if !strings.HasPrefix(a, "12.34.0.10") {
			t.Errorf("address %s, want a location-0 cache", a)
		}
	}
}

// TestECSPerDeliveryService: a delivery service's own ecsEnabled honours
// the client subnet without the CDN-wide ecsEnable; other services do not.
func TestECSPerDeliveryService(t *testing.T) {
	dir := copyFixture(t, nil)
	crc := filepath.Join(dir, "crconfig.json")
	data, err := os.ReadFile(crc)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["deliveryServices"].(map[string]any)["dns-test"].(map[string]any)["ecsEnabled"] = "true"
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(crc, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h, _ := newRouting(t, dir, Options{})
	p := NewProcessor(h)
	r := serveMsg(t, p, addECS(newQuery("edge.dns-test.thecdn.example.com.", dns.TypeA), "12.34.0.0/24"), "127.0.0.1")
	if opt := r.IsEdns0(); opt == nil || len(opt.Option) != 1 {
		t.Fatalf("dns-test: OPT %v, want the ECS option echoed", opt)
	}
	for _, a := range rdatas(r.Answer, dns.TypeA) {
		if !strings.HasPrefix(a, "12.34.0.10") {
			t.Errorf("dns-test: address %s, want a location-0 cache (routed by the client subnet)", a)
		}
	}
	r = serveMsg(t, p, addECS(newQuery("edge.federation-test.thecdn.example.com.", dns.TypeA), "12.34.0.0/24"), "127.0.0.1")
	if opt := r.IsEdns0(); opt == nil || len(opt.Option) != 0 {
		t.Fatalf("federation-test: OPT %v, want no ECS echo", opt)
	}
}

// TestAccessLogAndMetrics checks the access-log fields of routed, static
// and refused answers and the metric series.
func TestAccessLogAndMetrics(t *testing.T) {
	var out syncbuf.Buffer
	lw, err := accesslog.New(accesslog.Config{Out: &out, FlushInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lw.Run(ctx) }()
	reg := metrics.NewRegistry(metrics.Options{})
	h, _ := newRouting(t, fixture.DefaultDir(t), Options{AccessLog: lw, Metrics: reg})
	if err := reg.Err(); err != nil {
		t.Fatal(err)
	}
	p := NewProcessor(h)
	serveMsg(t, p, newQuery("edge.federation-test.thecdn.example.com.", dns.TypeA), "12.34.10.1")
	serveMsg(t, p, newQuery("edge.dns-test.thecdn.example.com.", dns.TypeA), "12.34.0.5")
	serveMsg(t, p, newQuery("www.google.com.", dns.TypeA), "12.34.0.5")
	serveMsg(t, p, newQuery("nonexistent.thecdn.example.com.", dns.TypeA), "12.34.0.5")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	mustContain(t, "FED line", lines[0], "qtype=DNS chi=12.34.10.1 rhi=-", "fqdn=edge.federation-test.thecdn.example.com. type=A class=IN rcode=NOERROR",
		"rtype=FED", `ttl="30" ans="foo.kabletown.net."`, `svc="federation-test"`)
	mustContain(t, "CZ line", lines[1], "rtype=CZ", `svc="dns-test"`, `ttl="30 30"`, `ans="12.34.0.10`)
	mustContain(t, "REFUSED line", lines[2], "rcode=REFUSED rtype=- ", `ans="-"`, `svc="-"`)
	mustContain(t, "NXDOMAIN line", lines[3], "rcode=NXDOMAIN", `ttl="-" ans="-"`)

	var text bytes.Buffer
	if _, err := reg.WriteTo(&text); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "metrics", text.String(),
		`signpost_dns_routing_responses_total{rcode="NOERROR"} 2`,
		`signpost_dns_routing_responses_total{rcode="REFUSED"} 1`,
		`signpost_dns_routing_responses_total{rcode="NXDOMAIN"} 1`,
		`signpost_dns_routing_queries_total{qtype="A"} 4`,
		`signpost_dns_routing_results_total{rtype="FED"} 1`,
		`signpost_dns_routing_results_total{rtype="CZ"} `,
		"signpost_dns_routing_duration_seconds_count 4")
}

// TestPublishSwap checks that Publish swaps table and zones together and
// that a failed publish keeps the previous ones.
func TestPublishSwap(t *testing.T) {
	h, tab := newRouting(t, fixture.DefaultDir(t), Options{})
	if h.Table() != tab {
		t.Fatal("Table does not return the published table")
	}
	if err := h.Publish(nil); err == nil {
		t.Fatal("nil table accepted")
	}
	bad, err := router.NewBuilder(hashring.MD5, nil).Build(routertest.LoadSet(t, copyFixture(t, map[string]string{"domain_name": "bad..name"})))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Publish(bad); err == nil || !strings.Contains(err.Error(), "config.domain_name") {
		t.Fatalf("error %v, want one naming config.domain_name", err)
	}
	if h.Table() != tab {
		t.Fatal("failed publish replaced the table")
	}
	if (&RoutingHandler{}).Table() != nil {
		t.Fatal("unpublished handler has a table")
	}
	// Before any publish queries are dropped.
	p := NewProcessor(NewRoutingHandler(nil, Options{}))
	if resp := p.Serve(make([]byte, 0, 512), packMsg(t, newQuery("thecdn.example.com.", dns.TypeSOA)), netip.MustParseAddrPort("127.0.0.1:53"), UDP); resp != nil {
		t.Fatal("answered before the first publish")
	}
}
