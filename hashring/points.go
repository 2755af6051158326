package hashring

import (
	"slices"
	"strconv"
	"sync"
)

// Points is the sorted, deduplicated point set of one item (spec §5.2): the
// hashes of hashId+"--"+i for i in [0, count). It is immutable once built and
// may be shared by any number of rings and goroutines.
type Points struct {
	mode   Mode
	hashID string
	count  int
	vals   []float64
	idx    index // over vals
}

// NewPoints computes the point set of hashID with count virtual nodes. A
// count of zero or less gives an empty set (a "zero-hash" item, ordered by
// Member.Order). Builders normally go through a PointCache instead.
func NewPoints(mode Mode, hashID string, count int) *Points {
	p := &Points{mode: mode, hashID: hashID, count: count}
	if count <= 0 {
		return p
	}
	vals := make([]float64, count)
	buf := make([]byte, 0, len(hashID)+2+20)
	buf = append(buf, hashID...)
	buf = append(buf, "--"...)
	base := len(buf)
	for i := range count {
		buf = strconv.AppendInt(buf[:base], int64(i), 10)
		vals[i] = mode.HashBytes(buf)
	}
	slices.Sort(vals)
	p.vals = slices.Clip(slices.Compact(vals))
	p.idx = newIndex(p.vals)
	return p
}

// Mode returns the hash mode the points were computed with.
func (p *Points) Mode() Mode { return p.mode }

// HashID returns the identity the points were derived from.
func (p *Points) HashID() string { return p.hashID }

// Count returns the requested number of virtual nodes.
func (p *Points) Count() int { return p.count }

// Len returns the number of distinct points (Count minus collisions, 0 for a
// zero-hash item).
func (p *Points) Len() int { return len(p.vals) }

// At returns the i-th point in ascending order.
func (p *Points) At(i int) float64 { return p.vals[i] }

// Nearest returns the index of the point nearest to h with Traffic Router's
// NumberSearcher rule (spec §5.3): an exact hit wins, beyond either end the
// end point, otherwise the upper neighbour only when strictly closer. It
// returns -1 for an empty set.
func (p *Points) Nearest(h float64) int {
	a := p.vals
	if len(a) == 0 {
		return -1
	}
	i := p.idx.search(a, h)
	switch {
	case i < len(a) && a[i] == h:
		return i
	case i == len(a):
		return len(a) - 1
	case i == 0:
		return 0
	}
	if a[i]-h < h-a[i-1] {
		return i
	}
	return i - 1
}

// index is a bucket index over a sorted slice a: [a[0], a[last]] is split
// into about len(a)/2 equal buckets, and the values of bucket b are
// a[bidx[b]:bidx[b+1]]. It replaces most of a binary search. The zero value
// (no buckets) falls back to the binary search.
type index struct {
	bidx   []int32
	bmin   float64
	bscale float64
}

func newIndex(a []float64) index {
	n := len(a)
	if n < 16 || !(a[n-1] > a[0]) {
		return index{}
	}
	nb := n / 2
	x := index{bidx: make([]int32, nb+1), bmin: a[0], bscale: float64(nb) / (a[n-1] - a[0])}
	i := 0
	for b := range nb {
		for i < n && x.bucket(a[i]) < b {
			i++
		}
		x.bidx[b] = int32(i)
	}
	x.bidx[nb] = int32(n)
	return x
}

// bucket maps v monotonically (v <= w implies bucket(v) <= bucket(w)) to
// [0, len(bidx)-2]: float subtraction and multiplication by a positive
// constant are monotone, and so are the clamps and the truncation.
func (x *index) bucket(v float64) int {
	f := (v - x.bmin) * x.bscale
	if !(f > 0) {
		return 0
	}
	return int(min(f, float64(len(x.bidx)-2)))
}

// search returns the first i with a[i] >= h (len(a) if none). Values in
// lower buckets than h's are below h and values in higher buckets above
// it, so only h's bucket is searched.
func (x *index) search(a []float64, h float64) int {
	if x.bidx == nil {
		return searchFloats(a, h)
	}
	b := x.bucket(h)
	lo, hi := int(x.bidx[b]), int(x.bidx[b+1])
	return lo + searchFloats(a[lo:hi], h)
}

// searchFloats returns the first index i with a[i] >= h (len(a) if none).
func searchFloats(a []float64, h float64) int {
	lo, hi := 0, len(a)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a[m] < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// PointCache computes point sets once per (hashId, count) and hands the same
// *Points to every builder that asks again, so a reload that keeps a cache's
// identity reuses its points. It is safe for concurrent use; it is meant for
// table builders, not for the query path.
//
// Entries not requested since the previous Sweep are dropped by Sweep, so a
// builder that calls Sweep after each successful build keeps the cache at the
// size of the current topology.
type PointCache struct {
	mode Mode
	mu   sync.Mutex
	gen  uint64
	m    map[pointKey]*pointEntry
}

type pointKey struct {
	hashID string
	count  int
}

type pointEntry struct {
	p   *Points
	gen uint64
}

// NewPointCache returns an empty cache computing points with mode.
func NewPointCache(mode Mode) *PointCache {
	return &PointCache{mode: mode, m: make(map[pointKey]*pointEntry)}
}

// Mode returns the cache's hash mode.
func (c *PointCache) Mode() Mode { return c.mode }

// Get returns the points of hashID with count virtual nodes, computing them
// on first use. Counts of zero or less all share one empty set per hashID.
func (c *PointCache) Get(hashID string, count int) *Points {
	if count < 0 {
		count = 0
	}
	k := pointKey{hashID, count}
	c.mu.Lock()
	if e, ok := c.m[k]; ok {
		e.gen = c.gen
		c.mu.Unlock()
		return e.p
	}
	c.mu.Unlock()

	// Compute without the lock: a thousand MD5s must not block other
	// builders. If two builders race, the first stored result wins.
	p := NewPoints(c.mode, hashID, count)

	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		e.gen = c.gen
		return e.p
	}
	c.m[k] = &pointEntry{p: p, gen: c.gen}
	return p
}

// Sweep drops every entry not returned by Get since the previous Sweep and
// starts a new generation. Points already handed out stay valid.
func (c *PointCache) Sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.gen != c.gen {
			delete(c.m, k)
		}
	}
	c.gen++
}

// Len returns the number of cached point sets.
func (c *PointCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
