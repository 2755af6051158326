package dnsserver

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

// FuzzServeDNS feeds raw packets to the whole per-packet path with the
// static handler, over UDP and TCP limits. Invariants: no panic escapes;
// every response unpacks with miekg/dns, has QR=1 and the query's ID,
// echoes the question when the query had a readable one, stays within the
// transport limit (min(max(512, EDNS size), 1232) over UDP), and uses a
// documented RCODE.
func FuzzServeDNS(f *testing.F) {
	for _, m := range []*dns.Msg{
		newQuery("a.test.example.", dns.TypeA),
		newQuery("many.test.example.", dns.TypeA),
		newQuery("x.y.z.test.example.", dns.TypeAAAA),
		newQuery("www.google.com.", dns.TypeA),
		addECS(newQuery("a.test.example.", dns.TypeA), "192.168.33.0/24"),
	} {
		f.Add(packMsg(f, m), false)
	}
	do := newQuery("many.test.example.", dns.TypeA)
	do.SetEdns0(4096, true)
	f.Add(packMsg(f, do), true)
	p := NewProcessor(newStaticHandler(f))
	dst := make([]byte, 0, dnswire.MaxTCPSize)
	allowed := map[int]bool{0: true, 1: true, 3: true, 4: true, 5: true, 16: true}
	f.Fuzz(func(t *testing.T, msg []byte, tcp bool) {
		tr := UDP
		if tcp {
			tr = TCP
		}
		out := p.Serve(dst, msg, testClient, tr)
		if out == nil {
			return
		}
		var q dnswire.Query
		q.Parse(msg)
		var r dns.Msg
		if err := r.Unpack(out); err != nil {
			t.Fatalf("response does not unpack: %v", err)
		}
		if !r.Response || r.Id != q.ID || !allowed[r.Rcode] {
			t.Fatalf("header %+v", r.MsgHdr)
		}
		if tr == UDP && len(out) > q.UDPLimit() {
			t.Fatalf("UDP response %d bytes over limit %d", len(out), q.UDPLimit())
		}
		if q.HasQuestion() {
			if len(r.Question) != 1 {
				t.Fatalf("question not echoed")
			}
			if string(out[12:12+len(q.Name())]) != string(msg[12:12+len(q.Name())]) {
				t.Fatalf("question bytes differ")
			}
		}
	})
}
