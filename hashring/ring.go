package hashring

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// Member is one candidate of a Ring. Members are identified by their index
// in the slice given to NewRing; that index is also their input order, which
// decides exact ties the way Traffic Router's list order does (spec §5.9).
type Member struct {
	// Points are the member's virtual nodes; nil or empty makes it a
	// zero-hash member placed by Order.
	Points *Points
	// Order places a zero-hash member: negative orders go to the head
	// (most negative first), the others to the tail (ascending). Ignored
	// for members with points.
	Order int
}

// Dispersion is Traffic Router's dispersion of a delivery service (spec
// §5.5): keep the first Limit candidates, and shuffle them when Shuffled.
// A Limit of zero or less selects nothing.
type Dispersion struct {
	Limit    int
	Shuffled bool
}

// Ring orders the members of one candidate set for request hashes. It is
// immutable after NewRing and safe for concurrent use.
type Ring struct {
	mode    Mode
	n       int
	pts     []float64 // -Inf, every point of every member ascending, +Inf
	own     []int32   // own[i] is the member owning pts[i] (-1: sentinel)
	points  []*Points // per member; nil for zero-hash members
	weights []int32   // members with points, ascending
	neg     []int32   // zero-hash members with Order < 0, processing order
	pos     []int32   // zero-hash members with Order >= 0, processing order
	budget  int       // walk steps before falling back to per-member search
	pool    sync.Pool // *scratch, for rings too large for the stack buffers
	idx     index     // over the points between the sentinels
}

// stackMembers is the largest ring whose query scratch lives on the stack.
const stackMembers = 16

