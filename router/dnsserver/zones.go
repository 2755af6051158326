package dnsserver

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/dnswire"
	"github.com/signpost-cdn/signpost/router"
)

// This file compiles the zones of a routing table (spec 6.2) into record
// templates, off the query path. Names are kept lower-case, as text without
// the trailing dot while building and in wire form for lookups.

// rrset is the records of one type at one owner.
type rrset struct {
	typ uint16
	rrs []dnswire.RR
}

// node is one owner name of a zone; an empty non-terminal has no sets.
type node struct {
	owner []byte
	sets  []rrset
}

func (n *node) set(typ uint16) *rrset {
	if n == nil {
		return nil
	}
	for i := range n.sets {
		if n.sets[i].typ == typ {
			return &n.sets[i]
		}
	}
	return nil
}

// has reports whether the node answers qtype positively (ANY: any set).
func (n *node) has(qtype uint16) bool {
	if n == nil {
		return false
	}
	if qtype == dnswire.TypeANY {
		return len(n.sets) > 0
	}
	return n.set(qtype) != nil
}

// edgeSet is the localized records of a zone for one Traffic Router
// location (or for the miss round robin): NS at the apex, A/AAAA at the
// routing name of an HTTP delivery service.
type edgeSet struct {
	ns, a, aaaa []dnswire.RR
	// nsSet is ns encoded for the authority section (nil: none);
	// nsAtOwner says it applies to questions for the zone's routing owner
	// (dnswire.OriginSet.AppliesTo, checked once here).
	nsSet     *dnswire.OriginSet
	nsAtOwner bool
}

// zone is one compiled zone.
type zone struct {
	origin []byte
	text   string // lower case, no trailing dot
	ds     int32  // delivery service owning the zone, -1 for none
	soa    dnswire.RR
	negTTL uint32
	apex   *node
	// names holds the nodes by owner name; nodes is its build-time form
	// (nil once compiled).
	names nameTable[*node]
	// nsSet and soaSet are the apex NS RRset and the SOA with the negative
	// TTL, encoded for the authority section (nil: not encodable).
	nsSet, soaSet *dnswire.OriginSet
	nsAtOwner     bool // as edgeSet.nsAtOwner, for nsSet
	nodes         map[string]*node
	// ecs is true when an ECS-enabled delivery service's domain is the
	// origin or one of its ancestors.
	ecs bool
	// routingOwner is routingName.origin when the zone has a delivery
	// service (dynamic A/AAAA go there).
	routingOwner []byte
	// routingNode is the node at routingOwner (nil: no static records there).
	routingNode *node
	// routingHost is routingOwner as the router's Request.Host, and
	// routingDS the table's MatchDS for it (nil: none matched), so a query
	// for the routing name is routed without the match.
	routingHost []byte
	routingDS   *router.DeliveryService
	// routingIsName: routingDS.IsRoutingName(routingHost), so a query for
	// the routing name routes without that check too.
	routingIsName bool
	edge          []edgeSet // per edge router location
	edgeMiss      edgeSet
}

// dsInfo is what answers need of a delivery service.
type dsInfo struct {
	zone          int32 // zone of its domain, -1 when none
	hasTTLs       bool
	ttlA, ttlAAAA uint32
	// DNS bypass records (nil when absent or when the bypass has no ttl).
	// Each holds one record.
	bypassA, bypassAAAA, bypassCNAME []dnswire.RR
}

// compiled is the zones of one table; a query loads it once and uses it
// (and its table) for the whole query.
type compiled struct {
	table *router.Table
	zones []zone
	// origins maps each zone's origin to its index, and each zone's
	// routing owner to its index with ownerBit set (see findZone);
	// byOrigin is its build-time form (nil once compiled).
	origins  nameTable[int32]
	byOrigin map[string]int32
	// originLens has bit n set when some origin or routing owner is n
	// octets long, so that findZone looks up only suffixes that can be in
	// origins.
	originLens [(dnswire.MaxNameLen + 64) / 64]uint64
	ds         []dsInfo
	// cacheA and cacheAAAA are per cache index; Type 0 means no address.
	cacheA, cacheAAAA []dnswire.RR
	fed               map[*control.FederationMapping][]dnswire.RR
	edge              *router.EdgeRouters
	edgeDNS, edgeHTTP bool
	edgeActive        bool
	ecsAll            bool
	warnings          []string
}

