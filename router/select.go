package router

import (
	"bytes"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/geo"
)

// MatchDS returns the delivery service of the request (spec 4.1): the exact
// FQDN map first, then the first of the sorted matchers that matches. It
// returns nil when none does.
//
// The matchers of Traffic Ops' usual shape (`.*\.NAME\..*`, see
// labelMatcher) are found through hostIndex by the labels of the host, so a
// request looks up a handful of labels instead of testing every matcher;
// the first matching one in sorted order still wins (matchDSLinear is the
// plain loop, used for hosts that are not plain ASCII).
func (t *Table) MatchDS(req *Request, sc *Scratch) *DeliveryService {
	if i, ok := t.exact[string(req.Host)]; ok {
		return &t.ds[i]
	}
	host := req.Host
	if t.hostIndex == nil || !plainASCII(host) {
		return t.matchDSLinear(req, sc)
	}
	best := int32(len(t.matchers))
	for p := 0; p < len(host); {
		q := p
		for q < len(host) && host[q] != '.' {
			q++
		}
		for _, mi := range t.hostIndex[string(host[p:q])] {
			if mi >= best {
				break
			}
			lm := t.matchers[mi].reqs[0].label
			if lm.labelStart(host, p) && bytes.HasPrefix(host[p:], lm.lit) {
				best = mi
				break
			}
		}
		p = q + 1
	}
	for _, mi := range t.otherMatchers {
		if mi >= best {
			break
		}
		if t.matches(&t.matchers[mi], req, sc) {
			best = mi
			break
		}
	}
	if int(best) < len(t.matchers) {
		return &t.ds[t.matchers[best].ds]
	}
	return nil
}

// matchDSLinear is MatchDS after the exact map: every matcher in order.
func (t *Table) matchDSLinear(req *Request, sc *Scratch) *DeliveryService {
	for mi := range t.matchers {
		if t.matches(&t.matchers[mi], req, sc) {
			return &t.ds[t.matchers[mi].ds]
		}
	}
	return nil
}

// indexMatchers fills hostIndex and otherMatchers from the sorted matchers.
func (t *Table) indexMatchers() {
	t.hostIndex = make(map[string][]int32)
	t.otherMatchers = t.otherMatchers[:0]
	for mi := range t.matchers {
		m := &t.matchers[mi]
		if len(m.reqs) == 1 && m.reqs[0].kind == MatchHost && m.reqs[0].label != nil {
			lit := m.reqs[0].label.lit
			first := string(lit[:bytes.IndexByte(lit, '.')])
			t.hostIndex[first] = append(t.hostIndex[first], int32(mi))
			continue
		}
		t.otherMatchers = append(t.otherMatchers, int32(mi))
	}
}

func (t *Table) matches(m *dsMatcher, req *Request, sc *Scratch) bool {
	for k := range m.reqs {
		r := &m.reqs[k]
		switch r.kind {
		case MatchHost:
			if !r.matchHost(req.Host) {
				return false
			}
		case MatchPath:
			if !req.HTTP {
				return false
			}
			target := req.Path
			if len(req.RawQuery) > 0 {
				sc.target = append(append(append(sc.target[:0], req.Path...), '?'), req.RawQuery...)
				target = sc.target
			}
			if !r.re.Match(target) {
				return false
			}
		case MatchHeader:
			if !req.HTTP || req.Headers == nil {
				return false
			}
			v := req.Headers.Peek(r.header)
			if v == nil || !r.re.Match(v) {
				return false
			}
		}
	}
	return len(m.reqs) > 0
}

// groupAt returns the delivery service's cache group at location li.
func (ds *DeliveryService) groupAt(li int32) *group {
	if gi := ds.groupByLoc[li]; gi >= 0 {
		return ds.groups[gi]
	}
	return nil
}

// anyAvailable reports whether some cache of g is available for v6.
func anyAvailable(h *Health, g *group, v6 bool) bool {
	return g != nil && len(h.available(g, v6)) > 0
}

// czLocation is Traffic Router's czLocation (spec 4.4) for the coverage
// zone tree: the edge location of the client's coverage zone, a backup, or
// the closest one with caches for the service. It may clear
// sel.continueGeo and set sel.fromBackup.
func (t *Table) czLocation(h *Health, ip netip.Addr, ds *DeliveryService, v6 bool, sel *Selection) *Location {
	if t.cz == nil {
		return nil
	}
	z, ok := t.cz.Lookup(ip)
	if !ok {
		return nil
	}
	if link := t.czLink[z]; link.loc >= 0 {
		li := link.loc
		if !link.cz {
			sel.continueGeo = false
			return nil
		}
		loc := &t.locs[li]
		if anyAvailable(h, ds.groupAt(li), v6) {
			return loc
		}
		if len(loc.BackupLocations) > 0 || !loc.FallbackToClosest {
			for _, name := range loc.BackupLocations {
				bi, ok := t.locIndex[name]
				if !ok || !t.locs[bi].Localization.CZ {
					continue
				}
				if anyAvailable(h, ds.groupAt(bi), v6) {
					sel.fromBackup = true
					return &t.locs[bi]
				}
			}
			if !loc.FallbackToClosest {
				sel.continueGeo = false
				return nil
			}
		}
	}
	zone := t.cz.Zone(z)
	if !zone.HasCoordinates {
		return nil
	}
	loc := t.closestFromZone(h, ds, z, zone.Latitude, zone.Longitude, v6)
	if loc != nil {
		sel.fromBackup = true
	}
	return loc
}

