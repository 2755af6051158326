package router

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/geo"
	"github.com/signpost-cdn/signpost/hashring"
)

// Builder compiles control.Sets into Tables. It keeps the consistent-hash
// points of every cache between builds, so a reload only hashes caches
// whose hashId or hashCount changed. A Builder is used by one goroutine.
type Builder struct {
	points *hashring.PointCache
	log    *slog.Logger
}

// NewBuilder returns a builder hashing with mode (hashring.MD5 for Traffic
// Router parity).
func NewBuilder(mode hashring.Mode, log *slog.Logger) *Builder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Builder{points: hashring.NewPointCache(mode), log: log}
}

// Build compiles set into a new Table. The set must hold a snapshot.
func (b *Builder) Build(set *control.Set) (*Table, error) {
	if set == nil || set.Snapshot == nil {
		return nil, fmt.Errorf("router: build: the dataset set has no snapshot")
	}
	snap := set.Snapshot
	t := &Table{
		Generation: set.Generation,
		Set:        set,
		snap:       snap,
		mode:       b.points.Mode(),
		cz:         set.CoverageZones,
		deep:       set.DeepCoverageZones,
		geo:        set.Geo,
	}
	t.buildLocations()
	t.buildCaches()
	if err := t.buildDeliveryServices(b); err != nil {
		return nil, err
	}
	t.buildCoverageLinks(b)
	t.overrides = make(map[string]geo.Point, len(snap.Config.MaxmindDefaultOverride))
	for _, o := range snap.Config.MaxmindDefaultOverride {
		if _, dup := t.overrides[o.CountryCode]; !dup {
			t.overrides[o.CountryCode] = geo.Point{Latitude: o.Lat, Longitude: o.Long}
		}
	}
	t.health.Store(t.newHealth(set.Health))
	b.points.Sweep()
	return t, nil
}

func (t *Table) buildLocations() {
	els := t.snap.EdgeLocations
	t.locs = make([]Location, len(els))
	t.locIndex = make(map[string]int32, len(els))
	names := make([]string, len(els))
	for i := range els {
		t.locs[i] = Location{EdgeLocation: &els[i], Index: int32(i)}
		t.locIndex[els[i].Name] = int32(i)
		names[i] = els[i].Name
	}
	// Distance ties keep Java HashSet<CacheLocation> iteration order
	// (spec 5.9).
	for rank, i := range hashring.JavaHashMapOrder(names, hashring.JavaHashSetElementHash) {
		t.locs[i].rank = int32(rank)
	}
}

func (t *Table) buildCaches() {
	css := t.snap.ContentServers
	t.caches = make([]Cache, 0, len(css))
	t.cacheIndex = make(map[string]int32, len(css))
	byLoc := make([][]int32, len(t.locs))
	for i := range css {
		cs := &css[i]
		li, ok := t.locIndex[cs.LocationID]
		if !cs.Known || !ok {
			continue
		}
		ci := int32(len(t.caches))
		t.caches = append(t.caches, Cache{ContentServer: cs, Index: ci, Loc: li, refs: make(map[int32]string, len(cs.DeliveryServices))})
		t.cacheIndex[cs.ID] = ci
		byLoc[li] = append(byLoc[li], ci)
	}
	// Caches of a cache group iterate in Java HashMap order (spec 5.9).
	for li, list := range byLoc {
		ids := make([]string, len(list))
		for k, ci := range list {
			ids[k] = t.caches[ci].ID
		}
		order := hashring.JavaHashMapOrder(ids, hashring.JavaStringHashCode)
		sorted := make([]int32, len(list))
		for k, o := range order {
			sorted[k] = list[o]
		}
		t.locs[li].Caches = sorted
	}
}