// findZone returns the most specific zone holding name (for qtype DS the
// parent's), or -1, and whether name is that zone's routing owner (then
// resolve needs neither a second lookup nor a comparison for it).
//
// A routing owner's entry holds the zone that owner lies in, checked at
// compile time (indexOwners), so a name ending in an owner lies in that
// zone too unless a longer suffix is an origin, which the walk, longest
// suffix first, finds before. An owner left out of the table (an origin
// itself, or lying in another zone) is never the routing owner of the
// zone findZone returns for it, so atOwner is exact for every name.
func (c *compiled) findZone(name []byte, qtype uint16) (zi int32, atOwner bool) {
	off := 0
	if qtype == typeDS && len(name) > 1 {
		off = 1 + int(name[0])
	}
	for off < len(name) {
		if n := len(name) - off; c.originLens[n>>6]&(1<<(n&63)) != 0 {
			if v, ok := c.origins.get(name[off:]); ok {
				return v &^ ownerBit, off == 0 && v&ownerBit != 0
			}
		}
		if name[off] == 0 {
			break
		}
		off += 1 + int(name[off])
	}
	return -1, false
}

// ownerBit marks a routing owner's entry in compiled.origins.
const ownerBit int32 = 1 << 30

const typeDS uint16 = 43

// zoneBuilder holds the state of one compile.
type zoneBuilder struct {
	t    *router.Table
	snap *control.Snapshot
	c    *compiled
	tld  string
	host string
	// zoneOf maps a zone's text to its index.
	zoneOf map[string]int32
	// dsByDomain maps a lower-case domain to the first delivery service.
	dsByDomain map[string]int32
	trs        []*control.ContentRouter // routers with NS records
}

// compileOptions are the inputs of compile besides the table.
type compileOptions struct {
	hostname string
	points   *hashring.PointCache
}

// compile builds the zones of t. It fails only when the CDN domain is
// unusable; bad single records are skipped and reported in warnings.
func compile(t *router.Table, o compileOptions) (*compiled, error) {
	snap := t.Snapshot()
	cfg := &snap.Config
	b := &zoneBuilder{
		t: t, snap: snap,
		c: &compiled{
			table: t, byOrigin: map[string]int32{}, fed: map[*control.FederationMapping][]dnswire.RR{},
			edgeDNS: cfg.EdgeDNSRouting, edgeHTTP: cfg.EdgeHTTPRouting, ecsAll: cfg.ECSEnable,
		},
		tld:        strings.TrimSuffix(strings.ToLower(cfg.DomainName), "."),
		zoneOf:     map[string]int32{},
		dsByDomain: map[string]int32{},
	}
	if b.tld == "" {
		return nil, fmt.Errorf("dnsserver: %s: config.domain_name: missing; no zone can be built", snap.Name)
	}
	if _, err := dnswire.AppendName(nil, b.tld); err != nil {
		return nil, fmt.Errorf("dnsserver: %s: config.domain_name: invalid name %q: %w", snap.Name, cfg.DomainName, err)
	}
	b.host = localHost(o.hostname, snap)
	for i := range snap.ContentRouters {
		cr := &snap.ContentRouters[i]
		if cr.Status != "" && cr.Status != "OFFLINE" && cr.Status != "ADMIN_DOWN" {
			b.trs = append(b.trs, cr)
		}
	}
	if (cfg.EdgeDNSRouting || cfg.EdgeHTTPRouting) && o.points != nil {
		e, err := router.NewEdgeRouters(snap, o.points)
		if err != nil {
			return nil, fmt.Errorf("dnsserver: %s: %w", snap.Name, err)
		}
		b.c.edge = e
		b.c.edgeActive = e.Len() > 0
	}
	b.zones()
	b.ecsZones()
	b.records()
	b.deliveryServices()
	b.caches()
	b.federations()
	b.edgeSets()
	b.emptyNonTerminals()
	b.originSets()
	b.indexOwners()
	b.c.origins, b.c.byOrigin = newNameTable(b.c.byOrigin), nil
	for zi := range b.c.zones {
		z := &b.c.zones[zi]
		z.names, z.nodes = newNameTable(z.nodes), nil
	}
	return b.c, nil
}

