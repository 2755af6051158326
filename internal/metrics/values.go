package metrics

import (
	"math"
	"sync/atomic"
	"time"
	"unsafe"
)

// cell is one padded counter shard.
type cell struct {
	v atomic.Uint64
	_ [56]byte
}

// shardOf picks a shard from the caller's stack address: goroutines have distinct stacks,
// so concurrent callers tend to hit different cache lines. No runtime internals needed.
func shardOf(mask uintptr) uintptr {
	var marker byte
	h := uintptr(unsafe.Pointer(&marker)) >> 10
	h ^= h >> 7
	h *= 0x9E3779B1
	return (h >> 8) & mask
}

// Counter is a monotonically increasing uint64 split over padded shards, so that
// concurrent increments rarely share a cache line. Inc and Add do not allocate.
type Counter struct {
	cells []cell
	mask  uintptr
}

func newCounter(shards int) *Counter {
	return &Counter{cells: make([]cell, shards), mask: uintptr(shards - 1)}
}

// Inc adds one.
func (c *Counter) Inc() { c.cells[shardOf(c.mask)].v.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.cells[shardOf(c.mask)].v.Add(n) }

// AddShard adds n on the shard chosen by hint, for callers that own a stable index (a
// worker number): distinct hints never contend.
func (c *Counter) AddShard(hint int, n uint64) { c.cells[uintptr(hint)&c.mask].v.Add(n) }

// Value returns the sum of the shards.
func (c *Counter) Value() uint64 {
	var s uint64
	for i := range c.cells {
		s += c.cells[i].v.Load()
	}
	return s
}

// Gauge is a float64 value that can go up and down, stored as atomic bits.
type Gauge struct{ bits atomic.Uint64 }

// Set sets the value.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Add adds d (which may be negative).
func (g *Gauge) Add(d float64) { addFloat(&g.bits, d) }

// Value returns the value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

func addFloat(b *atomic.Uint64, d float64) {
	for {
		old := b.Load()
		if b.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// hshard is one histogram shard: per-bucket counts (the last is +Inf) and the sum.
type hshard struct {
	counts []atomic.Uint64
	sum    atomic.Uint64 // float64 bits
	_      [32]byte
}

// Histogram counts observations in fixed buckets (upper bounds, le semantics) and sums
// them. Observe and ObserveDuration do not allocate.
type Histogram struct {
	bounds []float64
	shards []hshard
	mask   uintptr
}

func newHistogram(bounds []float64, shards int) *Histogram {
	h := &Histogram{bounds: bounds, shards: make([]hshard, shards), mask: uintptr(shards - 1)}
	for i := range h.shards {
		h.shards[i].counts = make([]atomic.Uint64, len(bounds)+1)
	}
	return h
}

// Observe records v.
func (h *Histogram) Observe(v float64) {
	// First bucket whose bound is >= v (binary search; NaN lands in +Inf).
	lo, hi := 0, len(h.bounds)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if h.bounds[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if v != v {
		lo = len(h.bounds)
	}
	s := &h.shards[shardOf(h.mask)]
	s.counts[lo].Add(1)
	addFloat(&s.sum, v)
}

// ObserveDuration records d in seconds.
func (h *Histogram) ObserveDuration(d time.Duration) { h.Observe(d.Seconds()) }

// snapshot returns per-bucket counts (non-cumulative) and the sum.
func (h *Histogram) snapshot(counts []uint64) ([]uint64, float64) {
	counts = append(counts[:0], make([]uint64, len(h.bounds)+1)...)
	var sum float64
	for i := range h.shards {
		s := &h.shards[i]
		for j := range s.counts {
			counts[j] += s.counts[j].Load()
		}
		sum += math.Float64frombits(s.sum.Load())
	}
	return counts, sum
}

// Count returns the number of observations.
func (h *Histogram) Count() uint64 {
	c, _ := h.snapshot(nil)
	var n uint64
	for _, x := range c {
		n += x
	}
	return n
}

// LatencyBuckets returns bucket bounds in seconds suited to router latencies, from 100µs
// to 2.5s.
func LatencyBuckets() []float64 {
	return []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}
}
