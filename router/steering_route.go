package router

import (
	"github.com/signpost-cdn/signpost/geo"
	"github.com/signpost-cdn/signpost/steering"
)

// SteeringOptionHeader is the request header naming a steering target
// directly (spec 7.7), in the lower case Headers.Peek expects.
const SteeringOptionHeader = "x-tc-steering-option"

// SteeringResult is one location of a CLIENT_STEERING answer: a target and
// the cache chosen for it.
type SteeringResult struct {
	Target *DeliveryService
	Cache  *Cache
	// Type, Detail and the coordinates describe how the cache was found.
	Type           ResultType
	Detail         ResultDetail
	HasCoordinates bool
	Lat, Lon       float64

	target int32 // index into the entry's targets
}

// MultiSelection is the outcome of a CLIENT_STEERING request (spec 8.4).
// Reuse it across requests of one goroutine; its zero value is ready to
// use. Results alias its memory until the next call.
type MultiSelection struct {
	// Entry is the CLIENT_STEERING delivery service.
	Entry *DeliveryService
	// Type and Detail describe a failure (Results empty) or, on success,
	// the selection of the first location (rtype for the access log).
	Type   ResultType
	Detail ResultDetail
	// HasCoordinates, Lat and Lon are the first location's cache group.
	HasCoordinates bool
	Lat, Lon       float64
	// Results are the locations, best first.
	Results []SteeringResult
	// Bypass is true when no target has a cache: the answer is the entry's
	// HTTP bypass destination (a 503 without one).
	Bypass bool

	order    []int32
	keys     []steering.GeoKey
	selected []int32
	tmp      []SteeringResult
	tsel     Selection
}

// RouteSteering routes a request whose matched delivery service ds is a
// steering service (SteeringEntry(ds) != nil). For STEERING it resolves the
// target (SteeringTarget) and routes the request to it as RouteHTTP does,
// with the target's own consistent hash: sel.DS is the target, or nil with
// DS_MISS when the option names no target or the entry has none. For
// CLIENT_STEERING it fills ms and returns true (sel is left reset).
// option is the X-TC-Steering-Option value (empty when absent); for
// CLIENT_STEERING it narrows the answer to that target (quirk 8 fixed).
func (t *Table) RouteSteering(ds *DeliveryService, req *Request, option []byte, sc *Scratch, ms *MultiSelection, sel *Selection) (multi bool, err error) {
	sel.reset()
	e := t.SteeringEntry(ds)
	if e != nil && e.ClientSteering {
		return true, t.routeClientSteering(e, ds, req, option, sc, ms)
	}
	target, err := t.SteeringTarget(ds, req, option, sc)
	if err != nil || target == nil {
		sel.Type, sel.Detail = ResultDSMiss, DetailDSNotFound
		return false, err
	}
	return false, t.RouteHTTPTo(target, req, sc, sel)
}

