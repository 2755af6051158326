package dnswire

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// benchInputs are the messages the benchmarks and the allocation tests share.
type benchInputs struct {
	plain, ecs []byte
	a1, a2     *RR
	buf        []byte
}

func newBenchInputs(tb testing.TB) *benchInputs {
	tb.Helper()
	return &benchInputs{
		plain: pack(tb, query("edge.dns-test.thecdn.example.com.", dns.TypeA)),
		ecs:   pack(tb, withECS(query("edge.dns-test.thecdn.example.com.", dns.TypeA), 1232, true, "192.168.33.0/24")),
		a1:    mustRR(NewA(netip.MustParseAddr("12.34.0.101"), 30)),
		a2:    mustRR(NewA(netip.MustParseAddr("12.34.0.102"), 30)),
		buf:   make([]byte, 0, MaxUDPSize),
	}
}

// benchOriginSet prepares the NS set of dns-test.thecdn.example.com (the
// zone of the inputs' question) with the given name servers.
func benchOriginSet(tb testing.TB, servers ...string) *OriginSet {
	tb.Helper()
	origin, _ := AppendName(nil, "dns-test.thecdn.example.com.")
	var rrs []RR
	for _, ns := range servers {
		rrs = append(rrs, *mustRR(NewNS(ns, 3600)))
	}
	set := NewOriginSet(origin, rrs)
	if set == nil {
		tb.Fatal("set not prepared")
	}
	return set
}

// buildResponse answers q with two A records and the OPT record.
func buildResponse(w *Writer, q *Query, in *benchInputs) []byte {
	w.Start(in.buf, q, q.UDPLimit())
	w.SetAuthoritative(true)
	if q.ECS {
		w.SetECSScope(q.ECSSource)
	}
	w.Append(Answer, OwnerAt(QuestionOffset), in.a1)
	w.Append(Answer, OwnerAt(QuestionOffset), in.a2)
	return w.Finish()
}

func BenchmarkParse(b *testing.B) {
	in := newBenchInputs(b)
	var q Query
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if q.Parse(in.plain) != Accept {
				b.Fatal("parse")
			}
		}
	})
	b.Run("edns-ecs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if q.Parse(in.ecs) != Accept {
				b.Fatal("parse")
			}
		}
	})
}

func BenchmarkWriteResponse(b *testing.B) {
	in := newBenchInputs(b)
	q := mustParse(b, in.ecs)
	var w Writer
	b.ReportAllocs()
	for b.Loop() {
		if len(buildResponse(&w, q, in)) == 0 {
			b.Fatal("empty")
		}
	}
}

func BenchmarkWriteCompressedOwner(b *testing.B) {
	in := newBenchInputs(b)
	q := mustParse(b, in.plain)
	var w Writer
	ns := mustRR(NewNS("edge-testing-tr-02.thecdn.example.com.", 3600))
	zone, _ := AppendName(nil, "thecdn.example.com.")
	b.ReportAllocs()
	for b.Loop() {
		w.Start(in.buf, q, q.UDPLimit())
		w.Append(Answer, OwnerAt(QuestionOffset), in.a1)
		for range 4 {
			w.Append(Authority, OwnerName(zone), ns)
		}
		w.Finish()
	}
}

// BenchmarkAppendOriginSet writes a routed answer's authority section: the
// one-record NS set of the zone the question lies in.
func BenchmarkAppendOriginSet(b *testing.B) {
	in := newBenchInputs(b)
	q := mustParse(b, in.ecs)
	var w Writer
	set := benchOriginSet(b, "tr0.thecdn.example.com.")
	w.Start(in.buf, q, q.UDPLimit())
	w.Append(Answer, OwnerAt(QuestionOffset), in.a1)
	mark, counts, sec, ncomp := len(w.buf), w.counts, w.sec, w.ncomp
	b.ReportAllocs()
	for b.Loop() {
		w.buf, w.counts, w.sec, w.ncomp, w.setCount = w.buf[:mark], counts, sec, ncomp, 0
		if !w.AppendOriginSet(Authority, set, nil) {
			b.Fatal("not written")
		}
	}
}
