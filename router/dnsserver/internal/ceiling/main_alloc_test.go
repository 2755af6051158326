//go:build !race

package main

import (
	"testing"

	"github.com/miekg/dns"
)

// queryWire is a packed A query with an OPT record, as dnsperf sends.
func queryWire(tb testing.TB) []byte {
	q := new(dns.Msg)
	q.SetQuestion("edge.geo.cdn.test.", dns.TypeA)
	q.SetEdns0(1232, false)
	wire, err := q.Pack()
	if err != nil {
		tb.Fatal(err)
	}
	return wire
}

// TestAppendAnswerAllocs: the go mode's answer is built in the reused
// buffer with no allocation, so the reference costs what
// BENCHMARKING.md's bare responder costs and no more.
func TestAppendAnswerAllocs(t *testing.T) {
	wire, out := queryWire(t), make([]byte, 0, 512)
	if n := testing.AllocsPerRun(1000, func() { out, _ = appendAnswer(out[:0], wire, [4]byte{192, 0, 2, 20}) }); n != 0 {
		t.Errorf("%v allocations per answer, want 0", n)
	}
}

func BenchmarkAppendAnswer(b *testing.B) {
	wire, out := queryWire(b), make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		out, _ = appendAnswer(out[:0], wire, [4]byte{192, 0, 2, 20})
	}
}
