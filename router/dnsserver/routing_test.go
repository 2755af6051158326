package dnsserver

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/dnswire"
	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/router"
	"github.com/signpost-cdn/signpost/router/routertest"
)

// copyFixture copies the fixture snapshot directory to a temporary one,
// setting the given config keys in crconfig.json.
func copyFixture(tb testing.TB, config map[string]string) string {
	tb.Helper()
	src := fixture.DefaultDir(tb)
	dir := tb.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		if e.Name() == "crconfig.json" && len(config) > 0 {
			data = patchConfig(tb, data, config)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func patchConfig(tb testing.TB, data []byte, config map[string]string) []byte {
	tb.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		tb.Fatal(err)
	}
	root := doc
	if r, ok := doc["response"].(map[string]any); ok {
		root = r
	}
	cfg := root["config"].(map[string]any)
	for k, v := range config {
		cfg[k] = v
	}
	out, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// newRouting builds a table from the snapshot directory and a published
// routing handler.
func newRouting(tb testing.TB, dir string, opts Options) (*RoutingHandler, *router.Table) {
	tb.Helper()
	tab, err := router.NewBuilder(hashring.MD5, nil).Build(routertest.LoadSet(tb, dir))
	if err != nil {
		tb.Fatal(err)
	}
	if opts.Hostname == "" {
		opts.Hostname = "testing-tr-01"
	}
	h := NewRoutingHandler(nil, opts)
	if err := h.Publish(tab); err != nil {
		tb.Fatal(err)
	}
	return h, tab
}

// serveMsg serves one query through a Processor and unpacks the response.
func serveMsg(tb testing.TB, p *Processor, m *dns.Msg, client string) *dns.Msg {
	tb.Helper()
	dst := make([]byte, 0, dnswire.MaxTCPSize)
	resp := p.Serve(dst, packMsg(tb, m), netip.AddrPortFrom(netip.MustParseAddr(client), 5353), TCP)
	if resp == nil {
		tb.Fatalf("%s: no response", m.Question[0].String())
	}
	r := new(dns.Msg)
	if err := r.Unpack(resp); err != nil {
		tb.Fatalf("unpack: %v", err)
	}
	return r
}

// rdatas returns the sorted rdata texts of records of type t.
func rdatas(rrs []dns.RR, t uint16) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			out = append(out, strings.TrimPrefix(rr.String(), rr.Header().String()))
		}
	}
	slices.Sort(out)
	return out
}

func ttls(rrs []dns.RR, t uint16) []uint32 {
	var out []uint32
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			out = append(out, rr.Header().Ttl)
		}
	}
	return out
}

func allTTL(ts []uint32, want uint32) bool {
	for _, t := range ts {
		if t != want {
			return false
		}
	}
	return len(ts) > 0
}

