package router

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/signpost-cdn/signpost/control"
)

// TestClosestFromZoneMatchesScan checks the cached zone order against the
// direct scan for every coverage zone, delivery service, family and a few
// random health views (caches down, locations disabled).
func TestClosestFromZoneMatchesScan(t *testing.T) {
	tab := fixtureTable(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		states := &control.CrStates{}
		h := tab.newHealth(nil)
		if round > 0 {
			h = tab.newHealth(states)
			h.FailOpen = false
			for ci := range tab.caches {
				up := rng.IntN(4) != 0
				h.v4.assign(int32(ci), up)
				h.v6.assign(int32(ci), up && rng.IntN(2) == 0)
			}
			for di := range tab.ds {
				if rng.IntN(5) == 0 {
					h.disabled[di] = append(h.disabled[di], int32(rng.IntN(len(tab.locs))))
				}
			}
			tab.indexAvailable(h)
			checkAvailable(t, tab, h)
		}
		for z := 0; z < tab.cz.Len(); z++ {
			zone := tab.cz.Zone(z)
			if !zone.HasCoordinates {
				continue
			}
			for di := range tab.ds {
				ds := &tab.ds[di]
				for _, v6 := range []bool{false, true} {
					want := tab.closest(h, ds, zone.Latitude, zone.Longitude, v6, methodCZ, 0)
					got := tab.closestFromZone(h, ds, z, zone.Latitude, zone.Longitude, v6)
					if want != got {
						t.Fatalf("round %d zone %s ds %s v6 %v: cached %v, scan %v", round, zone.Name, ds.ID, v6, name(got), name(want))
					}
				}
			}
		}
	}
}

// checkAvailable checks h.available against the per-cache flags for every
// group of every delivery service (edge and deep), both families.
func checkAvailable(t *testing.T, tab *Table, h *Health) {
	t.Helper()
	var groups []*group
	for di := range tab.ds {
		groups = append(groups, tab.ds[di].groups...)
		for z := range tab.deepLocs {
			if g := tab.deepLocs[z].byDS[int32(di)]; g != nil {
				groups = append(groups, g)
			}
		}
	}
	for _, g := range groups {
		for _, v6 := range []bool{false, true} {
			var want []int32
			for _, ci := range g.caches {
				if h.CacheAvailable(ci, v6) {
					want = append(want, ci)
				}
			}
			if got := h.available(g, v6); !slices.Equal(got, want) {
				t.Fatalf("group of location %d (set %d), v6 %v: available %v, want %v", g.loc, g.set, v6, got, want)
			}
		}
	}
}

func name(l *Location) string {
	if l == nil {
		return "<nil>"
	}
	return l.Name
}

// TestHealthAvailableSets: the fixture's health (CrStates, some caches
// down) and a view with every cache up give each group its eligible
// caches per family; a fully eligible set is the table's own slice, not a
// copy; groups of equal cache lists share one set.
func TestHealthAvailableSets(t *testing.T) {
	tab := fixtureTable(t)
	groups := 0
	for di := range tab.ds {
		groups += len(tab.ds[di].groups)
	}
	t.Logf("%d edge groups, %d distinct cache sets, %d caches down", groups, len(tab.cacheSets), tab.health.Load().DownCaches())
	if len(tab.cacheSets) >= groups {
		t.Errorf("%d cache sets for %d groups: equal lists not shared", len(tab.cacheSets), groups)
	}
	// Every third cache down, every other IPv6 unavailable.
	doc := `{"caches": {`
	for ci := range tab.caches {
		if ci > 0 {
			doc += ","
		}
		doc += fmt.Sprintf("%q: {\"isAvailable\": %v, \"ipv6Available\": %v}", tab.caches[ci].ID, ci%3 != 0, ci%2 == 0)
	}
	doc += `}, "deliveryServices": {}}`
	states, err := control.ParseCrStates("CrStates", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	down := tab.newHealth(states)
	partial := 0
	for s, set := range tab.cacheSets {
		if len(down.avail[0][s]) < len(set) {
			partial++
		}
	}
	if down.DownCaches() == 0 || partial == 0 {
		t.Fatalf("%d caches down, %d sets partly eligible: the view tests nothing", down.DownCaches(), partial)
	}
	for _, h := range []*Health{tab.health.Load(), tab.newHealth(nil), down} {
		checkAvailable(t, tab, h)
		for f := range h.avail {
			for s, set := range tab.cacheSets {
				got := h.avail[f][s]
				if len(got) == len(set) && len(set) > 0 && &got[0] != &set[0] {
					t.Fatalf("family %d set %d: fully eligible set copied", f, s)
				}
			}
		}
	}
}
