//go:build linux && !race

package dnsserver

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestProcessBatchRoutedAllocs: the UDP engine answers BenchmarkProcessBatchRouted's
// batch (routed A and AAAA with ECS, static, NXDOMAIN, metrics on)
// without allocating; so it does on a socket bound to a wildcard address,
// each answer's source taken from its query's destination.
func TestProcessBatchRoutedAllocs(t *testing.T) {
	for _, wildcard := range []bool{false, true} {
		s, p, bt, msgs := routedBatch(t)
		if wildcard {
			bt.withControl()
		}
		if n := testing.AllocsPerRun(100, func() {
			fillBatchMsgs(bt, msgs)
			s.processBatch(bt, p)
		}); n != 0 {
			t.Fatalf("wildcard %v: %v allocations per batch of %d, want 0", wildcard, n, len(msgs))
		}
		if !wildcard {
			continue
		}
		for i := range msgs {
			if got := bt.hdrs[i].Hdr.Controllen; got != uint64(unix.CmsgSpace(unix.SizeofInet4Pktinfo)) {
				t.Fatalf("datagram %d: answer's control length %d, want the IP_PKTINFO message", i, got)
			}
		}
	}
}