func (t *Table) buildDeliveryServices(b *Builder) error {
	dss := t.snap.DeliveryServices
	t.ds = make([]DeliveryService, len(dss))
	t.dsIndex = make(map[string]int32, len(dss))
	t.exact = make(map[string]int32, 2*len(dss))
	for i := range dss {
		t.dsIndex[dss[i].ID] = int32(i)
	}
	// References from contentServers (first FQDN only, quirk 6).
	for ci := range t.caches {
		c := &t.caches[ci]
		for _, ref := range c.ContentServer.DeliveryServices {
			if di, ok := t.dsIndex[ref.XMLID]; ok && ref.FQDN != "" {
				c.refs[di] = strings.ToLower(ref.FQDN)
			}
		}
	}
	for i := range dss {
		d := &dss[i]
		ds := &t.ds[i]
		*ds = DeliveryService{DeliveryService: d, Index: int32(i), routingPrefix: d.RoutingName + "."}
		if d.Topology != "" {
			t.topologyReferences(ds)
		}
		if dom := strings.ToLower(d.Domain()); dom != "" {
			// Later delivery services do not take over an exact name.
			if _, dup := t.exact[d.RoutingName+"."+dom]; !dup {
				t.exact[d.RoutingName+"."+dom] = int32(i)
			}
			if _, dup := t.exact["_."+dom]; !dup {
				t.exact["_."+dom] = int32(i)
			}
		}
		for _, ms := range d.MatchSets {
			if len(ms.Matches) == 0 {
				continue
			}
			m := dsMatcher{ds: int32(i), reqs: make([]requestMatcher, 0, len(ms.Matches))}
			for _, mt := range ms.Matches {
				rm := requestMatcher{
					kind: MatchKind(mt.Type), regex: mt.Pattern, header: mt.Target,
					re: mt.Compiled, key: sortKey(mt.Pattern),
				}
				if rm.kind == MatchHost {
					rm.must = requiredLiteral(mt.Pattern)
				}
				m.reqs = append(m.reqs, rm)
			}
			t.matchers = append(t.matchers, m)
		}
		ds.ttlA, ds.ttlAAAA = -1, -1
		if d.TTLs.Present {
			ds.ttlA, ds.ttlAAAA = d.TTLs.Or("A", 0), d.TTLs.Or("AAAA", 0)
		}
		if d.MissLocation != nil {
			ds.missLoc = &geo.Point{Latitude: d.MissLocation.Lat, Longitude: d.MissLocation.Long}
		}
		ds.dispersion = hashring.Dispersion{Limit: d.Dispersion.Limit, Shuffled: d.Dispersion.Shuffled}
	}
	sortMatchers(t.matchers)
	for i := range t.ds {
		t.ds[i].geoRedirect = t.classifyGeoRedirect(&t.ds[i])
	}
	return t.buildGroups(b)
}