// NewRing builds the ring of members. All members with points must share
// one hash mode.
func NewRing(members []Member) (*Ring, error) {
	if len(members) > math.MaxInt32 {
		return nil, fmt.Errorf("hashring: %d members, more than %d", len(members), math.MaxInt32)
	}
	r := &Ring{n: len(members), points: make([]*Points, len(members))}
	total := 0
	modeSet := false
	var errs []error
	for i, m := range members {
		if m.Points == nil || m.Points.Len() == 0 {
			continue
		}
		if !modeSet {
			r.mode, modeSet = m.Points.mode, true
		} else if m.Points.mode != r.mode {
			errs = append(errs, fmt.Errorf("hashring: member %d (hashId %q): mode %v, ring mode %v",
				i, m.Points.hashID, m.Points.mode, r.mode))
		}
		total += m.Points.Len()
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	type tagged struct {
		p float64
		m int32
	}
	all := make([]tagged, 0, total)
	var zero []int32
	for i, m := range members {
		if m.Points == nil || m.Points.Len() == 0 {
			zero = append(zero, int32(i))
			continue
		}
		r.points[i] = m.Points
		r.weights = append(r.weights, int32(i))
		for _, p := range m.Points.vals {
			all = append(all, tagged{p, int32(i)})
		}
	}
	slices.SortFunc(all, func(a, b tagged) int {
		if c := cmp.Compare(a.p, b.p); c != 0 {
			return c
		}
		return cmp.Compare(a.m, b.m)
	})
	// The infinite sentinels are farther from any finite h than every
	// point, so the walk needs no bounds checks: meeting one (distance
	// +Inf) means that side is exhausted, both means every point was seen.
	r.pts = make([]float64, len(all)+2)
	r.own = make([]int32, len(all)+2)
	r.pts[0], r.own[0] = math.Inf(-1), -1
	for i, t := range all {
		r.pts[i+1], r.own[i+1] = t.p, t.m
	}
	r.pts[len(all)+1], r.own[len(all)+1] = math.Inf(1), -1
	// Traffic Router sorts zero-hash items stably: two negative orders
	// descending, otherwise ascending. That is negatives by descending
	// order, then non-negatives by ascending order.
	slices.SortStableFunc(zero, func(a, b int32) int {
		oa, ob := members[a].Order, members[b].Order
		if oa < 0 && ob < 0 {
			return cmp.Compare(ob, oa)
		}
		return cmp.Compare(oa, ob)
	})
	for _, z := range zero {
		if members[z].Order < 0 {
			r.neg = append(r.neg, z)
		} else {
			r.pos = append(r.pos, z)
		}
	}
	r.idx = newIndex(r.pts[1 : len(r.pts)-1])
	r.budget = 4*len(r.weights) + 32
	n := r.n
	r.pool.New = func() any { return newScratch(n) }
	return r, nil
}

// start returns the index in pts of the first point >= h (the +Inf
// sentinel if none).
func (r *Ring) start(h float64) int {
	return 1 + r.idx.search(r.pts[1:len(r.pts)-1], h)
}

// step takes the nearer of pts[lo] and pts[hi] to h (the lower one on
// equal distances), moves past it and returns its distance and index. A
// distance of +Inf means both sides are exhausted.
func step(pts []float64, h float64, lo, hi *int) (float64, int) {
	l, u := *lo, *hi
	dl, du := h-pts[l], pts[u]-h
	if dl <= du {
		*lo = l - 1
		return dl, l
	}
	*hi = u + 1
	return du, u
}

// Len returns the number of members.
func (r *Ring) Len() int { return r.n }

// Mode returns the hash mode of the members' points (MD5 when no member has
// points).
func (r *Ring) Mode() Mode { return r.mode }

// Hash hashes a request string with the ring's mode.
func (r *Ring) Hash(s string) float64 { return r.mode.Hash(s) }

// AppendOrder appends every available member in Traffic Router's order for
// the request hash h (selectHashables without dispersion). avail reports
// whether member i is a candidate; nil means all are. Unavailable members
// are left out before ordering, as Traffic Router removes them from the
// candidate list. It does not allocate when dst has room.
func (r *Ring) AppendOrder(dst []int32, h float64, avail func(i int) bool) []int32 {
	return r.AppendNearest(dst, h, r.n, avail)
}

// AppendDispersed appends the candidates Traffic Router selects with
// dispersion d: the first d.Limit of AppendOrder, in random order when
// d.Shuffled (math/rand/v2, lock free).
func (r *Ring) AppendDispersed(dst []int32, h float64, d Dispersion, avail func(i int) bool) []int32 {
	start := len(dst)
	dst = r.AppendNearest(dst, h, d.Limit, avail)
	if d.Shuffled {
		s := dst[start:]
		for i := len(s) - 1; i > 0; i-- {
			j := rand.IntN(i + 1)
			s[i], s[j] = s[j], s[i]
		}
	}
	return dst
}

// AppendNearest appends the first k members of AppendOrder. It costs a
// binary search plus a walk over about k points in the common case.
func (r *Ring) AppendNearest(dst []int32, h float64, k int, avail func(i int) bool) []int32 {
	if k <= 0 || r.n == 0 {
		return dst
	}
	k = min(k, r.n)
	if r.n <= 64 && len(r.neg) == 0 {
		if out, ok := r.appendFast(dst, h, k, avail); ok {
			return out
		}
	}
	if r.n <= stackMembers {
		var seen [1]uint64
		var ent [stackMembers]entry
		s := newSelector(r, h, avail, seen[:], ent[:0], nil)
		return r.appendNearest(dst, k, avail, &s)
	}
	sc := r.pool.Get().(*scratch)
	clear(sc.seen)
	s := newSelector(r, h, avail, sc.seen, sc.ent[:0], sc.occ[:0])
	dst = r.appendNearest(dst, k, avail, &s)
	r.pool.Put(sc)
	return dst
}

// appendFast is AppendNearest for rings of up to 64 members without
// negative-order zero-hash members (every cache group): the walk appends
// members to dst as it meets them and stops at the k-th, then looks at the
// next candidate; when no two of those keys are equal, no bump can reorder
// anything and the walk order is the answer. It reports false, with dst
// unchanged, when the answer needs the selector (equal keys, or the step
// budget spent).
func (r *Ring) appendFast(dst []int32, h float64, k int, avail func(i int) bool) ([]int32, bool) {
	start := len(dst)
	remaining := -1 // unknown: the walk ends at +Inf or at a strictly farther key
	switch {
	case avail == nil:
		remaining = len(r.weights)
	case k > 1:
		remaining = 0
		for _, m := range r.weights {
			if avail(int(m)) {
				remaining++
			}
		}
	}
	pts, own := r.pts, r.own
	hi := r.start(h)
	lo := hi - 1
	var seen uint64
	found, last := 0, -1.0
	conclusive := false
	for range r.budget {
		if remaining == 0 {
			conclusive = true // every candidate found
			break
		}
		d, p := step(pts, h, &lo, &hi)
		if d > math.MaxFloat64 {
			conclusive = true // every point seen
			break
		}
		m := own[p]
		bit := uint64(1) << (m & 63)
		if seen&bit != 0 {
			continue
		}
		seen |= bit
		if avail != nil && !avail(int(m)) {
			continue
		}
		if d == last {
			return dst[:start], false // equal keys: bumps decide
		}
		if found == k {
			return dst, true // the next candidate is strictly farther
		}
		dst = append(dst, m)
		found++
		remaining--
		last = d
	}
	if !conclusive {
		return dst[:start], false // budget spent
	}
	for _, z := range r.pos {
		if len(dst)-start == k {
			break
		}
		if avail == nil || avail(int(z)) {
			dst = append(dst, z)
		}
	}
	return dst, true
}

func (r *Ring) appendNearest(dst []int32, k int, avail func(i int) bool, s *selector) []int32 {
	// Knowing how many candidates there are stops the walk after the last
	// one instead of walking on until the step budget runs out. It is free
	// without a predicate; with one it costs a call per member, worth it
	// unless only the nearest member is wanted.
	switch {
	case avail == nil:
		s.remaining = len(r.weights)
	case k > 1:
		s.remaining = 0
		for _, m := range r.weights {
			if avail(int(m)) {
				s.remaining++
			}
		}
	}
	start := len(dst)

	// Zero-hash members with a negative order are prepended below the
	// smallest key, one ulp at a time. Crossing below +0.0 the bit pattern
	// decrements to NaN, which sorts last (spec §5.4, quirk 15): those
	// members go to the very end, in processing order.
	availNeg := 0
	for _, z := range r.neg {
		if avail == nil || avail(int(z)) {
			availNeg++
		}
	}
	head := 0
	if availNeg > 0 {
		if s.resolve(1) == 0 {
			head = 1 // an empty map: the first takes 0.0 itself
		} else {
			b := math.Float64bits(s.ent[0].final)
			head = int(min(uint64(availNeg), b))
		}
		taken := 0
		for _, z := range r.neg {
			if taken == head {
				break
			}
			if avail == nil || avail(int(z)) {
				dst = append(dst, z)
				taken++
			}
		}
		slices.Reverse(dst[start:])
		if len(dst)-start > k {
			return dst[:start+k]
		}
	}
	if need := k - (len(dst) - start); need > 0 && len(r.weights) > 0 {
		got := s.resolve(need)
		for _, e := range s.ent[:got] {
			dst = append(dst, e.mem)
		}
	}
	for _, z := range r.pos {
		if len(dst)-start == k {
			return dst
		}
		if avail == nil || avail(int(z)) {
			dst = append(dst, z)
		}
	}
	skipped := 0
	for _, z := range r.neg {
		if len(dst)-start == k {
			return dst
		}
		if avail == nil || avail(int(z)) {
			if skipped < head {
				skipped++
				continue
			}
			dst = append(dst, z)
		}
	}
	return dst
}

type entry struct {
	raw   float64 // |h - nearest point|
	final float64 // the key after Traffic Router's bumps
	mem   int32
}

type scratch struct {
	seen []uint64
	ent  []entry
	occ  []float64
}

func newScratch(n int) *scratch {
	return &scratch{
		seen: make([]uint64, (n+63)/64),
		ent:  make([]entry, 0, n),
		occ:  make([]float64, 0, n),
	}
}
