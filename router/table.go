// Package router holds the compiled routing table and the cache selection
// algorithm of Traffic Router (spec sections 1.13, 2, 4 and 5). A Table is
// immutable once built, except for its health view, which is swapped as a
// whole (atomic pointer) when new health arrives. The package does no I/O.
package router

import (
	"iter"
	"net/netip"
	"sync/atomic"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/czf"
	"github.com/signpost-cdn/signpost/geo"
	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/steering"
)

// Table is one compiled generation of routing data. Queries load the
// current *Table once and use it for the whole query.
type Table struct {
	// Generation is the control.Set generation the table was built from.
	Generation uint64
	// Set is the datasets the table was built from.
	Set  *control.Set
	snap *control.Snapshot
	mode hashring.Mode

	ds       []DeliveryService
	dsIndex  map[string]int32
	exact    map[string]int32 // routingName.domain and _.domain -> ds
	matchers []dsMatcher
	// hostIndex finds label matchers (dsMatchers of one HOST matcher of
	// labelMatcher shape) by the first label of their NAME: indexes into
	// matchers, ascending. otherMatchers lists the rest, ascending.
	hostIndex     map[string][]int32
	otherMatchers []int32

	caches     []Cache
	cacheIndex map[string]int32
	// cacheSets are the distinct cache lists of all groups (group.set
	// indexes it; group.caches is the same slice): the health view keeps
	// the available members of each once (Health.avail), not per group.
	cacheSets [][]int32

	locs     []Location
	locIndex map[string]int32

	cz       *czf.Table
	czLink   []czLink // per coverage zone: its edge location
	orders   zoneOrders
	deep     *czf.Table
	deepLocs []deepLocation // per deep coverage zone

	// points are the consistent-hash points of each cache.
	points []*hashring.Points

	geo       *geo.City
	overrides map[string]geo.Point

	// steering is the steering registry compiled for this table (steering.go).
	steering *steering.Table

	health atomic.Pointer[Health]
}

// DeliveryService is a compiled delivery service.
type DeliveryService struct {
	*control.DeliveryService
	// Index is the position in Table.DeliveryServices.
	Index int32
	// groupByLoc maps an edge location index to an index into groups, or -1.
	groupByLoc []int32
	// groups are the supporting cache sets of the delivery service, one per
	// edge location that has at least one cache assigned to it.
	groups []*group
	// geoRedirect classifies geoLimitRedirectURL (spec 4.6).
	geoRedirect geoRedirectType
	// routingPrefix is routingName + "." (DNS routing-name check, spec 4.8).
	routingPrefix string
	// ttlA/ttlAAAA are the dynamic answer TTLs; -1 when the DS has no ttls.
	ttlA, ttlAAAA int64
	missLoc       *geo.Point
	dispersion    hashring.Dispersion
}

// group is the ordered set of caches of one edge location (or deep zone)
// that are assigned to a delivery service. It orders requests with the
// ring of the whole location: members not assigned to the service are
// filtered out before ordering, which yields Traffic Router's order over
// the service's caches (spec 5.8) while one ring serves every service.
type group struct {
	loc    int32          // edge location index, -1 for deep groups
	ring   *hashring.Ring // the location's (or deep zone's) ring
	all    []int32        // ring member index -> cache index
	member bitset         // ring members assigned to the service
	caches []int32        // the assigned caches in Traffic Router's input order
	set    int32          // caches' index in Table.cacheSets
}

// Cache is a cache (content server) in a known edge location.
type Cache struct {
	*control.ContentServer
	// Index is the position in Table.Caches.
	Index int32
	// Loc is the edge location index.
	Loc int32
	// refs are the cache's delivery service references sorted by service
	// index: the Location host and DNS name of the cache for that service.
	refs []dsRef
	// pos is the cache's position in its location's Caches.
	pos int32
}

type dsRef struct {
	ds   int32
	fqdn string
}

// Location is an edge cache group.
type Location struct {
	*control.EdgeLocation
	// Index is the position in Table.Locations.
	Index int32
	// Caches are the caches of the location in Java HashMap order.
	Caches []int32
	// ring orders all Caches for request hashes.
	ring *hashring.Ring
	// rank is the position in Java HashSet iteration order (distance ties).
	rank int32
}

// deepLocation is the synthetic location "deep.<zone>" of a deep coverage
// zone: its caches (existing ones only, Java HashMap order) and coordinates
// ((0,0) when the zone has none, as Traffic Router does).
type deepLocation struct {
	name     string
	lat, lon float64
	caches   []int32
	ring     *hashring.Ring
	// byDS maps a delivery service to the group of its caches here.
	byDS map[int32]*group
}

// czLink is a coverage zone's edge location: its index (-1 for none) and
// whether the location localizes by coverage zone, so that the zone's
// lookup reads neither Location nor control.EdgeLocation.
type czLink struct {
	loc int32
	cz  bool
}

type geoRedirectType uint8

const (
	geoRedirectNone geoRedirectType = iota
	geoRedirectDSURL
	geoRedirectNotDSURL
	geoRedirectInvalid
)

// DeliveryServices returns the compiled delivery services in snapshot order.
func (t *Table) DeliveryServices() []DeliveryService { return t.ds }

// DeliveryService returns the delivery service with the given xml_id.
func (t *Table) DeliveryService(xmlID string) (*DeliveryService, bool) {
	i, ok := t.dsIndex[xmlID]
	if !ok {
		return nil, false
	}
	return &t.ds[i], true
}

// Caches returns every routable cache in snapshot order.
func (t *Table) Caches() []Cache { return t.caches }

// Cache returns the cache with the given host name.
func (t *Table) Cache(id string) (*Cache, bool) {
	i, ok := t.cacheIndex[id]
	if !ok {
		return nil, false
	}
	return &t.caches[i], true
}

// Locations returns the edge cache groups in snapshot order.
func (t *Table) Locations() []Location { return t.locs }

// Location returns the edge location with the given name.
func (t *Table) Location(name string) (*Location, bool) {
	i, ok := t.locIndex[name]
	if !ok {
		return nil, false
	}
	return &t.locs[i], true
}

// Snapshot returns the snapshot the table was built from.
func (t *Table) Snapshot() *control.Snapshot { return t.snap }

// Health returns the current health view.
func (t *Table) Health() *Health { return t.health.Load() }

// Reference returns the cache's reference FQDN for the delivery service
// (the Location host of HTTP redirects and the name of DNS records).
func (c *Cache) Reference(ds int32) (string, bool) {
	lo, hi := 0, len(c.refs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.refs[m].ds < ds {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(c.refs) && c.refs[lo].ds == ds {
		return c.refs[lo].fqdn, true
	}
	return "", false
}

// References yields the cache's delivery service references (service
// index, reference FQDN) in service order: walking them costs the cache's
// assignments, not every service.
func (c *Cache) References() iter.Seq2[int32, string] {
	return func(yield func(int32, string) bool) {
		for _, r := range c.refs {
			if !yield(r.ds, r.fqdn) {
				return
			}
		}
	}
}

// Address returns the cache address of the family (v6 selects IP6).
func (c *Cache) Address(v6 bool) netip.Addr {
	if v6 {
		return c.IP6
	}
	return c.IP
}
