//go:build linux && !race

package dnsserver

import "testing"

// TestProcessBatchRoutedAllocs: the UDP engine answers BenchmarkProcessBatchRouted's
// batch (routed A and AAAA with ECS, static, NXDOMAIN, metrics on)
// without allocating.
func TestProcessBatchRoutedAllocs(t *testing.T) {
	s, p, bt, msgs := routedBatch(t)
	if n := testing.AllocsPerRun(100, func() {
		fillBatchMsgs(bt, msgs)
		s.processBatch(bt, p)
	}); n != 0 {
		t.Fatalf("%v allocations per batch of %d, want 0", n, len(msgs))
	}
}

// TestProcessBatchWildcardAllocs: the same batch on a socket bound to a
// wildcard address, each answer's source taken from its query's
// destination, allocates nothing either.
func TestProcessBatchWildcardAllocs(t *testing.T) {
	s, p, bt, msgs := routedBatch(t)
	bt.withControl()
	m := pktinfo4()
	if n := testing.AllocsPerRun(100, func() {
		fillBatchMsgs(bt, msgs)
		fillDestinations(bt, m, len(msgs))
		s.processBatch(bt, p)
	}); n != 0 {
		t.Fatalf("%v allocations per batch of %d, want 0", n, len(msgs))
	}
	for i := range msgs {
		if got := bt.hdrs[i].Hdr.Controllen; got != uint64(len(m)) {
			t.Fatalf("datagram %d: answer's control length %d, want the IP_PKTINFO message", i, got)
		}
	}
}
