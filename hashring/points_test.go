package hashring

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func TestNewPointsMatchesReference(t *testing.T) {
	for _, mode := range []Mode{MD5, XXHash} {
		for _, n := range []int{-5, 0, 1, 2, 999, 1000} {
			p := NewPoints(mode, "edge-cache-001@xmpp.cdn.example.com", n)
			want := refPoints(mode, "edge-cache-001@xmpp.cdn.example.com", n)
			if !slices.Equal(p.vals, want) {
				t.Errorf("%v n=%d: points differ from the reference", mode, n)
			}
			if p.Len() != len(want) || p.Count() != n || p.Mode() != mode ||
				p.HashID() != "edge-cache-001@xmpp.cdn.example.com" {
				t.Errorf("%v n=%d: Len %d Count %d Mode %v HashID %q", mode, n, p.Len(), p.Count(), p.Mode(), p.HashID())
			}
			for i := 1; i < p.Len(); i++ {
				if !(p.At(i-1) < p.At(i)) {
					t.Fatalf("%v n=%d: points not strictly ascending at %d", mode, n, i)
				}
			}
		}
	}
	// H5: the first point of edge-cache-001 is among its points.
	p := NewPoints(MD5, "edge-cache-001@xmpp.cdn.example.com", 1)
	if p.Len() != 1 || p.At(0) != 1.0600088667683446e+38 {
		t.Errorf("single point = %v, want H5", p.vals)
	}
}

func TestPointCache(t *testing.T) {
	c := NewPointCache(XXHash)
	if c.Mode() != XXHash {
		t.Errorf("Mode = %v", c.Mode())
	}
	a := c.Get("a", 10)
	if c.Get("a", 10) != a {
		t.Error("second Get returned other points")
	}
	if c.Get("a", 11) == a || c.Get("b", 10) == a {
		t.Error("different keys share points")
	}
	if c.Get("z", -3) != c.Get("z", 0) {
		t.Error("counts -3 and 0 do not share the empty set")
	}
	if a.Mode() != XXHash {
		t.Errorf("points mode = %v", a.Mode())
	}
	if n := c.Len(); n != 4 {
		t.Errorf("Len = %d, want 4", n)
	}
	c.Sweep() // everything was used in generation 0
	if n := c.Len(); n != 4 {
		t.Errorf("after first Sweep Len = %d, want 4", n)
	}
	if c.Get("a", 10) != a {
		t.Error("kept entry recomputed")
	}
	c.Sweep() // only a/10 was used since
	if n := c.Len(); n != 1 {
		t.Errorf("after second Sweep Len = %d, want 1", n)
	}
	if c.Get("a", 10) != a {
		t.Error("swept the used entry")
	}
}

func TestPointCacheConcurrent(t *testing.T) {
	c := NewPointCache(MD5)
	var wg sync.WaitGroup
	got := make([][]*Points, 8)
	for g := range got {
		wg.Go(func() {
			for i := range 20 {
				got[g] = append(got[g], c.Get(string(rune('a'+i)), 200))
			}
			if g%3 == 0 {
				c.Sweep()
			}
		})
	}
	wg.Wait()
	for g := range got {
		for i, p := range got[g] {
			if p.HashID() != string(rune('a'+i)) || p.Len() != 200 {
				t.Fatalf("goroutine %d item %d: %q len %d", g, i, p.HashID(), p.Len())
			}
		}
	}
}

func TestIndexSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		n := rng.IntN(200)
		a := make([]float64, n)
		for i := range a {
			switch rng.IntN(3) {
			case 0:
				a[i] = rng.Float64() * 1e38
			case 1:
				a[i] = float64(rng.IntN(5)) // clusters and duplicates
			default:
				a[i] = math.Ldexp(rng.Float64(), rng.IntN(200)-100)
			}
		}
		slices.Sort(a)
		a = slices.Compact(a)
		x := newIndex(a)
		for range 50 {
			var h float64
			switch {
			case len(a) > 0 && rng.IntN(3) == 0:
				h = a[rng.IntN(len(a))]
			case rng.IntN(2) == 0:
				h = rng.Float64() * 1.2e38
			default:
				h = math.Ldexp(rng.Float64(), rng.IntN(220)-110) - 1
			}
			if got, want := x.search(a, h), searchFloats(a, h); got != want {
				t.Fatalf("search(%v) = %d, want %d (n %d)", h, got, want, len(a))
			}
		}
	}
}
