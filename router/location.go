package router

import (
	"net/netip"
	"regexp"

	"github.com/signpost-cdn/signpost/geo"
	"github.com/signpost-cdn/signpost/hashring"
)

// This file holds the lookups of the Traffic Router API (spec 10): the
// coverage zone and deep coverage zone locations of a client, the caches of
// a location, and the consistent-hash choice for a path. They are not on the
// routing path and may allocate.

// CoverageZoneLocation returns the edge location Traffic Router's
// czLocation picks for the client and delivery service (spec 4.4: the
// coverage zone's cache group, a backup, or the closest one with caches),
// or nil.
func (t *Table) CoverageZoneLocation(client netip.Addr, ds *DeliveryService) *Location {
	var sel Selection
	sel.reset()
	client = client.Unmap()
	return t.czLocation(t.Health(), client, ds, client.Is6(), &sel)
}

// DeepLocation is a deep coverage zone location ("deep.<zone>").
type DeepLocation struct {
	Name     string
	Lat, Lon float64
	// Caches are the zone's caches (table indexes, Java HashMap order).
	Caches []int32
}

// DeepCoverageZoneLocation returns the deep location of the client that
// has an available cache of the delivery service.
func (t *Table) DeepCoverageZoneLocation(client netip.Addr, ds *DeliveryService) (DeepLocation, bool) {
	client = client.Unmap()
	z, g := t.deepLocation(t.Health(), client, ds, client.Is6())
	if g == nil {
		return DeepLocation{}, false
	}
	dl := &t.deepLocs[z]
	return DeepLocation{Name: dl.name, Lat: dl.lat, Lon: dl.lon, Caches: g.caches}, true
}

// DeepZoneOf returns the deep coverage zone location containing the client
// regardless of delivery service (the /crs/stats/ip view).
func (t *Table) DeepZoneOf(client netip.Addr) (DeepLocation, bool) {
	if t.deep == nil {
		return DeepLocation{}, false
	}
	z, ok := t.deep.Lookup(client.Unmap())
	if !ok {
		return DeepLocation{}, false
	}
	dl := &t.deepLocs[z]
	return DeepLocation{Name: dl.name, Lat: dl.lat, Lon: dl.lon, Caches: dl.caches}, true
}

// SupportingCaches returns the caches of the location assigned to the
// delivery service (all of them, available or not), or nil when it has
// none there or the location is disabled for it.
func (t *Table) SupportingCaches(ds *DeliveryService, loc *Location) []int32 {
	if t.Health().LocationDisabled(ds.Index, loc.Index) {
		return nil
	}
	if g := ds.groupAt(loc.Index); g != nil {
		return g.caches
	}
	return nil
}

// LookupMethod selects how ConsistentHashCache locates the client.
type LookupMethod uint8

// Lookup methods of the /crs/consistenthash/cache/... endpoints.
const (
	ByCoverageZone LookupMethod = iota
	ByDeepCoverageZone
	ByGeolocation
)

// ConsistentHashCache returns the cache a request for path (which may
// carry "?query") from client would be sent to when the client is located
// by the method, or nil. The first cache of the consistent-hash order is
// returned (no dispersion shuffle, so the answer is deterministic).
func (t *Table) ConsistentHashCache(m LookupMethod, client netip.Addr, ds *DeliveryService, path string) (*Cache, error) {
	h := t.Health()
	client = client.Unmap()
	v6 := client.Is6()
	var sel Selection
	sel.reset()
	var g *group
	switch m {
	case ByCoverageZone:
		if loc := t.czLocation(h, client, ds, v6, &sel); loc != nil && !h.LocationDisabled(ds.Index, loc.Index) {
			g = ds.groupAt(loc.Index)
		}
	case ByDeepCoverageZone:
		_, g = t.deepLocation(h, client, ds, v6)
	case ByGeolocation:
		loc := t.czLocation(h, client, ds, v6, &sel)
		if ds.CoverageZoneOnly && ds.GeoLimitRedirectURL != "" {
			g = t.enforceGeoRedirect(h, client, ds, v6, &sel)
		} else {
			g = t.selectByGeo(h, client, ds, loc, v6, &sel)
		}
	}
	if !anyAvailable(h, g, v6) {
		return nil, nil
	}
	var sc Scratch
	p, q := splitQuery(path)
	req := Request{Path: []byte(p), RawQuery: []byte(q), Client: client, HTTP: true}
	hs, err := t.appendHashString(&sc, ds, &req)
	if err != nil {
		return nil, err
	}
	order := g.ring.AppendDispersed(nil, t.mode.HashBytes(hs), hashring.Dispersion{Limit: 1}, func(i int) bool {
		return g.member.get(int32(i)) && h.CacheAvailable(g.all[i], v6)
	})
	if len(order) == 0 {
		return nil, nil
	}
	return &t.caches[g.all[order[0]]], nil
}

// HashString returns the consistent-hash request string of the delivery
// service for path (which may carry "?query"): the pattern-based path and
// the significant query parameters (spec 5.6).
func (t *Table) HashString(ds *DeliveryService, path string) (string, error) {
	var sc Scratch
	p, q := splitQuery(path)
	req := Request{Path: []byte(p), RawQuery: []byte(q), HTTP: true}
	hs, err := t.appendHashString(&sc, ds, &req)
	return string(hs), err
}

// PatternString is Traffic Router's patternString(regex, path): the
// concatenated capture groups of the first match of re in path, else path.
func PatternString(re *regexp.Regexp, path string) string {
	return string(appendPatternString(nil, re, []byte(path)))
}

func splitQuery(path string) (string, string) {
	for i := 0; i < len(path); i++ {
		if path[i] == '?' {
			return path[:i], path[i+1:]
		}
	}
	return path, ""
}

// Geolocate returns the client's MaxMind answer, looking it up at most
// once per Selection (regional geo-blocking uses the answer of routing
// when there was one). It does not allocate.
func (t *Table) Geolocate(client netip.Addr, sel *Selection) (geo.Location, bool) {
	return t.geolocate(client, sel)
}
