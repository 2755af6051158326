package router

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/signpost-cdn/signpost/hashring"
)

func edgeIDs(e *EdgeRouters, idx []int32) []string {
	out := make([]string, len(idx))
	for i, ri := range idx {
		out[i] = e.Routers[ri].ID
	}
	return out
}

// TestEdgeRoutersT1 is vector T1 (spec 15.2) and the miss round robin of
// D1 (spec 4.9).
func TestEdgeRoutersT1(t *testing.T) {
	tab := fixtureTable(t)
	e, err := NewEdgeRouters(tab.Snapshot(), hashring.NewPointCache(hashring.MD5))
	if err != nil {
		t.Fatal(err)
	}
	if e.Len() != 8 || len(e.Locations) != 2 {
		t.Fatalf("%d routers in %d locations, want 8 in 2", e.Len(), len(e.Locations))
	}
	const origin = "http-only-test.thecdn.example.com."
	want := map[string][]string{
		"location-0": {"edge-testing-tr-03", "edge-testing-tr-02", "edge-testing-tr-01", "edge-testing-tr-04"},
		"location-9": {"edge-testing-tr-07", "edge-testing-tr-08", "edge-testing-tr-06", "edge-testing-tr-05"},
	}
	for li := range e.Locations {
		got := edgeIDs(e, e.Order(li, origin))
		if w := want[e.Locations[li].Name]; !slices.Equal(got, w) {
			t.Errorf("%s: %v, want %v", e.Locations[li].Name, got, w)
		}
	}
	miss := edgeIDs(e, e.MissOrder(origin, 4))
	slices.Sort(miss)
	if w := []string{"edge-testing-tr-02", "edge-testing-tr-03", "edge-testing-tr-07", "edge-testing-tr-08"}; !slices.Equal(miss, w) {
		t.Errorf("miss: %v, want %v", miss, w)
	}
	if n := len(e.MissOrder(origin, 0)); n != 8 {
		t.Errorf("miss limit 0: %d routers, want 8", n)
	}
	if n := len(e.MissOrder(origin, 100)); n != 8 {
		t.Errorf("miss limit 100: %d routers, want 8", n)
	}

	// 12.34.0.5 is in cache-group-0 of czmap.json, placed near location-0.
	if loc := tab.LocateEdge(e, netip.MustParseAddr("127.0.0.1")); loc.Loc != -1 || loc.Type != ResultMiss {
		t.Errorf("127.0.0.1: %+v, want miss", loc)
	}
	loc := tab.LocateEdge(e, netip.MustParseAddr("12.34.0.5"))
	if loc.Type != ResultCZ || loc.Loc < 0 {
		t.Fatalf("12.34.0.5: %+v, want a CZ location", loc)
	}
	if got := tab.LocateEdge(nil, netip.MustParseAddr("12.34.0.5")); got.Loc != -1 {
		t.Errorf("nil set: %+v", got)
	}
}
