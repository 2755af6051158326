package dnsserver

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// DropReason says why a query got no response.
type DropReason uint8

// Drop reasons.
const (
	// DropMalformed: header unreadable (shorter than 12 bytes) or QR=1.
	DropMalformed DropReason = iota
	// DropNotReady: no handler installed yet (no routing table).
	DropNotReady
	// DropHandler: the handler called Response.Drop.
	DropHandler
	// DropOversize: a UDP datagram larger than the receive slot.
	DropOversize
	// DropPanic: the handler panicked; the worker recovered.
	DropPanic
	// DropNoRoom: the response buffer could not hold a header (a bug).
	DropNoRoom
	// DropWriteError: the socket refused the response.
	DropWriteError
	// NumDropReasons is the number of drop reasons.
	NumDropReasons
)

var dropNames = [NumDropReasons]string{"malformed", "not_ready", "handler", "oversize", "panic", "no_room", "write_error"}

// String names the reason (Prometheus label style).
func (d DropReason) String() string {
	if d < NumDropReasons {
		return dropNames[d]
	}
	return "unknown"
}

// NumRcodes is the size of Snapshot.Rcodes: RCODEs 0-15 and BADVERS (16).
const NumRcodes = 17

// QType buckets counted by the server; the rest fall into "other".
var qtypeNames = [...]string{"A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA", "SRV", "DS", "RRSIG", "NSEC", "DNSKEY", "HTTPS", "CAA", "ANY", "other"}

// NumQTypes is the size of Snapshot.QTypes.
const NumQTypes = len(qtypeNames)

// QTypeName names bucket i of Snapshot.QTypes.
func QTypeName(i int) string { return qtypeNames[i] }

func qtypeBucket(t uint16) int {
	switch t {
	case 1:
		return 0
	case 2:
		return 1
	case 5:
		return 2
	case 6:
		return 3
	case 12:
		return 4
	case 15:
		return 5
	case 16:
		return 6
	case 28:
		return 7
	case 33:
		return 8
	case 43:
		return 9
	case 46:
		return 10
	case 47:
		return 11
	case 48:
		return 12
	case 65:
		return 13
	case 257:
		return 14
	case 255:
		return 15
	}
	return 16
}

// NumLatencyBuckets is the size of Snapshot.Latency. Bucket i counts
// responses built in less than LatencyBound(i); the last is unbounded.
const NumLatencyBuckets = 18

// LatencyBound returns the upper bound of latency bucket i: 1µs << i (about
// 1 µs to 65 ms), or 0 for the last, unbounded, bucket.
func LatencyBound(i int) time.Duration {
	if i >= NumLatencyBuckets-1 {
		return 0
	}
	return time.Microsecond << i
}

func latencyBucket(d time.Duration) int {
	// Microseconds approximated by >>10 to avoid a division.
	b := bits.Len64(uint64(d) >> 10)
	if b >= NumLatencyBuckets {
		return NumLatencyBuckets - 1
	}
	return b
}

// shard holds one worker's counters; workers add to their own shard only,
// so the atomics never contend. Padded to keep shards on separate cache
// lines. Queries are not counted apart: every message received ends in
// exactly one response (rcodes) or one drop other than DropWriteError,
// which follows a counted response (see queriesOf).
type shard struct {
	rcodes     [NumRcodes]atomic.Uint64
	qtypes     [NumQTypes]atomic.Uint64
	drops      [NumDropReasons]atomic.Uint64
	truncated  atomic.Uint64
	latency    [NumLatencyBuckets]atomic.Uint64
	latencySum atomic.Uint64
	_          [64]byte
}

// countResponse counts a response's truncation and latency (its response
// code is counted through Processor.pendRcode).
func (s *shard) countResponse(tc bool, d time.Duration, timed bool) {
	if tc {
		s.truncated.Add(1)
	}
	if timed {
		s.latency[latencyBucket(d)].Add(1)
		s.latencySum.Add(uint64(d))
	}
}

// queriesOf returns the messages the shard's worker received: responses
// plus drops, a write error being a response that was already counted.
func (s *shard) queriesOf() uint64 {
	var n uint64
	for i := range s.rcodes {
		n += s.rcodes[i].Load()
	}
	for i := range s.drops {
		if DropReason(i) != DropWriteError {
			n += s.drops[i].Load()
		}
	}
	return n
}

// Stats is the set of counter shards of a Server. Export it with Snapshot.
type Stats struct {
	shards []shard
}

func newStats(n int) *Stats { return &Stats{shards: make([]shard, n)} }

// Snapshot is a point-in-time sum of all shards. Counters only grow.
type Snapshot struct {
	// Queries counts every message received (including malformed ones).
	Queries uint64
	// Rcodes counts responses sent by RCODE (index 16 = BADVERS).
	Rcodes [NumRcodes]uint64
	// QTypes counts accepted queries by QType bucket (see QTypeName).
	QTypes [NumQTypes]uint64
	// Drops counts queries without a response, by DropReason.
	Drops [NumDropReasons]uint64
	// Truncated counts responses with TC set.
	Truncated uint64
	// Latency counts responses by time from receipt to the finished
	// message (see LatencyBound); LatencySum is the total.
	Latency    [NumLatencyBuckets]uint64
	LatencySum time.Duration
	// TCPAccepted, TCPRejected (over a connection cap) and TCPActive
	// describe TCP connections.
	TCPAccepted, TCPRejected uint64
	TCPActive                int64
}

// Snapshot sums the shards.
func (s *Stats) Snapshot() Snapshot {
	ptrs := make([]*shard, len(s.shards))
	for i := range s.shards {
		ptrs[i] = &s.shards[i]
	}
	return snapshotShards(ptrs...)
}

func snapshotShards(shards ...*shard) Snapshot {
	var out Snapshot
	for _, s := range shards {
		out.Queries += s.queriesOf()
		for i := range s.rcodes {
			out.Rcodes[i] += s.rcodes[i].Load()
		}
		for i := range s.qtypes {
			out.QTypes[i] += s.qtypes[i].Load()
		}
		for i := range s.drops {
			out.Drops[i] += s.drops[i].Load()
		}
		out.Truncated += s.truncated.Load()
		for i := range s.latency {
			out.Latency[i] += s.latency[i].Load()
		}
		out.LatencySum += time.Duration(s.latencySum.Load())
	}
	return out
}