type method uint8

const (
	methodCZ method = iota
	methodGeo
)

// closest returns the location nearest to (lat, lon) that is enabled for
// the method, not disabled for the service, and has an available cache for
// it. Distance ties go to the earlier location in Java HashSet order.
// limit > 0 is locationFailoverLimit: only the limit nearest locations
// (with or without caches) are considered.
func (t *Table) closest(h *Health, ds *DeliveryService, lat, lon float64, v6 bool, m method, limit int) *Location {
	if limit > 0 {
		return t.closestLimited(h, ds, lat, lon, v6, m, limit)
	}
	var best *Location
	bestD := math.Inf(1)
	for _, g := range ds.groups {
		loc := &t.locs[g.loc]
		if !loc.enabled(m) || h.LocationDisabled(ds.Index, g.loc) {
			continue
		}
		d := geo.Distance(lat, lon, loc.Latitude, loc.Longitude)
		if d > bestD || (d == bestD && best != nil && loc.rank > best.rank) || math.IsNaN(d) {
			continue
		}
		if !anyAvailable(h, g, v6) {
			continue
		}
		best, bestD = loc, d
	}
	return best
}

// closestLimited honours locationFailoverLimit: the limit nearest eligible
// locations in order, the first with an available cache wins. Traffic
// Ops never sends the limit, so this path may allocate.
func (t *Table) closestLimited(h *Health, ds *DeliveryService, lat, lon float64, v6 bool, m method, limit int) *Location {
	type cand struct {
		li   int32
		d    float64
		rank int32
	}
	var cands []cand
	for li := range t.locs {
		loc := &t.locs[li]
		if !loc.enabled(m) || h.LocationDisabled(ds.Index, int32(li)) {
			continue
		}
		cands = append(cands, cand{int32(li), geo.Distance(lat, lon, loc.Latitude, loc.Longitude), loc.rank})
	}
	for n := 0; n < limit && len(cands) > 0; n++ {
		bi := 0
		for k := 1; k < len(cands); k++ {
			if cands[k].d < cands[bi].d || (cands[k].d == cands[bi].d && cands[k].rank < cands[bi].rank) {
				bi = k
			}
		}
		li := cands[bi].li
		cands = append(cands[:bi], cands[bi+1:]...)
		if anyAvailable(h, ds.groupAt(li), v6) {
			return &t.locs[li]
		}
	}
	return nil
}

func (l *Location) enabled(m method) bool {
	if m == methodGeo {
		return l.Localization.Geo
	}
	return l.Localization.CZ
}

// deepLocation returns the deep zone of the client with an available cache
// of the service (spec 3.2, 4.4 with the deep tree), or -1.
func (t *Table) deepLocation(h *Health, ip netip.Addr, ds *DeliveryService, v6 bool) (int, *group) {
	if t.deep == nil {
		return -1, nil
	}
	z, ok := t.deep.Lookup(ip)
	if !ok {
		return -1, nil
	}
	g := t.deepLocs[z].byDS[ds.Index]
	if !anyAvailable(h, g, v6) {
		return -1, nil
	}
	return z, g
}

// geolocate looks the client up in MaxMind once per request.
func (t *Table) geolocate(ip netip.Addr, sel *Selection) (geo.Location, bool) {
	if !sel.geoLooked {
		sel.geoLooked = true
		if t.geo != nil {
			sel.ClientGeo, sel.HasClientGeo = t.geo.Lookup(ip)
		}
	}
	return sel.ClientGeo, sel.HasClientGeo
}

// supportLocation is DeliveryService.supportLocation (spec 4.5): the
// client's geolocation if the service's geo limit allows it, the service's
// miss location when the client does not geolocate, else none.
func (ds *DeliveryService) supportLocation(g geo.Location, found bool) (geo.Point, bool, bool) {
	if !found {
		if ds.missLoc != nil {
			return *ds.missLoc, false, true
		}
		return geo.Point{}, false, false
	}
	p := geo.Point{Latitude: g.Latitude, Longitude: g.Longitude}
	if len(ds.GeoEnabled) == 0 {
		return p, g.IsDefault, true
	}
	for _, limit := range ds.GeoEnabled {
		if geoLimitMatches(limit, &g) {
			return p, g.IsDefault, true
		}
	}
	return geo.Point{}, false, false
}

func geoLimitMatches(limit control.GeoLimit, g *geo.Location) bool {
	for _, kv := range limit {
		var v string
		switch kv.Key {
		case "countryCode":
			v = g.CountryCode
		case "countryName":
			v = g.CountryName
		case "city":
			v = g.City
		case "postalCode":
			v = g.PostalCode
		case "latitude":
			v = strconv.FormatFloat(g.Latitude, 'g', -1, 64)
		case "longitude":
			v = strconv.FormatFloat(g.Longitude, 'g', -1, 64)
		default:
			return false
		}
		if !strings.EqualFold(v, kv.Value) {
			return false
		}
	}
	return true
}

