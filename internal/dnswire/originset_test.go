package dnswire

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestCopyLower checks copyLower (a copy and in place) against lower on
// every length up to 40, which covers the byte loop and the overlapping
// last word.
func TestCopyLower(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 40 {
		for range 50 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			want := make([]byte, n)
			for i := range b {
				want[i] = lower(b[i])
			}
			src := append([]byte(nil), b...)
			dst := make([]byte, n)
			copyLower(dst, src)
			if string(dst) != string(want) || string(src) != string(b) {
				t.Fatalf("copyLower(%x): %x, want %x (source changed: %v)", b, dst, want, string(src) != string(b))
			}
			copyLower(b, b)
			if string(b) != string(want) {
				t.Fatalf("copyLower in place: %x, want %x", b, want)
			}
		}
	}
}

// TestOriginSet compares AppendOriginSet with AppendTTL record by record
// for sets whose names compress against the question, each other and
// themselves, for questions at, below and outside the origin, in every
// order, and checks when the prepared path must step aside.
func TestOriginSet(t *testing.T) {
	origin := wireName(t, "geo.cdn.test")
	sets := map[string][]RR{
		"one NS": {*mustRR(NewNS("tr0.cdn.test.", 3600))},
		"NS sharing a suffix": {
			*mustRR(NewNS("tr0.dns.cdn.test.", 60)), *mustRR(NewNS("tr1.dns.cdn.test.", 60)),
			*mustRR(NewNS("dns.cdn.test.", 60)), *mustRR(NewNS("x.tr1.dns.cdn.test.", 60)),
		},
		"NS below the origin": {*mustRR(NewNS("ns1.geo.cdn.test.", 60)), *mustRR(NewNS("ns2.geo.cdn.test.", 60))},
		"NS elsewhere": {
			*mustRR(NewNS("a.example.net.", 60)), *mustRR(NewNS("b.example.net.", 60)),
			*mustRR(NewNS(".", 60)), *mustRR(NewNS("geo.cdn.test.", 60)),
		},
		"SOA":         {*mustRR(NewSOA(SOA{MName: "tr0.cdn.test", RName: "traffic_ops.geo.cdn.test", Serial: 1, Refresh: 2, Retry: 3, Expire: 4, Minimum: 5}, 30))},
		"SOA outside": {*mustRR(NewSOA(SOA{MName: "ns.example.org", RName: "admin.ns.example.org", Serial: 1}, 30))},
		"A":           {*mustRR(NewA(netip.MustParseAddr("192.0.2.1"), 5)), *mustRR(NewA(netip.MustParseAddr("192.0.2.2"), 5))},
	}
	qnames := []string{
		"geo.cdn.test.", "GEO.cdn.Test.", "edge.geo.cdn.test.", "EDGE.Geo.CDN.test.",
		"ns1.geo.cdn.test.", "x.NS1.geo.cdn.test.", "traffic_ops.geo.cdn.test.",
		"a.b.c.geo.cdn.test.", "cdn.test.", "other.example.",
	}
	a := mustRR(NewA(netip.MustParseAddr("192.0.2.9"), 30))
	cname := mustRR(NewCNAME("x.geo.cdn.test.", 30))
	fast := 0
	for name, rrs := range sets {
		set := NewOriginSet(origin, rrs)
		if set == nil || set.Len() != len(rrs) {
			t.Fatalf("%s: not prepared", name)
		}
		for _, qn := range qnames {
			for _, ecs := range []bool{false, true} {
				for answers := range 3 {
					for _, order := range permutations(len(rrs)) {
						msg := query(qn, dns.TypeA)
						if ecs {
							msg = withECS(msg, 1232, false, "10.0.0.0/24")
						}
						q := mustParse(t, pack(t, msg))
						build := func(prepared, checked bool) ([]byte, bool) {
							var w Writer
							w.Start(make([]byte, 0, MaxUDPSize), q, q.UDPLimit())
							switch answers {
							case 1:
								w.Append(Answer, OwnerAt(QuestionOffset), a)
							case 2: // a name enters the compression table
								w.Append(Answer, OwnerAt(QuestionOffset), cname)
							}
							if checked && w.AppendOriginSetChecked(Authority, set, order) {
								return w.Finish(), true
							}
							if prepared && !checked && w.AppendOriginSet(Authority, set, order) {
								return w.Finish(), true
							}
							for k := range rrs {
								i := k
								if order != nil {
									i = int(order[k])
								}
								w.Append(Authority, OwnerName(origin), &rrs[i])
							}
							return w.Finish(), false
						}
						want, _ := build(false, false)
						got, ok := build(true, false)
						if string(got) != string(want) {
							t.Fatalf("%s, %s, ecs %v, answers %d, order %v:\n got %x\nwant %x", name, qn, ecs, answers, order, got, want)
						}
						// With the question checked in advance, the same.
						if set.AppliesTo(q.Name()) {
							got2, ok2 := build(true, true)
							if string(got2) != string(want) || ok2 != ok {
								t.Fatalf("%s, %s, ecs %v, answers %d, order %v: checked path (%v)\n got %x\nwant %x (%v)", name, qn, ecs, answers, order, ok2, got2, want, ok)
							}
						} else if ok {
							t.Fatalf("%s, %s: prepared path taken but AppliesTo false", name, qn)
						}
						if ok {
							fast++
						}
						onOrBelow := strings.HasSuffix(strings.ToLower(qn), "geo.cdn.test.")
						if ok && (!onOrBelow || answers == 2) {
							t.Fatalf("%s, %s, answers %d: prepared path taken", name, qn, answers)
						}
						if !ok && onOrBelow && answers < 2 && !strings.HasPrefix(strings.ToLower(qn), "ns1.") &&
							!strings.Contains(strings.ToLower(qn), ".ns1.") && !strings.HasPrefix(qn, "traffic_ops.") {
							t.Fatalf("%s, %s, answers %d: prepared path not taken", name, qn, answers)
						}
					}
				}
			}
		}
	}
	if fast == 0 {
		t.Fatal("prepared path never taken")
	}
}

