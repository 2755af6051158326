package router

import (
	"cmp"
	"math"
	"slices"
	"sync/atomic"

	"github.com/signpost-cdn/signpost/geo"
)

// zoneOrders caches, per coverage zone, the "closest cache group" order of
// each delivery service: the service's CZ-enabled locations sorted by
// distance from the zone's coordinates (ties in Java HashSet order). The
// order does not depend on health, so it is computed once, on first use,
// and a request only walks it until a location with an available cache.
type zoneOrders struct {
	zones []atomic.Pointer[zoneOrder] // per coverage zone, lazily
}

type zoneOrder struct {
	byDS []atomic.Pointer[[]int32] // per delivery service, lazily
}

func (t *Table) initZoneOrders() {
	if t.cz != nil {
		t.orders.zones = make([]atomic.Pointer[zoneOrder], t.cz.Len())
	}
}

// closestFromZone is closest(h, ds, zone coordinates, v6, methodCZ, 0)
// through the cached order of coverage zone z.
func (t *Table) closestFromZone(h *Health, ds *DeliveryService, z int, lat, lon float64, v6 bool) *Location {
	for _, li := range t.zoneOrder(ds, z, lat, lon) {
		if h.LocationDisabled(ds.Index, li) {
			continue
		}
		if anyAvailable(h, ds.groupAt(li), v6) {
			return &t.locs[li]
		}
	}
	return nil
}

func (t *Table) zoneOrder(ds *DeliveryService, z int, lat, lon float64) []int32 {
	zo := t.orders.zones[z].Load()
	if zo == nil {
		zo = &zoneOrder{byDS: make([]atomic.Pointer[[]int32], len(t.ds))}
		if !t.orders.zones[z].CompareAndSwap(nil, zo) {
			zo = t.orders.zones[z].Load()
		}
	}
	if p := zo.byDS[ds.Index].Load(); p != nil {
		return *p
	}
	type cand struct {
		li   int32
		d    float64
		rank int32
	}
	cands := make([]cand, 0, len(ds.groups))
	for _, g := range ds.groups {
		loc := &t.locs[g.loc]
		if !loc.enabled(methodCZ) {
			continue
		}
		d := geo.Distance(lat, lon, loc.Latitude, loc.Longitude)
		if math.IsNaN(d) {
			continue
		}
		cands = append(cands, cand{g.loc, d, loc.rank})
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(a.d, b.d); c != 0 {
			return c
		}
		return cmp.Compare(a.rank, b.rank)
	})
	order := make([]int32, len(cands))
	for i, c := range cands {
		order[i] = c.li
	}
	zo.byDS[ds.Index].Store(&order)
	return order
}
