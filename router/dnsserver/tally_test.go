package dnsserver

import (
	"sync/atomic"
	"testing"

	"github.com/signpost-cdn/signpost/internal/metrics"
)

func TestPendingAddRuns(t *testing.T) {
	var cs [3]atomic.Uint64
	var a pendingAdd
	for _, i := range []int{0, 0, 1, 1, 1, 0, 2} {
		a.add(cs[:], i)
	}
	// Runs end when the index changes: 0x2, 1x3, 0x1 are in; 2x1 pends.
	if cs[0].Load() != 3 || cs[1].Load() != 3 || cs[2].Load() != 0 {
		t.Fatalf("before flush: %d %d %d", cs[0].Load(), cs[1].Load(), cs[2].Load())
	}
	a.flush(cs[:])
	a.flush(cs[:])
	if cs[2].Load() != 1 {
		t.Fatalf("after flush: %d", cs[2].Load())
	}

	reg := metrics.NewRegistry(metrics.Options{})
	vec := reg.CounterVec("t_total", "t", "k")
	ms := []*metrics.Counter{vec.With("a"), vec.With("b")}
	var b pendingInc
	for _, i := range []int{1, 1, 0, 1} {
		b.add(ms, i)
	}
	b.flush(ms)
	if ms[0].Value() != 1 || ms[1].Value() != 3 {
		t.Fatalf("registry counters %d %d", ms[0].Value(), ms[1].Value())
	}
}
