package router

import (
	"fmt"
	"math"
	"net/netip"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/geo"
	"github.com/signpost-cdn/signpost/hashring"
)

// EdgeRouterHashCount is the number of virtual nodes of every edge Traffic
// Router: Traffic Router reads hashCount from the snapshot root, where it
// never is, and falls back to 1000 (quirk 18, kept for parity).
const EdgeRouterHashCount = 1000

// EdgeRouter is one edge Traffic Router (spec 4.9): a contentRouters entry
// with status ONLINE or REPORTED in a known Traffic Router location.
type EdgeRouter struct {
	*control.ContentRouter
	// Loc is the index of its location in EdgeRouters.Locations.
	Loc int32
}

// EdgeRouterLocation is a Traffic Router location with at least one edge
// Traffic Router.
type EdgeRouterLocation struct {
	*control.TrafficRouterLocation
	// Routers are indexes into EdgeRouters.Routers in Java HashMap order of
	// their host names (the input order of Traffic Router's hashing).
	Routers []int32
	ring    *hashring.Ring
}

// EdgeRouters is the compiled edge Traffic Router set of a snapshot. It is
// built off the hot path (NewEdgeRouters) and immutable afterwards. The
// per-zone orderings (Order, MissOrder) depend only on the zone, so the DNS
// server computes them when it compiles its zones; per query only Locate
// runs.
type EdgeRouters struct {
	Routers   []EdgeRouter
	Locations []EdgeRouterLocation
	// missOrder is the location order of the miss round robin: Java HashMap
	// order of the location names.
	missOrder []int32
	mode      hashring.Mode
}

// NewEdgeRouters compiles the edge Traffic Routers of snap. Points come
// from points (its mode is the hash mode). It returns an empty set, not an
// error, when the snapshot has no edge Traffic Router.
func NewEdgeRouters(snap *control.Snapshot, points *hashring.PointCache) (*EdgeRouters, error) {
	e := &EdgeRouters{mode: points.Mode()}
	locIdx := make(map[string]int32)
	for i := range snap.ContentRouters {
		cr := &snap.ContentRouters[i]
		if cr.Status != "ONLINE" && cr.Status != "REPORTED" {
			continue
		}
		trl, ok := snap.TrafficRouterLocation(cr.Location)
		if !ok {
			continue
		}
		li, ok := locIdx[trl.Name]
		if !ok {
			li = int32(len(e.Locations))
			locIdx[trl.Name] = li
			e.Locations = append(e.Locations, EdgeRouterLocation{TrafficRouterLocation: trl})
		}
		e.Locations[li].Routers = append(e.Locations[li].Routers, int32(len(e.Routers)))
		e.Routers = append(e.Routers, EdgeRouter{ContentRouter: cr, Loc: li})
	}
	names := make([]string, len(e.Locations))
	for li := range e.Locations {
		l := &e.Locations[li]
		names[li] = l.Name
		ids := make([]string, len(l.Routers))
		for k, ri := range l.Routers {
			ids[k] = e.Routers[ri].ID
		}
		order := hashring.JavaHashMapOrder(ids, hashring.JavaStringHashCode)
		sorted := make([]int32, len(order))
		members := make([]hashring.Member, len(order))
		for k, o := range order {
			sorted[k] = l.Routers[o]
			members[k] = hashring.Member{Points: points.Get(ids[o], EdgeRouterHashCount)}
		}
		l.Routers = sorted
		r, err := hashring.NewRing(members)
		if err != nil {
			return nil, fmt.Errorf("router: edge traffic routers of location %q: %w", l.Name, err)
		}
		l.ring = r
	}
	for _, o := range hashring.JavaHashMapOrder(names, hashring.JavaStringHashCode) {
		e.missOrder = append(e.missOrder, int32(o))
	}
	return e, nil
}

// Len returns the number of edge Traffic Routers.
func (e *EdgeRouters) Len() int { return len(e.Routers) }

// Order returns the edge Traffic Routers of location li ordered by the
// consistent hash of s (the zone origin with its trailing dot, spec 4.9).
// It allocates; call it at build time.
func (e *EdgeRouters) Order(li int, s string) []int32 {
	l := &e.Locations[li]
	idx := l.ring.AppendOrder(make([]int32, 0, len(l.Routers)), e.mode.Hash(s), nil)
	for k, m := range idx {
		idx[k] = l.Routers[m]
	}
	return idx
}

// MissOrder returns the edge Traffic Routers chosen for a client without a
// location ("consistent hash + round robin", spec 4.9): the locations in
// Java HashMap order of their names, each ordered by the consistent hash of
// s; round r takes element r of every location until limit routers are
// chosen. A limit of zero or above the number of routers means all of
// them. It allocates; call it at build time.
func (e *EdgeRouters) MissOrder(s string, limit int) []int32 {
	if limit <= 0 || limit > len(e.Routers) {
		limit = len(e.Routers)
	}
	orders := make([][]int32, len(e.Locations))
	for li := range e.Locations {
		orders[li] = e.Order(li, s)
	}
	out := make([]int32, 0, limit)
	for r := 0; len(out) < limit; r++ {
		added := false
		for _, li := range e.missOrder {
			if r < len(orders[li]) && len(out) < limit {
				out = append(out, orders[li][r])
				added = true
			}
		}
		if !added {
			break
		}
	}
	return out
}

// EdgeLocation is where a client is placed for edge Traffic Router
// selection: the nearest Traffic Router location (Loc, -1 when the client
// has no known position) and how the client was located (ResultCZ: the
// coverage zone's coordinates; ResultGeo: MaxMind; ResultMiss: neither).
type EdgeLocation struct {
	Loc  int
	Type ResultType
}

// LocateEdge places the client for edge Traffic Router selection (spec
// 4.9): the coordinates of its coverage zone when the zone has some, else
// its MaxMind location; then the nearest Traffic Router location (distance
// ties go to the earlier location of e.Locations). It does not allocate.
func (t *Table) LocateEdge(e *EdgeRouters, client netip.Addr) EdgeLocation {
	if e == nil || len(e.Locations) == 0 {
		return EdgeLocation{Loc: -1, Type: ResultMiss}
	}
	var lat, lon float64
	typ := ResultMiss
	if cz := t.Set.CoverageZones; cz != nil {
		if z, ok := cz.Lookup(client); ok {
			if zone := cz.Zone(z); zone.HasCoordinates {
				lat, lon, typ = zone.Latitude, zone.Longitude, ResultCZ
			}
		}
	}
	if typ == ResultMiss && t.Set.Geo != nil {
		if g, ok := t.Set.Geo.Lookup(client); ok {
			lat, lon, typ = g.Latitude, g.Longitude, ResultGeo
		}
	}
	if typ == ResultMiss {
		return EdgeLocation{Loc: -1, Type: ResultMiss}
	}
	best, bestD := -1, math.Inf(1)
	for li := range e.Locations {
		l := &e.Locations[li]
		if d := geo.Distance(lat, lon, l.Latitude, l.Longitude); d < bestD {
			best, bestD = li, d
		}
	}
	if best < 0 {
		best = 0 // every distance NaN: keep the first location
	}
	return EdgeLocation{Loc: best, Type: typ}
}