// topologyReferences derives the references of a topology-based delivery
// service (spec 1.13): every cache of the topology's cache groups whose
// capabilities include the required ones gets the reference whose remap
// equals the service's primary name.
func (t *Table) topologyReferences(ds *DeliveryService) {
	topo, ok := t.snap.Topology(ds.Topology)
	if !ok {
		return
	}
	dom := strings.ToLower(ds.Domain())
	tld := dom
	if i := strings.IndexByte(dom, '.'); i >= 0 {
		tld = dom[i+1:]
	}
	primary := dom
	if ds.IsDNS {
		primary = ds.RoutingName + "." + dom
	}
	for _, node := range topo.Nodes {
		li, ok := t.locIndex[node]
		if !ok {
			continue
		}
		for _, ci := range t.locs[li].Caches {
			c := &t.caches[ci]
			if !hasAll(c.Capabilities, ds.RequiredCapabilities) {
				continue
			}
			for _, ms := range ds.MatchSets {
				for _, m := range ms.Matches {
					if m.Type != control.MatchHost {
						continue
					}
					re := strings.ToLower(m.Pattern)
					wild := strings.Contains(re, ".*")
					remap := re
					if wild {
						remap = strings.TrimPrefix(strings.TrimPrefix(re, `(.*\.|^)`), `.*\.`)
						if k := strings.Index(remap, `\..*`); k >= 0 {
							remap = remap[:k]
						}
						remap += "." + tld
						if ds.IsDNS {
							remap = ds.RoutingName + "." + remap
						}
					}
					if remap != primary {
						continue
					}
					fqdn := remap
					if wild && !ds.IsDNS {
						fqdn = c.ID + "." + remap
					}
					if _, set := c.refs[ds.Index]; !set {
						c.refs[ds.Index] = fqdn
					}
				}
			}
		}
	}
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if h == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// buildGroups computes, per delivery service and edge location, the caches
// assigned to the service, and one consistent-hash ring per distinct cache
// set (rings are shared between services with the same caches).
func (t *Table) buildGroups(b *Builder) error {
	interned := make(map[string]*group)
	var key []byte
	var members []int32
	for di := range t.ds {
		ds := &t.ds[di]
		ds.groupByLoc = make([]int32, len(t.locs))
		for li := range t.locs {
			ds.groupByLoc[li] = -1
			members = members[:0]
			for _, ci := range t.locs[li].Caches {
				if _, ok := t.caches[ci].refs[int32(di)]; ok {
					members = append(members, ci)
				}
			}
			if len(members) == 0 {
				continue
			}
			g, err := t.internGroup(b, interned, &key, int32(li), members)
			if err != nil {
				return fmt.Errorf("router: build: delivery service %q, cache group %q: %w", ds.ID, t.locs[li].Name, err)
			}
			ds.groupByLoc[li] = int32(len(ds.groups))
			ds.groups = append(ds.groups, g)
		}
	}
	return nil
}

func (t *Table) internGroup(b *Builder, interned map[string]*group, key *[]byte, loc int32, members []int32) (*group, error) {
	k := strconv.AppendInt((*key)[:0], int64(loc), 10)
	for _, ci := range members {
		k = append(k, ',')
		k = strconv.AppendInt(k, int64(ci), 10)
	}
	*key = k
	if g, ok := interned[string(k)]; ok {
		return g, nil
	}
	g, err := t.newGroup(b, loc, members)
	if err != nil {
		return nil, err
	}
	interned[string(k)] = g
	return g, nil
}

func (t *Table) newGroup(b *Builder, loc int32, members []int32) (*group, error) {
	g := &group{loc: loc, caches: append([]int32(nil), members...)}
	ms := make([]hashring.Member, len(members))
	for k, ci := range members {
		c := &t.caches[ci]
		ms[k] = hashring.Member{Points: b.points.Get(c.HashID, c.HashCount)}
	}
	r, err := hashring.NewRing(ms)
	if err != nil {
		return nil, err
	}
	g.ring = r
	return g, nil
}

// buildCoverageLinks links coverage zones to edge locations and compiles
// the synthetic deep locations with per-service groups.
func (t *Table) buildCoverageLinks(b *Builder) {
	if t.cz != nil {
		t.czLink = make([]int32, t.cz.Len())
		for z := range t.czLink {
			t.czLink[z] = -1
			if li, ok := t.locIndex[t.cz.Zone(z).Name]; ok {
				t.czLink[z] = li
			}
		}
	}
	if t.deep == nil {
		return
	}
	t.deepLocs = make([]deepLocation, t.deep.Len())
	for z := range t.deepLocs {
		zone := t.deep.Zone(z)
		dl := &t.deepLocs[z]
		dl.name = "deep." + zone.Name
		dl.lat, dl.lon = zone.Latitude, zone.Longitude
		var ids []string
		var idx []int32
		for _, name := range zone.Caches {
			if ci, ok := t.cacheIndex[name]; ok {
				ids = append(ids, name)
				idx = append(idx, ci)
			}
		}
		for _, o := range hashring.JavaHashMapOrder(ids, hashring.JavaStringHashCode) {
			dl.caches = append(dl.caches, idx[o])
		}
		dl.byDS = make(map[int32]*group)
		for di := range t.ds {
			if t.ds[di].DeepCachingType != control.DeepCachingAlways {
				continue
			}
			var members []int32
			for _, ci := range dl.caches {
				if _, ok := t.caches[ci].refs[int32(di)]; ok {
					members = append(members, ci)
				}
			}
			if len(members) == 0 {
				continue
			}
			g, err := t.newGroup(b, -1, members)
			if err != nil {
				b.log.Warn("deep coverage zone: ring not built", "zone", zone.Name, "deliveryService", t.ds[di].ID, "error", err)
				continue
			}
			dl.byDS[int32(di)] = g
		}
	}
}
