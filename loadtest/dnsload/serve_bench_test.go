package dnsload

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/dnswire"
	"github.com/signpost-cdn/signpost/internal/metrics"
	"github.com/signpost-cdn/signpost/router"
	"github.com/signpost-cdn/signpost/router/dnsserver"
	"github.com/signpost-cdn/signpost/router/routertest"
)

// benchProcessor builds signpost's DNS path (header gate, routing handler,
// response writer) over the generated benchmark CDN, without sockets.
func benchProcessor(tb testing.TB) (*dnsserver.Processor, map[string][]byte) {
	return benchProcessorWith(tb, dnsserver.Options{Hostname: routerName})
}

// benchProcessorWith is benchProcessor with the handler's options (metrics
// on, as `signpost route` runs).
func benchProcessorWith(tb testing.TB, opts dnsserver.Options) (*dnsserver.Processor, map[string][]byte) {
	tb.Helper()
	dir := tb.TempDir()
	if _, err := Write(dir, Defaults()); err != nil {
		tb.Fatal(err)
	}
	files, err := Generate(dir, Defaults())
	if err != nil {
		tb.Fatal(err)
	}
	tab, err := router.NewBuilder(hashring.MD5, nil).Build(routertest.LoadSet(tb, filepath.Join(dir, "signpost")))
	if err != nil {
		tb.Fatal(err)
	}
	h := dnsserver.NewRoutingHandler(nil, opts)
	if err := h.Publish(tab); err != nil {
		tb.Fatal(err)
	}
	return dnsserver.NewProcessor(h), files
}

// splitBinary splits dnsperf's binary query format into messages.
func splitBinary(data []byte) [][]byte {
	var out [][]byte
	for len(data) >= 2 {
		l := int(binary.BigEndian.Uint16(data))
		out = append(out, data[2:2+l])
		data = data[2+l:]
	}
	return out
}

// packText packs the "name TYPE" lines of a dnsperf text query file.
func packText(tb testing.TB, data []byte) [][]byte {
	tb.Helper()
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(f[0]), dns.StringToType[f[1]])
		m.RecursionDesired = false
		b, err := m.Pack()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestServeMatchesPeers runs every benchmark query through signpost's DNS
// path and checks the rcodes and answers the peers give: static names with
// their addresses, 10% NXDOMAIN in the mix, and the routed name with the
// address of the ECS subnet's cache group (as gdnsd's map says).
func TestServeMatchesPeers(t *testing.T) {
	p, files := benchProcessor(t)
	client := netip.MustParseAddrPort("127.0.0.1:5353")
	dst := make([]byte, 0, dnswire.MaxUDPSize)
	serve := func(q []byte) *dns.Msg {
		t.Helper()
		r := new(dns.Msg)
		if err := r.Unpack(p.Serve(dst, q, client, dnsserver.UDP)); err != nil {
			t.Fatal(err)
		}
		return r
	}
	nets := gdnsdNets(t, files["gdnsd/config"])
	cfg := string(files["gdnsd/config"])
	for i, q := range splitBinary(files["queries-ecs.bin"])[:2000] {
		r := serve(q)
		var m dns.Msg
		_ = m.Unpack(q)
		ecs := m.IsEdns0().Option[0].(*dns.EDNS0_SUBNET)
		a, _ := netip.AddrFromSlice(ecs.Address)
		dc := nets[netip.PrefixFrom(a.Unmap(), 24)]
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Fatalf("ECS query %d (%s): rcode %d, %d answers", i, a, r.Rcode, len(r.Answer))
		}
		got := r.Answer[0].(*dns.A).A.String()
		if !strings.Contains(cfg, dc+" => "+got+"\n") {
			t.Fatalf("ECS query %d (%s, %s): answer %s", i, a, dc, got)
		}
		if o := r.IsEdns0(); o == nil || len(o.Option) != 1 {
			t.Fatalf("ECS query %d: ECS not echoed", i)
		}
	}
	nx := 0
	mix := packText(t, files["queries-mix.txt"])
	for _, q := range mix {
		r := serve(q)
		switch {
		case r.Rcode == dns.RcodeNameError:
			nx++
		case r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1:
			t.Fatalf("%s: rcode %d, %d answers", r.Question[0].Name, r.Rcode, len(r.Answer))
		}
	}
	if share := float64(nx) / float64(len(mix)); share < 0.08 || share > 0.12 {
		t.Errorf("mix: NXDOMAIN share %.3f", share)
	}
}

// BenchmarkServe measures signpost's per-query DNS path (no sockets) on the
// bench-dns workloads; routed-metrics is routed with the handler's
// Prometheus series on, as `signpost route` serves. With -cpuprofile it
// shows where the handler's time goes:
//
//	go test -run '^$' -bench Serve/routed -cpuprofile cpu.out ./loadtest/dnsload
//	go tool pprof -top cpu.out
func BenchmarkServe(b *testing.B) {
	p, files := benchProcessor(b)
	pm, _ := benchProcessorWith(b, dnsserver.Options{Hostname: routerName, Metrics: metrics.NewRegistry(metrics.Options{})})
	client := netip.MustParseAddrPort("127.0.0.1:5353")
	routed := splitBinary(files["queries-ecs.bin"])
	for _, w := range []struct {
		name string
		p    *dnsserver.Processor
		qs   [][]byte
	}{
		{"static", p, packText(b, files["queries-static.txt"])},
		{"routed", p, routed},
		{"mix", p, packText(b, files["queries-mix.txt"])},
		{"routed-metrics", pm, routed},
	} {
		p := w.p
		b.Run(w.name, func(b *testing.B) {
			dst := make([]byte, 0, dnswire.MaxUDPSize)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if p.Serve(dst, w.qs[i%len(w.qs)], client, dnsserver.UDP) == nil {
					b.Fatal("no response")
				}
				i++
			}
		})
	}
}
