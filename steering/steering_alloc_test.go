//go:build !race

package steering

import (
	"testing"

	"github.com/signpost-cdn/signpost/hashring"
)

// TestAllocs: choosing a target (filter, option, ring), ordering all
// targets and the geo sort allocate nothing.
func TestAllocs(t *testing.T) {
	tab, reg := compileFixture(t, "steering.json")
	st := entry(t, tab, reg, "steering-test-1")
	cs := entry(t, tab, reg, "client-steering-test-2")
	path := []byte("/qwerytuiop/force-to-target-2/asdfghjkl")
	opt := []byte("steering-target-1")
	h := hashring.Hash("/qwerytuiop/asdfghjkl")
	buf := make([]int32, 0, 16)
	rs := []GeoKey{colocated(boston, 0), colocated(denver, 2), colocated(seattle, 5), {Order: -1}, colocated(denver, 1)}
	for name, fn := range map[string]func(){
		"filter":  func() { _ = st.FilterTarget(path) },
		"option":  func() { _ = st.TargetByName(opt) },
		"select":  func() { buf = st.AppendSelect(buf[:0], h, hashring.Dispersion{Limit: 1, Shuffled: true}) },
		"order8":  func() { buf = cs.AppendOrder(buf[:0], h) },
		"geosort": func() { SortByGeo(rs, seattle[0], seattle[1]) },
	} {
		if n := testing.AllocsPerRun(200, fn); n != 0 {
			t.Errorf("%s: %v allocs", name, n)
		}
	}
}
