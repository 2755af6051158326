package hashring

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomCase is one ring with its reference items.
type randomCase struct {
	ring  *Ring
	items []refItem
}

// TestRingMatchesReference is the parity property of the fast ring: for
// 100,000 random request strings over random candidate sets (shared
// hashIds, counts 0 and 1 and up, zero-hash orders, random availability,
// random k), every prefix equals the reference order of the available
// members, with the walk, the per-member fallback and a mix of both.
func TestRingMatchesReference(t *testing.T) {
	iterations := 100000
	if testing.Short() {
		iterations = 5000
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, mode := range []Mode{MD5, XXHash} {
		pc := NewPointCache(mode)
		refPts := map[[2]any][]float64{}
		ids := []string{"edge-a@x", "edge-b@x", "edge-c@x", "edge-d@x", "edge-e@x", "edge-f@x"}
		counts := []int{-1, 0, 1, 2, 3, 7, 50, 999, 1000}
		var cases []randomCase
		for range 300 {
			n := 1 + rng.IntN(12)
			if rng.IntN(10) == 0 {
				n = 33 + rng.IntN(40) // beyond the stack scratch
			}
			var c randomCase
			var members []Member
			for range n {
				id := ids[rng.IntN(len(ids))]
				count := counts[rng.IntN(len(counts))]
				order := rng.IntN(7) - 3
				key := [2]any{id, max(count, 0)}
				if refPts[key] == nil {
					refPts[key] = refPoints(mode, id, count)
				}
				members = append(members, Member{Points: pc.Get(id, count), Order: order})
				c.items = append(c.items, refItem{pts: refPts[key], order: order})
			}
			r, err := NewRing(members)
			if err != nil {
				t.Fatal(err)
			}
			c.ring = r
			cases = append(cases, c)
		}
		per := iterations / 2
		for i := range per {
			c := cases[rng.IntN(len(cases))]
			s := fmt.Sprintf("/%x/%d", rng.Uint64(), i)
			checkAgainstReference(t, rng, c, mode.Hash(s), s)
		}
	}
}

// TestRingMatchesReferenceTies builds points so that keys collide exactly
// and sit one ulp apart, above and below the request hash, so bumps cascade
// into neighbouring keys.
func TestRingMatchesReferenceTies(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const h = 1.5
	ulp := math.Ldexp(1, -52)
	// Below h: 0.5 - i·2^-52 is at distance 1 + i ulps (exact). Above h:
	// 2.5 + 2j·2^-52 is at distance 1 + 2j ulps. h itself is distance 0.
	var pool []float64
	for i := range 6 {
		pool = append(pool, 0.5-float64(i)*ulp)
	}
	for j := range 4 {
		pool = append(pool, 2.5+float64(2*j)*ulp)
	}
	pool = append(pool, h, 0.25, 3.75)
	for range 20000 {
		n := 1 + rng.IntN(10)
		if rng.IntN(20) == 0 {
			n = 33 + rng.IntN(10)
		}
		var c randomCase
		var members []Member
		for range n {
			var vals []float64
			if rng.IntN(6) != 0 {
				for range 1 + rng.IntN(3) {
					v := pool[rng.IntN(len(pool)-3)]
					if rng.IntN(8) == 0 {
						v = pool[len(pool)-3+rng.IntN(3)]
					}
					vals = append(vals, v)
				}
			}
			slices.Sort(vals)
			vals = slices.Compact(vals)
			order := rng.IntN(7) - 3
			var p *Points
			if len(vals) > 0 || rng.IntN(2) == 0 {
				p = &Points{vals: vals, count: len(vals)}
			}
			members = append(members, Member{Points: p, Order: order})
			c.items = append(c.items, refItem{pts: vals, order: order})
		}
		r, err := NewRing(members)
		if err != nil {
			t.Fatal(err)
		}
		c.ring = r
		checkAgainstReference(t, rng, c, h, "ties")
	}
}

func checkAgainstReference(t *testing.T, rng *rand.Rand, c randomCase, h float64, s string) {
	t.Helper()
	n := len(c.items)
	avail := make([]bool, n)
	p := rng.Float64()
	for i := range avail {
		avail[i] = rng.Float64() < p || rng.IntN(4) == 0
	}
	var filtered []refItem
	var index []int
	for i, it := range c.items {
		if avail[i] {
			filtered = append(filtered, it)
			index = append(index, i)
		}
	}
	want := refOrder(filtered, h)
	for i := range want {
		want[i] = index[want[i]]
	}
	pred := func(i int) bool { return avail[i] }
	if rng.IntN(8) == 0 && !slices.Contains(avail, false) {
		pred = nil
	}
	saved := c.ring.budget
	defer func() { c.ring.budget = saved }()
	for _, budget := range []int{saved, 0, math.MaxInt, rng.IntN(8)} {
		c.ring.budget = budget
		k := rng.IntN(n + 2)
		if rng.IntN(4) == 0 {
			k = n
		}
		got := toInts(c.ring.AppendNearest(nil, h, k, pred))
		if w := want[:min(k, len(want))]; !slices.Equal(got, w) {
			t.Fatalf("%q (h %v) budget %d k %d avail %v: got %v, want %v\nitems %v",
				s, h, budget, k, avail, got, w, c.items)
		}
	}
}
