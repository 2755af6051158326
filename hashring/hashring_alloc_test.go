//go:build !race

package hashring

import (
	"testing"
)

func TestAllocsHash(t *testing.T) {
	longBytes := make([]byte, 4096)
	long := string(longBytes)
	for name, f := range map[string]func(){
		"Hash 40 bytes":   func() { _ = Hash(benchString) },
		"Hash 4096 bytes": func() { _ = Hash(long) },
		"MD5.Hash":        func() { _ = MD5.Hash(benchString) },
		"XXHash.Hash":     func() { _ = XXHash.Hash(benchString) },
		"HashBytes":       func() { _ = HashBytes(longBytes[:40]) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocs, want 0", name, n)
		}
	}
}

func TestAllocsOrder(t *testing.T) {
	small, _ := benchRing(t, MD5, 5)
	large, _ := benchRing(t, XXHash, 100)
	// Shared hashIds: every request has exact ties to bump.
	tied, err := NewRing([]Member{
		{Points: NewPoints(MD5, "x", 50)}, {Points: NewPoints(MD5, "x", 50)},
		{Points: NewPoints(MD5, "y", 50)}, {Order: -1}, {Order: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]int32, 0, 128)
	avail := make([]bool, 100)
	for i := range avail {
		avail[i] = i%3 != 0
	}
	pred := func(i int) bool { return avail[i] }
	h := Hash(benchString)
	for name, f := range map[string]func(){
		"small k1":         func() { dst = small.AppendNearest(dst[:0], h, 1, nil) },
		"small full":       func() { dst = small.AppendOrder(dst[:0], h, nil) },
		"small full avail": func() { dst = small.AppendOrder(dst[:0], h, pred) },
		"small dispersed": func() {
			dst = small.AppendDispersed(dst[:0], h, Dispersion{Limit: 3, Shuffled: true}, pred)
		},
		"large k1":         func() { dst = large.AppendNearest(dst[:0], h, 1, pred) },
		"large full":       func() { dst = large.AppendOrder(dst[:0], h, nil) },
		"large full avail": func() { dst = large.AppendOrder(dst[:0], h, pred) },
		"tied full":        func() { dst = tied.AppendOrder(dst[:0], h, nil) },
		"per-query closure": func() {
			down := int(h) & 3 // state captured by a closure made per query
			dst = small.AppendNearest(dst[:0], h, 2, func(i int) bool { return i != down })
		},
	} {
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocs, want 0", name, n)
		}
	}
}