// cachesByGeo selects the nearest GEO-enabled location with available
// caches (spec 4.5); ignoring disabled locations.
func (t *Table) cachesByGeo(h *Health, ds *DeliveryService, p geo.Point, v6 bool, sel *Selection) *group {
	loc := t.closest(h, ds, p.Latitude, p.Longitude, v6, methodGeo, ds.LocationFailoverLimit)
	if loc == nil {
		return nil
	}
	sel.Loc = loc
	sel.setLocation(loc.Name, loc.Latitude, loc.Longitude)
	return ds.groupAt(loc.Index)
}

// selectByGeo is selectCachesByGeo (spec 4.5). czLoc is the coverage zone
// location found without caches, if any.
func (t *Table) selectByGeo(h *Health, ip netip.Addr, ds *DeliveryService, czLoc *Location, v6 bool, sel *Selection) *group {
	var p geo.Point
	isDefault := false
	if czLoc != nil {
		p = geo.Point{Latitude: czLoc.Latitude, Longitude: czLoc.Longitude}
	} else {
		g, found := t.geolocate(ip, sel)
		var ok bool
		p, isDefault, ok = ds.supportLocation(g, found)
		if !ok {
			if ds.GeoLimitRedirectURL != "" {
				return t.enforceGeoRedirect(h, ip, ds, v6, sel)
			}
			sel.Detail = DetailDSClientGeoUnsupported
			return nil
		}
	}
	sel.Type = ResultGeo
	if isDefault {
		if _, ok := t.overrides[sel.ClientGeo.CountryCode]; ok {
			var src geo.DefaultSource
			p, src = geo.ApplyDefaultOverride(sel.ClientGeo, t.overrides, ds.missLoc)
			if src == geo.FromMissLocation {
				sel.Type = ResultGeoDS
			}
		}
	}
	g := t.cachesByGeo(h, ds, p, v6, sel)
	if g == nil {
		sel.Detail = DetailGeoNoCacheFound
	}
	return g
}

// enforceGeoRedirect is Traffic Router's geo-limit redirect (spec 4.6).
func (t *Table) enforceGeoRedirect(h *Health, ip netip.Addr, ds *DeliveryService, v6 bool, sel *Selection) *group {
	sel.Type = ResultGeoRedirect
	switch ds.geoRedirect {
	case geoRedirectNotDSURL:
		sel.GeoRedirect = true
		return nil
	case geoRedirectDSURL:
	default:
		sel.Type, sel.Detail = ResultMiss, DetailGeoNoCacheFound
		return nil
	}
	var p geo.Point
	if g, found := t.geolocate(ip, sel); found {
		p = geo.Point{Latitude: g.Latitude, Longitude: g.Longitude}
	} else if ds.missLoc != nil {
		p = *ds.missLoc
	} else {
		sel.Type, sel.Detail = ResultMiss, DetailDSClientGeoUnsupported
		return nil
	}
	g := t.cachesByGeo(h, ds, p, v6, sel)
	if g == nil {
		sel.Type, sel.Detail = ResultMiss, DetailGeoNoCacheFound
	}
	return g
}

// selectCaches is Traffic Router's selectCaches for HTTP (spec 4.3) and
// the CZ/geo part of DNS routing (spec 4.8, deep disabled).
func (t *Table) selectCaches(h *Health, req *Request, ds *DeliveryService, v6, deepAllowed bool, sel *Selection) *group {
	result := ResultCZ
	var loc *Location
	var g *group
	if deepAllowed && ds.DeepCachingType == control.DeepCachingAlways {
		if z, dg := t.deepLocation(h, req.Client, ds, v6); dg != nil {
			result, g = ResultDeepCZ, dg
			dl := &t.deepLocs[z]
			sel.setLocation(dl.name, dl.lat, dl.lon)
		}
	}
	if g == nil {
		loc = t.czLocation(h, req.Client, ds, v6, sel)
		if loc != nil && !h.LocationDisabled(ds.Index, loc.Index) {
			if g = ds.groupAt(loc.Index); g != nil {
				sel.Loc = loc
				sel.setLocation(loc.Name, loc.Latitude, loc.Longitude)
			}
		}
	}
	if g != nil && anyAvailable(h, g, v6) {
		sel.Type = result
		if sel.fromBackup && result == ResultCZ {
			sel.Detail = DetailDSCZBackupCG
		}
		return g
	}
	if ds.CoverageZoneOnly {
		if ds.GeoLimitRedirectURL != "" {
			return t.enforceGeoRedirect(h, req.Client, ds, v6, sel)
		}
		sel.Type, sel.Detail = ResultMiss, DetailDSCZOnly
		return nil
	}
	if sel.continueGeo {
		return t.selectByGeo(h, req.Client, ds, loc, v6, sel)
	}
	return nil
}

// shuffle permutes s uniformly (math/rand/v2, lock free).
func shuffle(s []int32) {
	for i := len(s) - 1; i > 0; i-- {
		j := rand.IntN(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}
