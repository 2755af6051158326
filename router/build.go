package router

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"

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
	t.indexCacheSets()
	if err := t.buildSteering(b); err != nil {
		return nil, err
	}
	t.initZoneOrders()
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
		t.caches = append(t.caches, Cache{ContentServer: cs, Index: ci, Loc: li})
		t.cacheIndex[cs.ID] = ci
		byLoc[li] = append(byLoc[li], ci)
	}
	// Caches of a cache group iterate in Java HashMap order (spec 5.9).
	for li, list := range byLoc {
		t.locs[li].Caches = javaOrder(t, list)
		for pos, ci := range t.locs[li].Caches {
			t.caches[ci].pos = int32(pos)
		}
	}
}

// javaOrder returns the caches in the iteration order of a Java HashMap
// keyed by cache id and filled in the given order.
func javaOrder(t *Table, list []int32) []int32 {
	ids := make([]string, len(list))
	for k, ci := range list {
		ids[k] = t.caches[ci].ID
	}
	sorted := make([]int32, len(list))
	for k, o := range hashring.JavaHashMapOrder(ids, hashring.JavaStringHashCode) {
		sorted[k] = list[o]
	}
	return sorted
}

// buildRings hashes the points of every cache (in parallel: a cold build
// computes a thousand MD5s per cache) and builds one ring per location.
func (t *Table) buildRings(b *Builder) error {
	points := make([]*hashring.Points, len(t.caches))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(t.caches)))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ci := w; ci < len(t.caches); ci += workers {
				c := &t.caches[ci]
				points[ci] = b.points.Get(c.HashID, c.HashCount)
			}
		}()
	}
	wg.Wait()
	for li := range t.locs {
		r, err := newRing(points, t.locs[li].Caches)
		if err != nil {
			return fmt.Errorf("router: build: cache group %q: %w", t.locs[li].Name, err)
		}
		t.locs[li].ring = r
	}
	t.points = points
	return nil
}

func newRing(points []*hashring.Points, caches []int32) (*hashring.Ring, error) {
	ms := make([]hashring.Member, len(caches))
	for k, ci := range caches {
		ms[k] = hashring.Member{Points: points[ci]}
	}
	return hashring.NewRing(ms)
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
		c.refs = make([]dsRef, 0, len(c.ContentServer.DeliveryServices))
		for _, ref := range c.ContentServer.DeliveryServices {
			if di, ok := t.dsIndex[ref.XMLID]; ok && ref.FQDN != "" {
				c.refs = append(c.refs, dsRef{di, lowerASCII(ref.FQDN)})
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
					rm.label = parseLabelRegex(mt.Pattern)
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
	t.indexMatchers()
	for i := range t.ds {
		t.ds[i].geoRedirect = t.classifyGeoRedirect(&t.ds[i])
	}
	for ci := range t.caches {
		refs := t.caches[ci].refs
		slices.SortStableFunc(refs, func(a, b dsRef) int { return cmp.Compare(a.ds, b.ds) })
		// The first reference of a service wins (document order).
		t.caches[ci].refs = slices.CompactFunc(refs, func(a, b dsRef) bool { return a.ds == b.ds })
	}
	if err := t.buildRings(b); err != nil {
		return err
	}
	t.buildGroups()
	return nil
}

// lowerASCII returns s lower-cased, without allocating when it already is.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
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
					c.refs = append(c.refs, dsRef{ds.Index, fqdn})
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

// buildGroups computes, per delivery service, the caches assigned to it in
// each edge location, in one pass over the assignments.
func (t *Table) buildGroups() {
	type assign struct{ loc, pos, ci int32 }
	perDS := make([][]assign, len(t.ds))
	for ci := range t.caches {
		c := &t.caches[ci]
		for _, r := range c.refs {
			perDS[r.ds] = append(perDS[r.ds], assign{c.Loc, c.pos, int32(ci)})
		}
	}
	for di := range t.ds {
		ds := &t.ds[di]
		ds.groupByLoc = make([]int32, len(t.locs))
		for li := range ds.groupByLoc {
			ds.groupByLoc[li] = -1
		}
		as := perDS[di]
		slices.SortFunc(as, func(a, b assign) int {
			if a.loc != b.loc {
				return cmp.Compare(a.loc, b.loc)
			}
			return cmp.Compare(a.pos, b.pos)
		})
		for i := 0; i < len(as); {
			j := i
			loc := &t.locs[as[i].loc]
			g := &group{loc: as[i].loc, ring: loc.ring, all: loc.Caches, member: newBitset(len(loc.Caches), false)}
			for ; j < len(as) && as[j].loc == as[i].loc; j++ {
				g.member.set(as[j].pos)
				g.caches = append(g.caches, as[j].ci)
			}
			ds.groupByLoc[as[i].loc] = int32(len(ds.groups))
			ds.groups = append(ds.groups, g)
			i = j
		}
	}
}

// indexCacheSets gives every group (edge and deep) the index of its cache
// list in t.cacheSets, one entry per distinct list: services assigned the
// same caches of a location share one, and so does the health view's list
// of its available members (Health.avail), rebuilt on every health update.
func (t *Table) indexCacheSets() {
	ids := make(map[string]int32)
	key := make([]byte, 0, 64)
	index := func(g *group) {
		key = key[:0]
		for _, ci := range g.caches {
			key = binary.LittleEndian.AppendUint32(key, uint32(ci))
		}
		id, ok := ids[string(key)]
		if !ok {
			id = int32(len(t.cacheSets))
			ids[string(key)] = id
			t.cacheSets = append(t.cacheSets, g.caches)
		}
		g.set, g.caches = id, t.cacheSets[id]
	}
	for di := range t.ds {
		for _, g := range t.ds[di].groups {
			index(g)
		}
	}
	for z := range t.deepLocs {
		for di := range t.ds {
			if g := t.deepLocs[z].byDS[int32(di)]; g != nil {
				index(g)
			}
		}
	}
}

// buildCoverageLinks links coverage zones to edge locations and compiles
// the synthetic deep locations with per-service groups.
func (t *Table) buildCoverageLinks(b *Builder) {
	if t.cz != nil {
		t.czLink = make([]czLink, t.cz.Len())
		for z := range t.czLink {
			t.czLink[z] = czLink{loc: -1}
			if li, ok := t.locIndex[t.cz.Zone(z).Name]; ok {
				t.czLink[z] = czLink{loc: li, cz: t.locs[li].Localization.CZ}
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
		r, err := newRing(t.points, dl.caches)
		if err != nil {
			b.log.Warn("deep coverage zone ignored: ring not built", "zone", zone.Name, "error", err)
			continue
		}
		dl.ring = r
		for di := range t.ds {
			if t.ds[di].DeepCachingType != control.DeepCachingAlways {
				continue
			}
			g := &group{loc: -1, ring: r, all: dl.caches, member: newBitset(len(dl.caches), false)}
			for pos, ci := range dl.caches {
				if _, ok := t.caches[ci].Reference(int32(di)); ok {
					g.member.set(int32(pos))
					g.caches = append(g.caches, ci)
				}
			}
			if len(g.caches) > 0 {
				dl.byDS[int32(di)] = g
			}
		}
	}
}