func TestOriginSetTruncation(t *testing.T) {
	origin := wireName(t, "geo.cdn.test")
	var rrs []RR
	for i := range 16 {
		rrs = append(rrs, *mustRR(NewNS(strings.Repeat("n", 40)+string(rune('a'+i))+".example.net.", 60)))
	}
	set := NewOriginSet(origin, rrs)
	q := mustParse(t, pack(t, query("edge.geo.cdn.test.", dns.TypeA)))
	var w Writer
	w.Start(make([]byte, 0, MaxUDPSize), q, q.UDPLimit())
	if w.AppendOriginSet(Authority, set, nil) {
		t.Fatal("a set larger than the limit was written")
	}
	if w.Len() != 12+len("edge.geo.cdn.test")+2+4 || w.Truncated() {
		t.Fatalf("len %d, tc %v after a refused set", w.Len(), w.Truncated())
	}
	if NewOriginSet(origin, nil) != nil || NewOriginSet([]byte{0}, rrs[:1]) != nil {
		t.Fatal("empty set or root origin prepared")
	}
	mixed := []RR{rrs[0], *mustRR(NewA(netip.MustParseAddr("192.0.2.1"), 5))}
	if NewOriginSet(origin, mixed) != nil {
		t.Fatal("mixed types prepared")
	}
}

// permutations returns every order of n records, and nil (the stored order).
func permutations(n int) [][]uint8 {
	if n == 1 {
		return [][]uint8{nil}
	}
	out := [][]uint8{nil} // the stored order, through the template
	var rec func(p []uint8, used int)
	rec = func(p []uint8, used int) {
		if len(p) == n {
			out = append(out, append([]uint8(nil), p...))
			return
		}
		for i := range n {
			if used&(1<<i) == 0 {
				rec(append(p, uint8(i)), used|1<<i)
			}
		}
	}
	rec(nil, 0)
	return out
}

func TestReadNameCompressedCopy(t *testing.T) {
	msg := make([]byte, HeaderLen)
	msg = append(msg, "\x03Foo\x03BAR\x00"...) // offset 12
	msg = append(msg, "\x01X\x02yZ"...)        // offset 21
	msg = append(msg, 0xC0, 16)                // -> "\x03BAR\x00"
	var dst [MaxNameLen]byte
	n, labels, end, err := readName(msg, 21, &dst)
	if err != nil || string(dst[:n]) != "\x01x\x02yz\x03bar\x00" || labels != 3 || end != len(msg) {
		t.Fatalf("readName: %q, %d labels, end %d, %v", dst[:n], labels, end, err)
	}
}
