package dnsserver

import (
	"sync/atomic"

	"github.com/signpost-cdn/signpost/internal/metrics"
)

// Counting a query costs a locked add per counter, and a locked add also
// waits for the stores before it (the response just written) to drain. A
// worker therefore defers its increments: a pendingAdd accumulates
// increments of one counter index while the index repeats (a batch of
// queries is mostly NOERROR answers to A queries) and adds them with one
// atomic operation when the index changes or at the end of the batch
// (Processor.flushCounts). Readers see the counts of a batch once it is
// answered; nothing is lost.

// pendingAdd is the pending run of one counter array: n increments of
// index i. The zero value has nothing pending.
type pendingAdd struct {
	i int
	n uint64
}

// add counts one at index i of cs, flushing a pending run of another index.
func (a *pendingAdd) add(cs []atomic.Uint64, i int) {
	if a.n != 0 && a.i != i {
		cs[a.i].Add(a.n)
		a.n = 0
	}
	a.i = i
	a.n++
}

// flush adds the pending run to cs.
func (a *pendingAdd) flush(cs []atomic.Uint64) {
	if a.n != 0 {
		cs[a.i].Add(a.n)
		a.n = 0
	}
}

// pendingInc is pendingAdd for registry counters.
type pendingInc struct {
	i int
	n uint64
}

// add counts one at index i of cs, flushing a pending run of another index.
func (a *pendingInc) add(cs []*metrics.Counter, i int) {
	if a.n != 0 && a.i != i {
		cs[a.i].Add(a.n)
		a.n = 0
	}
	a.i = i
	a.n++
}

// flush adds the pending run to cs.
func (a *pendingInc) flush(cs []*metrics.Counter) {
	if a.n != 0 {
		cs[a.i].Add(a.n)
		a.n = 0
	}
}

// batchFlusher is a Handler that defers counts in its per-worker state
// (Response.HandlerState) until the engine ends a batch.
type batchFlusher interface {
	flushBatch(r *Response)
}

// flushCounts publishes the counts deferred by p and by its handler. The
// Linux UDP engine calls it after each batch (before sending the answers),
// Serve after each query.
func (p *Processor) flushCounts() {
	p.pendQType.flush(p.shard.qtypes[:])
	p.pendRcode.flush(p.shard.rcodes[:])
	if ref := p.handler.Load(); ref != nil {
		if f, ok := ref.h.(batchFlusher); ok {
			f.flushBatch(&p.r)
		}
	}
}