func TestDNSVectors(t *testing.T) {
	h, _ := newRouting(t, fixture.DefaultDir(t), Options{})
	p := NewProcessor(h)
	type check func(t *testing.T, r *dns.Msg)
	for _, tc := range []struct {
		name   string
		q      *dns.Msg
		client string
		check  check
	}{
		{"D1", newQuery("tr.http-only-test.thecdn.example.com.", dns.TypeA), "127.0.0.1", func(t *testing.T, r *dns.Msg) {
			want := []string{"12.34.21.2", "12.34.21.3", "12.34.21.7", "12.34.21.8"}
			if got := rdatas(r.Answer, dns.TypeA); !slices.Equal(got, want) || !allTTL(ttls(r.Answer, dns.TypeA), 3600) {
				t.Errorf("answer %v, want %v TTL 3600", r.Answer, want)
			}
			wantNS := []string{"edge-testing-tr-02.thecdn.example.com.", "edge-testing-tr-03.thecdn.example.com.",
				"edge-testing-tr-07.thecdn.example.com.", "edge-testing-tr-08.thecdn.example.com."}
			if got := rdatas(r.Ns, dns.TypeNS); !slices.Equal(got, wantNS) {
				t.Errorf("authority %v, want NS %v", r.Ns, wantNS)
			}
			if !r.Authoritative || r.Rcode != dns.RcodeSuccess {
				t.Errorf("AA %v rcode %d", r.Authoritative, r.Rcode)
			}
		}},
		{"D1-AAAA", newQuery("tr.http-only-test.thecdn.example.com.", dns.TypeAAAA), "127.0.0.1", func(t *testing.T, r *dns.Msg) {
			want := []string{"2001:dead:beef:124:1::2", "2001:dead:beef:124:1::3", "2001:dead:beef:124:1::7", "2001:dead:beef:124:1::8"}
			if got := rdatas(r.Answer, dns.TypeAAAA); !slices.Equal(got, want) {
				t.Errorf("answer %v, want %v", r.Answer, want)
			}
		}},
		{"D2", newQuery("edge.dns-test.thecdn.example.com.", dns.TypeA), "12.34.0.5", func(t *testing.T, r *dns.Msg) {
			got := rdatas(r.Answer, dns.TypeA)
			if len(got) != 2 || !allTTL(ttls(r.Answer, dns.TypeA), 30) {
				t.Fatalf("answer %v, want 2 A TTL 30", r.Answer)
			}
			for _, a := range got {
				if a != "12.34.0.100" && a != "12.34.0.101" && a != "12.34.0.102" {
					t.Errorf("address %s", a)
				}
			}
			if !r.Authoritative {
				t.Error("AA not set")
			}
		}},
		{"D3", newQuery("edge.federation-test.thecdn.example.com.", dns.TypeA), "12.34.10.1", func(t *testing.T, r *dns.Msg) {
			if got := rdatas(r.Answer, dns.TypeCNAME); !slices.Equal(got, []string{"foo.kabletown.net."}) || !allTTL(ttls(r.Answer, dns.TypeCNAME), 30) {
				t.Errorf("answer %v, want CNAME foo.kabletown.net. TTL 30", r.Answer)
			}
			if r.Authoritative || len(r.Answer) != 1 {
				t.Errorf("AA %v, %d answers; want no AA, CNAME only", r.Authoritative, len(r.Answer))
			}
		}},
		{"D4", newQuery("edge.federation-test.thecdn.example.com.", dns.TypeA), "12.34.0.5", func(t *testing.T, r *dns.Msg) {
			want := []string{"12.34.4.100", "12.34.4.101", "12.34.4.102"}
			if got := rdatas(r.Answer, dns.TypeA); !slices.Equal(got, want) || !allTTL(ttls(r.Answer, dns.TypeA), 30) {
				t.Errorf("answer %v, want %v TTL 30", r.Answer, want)
			}
		}},
		{"D5", newQuery("mm.steering-test-1.thecdn.example.com.", dns.TypeA), "12.34.0.5", func(t *testing.T, r *dns.Msg) {
			if got := rdatas(r.Answer, dns.TypeA); !slices.Equal(got, []string{"10.20.30.42"}) || !allTTL(ttls(r.Answer, dns.TypeA), 7200) {
				t.Errorf("answer %v, want A 10.20.30.42 TTL 7200", r.Answer)
			}
			if !r.Authoritative {
				t.Error("AA not set")
			}
		}},
		{"D5-cname", newQuery("mm-cname.steering-test-1.thecdn.example.com.", dns.TypeA), "12.34.0.5", func(t *testing.T, r *dns.Msg) {
			if len(r.Answer) != 2 || r.Answer[0].Header().Rrtype != dns.TypeCNAME || r.Answer[1].Header().Rrtype != dns.TypeA {
				t.Fatalf("answer %v, want CNAME then A", r.Answer)
			}
			if r.Answer[0].(*dns.CNAME).Target != "mm.steering-test-1.thecdn.example.com." || r.Answer[1].(*dns.A).A.String() != "10.20.30.42" {
				t.Errorf("answer %v", r.Answer)
			}
			if r.Answer[1].Header().Name != "mm.steering-test-1.thecdn.example.com." || !r.Authoritative {
				t.Errorf("A owner %s, AA %v", r.Answer[1].Header().Name, r.Authoritative)
			}
		}},
		{"D6", newQuery("mm.federation-test.thecdn.example.com.", dns.TypeA), "12.34.0.5", func(t *testing.T, r *dns.Msg) {
			if got := rdatas(r.Answer, dns.TypeCNAME); !slices.Equal(got, []string{"foo.bar.baz.net."}) || !allTTL(ttls(r.Answer, dns.TypeCNAME), 30) || len(r.Answer) != 1 {
				t.Errorf("answer %v, want CNAME foo.bar.baz.net. TTL 30 only", r.Answer)
			}
			if r.Rcode != dns.RcodeSuccess || r.Authoritative {
				t.Errorf("rcode %d AA %v, want NOERROR without AA (target outside our zones)", r.Rcode, r.Authoritative)
			}
		}},
		{"D7", newQuery("www.google.com.", dns.TypeA), "12.34.0.5", func(t *testing.T, r *dns.Msg) {
			if r.Rcode != dns.RcodeRefused || len(r.Answer)+len(r.Ns) != 0 {
				t.Errorf("rcode %d, %v %v; want REFUSED", r.Rcode, r.Answer, r.Ns)
			}
		}},
		{"D8", newQuery("nonexistent.thecdn.example.com.", dns.TypeA), "12.34.0.5", func(t *testing.T, r *dns.Msg) {
			if r.Rcode != dns.RcodeNameError || !r.Authoritative || len(r.Ns) != 1 {
				t.Fatalf("rcode %d AA %v authority %v, want NXDOMAIN AA SOA", r.Rcode, r.Authoritative, r.Ns)
			}
			soa, ok := r.Ns[0].(*dns.SOA)
			if !ok {
				t.Fatalf("authority %v", r.Ns[0])
			}
			want := dns.SOA{Ns: "testing-tr-01.cdn.example.com.", Mbox: "operations.thecdn.example.com.", Serial: 2016060500,
				Refresh: 28800, Retry: 7200, Expire: 604800, Minttl: 30}
			if soa.Hdr.Name != "thecdn.example.com." || soa.Mbox != want.Mbox || soa.Serial != want.Serial || soa.Refresh != want.Refresh ||
				soa.Retry != want.Retry || soa.Expire != want.Expire || soa.Minttl != want.Minttl || soa.Hdr.Ttl != 30 || soa.Ns != want.Ns {
				t.Errorf("SOA %v, want %v with TTL 30", soa, want)
			}
		}},
		{"D9", newQuery("thecdn.example.com.", dns.TypeSOA), "12.34.0.5", func(t *testing.T, r *dns.Msg) {
			if len(r.Answer) != 1 || r.Answer[0].Header().Ttl != 7200 || r.Answer[0].(*dns.SOA).Ns != "testing-tr-01.cdn.example.com." {
				t.Errorf("answer %v, want SOA TTL 7200 MNAME testing-tr-01.cdn.example.com.", r.Answer)
			}
			// edge.dns.routing: localized to the nearest location of
			// 12.34.0.5 (cache-group-0 coordinates), 4 NS.
			ns := rdatas(r.Ns, dns.TypeNS)
			if len(ns) != 4 || !r.Authoritative {
				t.Errorf("authority %v, want 4 localized NS", r.Ns)
			}
			for _, n := range ns {
				if !strings.HasPrefix(n, "edge-testing-tr-0") || !strings.HasSuffix(n, ".cdn.example.com.") {
					t.Errorf("NS %s", n)
				}
			}
		}},
		{"D10", func() *dns.Msg {
			m := newQuery("thecdn.example.com.", dns.TypeSOA)
			m.SetEdns0(1232, false)
			m.IsEdns0().SetVersion(1)
			return m
		}(), "12.34.0.5", func(t *testing.T, r *dns.Msg) {
			if r.Rcode != dns.RcodeBadVers || r.IsEdns0() == nil || len(r.Answer) != 0 {
				t.Errorf("rcode %d, OPT %v; want BADVERS with OPT", r.Rcode, r.IsEdns0())
			}
		}},
		{"D11", func() *dns.Msg {
			m := newQuery("thecdn.example.com.", dns.TypeSOA)
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}(), "12.34.0.5", func(t *testing.T, r *dns.Msg) {
			if r.Rcode != dns.RcodeRefused {
				t.Errorf("rcode %d, want REFUSED", r.Rcode)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, serveMsg(t, p, tc.q, tc.client))
		})
	}
}
