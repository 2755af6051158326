package router

import (
	"math/rand/v2"
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

func name(l *Location) string {
	if l == nil {
		return "<nil>"
	}
	return l.Name
}
