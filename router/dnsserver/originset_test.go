package dnsserver

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/internal/dnswire"
	"github.com/signpost-cdn/signpost/internal/fixture"
)

// TestOriginSetsMatchGeneric checks that every encoded authority RRset of
// the fixture's zones (apex NS, SOA, localized NS per location) writes the
// same bytes as appending its records one by one, for every name of the
// zone (a sample) and their letter-case variants, names below the NS and SOA targets,
// with and without answer records before it, over many record orders.
func TestOriginSetsMatchGeneric(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config map[string]string
	}{
		{"default", nil},
		{"noedge", map[string]string{"edge.dns.routing": "false", "edge.http.routing": "false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fixture.DefaultDir(t)
			if tc.config != nil {
				dir = copyFixture(t, tc.config)
			}
			h, _ := newRouting(t, dir, Options{})
			c := h.cur.Load()
			rng := rand.New(rand.NewPCG(1, 2))
			fast, total := 0, 0
			for zi := range c.zones {
				z := &c.zones[zi]
				soa := z.soa
				soa.TTL = z.negTTL
				sets := []originTestSet{{z.soaSet, []dnswire.RR{soa}}}
				if s := z.apex.set(dnswire.TypeNS); s != nil {
					sets = append(sets, originTestSet{z.nsSet, s.rrs})
				}
				for _, es := range append(append([]edgeSet(nil), z.edge...), z.edgeMiss) {
					sets = append(sets, originTestSet{es.nsSet, es.ns})
				}
				names := originTestNames(t, c, z, sets[0].rrs, sets[1:], rng)
				for _, s := range sets {
					if len(s.rrs) == 0 {
						continue
					}
					if s.set == nil {
						t.Logf("zone %s: a set of %d records is not encoded", z.text, len(s.rrs))
						continue
					}
					for _, qn := range names {
						for answers := range 3 {
							for range 2 {
								order := rng.Perm(len(s.rrs))
								f := compareOriginSet(t, qn, answers, z.origin, s.set, s.rrs, order)
								total++
								if f {
									fast++
								}
							}
						}
					}
				}
			}
			if fast == 0 || fast < total/2 {
				t.Fatalf("fast path taken %d of %d times", fast, total)
			}
			t.Logf("fast path taken %d of %d times", fast, total)
		})
	}
}

// originTestSet is an encoded set and its records.
type originTestSet struct {
	set *dnswire.OriginSet
	rrs []dnswire.RR
}

// originTestNames lists question names for zone z: its nodes, names below
// its origin from every zone, the names in the sets' RDATA, one label
// more, and letter-case variants of all.
func originTestNames(t *testing.T, c *compiled, z *zone, soa []dnswire.RR, sets []originTestSet, rng *rand.Rand) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	var nodes [][]byte
	for zi := range c.zones {
		for _, n := range c.zones[zi].names.all() {
			if dnswire.IsSubdomain(n.owner, z.origin) {
				nodes = append(nodes, n.owner)
			}
		}
	}
	slices.SortFunc(nodes, bytes.Compare)
	rng.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	nodes = append([][]byte{z.origin}, nodes[:min(len(nodes), 12)]...)
	add := func(wire []byte) {
		if !dnswire.IsSubdomain(wire, z.origin) {
			return
		}
		s := wireText(wire)
		for _, v := range []string{s, strings.ToUpper(s), mixCase(s), "x." + s, "TeSting-TR-01." + s} {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	for _, n := range nodes {
		add(n)
	}
	rdataNames := func(rr *dnswire.RR) [][]byte {
		switch rr.Type {
		case dnswire.TypeNS:
			return [][]byte{rr.RData()}
		case dnswire.TypeSOA:
			b := rr.RData()
			m := wireLen(b)
			return [][]byte{b[:m], b[m : len(b)-20]}
		}
		return nil
	}
	for i := range soa {
		for _, n := range rdataNames(&soa[i]) {
			add(n)
		}
	}
	for _, s := range sets {
		for i := range s.rrs {
			for _, n := range rdataNames(&s.rrs[i]) {
				add(n)
			}
		}
	}
	return out
}

func wireLen(b []byte) int {
	i := 0
	for b[i] != 0 {
		i += 1 + int(b[i])
	}
	return i + 1
}

func wireText(b []byte) string {
	var sb strings.Builder
	for i := 0; b[i] != 0; i += 1 + int(b[i]) {
		sb.Write(b[i+1 : i+1+int(b[i])])
		sb.WriteByte('.')
	}
	if sb.Len() == 0 {
		return "."
	}
	return sb.String()
}

func mixCase(s string) string {
	b := []byte(s)
	for i := range b {
		if i%2 == 0 && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// compareOriginSet writes a response to an A query for qname with answers
// A records, then the set in order, once with AppendOriginSet and once
// record by record, and fails when the bytes differ. It reports whether
// the encoded path was taken.
func compareOriginSet(t *testing.T, qname string, answers int, origin []byte, set *dnswire.OriginSet, rrs []dnswire.RR, order []int) bool {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(qname, dns.TypeA)
	if answers == 2 {
		m.SetEdns0(1232, false)
	}
	msg, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var q dnswire.Query
	if v := q.Parse(msg); v != dnswire.Accept {
		t.Fatalf("%s: verdict %v", qname, v)
	}
	a, _ := dnswire.NewA(netip.MustParseAddr("192.0.2.1"), 30)
	ord := make([]uint8, len(order))
	for i, k := range order {
		ord[i] = uint8(k)
	}
	if len(ord) == 1 {
		ord = nil
	}
	build := func(fast bool) ([]byte, bool) {
		var w dnswire.Writer
		w.Start(make([]byte, 0, dnswire.MaxTCPSize), &q, q.UDPLimit())
		for range answers {
			w.Append(dnswire.Answer, dnswire.OwnerAt(dnswire.QuestionOffset), &a)
		}
		if fast && w.AppendOriginSet(dnswire.Authority, set, ord) {
			return w.Finish(), true
		}
		for _, k := range order {
			w.Append(dnswire.Authority, dnswire.OwnerName(origin), &rrs[k])
		}
		return w.Finish(), false
	}
	want, _ := build(false)
	got, fast := build(true)
	if string(got) != string(want) {
		t.Fatalf("%s, %d answers, order %v: encoded set\n%x\nrecord by record\n%x", qname, answers, order, got, want)
	}
	return fast
}