// routeClientSteering is Traffic Router's multi-route (spec 8.4).
func (t *Table) routeClientSteering(e *steering.Entry, entry *DeliveryService, req *Request, option []byte, sc *Scratch, ms *MultiSelection) error {
	ms.Entry, ms.Results, ms.Bypass, ms.HasCoordinates = entry, ms.Results[:0], false, false
	ms.Type, ms.Detail = ResultError, DetailNone
	if tlsMismatch(entry, req) {
		ms.Detail = DetailDSTLSMismatch
		return nil
	}
	h := t.health.Load()
	hs, err := t.appendHashString(sc, entry, req)
	if err != nil {
		return err
	}
	switch {
	case len(option) > 0:
		ms.order = ms.order[:0]
		if k := e.TargetByName(option); k >= 0 {
			ms.order = append(ms.order, int32(k))
		}
	default:
		ms.order = e.AppendOrder(ms.order[:0], t.mode.HashBytes(hs))
	}
	// Targets with a TLS mismatch fail the request; unavailable ones are
	// dropped.
	n := 0
	for _, k := range ms.order {
		ds := &t.ds[e.Targets[k].DS]
		if tlsMismatch(ds, req) {
			ms.Detail = DetailDSTLSMismatch
			return nil
		}
		if h.DSAvailable(ds.Index) {
			ms.order[n] = k
			n++
		}
	}
	ms.order = ms.order[:n]
	if n == 0 {
		ms.Type, ms.Detail = ResultDSMiss, DetailDSNotFound
		return nil
	}
	// The cache hash string of every target: the entry's pattern string of
	// the path, then the target's significant query parameters.
	sc.hash = sc.hash[:0]
	if len(req.Path) > 0 {
		sc.hash = appendPatternString(sc.hash, entry.ConsistentHashPattern, req.Path)
	}
	prefix := len(sc.hash)
	v6 := req.Client.Is6()
	ms.selected = ms.selected[:0]
	for _, k := range ms.order {
		ds := &t.ds[e.Targets[k].DS]
		ts := &ms.tsel
		ts.reset()
		g := t.selectCaches(h, req, ds, v6, true, ts)
		if g == nil {
			continue
		}
		exclude := countFresh(h, g, v6, ms.selected) > 0
		if !exclude && ts.Type == ResultDeepCZ {
			// Client steering diversity: the non-deep caches when every
			// deep one is already used; the rtype stays DEEP_CZ.
			var alt Selection
			alt.reset()
			if g2 := t.selectCaches(h, req, ds, v6, false, &alt); g2 != nil && countFresh(h, g2, v6, ms.selected) > 0 {
				g, exclude = g2, true
			}
		}
		sc.hash, sc.query, err = appendSignificantQuery(sc.hash[:prefix], sc.query, ds.ConsistentHashQueryParams, req.RawQuery)
		if err != nil {
			return err
		}
		sel := ms.selected
		sc.idx = g.ring.AppendDispersed(sc.idx[:0], t.mode.HashBytes(sc.hash), ds.dispersion, func(i int) bool {
			ci := g.all[i]
			return g.member.get(int32(i)) && h.CacheAvailable(ci, v6) && !(exclude && containsIndex(sel, ci))
		})
		if len(sc.idx) == 0 {
			continue
		}
		ci := g.all[sc.idx[0]]
		ms.selected = append(ms.selected, ci)
		ms.Results = append(ms.Results, SteeringResult{Target: ds, Cache: &t.caches[ci], Type: ts.Type, Detail: ts.Detail,
			HasCoordinates: ts.HasCoordinates, Lat: ts.Lat, Lon: ts.Lon, target: k})
	}
	if len(ms.Results) == 0 {
		if entry.BypassHTTP != nil && entry.BypassHTTP.FQDN != "" {
			ms.Type, ms.Detail, ms.Bypass = ResultDSRedirect, DetailNone, true
		} else {
			ms.Type, ms.Detail = ResultMiss, DetailDSNoBypass
		}
		return nil
	}
	if e.HasGeo() {
		t.geoSortResults(e, entry, req, ms)
	}
	r := &ms.Results[0]
	ms.Type, ms.Detail, ms.HasCoordinates, ms.Lat, ms.Lon = r.Type, r.Detail, r.HasCoordinates, r.Lat, r.Lon
	return nil
}

// countFresh counts the available caches of g not yet selected.
func countFresh(h *Health, g *group, v6 bool, selected []int32) int {
	n := 0
	for _, ci := range g.caches {
		if h.CacheAvailable(ci, v6) && !containsIndex(selected, ci) {
			n++
		}
	}
	return n
}

func containsIndex(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// geoSortResults orders the results by the steering geolocation comparator
// and then by target order, when the client can be located: its coverage
// zone's coordinates, else its MaxMind location as the entry's
// supportLocation allows (spec 8.4).
func (t *Table) geoSortResults(e *steering.Entry, entry *DeliveryService, req *Request, ms *MultiSelection) {
	var lat, lon float64
	located := false
	if t.cz != nil {
		if z, ok := t.cz.Lookup(req.Client); ok {
			if zone := t.cz.Zone(z); zone.HasCoordinates {
				lat, lon, located = zone.Latitude, zone.Longitude, true
			}
		}
	}
	if !located {
		var s Selection
		s.reset()
		g, found := t.geolocate(req.Client, &s)
		var p geo.Point
		if p, _, located = entry.supportLocation(g, found); located {
			lat, lon = p.Latitude, p.Longitude
		}
	}
	if !located {
		return
	}
	ms.keys = ms.keys[:0]
	for i, r := range ms.Results {
		tg := &e.Targets[r.target]
		loc := &t.locs[r.Cache.Loc]
		ms.keys = append(ms.keys, steering.GeoKey{
			Order: tg.Order, GeoOrder: tg.GeoOrder, HasOrigin: tg.HasGeo, OriginLat: tg.Latitude, OriginLon: tg.Longitude,
			CacheLat: loc.Latitude, CacheLon: loc.Longitude, Index: int32(i),
		})
	}
	steering.SortByGeo(ms.keys, lat, lon)
	ms.tmp = append(ms.tmp[:0], ms.Results...)
	for i, k := range ms.keys {
		ms.Results[i] = ms.tmp[k.Index]
	}
}