// localHost is the short host name of this Traffic Router (SOA MNAME): the
// only contentRouters key when there is exactly one, else the configured or
// system host name up to its first dot.
func localHost(configured string, snap *control.Snapshot) string {
	if len(snap.ContentRouters) == 1 {
		return strings.ToLower(snap.ContentRouters[0].ID)
	}
	h := configured
	if h == "" {
		h, _ = os.Hostname()
	}
	if h == "" {
		h = "localhost"
	}
	return strings.ToLower(firstLabel(h))
}

func (b *zoneBuilder) warn(format string, args ...any) {
	b.c.warnings = append(b.c.warnings, b.snap.Name+": "+fmt.Sprintf(format, args...))
}

func firstLabel(s string) string {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[:i]
	}
	return s
}

func parent(s string) string {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[i+1:]
	}
	return ""
}

// within reports whether name is zone or below it (text, lower case).
func within(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// clampTTL converts a snapshot TTL to the wire range.
func clampTTL(v int64) uint32 {
	if v < 0 {
		return 0
	}
	if v > math.MaxInt32 {
		return math.MaxInt32
	}
	return uint32(v)
}

// zones decides the zone set: the CDN domain (always: quirk 21 fixed), every
// delivery service domain under it, the domain of every cache reference,
// and the parent of each reference domain when it lies within the CDN
// domain.
func (b *zoneBuilder) zones() {
	b.addZone(b.tld)
	for i := range b.snap.DeliveryServices {
		d := strings.ToLower(b.snap.DeliveryServices[i].Domain())
		if d == "" {
			continue
		}
		if _, dup := b.dsByDomain[d]; !dup {
			b.dsByDomain[d] = int32(i)
		}
		if within(d, b.tld) {
			b.addZone(d)
		}
	}
	caches := b.t.Caches()
	for ci := range caches {
		for _, ref := range caches[ci].References() {
			dom := parent(ref)
			if dom == "" {
				continue
			}
			b.addZone(dom)
			if sup := parent(dom); sup != "" && within(sup, b.tld) {
				b.addZone(sup)
			}
		}
	}
}

func (b *zoneBuilder) addZone(text string) {
	if _, ok := b.zoneOf[text]; ok {
		return
	}
	origin, err := dnswire.AppendName(nil, text)
	if err != nil {
		b.warn("zone %q not built: %v", text, err)
		return
	}
	zi := int32(len(b.c.zones))
	z := zone{origin: origin, text: text, ds: -1, nodes: map[string]*node{}}
	if di, ok := b.dsByDomain[text]; ok {
		z.ds = di
	}
	b.c.zones = append(b.c.zones, z)
	b.zoneOf[text] = zi
	b.c.byOrigin[string(origin)] = zi
	b.c.originLens[len(origin)>>6] |= 1 << (len(origin) & 63)
}

// ecsZones marks the zones at or below the domain of a delivery service
// with ecsEnabled: queries there honour the client subnet even without
// the CDN-wide config.ecsEnable (spec 6.11).
func (b *zoneBuilder) ecsZones() {
	for zi := range b.c.zones {
		z := &b.c.zones[zi]
		for name := z.text; name != ""; {
			if di, ok := b.dsByDomain[name]; ok && b.snap.DeliveryServices[di].ECSEnabled {
				z.ecs = true
				break
			}
			i := strings.IndexByte(name, '.')
			if i < 0 {
				break
			}
			name = name[i+1:]
		}
	}
}

// ttls returns the TTL source of a zone: its delivery service's ttls when
// present, else config.ttls.
func (b *zoneBuilder) ttls(z *zone) control.TTLs {
	if z.ds >= 0 {
		if t := b.snap.DeliveryServices[z.ds].TTLs; t.Present {
			return t
		}
	}
	return b.snap.Config.TTLs
}

// add adds rr at owner (text) to zone zi, skipping exact duplicates.
func (b *zoneBuilder) add(zi int32, owner string, rr dnswire.RR) {
	z := &b.c.zones[zi]
	n := z.nodes[owner]
	if n == nil {
		w, err := dnswire.AppendName(nil, owner)
		if err != nil {
			b.warn("record at %q not built: %v", owner, err)
			return
		}
		n = &node{owner: w}
		z.nodes[string(w)] = n
		z.nodes[owner] = n // text key, build time only; removed in emptyNonTerminals
	}
	s := n.set(rr.Type)
	if s == nil {
		n.sets = append(n.sets, rrset{typ: rr.Type})
		s = &n.sets[len(n.sets)-1]
	}
	for i := range s.rrs {
		if string(s.rrs[i].RData()) == string(rr.RData()) {
			return
		}
	}
	s.rrs = append(s.rrs, rr)
}

// glue returns the name of Traffic Router host in zone z: the router's
// FQDN in zones without a delivery service, else host.<parent of zone>.
func (b *zoneBuilder) glue(z *zone, host, fqdn string) string {
	if z.ds < 0 {
		if fqdn != "" {
			return strings.ToLower(fqdn)
		}
		return host + "." + z.text
	}
	if p := parent(z.text); p != "" {
		return host + "." + p
	}
	return host + "." + z.text
}

// records adds SOA, NS, Traffic Router addresses and HTTP routing names.
func (b *zoneBuilder) records() {
	cfg := &b.snap.Config
	serial := uint32(0)
	if s, err := strconv.ParseUint(time.Unix(b.snap.Stats.Date, 0).UTC().Format("2006010215"), 10, 32); err == nil {
		serial = uint32(s)
	}
	var localFQDN string
	if cr, ok := b.snap.ContentRouter(b.host); ok {
		localFQDN = cr.FQDN
	}
	for zi := range b.c.zones {
		z := &b.c.zones[zi]
		var ds *control.DeliveryService
		if z.ds >= 0 {
			ds = &b.snap.DeliveryServices[z.ds]
		}
		ttl := b.ttls(z)
		soa := cfg.SOA
		if ds != nil && ds.SOA.Present {
			soa = ds.SOA
		}
		admin := soa.Admin
		if admin == "" {
			admin = "traffic_ops"
		}
		rname := admin + "." + z.text
		if strings.Contains(admin, "@") {
			rname = strings.ReplaceAll(admin, "@", ".")
		}
		z.negTTL = clampTTL(cfg.NegativeTTL())
		s := dnswire.SOA{
			MName: b.glue(z, b.host, localFQDN) + ".", RName: rname + ".",
			Serial:  serial,
			Refresh: clampTTL(soa.Refresh.Or(28800)), Retry: clampTTL(soa.Retry.Or(7200)),
			Expire: clampTTL(soa.Expire.Or(604800)), Minimum: z.negTTL,
		}
		if soa.Serial.OK {
			s.Serial = uint32(soa.Serial.Value)
		}
		rr, err := dnswire.NewSOA(s, clampTTL(ttl.Or("SOA", 86400)))
		if err != nil {
			b.warn("zone %q: SOA not built (mname %q, rname %q): %v", z.text, s.MName, s.RName, err)
			rr, _ = dnswire.NewSOA(dnswire.SOA{MName: z.text + ".", RName: "hostmaster." + z.text + ".", Serial: s.Serial,
				Refresh: s.Refresh, Retry: s.Retry, Expire: s.Expire, Minimum: s.Minimum}, clampTTL(ttl.Or("SOA", 86400)))
		}
		z.soa = rr
		b.add(int32(zi), z.text, rr)
		ip6 := ds == nil || ds.IP6RoutingEnabled
		httpName := ds != nil && !ds.IsDNS && !cfg.EdgeHTTPRouting && ds.RoutingName != ""
		for _, cr := range b.trs {
			host := strings.ToLower(cr.ID)
			ns, err := dnswire.NewNS(b.glue(z, host, cr.FQDN)+".", clampTTL(ttl.Or("NS", 60)))
			if err != nil {
				b.warn("contentRouters[%q]: NS in zone %q not built: %v", cr.ID, z.text, err)
				continue
			}
			b.add(int32(zi), z.text, ns)
			b.addresses(int32(zi), host+"."+z.text, cr.IP, cr.IP6, ip6, ttl)
			if httpName {
				b.addresses(int32(zi), ds.RoutingName+"."+z.text, cr.IP, cr.IP6, ip6, ttl)
			}
		}
		z.apex = z.nodes[z.text]
	}
}

// addresses adds A (and AAAA when withV6) records at owner with the TTLs
// of ttl (default 60).
func (b *zoneBuilder) addresses(zi int32, owner string, ip, ip6 netip.Addr, withV6 bool, ttl control.TTLs) {
	if ip.IsValid() {
		if rr, err := dnswire.NewA(ip.Unmap(), clampTTL(ttl.Or("A", 60))); err == nil {
			b.add(zi, owner, rr)
		}
	}
	if withV6 && ip6.IsValid() {
		if rr, err := dnswire.NewAAAA(ip6, clampTTL(ttl.Or("AAAA", 60))); err == nil {
			b.add(zi, owner, rr)
		}
	}
}

// deliveryServices compiles per-service answer data, static DNS entries
// and routing owners.
func (b *zoneBuilder) deliveryServices() {
	dss := b.snap.DeliveryServices
	b.c.ds = make([]dsInfo, len(dss))
	for di := range dss {
		ds := &dss[di]
		info := &b.c.ds[di]
		info.zone = -1
		dom := strings.ToLower(ds.Domain())
		if zi, ok := b.zoneOf[dom]; ok && dom != "" {
			info.zone = zi
			z := &b.c.zones[zi]
			if z.ds == int32(di) && ds.RoutingName != "" {
				if w, err := dnswire.AppendName(nil, ds.RoutingName+"."+dom); err == nil {
					z.routingOwner = w
				}
			}
		}
		info.hasTTLs = ds.TTLs.Present
		info.ttlA, info.ttlAAAA = clampTTL(ds.TTLs.Or("A", 0)), clampTTL(ds.TTLs.Or("AAAA", 0))
		path := fmt.Sprintf("deliveryServices[%q]", ds.ID)
		if bp := ds.BypassDNS; bp != nil && bp.TTL.OK {
			ttl := clampTTL(bp.TTL.Value)
			if bp.IP.IsValid() {
				if rr, err := dnswire.NewA(bp.IP.Unmap(), ttl); err == nil {
					info.bypassA = []dnswire.RR{rr}
				}
			}
			if bp.IP6.IsValid() {
				if rr, err := dnswire.NewAAAA(bp.IP6, ttl); err == nil {
					info.bypassAAAA = []dnswire.RR{rr}
				}
			}
			if len(info.bypassA) == 0 && len(info.bypassAAAA) == 0 && bp.CNAME != "" {
				rr, err := dnswire.NewCNAME(bp.CNAME, ttl)
				if err != nil {
					b.warn("%s.bypassDestination.DNS.cname: invalid name %q: %v", path, bp.CNAME, err)
				} else {
					info.bypassCNAME = []dnswire.RR{rr}
				}
			}
		}
		if info.zone >= 0 {
			b.staticEntries(info.zone, ds, path)
		}
	}
}

// staticEntries adds the delivery service's staticDnsEntries (A, AAAA,
// CNAME, TXT; other types are ignored as Traffic Router does).
func (b *zoneBuilder) staticEntries(zi int32, ds *control.DeliveryService, path string) {
	z := &b.c.zones[zi]
	for k, e := range ds.StaticDNSEntries {
		ep := fmt.Sprintf("%s.staticDnsEntries[%d]", path, k)
		ttl := e.TTL
		if ttl == 0 {
			ttl = ds.TTLs.Or(e.Type, 60)
		}
		var rr dnswire.RR
		var err error
		switch e.Type {
		case "A":
			a, perr := netip.ParseAddr(e.Value)
			if perr != nil || !a.Unmap().Is4() {
				b.warn("%s.value: invalid IPv4 address %q", ep, e.Value)
				continue
			}
			rr, err = dnswire.NewA(a.Unmap(), clampTTL(ttl))
		case "AAAA":
			a, perr := netip.ParseAddr(e.Value)
			if perr != nil || !a.Is6() || a.Is4In6() {
				b.warn("%s.value: invalid IPv6 address %q", ep, e.Value)
				continue
			}
			rr, err = dnswire.NewAAAA(a, clampTTL(ttl))
		case "CNAME":
			rr, err = dnswire.NewCNAME(e.Value, clampTTL(ttl))
		case "TXT":
			rr, err = dnswire.NewTXT(clampTTL(ttl), chunk255(e.Value)...)
		default:
			continue
		}
		if err != nil {
			b.warn("%s.value: %s record %q not built: %v", ep, e.Type, e.Value, err)
			continue
		}
		owner := strings.ToLower(e.Name) + "." + z.text
		if e.Name == "" || e.Name == "@" {
			owner = z.text
		}
		b.add(zi, owner, rr)
	}
}

// chunk255 splits s into TXT character-strings of at most 255 bytes.
func chunk255(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}

// caches adds the cache records (spec 6.2) and the per-cache address
// templates of routed answers.
func (b *zoneBuilder) caches() {
	caches := b.t.Caches()
	b.c.cacheA = make([]dnswire.RR, len(caches))
	b.c.cacheAAAA = make([]dnswire.RR, len(caches))
	dss := b.snap.DeliveryServices
	for ci := range caches {
		c := &caches[ci]
		if c.IP.IsValid() {
			if rr, err := dnswire.NewA(c.IP.Unmap(), 0); err == nil {
				b.c.cacheA[ci] = rr
			}
		}
		if c.IP6.IsValid() {
			if rr, err := dnswire.NewAAAA(c.IP6, 0); err == nil {
				b.c.cacheAAAA[ci] = rr
			}
		}
		for di, ref := range c.References() {
			ds := &dss[di]
			if ds.IsDNS && firstLabel(ref) == ds.RoutingName {
				continue // DNS routing names are always dynamic
			}
			zi, ok := b.zoneOf[parent(ref)]
			if !ok {
				continue
			}
			b.addresses(zi, ref, c.IP, c.IP6, ds.IP6RoutingEnabled, ds.TTLs)
		}
	}
}

// federations compiles one CNAME template per federation mapping.
func (b *zoneBuilder) federations() {
	fs := b.t.Set.Federations
	if fs == nil {
		return
	}
	for i := range fs.Entries {
		ms := fs.Entries[i].Mappings
		for j := range ms {
			rr, err := dnswire.NewCNAME(ms[j].CNAME, clampTTL(ms[j].TTL))
			if err != nil {
				b.warn("federations: %q mapping %d: invalid cname %q: %v", fs.Entries[i].DeliveryService, j, ms[j].CNAME, err)
				continue
			}
			b.c.fed[&ms[j]] = []dnswire.RR{rr}
		}
	}
}

// edgeSets precomputes the localized NS and HTTP routing-name records of
// every zone for every Traffic Router location and for the miss round
// robin (spec 4.9): the consistent-hash order depends only on the zone.
func (b *zoneBuilder) edgeSets() {
	e := b.c.edge
	if !b.c.edgeActive {
		return
	}
	cfg := &b.snap.Config
	for zi := range b.c.zones {
		z := &b.c.zones[zi]
		var ds *control.DeliveryService
		if z.ds >= 0 {
			ds = &b.snap.DeliveryServices[z.ds]
		}
		nsTTL := cfg.TTLs.Or("NS", 3600)
		if ds != nil {
			if v, ok := ds.TTLs.Get("NS"); ok {
				nsTTL = v
			}
		}
		httpLimit := int(cfg.EdgeHTTPLimit)
		if ds != nil && ds.MaxDNSIPsForLocation != 0 {
			httpLimit = ds.MaxDNSIPsForLocation
		}
		httpOn := cfg.EdgeHTTPRouting && ds != nil && !ds.IsDNS && z.routingOwner != nil
		below := z.text != b.tld && within(z.text, b.tld)
		build := func(order []int32) edgeSet {
			var s edgeSet
			for k, ri := range order {
				tr := e.Routers[ri]
				if cfg.EdgeDNSRouting && k < int(cfg.EdgeDNSLimit) {
					target := strings.ToLower(tr.FQDN)
					if below {
						target = firstLabel(target) + "." + b.tld
					}
					if rr, err := dnswire.NewNS(target+".", clampTTL(nsTTL)); err == nil {
						s.ns = append(s.ns, rr)
					} else {
						b.warn("contentRouters[%q].fqdn: invalid name %q: %v", tr.ID, tr.FQDN, err)
					}
				}
				if httpOn && k < httpLimit {
					if tr.IP.IsValid() {
						if rr, err := dnswire.NewA(tr.IP.Unmap(), clampTTL(ds.TTLs.Or("A", 0))); err == nil {
							s.a = append(s.a, rr)
						}
					}
					if ds.IP6RoutingEnabled && tr.IP6.IsValid() {
						if rr, err := dnswire.NewAAAA(tr.IP6, clampTTL(ds.TTLs.Or("AAAA", 0))); err == nil {
							s.aaaa = append(s.aaaa, rr)
						}
					}
				}
			}
			return s
		}
		hashString := z.text + "."
		z.edge = make([]edgeSet, len(e.Locations))
		for li := range e.Locations {
			z.edge[li] = build(e.Order(li, hashString))
		}
		z.edgeMiss = build(e.MissOrder(hashString, max(int(cfg.EdgeDNSLimit), httpLimit)))
	}
}

// emptyNonTerminals drops the build-time text keys and adds a node for
// every name between an owner and its zone's origin, and for the origin of
// every child zone in its parent (so that such names exist: NODATA, not
// NXDOMAIN).
func (b *zoneBuilder) emptyNonTerminals() {
	for zi := range b.c.zones {
		z := &b.c.zones[zi]
		var owners []string
		for k, n := range z.nodes {
			if k != string(n.owner) {
				delete(z.nodes, k)
				owners = append(owners, k)
			}
		}
		for _, o := range owners {
			for p := parent(o); p != "" && p != z.text && within(p, z.text); p = parent(p) {
				b.ent(z, p)
			}
		}
	}
	for zi := range b.c.zones {
		child := b.c.zones[zi].text
		for p := parent(child); p != ""; p = parent(p) {
			if pi, ok := b.zoneOf[p]; ok {
				pz := &b.c.zones[pi]
				for n := child; n != p; n = parent(n) {
					b.ent(pz, n)
				}
				break
			}
		}
	}
}

func (b *zoneBuilder) ent(z *zone, text string) {
	w, err := dnswire.AppendName(nil, text)
	if err != nil {
		return
	}
	if _, ok := z.nodes[string(w)]; !ok {
		z.nodes[string(w)] = &node{owner: w}
	}
}

// indexOwners enters each zone's routing owner into the origins map, with
// ownerBit, when findZone over the origins alone returns its own zone for
// it (the owner is not an origin itself and lies in its zone).
func (b *zoneBuilder) indexOwners() {
	b.c.origins = newNameTable(b.c.byOrigin) // the origins alone, for findZone
	for zi := range b.c.zones {
		z := &b.c.zones[zi]
		if z.routingOwner == nil {
			continue
		}
		if in, _ := b.c.findZone(z.routingOwner, 0); in != int32(zi) {
			continue
		}
		b.c.byOrigin[string(z.routingOwner)] = int32(zi) | ownerBit
		b.c.originLens[len(z.routingOwner)>>6] |= 1 << (len(z.routingOwner) & 63)
	}
}

// originSets notes each zone's node at its routing name and prepares the
// authority RRsets of every zone (apex NS, SOA with the negative TTL,
// localized NS) for questions at or below the origin.
func (b *zoneBuilder) originSets() {
	for zi := range b.c.zones {
		z := &b.c.zones[zi]
		if z.routingOwner != nil {
			z.routingNode = z.nodes[string(z.routingOwner)]
			z.routingHost = appendHost(nil, z.routingOwner)
			z.routingDS = b.t.MatchDS(&router.Request{Host: z.routingHost}, new(router.Scratch))
			z.routingIsName = z.routingDS != nil && z.routingDS.IsRoutingName(z.routingHost)
		}
		if s := z.apex.set(dnswire.TypeNS); s != nil {
			z.nsSet = dnswire.NewOriginSet(z.origin, s.rrs)
			z.nsAtOwner = appliesAt(z.nsSet, z.routingOwner)
		}
		soa := z.soa
		soa.TTL = z.negTTL
		z.soaSet = dnswire.NewOriginSet(z.origin, []dnswire.RR{soa})
		for li := range z.edge {
			es := &z.edge[li]
			es.nsSet = dnswire.NewOriginSet(z.origin, es.ns)
			es.nsAtOwner = appliesAt(es.nsSet, z.routingOwner)
		}
		z.edgeMiss.nsSet = dnswire.NewOriginSet(z.origin, z.edgeMiss.ns)
		z.edgeMiss.nsAtOwner = appliesAt(z.edgeMiss.nsSet, z.routingOwner)
	}
}

// appliesAt reports whether set's prepared path applies to questions for
// name (nil: none).
func appliesAt(set *dnswire.OriginSet, name []byte) bool {
	return set != nil && name != nil && set.AppliesTo(name)
}
