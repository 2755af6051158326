//go:build !race

package router

import (
	"net/netip"
	"testing"

	"github.com/signpost-cdn/signpost/hashring"
)

func TestLocateEdgeAllocs(t *testing.T) {
	tab := fixtureTable(t)
	e, err := NewEdgeRouters(tab.Snapshot(), hashring.NewPointCache(hashring.MD5))
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("12.34.0.5")
	if n := testing.AllocsPerRun(100, func() { tab.LocateEdge(e, a) }); n != 0 {
		t.Errorf("%v allocs", n)
	}
}
