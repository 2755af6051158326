package loadtest

import (
	"testing"
)

// BenchmarkUDPRoundTrip sends a batch of 32 queries on loopback and
// receives and checks every answer; ns/op is per batch (queries/s is
// reported).
func BenchmarkUDPRoundTrip(b *testing.B) {
	e, _ := newTestUDPEngine(b, udpResponder(b, false))
	b.ReportAllocs()
	for b.Loop() {
		e.roundTrip(udpBatch)
	}
	b.ReportMetric(float64(b.N*udpBatch)/b.Elapsed().Seconds(), "queries/s")
}

func BenchmarkHTTPRequest(b *testing.B) {
	w, _ := newTestHTTPWorker(b)
	b.ReportAllocs()
	for b.Loop() {
		w.one(-1)
	}
}

func BenchmarkCheckDNS(b *testing.B) {
	cdn := fakeCDN()
	q := fakeQueries(b, 1)[0]
	ans := appendAnswer(nil, q.wire, mustAddr("10.0.0.1"))
	b.ReportAllocs()
	for b.Loop() {
		if cdn.checkDNS(&q, ans).out != outOK {
			b.Fatal("not ok")
		}
	}
}
