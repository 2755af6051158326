package hashring

import (
	"crypto/md5"
	"math"
	"math/big"
	"slices"
	"sort"
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// This file holds a straightforward port of the Python reference of spec
// §15.7 (itself a transcription of Traffic Router's ConsistentHasher,
// DefaultHashable and NumberSearcher). It shares no code with the package:
// the hash goes through math/big, the map is a list searched linearly, and
// the result is sorted at the end. Every fast path is checked against it.

// refH is H(s) through math/big (spec §5.1, the Go line of the spec).
func refH(mode Mode, s string) float64 {
	if mode == XXHash {
		f, _ := new(big.Float).SetUint64(xxhash.Sum64String(s)).Float64()
		return f
	}
	sum := md5.Sum([]byte(s))
	x := new(big.Int).SetBytes(sum[:])
	f, _ := new(big.Float).SetInt(x).Float64()
	return f
}

// refPoints is points(hash_id, n): sorted({H(f"{hash_id}--{i}")}).
func refPoints(mode Mode, hashID string, n int) []float64 {
	set := map[float64]bool{}
	for i := 0; i < n; i++ {
		set[refH(mode, hashID+"--"+strconv.Itoa(i))] = true
	}
	out := make([]float64, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Float64s(out)
	return out
}

// refNearest is nearest(a, h): the point, not its index.
func refNearest(a []float64, h float64) float64 {
	i := sort.SearchFloat64s(a, h) // bisect_left
	if i < len(a) && a[i] == h {
		return a[i]
	}
	if i == len(a) {
		return a[len(a)-1]
	}
	if i == 0 {
		return a[0]
	}
	if math.Abs(a[i]-h) < math.Abs(a[i-1]-h) {
		return a[i]
	}
	return a[i-1]
}

// refMap is the Python dict / Java TreeMap: keys in insertion order. NaN
// keys are matched by bit pattern, which is Python's identity test for the
// NaN objects the reference stores.
type refMap struct {
	keys  []float64
	items []int
}

func (m *refMap) has(k float64) bool {
	for _, x := range m.keys {
		if x == k || (math.IsNaN(x) && math.Float64bits(x) == math.Float64bits(k)) {
			return true
		}
	}
	return false
}

func (m *refMap) put(k float64, item int) {
	for i, x := range m.keys {
		if x == k || (math.IsNaN(x) && math.Float64bits(x) == math.Float64bits(k)) {
			m.items[i] = item
			return
		}
	}
	m.keys = append(m.keys, k)
	m.items = append(m.items, item)
}

func (m *refMap) bump(k float64, up bool) float64 {
	if !m.has(k) {
		return k
	}
	b := int64(math.Float64bits(k))
	var s float64
	for {
		if up {
			b++
		} else {
			b--
		}
		s = math.Float64frombits(uint64(b))
		if !m.has(s) {
			break
		}
	}
	if (up && s < k) || (!up && s > k) {
		return k
	}
	return s
}

type refItem struct {
	pts   []float64
	order int
}

// refOrder is order(items, s) with h given: indices of items in Traffic
// Router's order.
func refOrder(items []refItem, h float64) []int {
	var m refMap
	type zero struct{ idx, order int }
	var zeros []zero
	for i, it := range items {
		if len(it.pts) == 0 {
			zeros = append(zeros, zero{i, it.order})
			continue
		}
		k := m.bump(math.Abs(h-refNearest(it.pts, h)), true)
		m.put(k, i)
	}
	if len(zeros) > 0 {
		mn, mx := 0.0, 0.0
		if len(m.keys) > 0 {
			mn, mx = slices.Min(m.keys), slices.Max(m.keys)
		}
		var neg, pos []zero
		for _, z := range zeros {
			if z.order < 0 {
				neg = append(neg, z)
			} else {
				pos = append(pos, z)
			}
		}
		sort.SliceStable(neg, func(a, b int) bool { return neg[a].order > neg[b].order })
		sort.SliceStable(pos, func(a, b int) bool { return pos[a].order < pos[b].order })
		for _, z := range append(neg, pos...) {
			if z.order >= 0 {
				k := m.bump(mx, true)
				m.put(k, z.idx)
				mx = k
			} else {
				k := m.bump(mn, false)
				m.put(k, z.idx)
				mn = k
			}
		}
	}
	idx := make([]int, len(m.keys))
	for i := range idx {
		idx[i] = i
	}
	// sorted(m, key=lambda k: (k != k, k)): NaN last, stable.
	sort.SliceStable(idx, func(a, b int) bool {
		ka, kb := m.keys[idx[a]], m.keys[idx[b]]
		na, nb := math.IsNaN(ka), math.IsNaN(kb)
		if na != nb {
			return nb
		}
		return ka < kb
	})
	out := make([]int, len(idx))
	for i, j := range idx {
		out[i] = m.items[j]
	}
	return out
}
