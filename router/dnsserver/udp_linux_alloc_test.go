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
