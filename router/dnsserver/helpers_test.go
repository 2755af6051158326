package dnsserver

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

// staticHandler is the trivial handler the engine tests use. Inside
// test.example., names of at most three labels answer A 192.0.2.1 (AA; other
// types get NODATA with the SOA), deeper names get NXDOMAIN with the SOA;
// outside the zone the answer is REFUSED.
// A few names trigger engine paths: many.test.example. answers 100 A
// records (truncation), drop.test.example. is dropped, and
// panic.test.example. panics.
type staticHandler struct {
	zone, many, drop, panicName []byte
	a, soa                      dnswire.RR
	lots                        []dnswire.RR
}

var _ Handler = (*staticHandler)(nil)

func newStaticHandler(tb testing.TB) *staticHandler {
	tb.Helper()
	name := func(s string) []byte {
		b, err := dnswire.AppendName(nil, s)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	h := &staticHandler{zone: name("test.example."), many: name("many.test.example."), drop: name("drop.test.example."), panicName: name("panic.test.example.")}
	var err error
	if h.a, err = dnswire.NewA(netip.MustParseAddr("192.0.2.1"), 30); err != nil {
		tb.Fatal(err)
	}
	if h.soa, err = dnswire.NewSOA(dnswire.SOA{MName: "ns1.test.example.", RName: "hostmaster.test.example.", Serial: 1, Refresh: 7200, Retry: 3600, Expire: 1209600, Minimum: 300}, 300); err != nil {
		tb.Fatal(err)
	}
	for i := range 100 {
		rr, err := dnswire.NewA(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 30)
		if err != nil {
			tb.Fatal(err)
		}
		h.lots = append(h.lots, rr)
	}
	return h
}

func (h *staticHandler) ServeDNS(w *Response, q *dnswire.Query, _ netip.AddrPort) {
	name := q.Name()
	if !dnswire.IsSubdomain(name, h.zone) {
		w.SetRcode(dnswire.RcodeRefused)
		return
	}
	if q.ECS {
		w.SetECSScope(q.ECSSource)
	}
	w.SetAuthoritative(true)
	switch string(name) {
	case string(h.drop):
		w.Drop()
		return
	case string(h.panicName):
		panic("test handler panic")
	case string(h.many):
		for i := range h.lots {
			if !w.Append(dnswire.Answer, dnswire.OwnerAt(dnswire.QuestionOffset), &h.lots[i]) {
				return
			}
		}
		return
	}
	if q.Labels() > 3 {
		w.SetRcode(dnswire.RcodeNXDomain)
		w.Append(dnswire.Authority, dnswire.OwnerName(h.zone), &h.soa)
		return
	}
	if q.Type == dnswire.TypeA || q.Type == dnswire.TypeANY {
		w.Append(dnswire.Answer, dnswire.OwnerAt(dnswire.QuestionOffset), &h.a)
		return
	}
	w.Append(dnswire.Authority, dnswire.OwnerName(h.zone), &h.soa)
}

func packMsg(tb testing.TB, m *dns.Msg) []byte {
	tb.Helper()
	b, err := m.Pack()
	if err != nil {
		tb.Fatalf("pack: %v", err)
	}
	return b
}

func newQuery(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

func addECS(m *dns.Msg, prefix string) *dns.Msg {
	if m.IsEdns0() == nil {
		m.SetEdns0(1232, false)
	}
	p := netip.MustParsePrefix(prefix)
	e := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()}
	if p.Addr().Is6() {
		e.Family = 2
	}
	m.IsEdns0().Option = append(m.IsEdns0().Option, e)
	return m
}

var testClient = netip.MustParseAddrPort("203.0.113.7:5353")

// reserveProcs raises GOMAXPROCS by one P per kernel-wait worker for the
// test, as `signpost route` does, so that the workers asleep in recvmmsg
// leave the test's goroutines as many Ps as before.
func reserveProcs(t *testing.T, workers int) {
	prev := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(prev + workers)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
}
