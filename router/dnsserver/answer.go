package dnsserver

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/signpost-cdn/signpost/internal/dnswire"
	"github.com/signpost-cdn/signpost/router"
	"github.com/signpost-cdn/signpost/router/accesslog"
)

// maxCNAMEHops bounds CNAME chasing inside our zones (spec 6.4).
const maxCNAMEHops = 6

// queryState is a worker's scratch memory, kept in Response.HandlerState
// and reused for every query of the worker.
type queryState struct {
	sc   router.Scratch
	sel  router.Selection
	req  router.Request
	host []byte
	dyn  dynamic

	client, resolver netip.Addr
	edgeLoc          router.EdgeLocation
	located          bool
	visited          [maxCNAMEHops + 1][]byte
	nvisited         int

	rcode    int
	aa       bool
	nsApex   []byte                // apex whose NS RRset is already in the answer
	answers  []accesslog.DNSAnswer // when logging
	logging  bool                  // the access log is on: note answers
	rtype    accesslog.ResultType
	rdtl     accesslog.ResultDetails
	hasLoc   bool
	lat, lon float64
	svc      string
	rec      accesslog.DNSRecord
	perm     [64]uint8

	// Counts deferred to the end of the batch (handlerMetrics.flush).
	pendRcode, pendQType, pendResult pendingInc
}

func newQueryState() *queryState {
	return &queryState{host: make([]byte, 0, dnswire.MaxNameLen), answers: make([]accesslog.DNSAnswer, 0, 32)}
}

func (st *queryState) reset(resolver netip.Addr) {
	st.client, st.resolver = resolver, resolver
	st.located, st.nvisited = false, 0
	st.rcode, st.aa, st.nsApex = dnswire.RcodeSuccess, false, nil
	st.answers = st.answers[:0]
	st.rtype, st.rdtl, st.hasLoc, st.svc = accesslog.ResultNone, accesslog.DetailsNone, false, ""
}

// dynamic is the routed part of one lookup: Traffic Router's "dynamic
// zone" records (spec 6.3), placed over the static zone.
type dynamic struct {
	// owner is routingName.zone, where address records go (nil: none).
	owner []byte
	// caches answer with their addresses (TTL ttlA/ttlAAAA; AAAA only
	// when v6).
	caches        []int32
	ttlA, ttlAAAA uint32
	v6            bool
	// fixedA and fixedAAAA are the other address records at owner: a DNS
	// bypass or the edge routers' HTTP routing records.
	fixedA, fixedAAAA []dnswire.RR
	// cname is a CNAME at the query name (bypass or federation), one record.
	cname []dnswire.RR
	// ns holds the localized NS RRset of the zone apex (nil: the zone's).
	ns *edgeSet
}

// setNS localizes the apex NS RRset to es when es has one.
func (d *dynamic) setNS(es *edgeSet) {
	if len(es.ns) > 0 {
		d.ns = es
	}
}

func (d *dynamic) hasA() bool {
	return len(d.caches) > 0 || len(d.fixedA) > 0
}

func (d *dynamic) hasAAAA() bool {
	return (len(d.caches) > 0 && d.v6) || len(d.fixedAAAA) > 0
}

// outcome is how a lookup in one zone ended.
type outcome uint8

const (
	outNone outcome = iota // not authoritative, or the CNAME chain left our zones
	outSuccess
	outNoData
	outNXDomain
	outCNAME
)

// resolve answers q into w (spec 6.4): zone selection, static or dynamic
// answer, CNAME chasing, authority section.
func resolve(c *compiled, st *queryState, w *Response, q *dnswire.Query) {
	name := q.Name()
	qtype := q.Type
	owner := dnswire.OwnerAt(dnswire.QuestionOffset)
	var z *zone
	out := outNone
	// qAtOwner: the question itself is z's routing owner (hop 0).
	qAtOwner := false
	for hop := 0; hop <= maxCNAMEHops; hop++ {
		zi, atOwner := c.findZone(name, qtype)
		if zi < 0 {
			if hop == 0 {
				st.rcode = dnswire.RcodeRefused
			}
			out = outNone
			break
		}
		z = &c.zones[zi]
		if hop == 0 && q.ECS {
			if c.ecsAll || z.ecs {
				if q.ECSSource > 0 {
					st.client = q.ECSAddr.Unmap()
				}
				w.SetECSScope(q.ECSSource)
			}
		}
		var nd *node
		qAtOwner = hop == 0 && atOwner
		if atOwner {
			nd = z.routingNode
		} else {
			nd, _ = z.names.get(name)
		}
		st.dyn = dynamic{}
		if c.edgeDNS || !nd.has(qtype) {
			route(c, st, zi, z, name, qtype, atOwner)
		}
		var target []byte
		out, target = answerAt(c, st, w, z, nd, name, owner, qtype, atOwner)
		if out != outCNAME {
			break
		}
		if st.seen(target) {
			out = outNone
			break
		}
		name, owner = target, dnswire.OwnerName(target)
	}
	switch out {
	case outSuccess:
		st.aa = true
		if string(st.nsApex) != string(z.origin) {
			var ns []dnswire.RR
			set, checked := z.nsSet, z.nsAtOwner
			if es := st.dyn.ns; es != nil {
				ns, set, checked = es.ns, es.nsSet, es.nsAtOwner
			} else if s := z.apex.set(dnswire.TypeNS); s != nil {
				ns = s.rrs
			}
			emitAuthority(st, w, z.origin, ns, set, checked && qAtOwner)
		}
	case outNXDomain, outNoData:
		st.aa = true
		if out == outNXDomain {
			st.rcode = dnswire.RcodeNXDomain
		}
		if !w.AppendOriginSet(dnswire.Authority, z.soaSet, nil, false) {
			w.AppendTTL(dnswire.Authority, dnswire.OwnerName(z.origin), &z.soa, z.negTTL)
		}
	}
}

// seen records a CNAME target and reports whether it was visited before.
func (st *queryState) seen(name []byte) bool {
	for i := 0; i < st.nvisited; i++ {
		if string(st.visited[i]) == string(name) {
			return true
		}
	}
	if st.nvisited < len(st.visited) {
		st.visited[st.nvisited] = name
		st.nvisited++
	}
	return false
}

// route runs Traffic Router's dynamic routing for name (spec 4.8, 4.9) and
// fills st.dyn and the access-log result fields. atOwner says name is the
// zone's routing name, whose host text and service match were prepared at
// compile time.
func route(c *compiled, st *queryState, zi int32, z *zone, name []byte, qtype uint16, atOwner bool) {
	// Only the DNS fields of the request are ever set; the others stay zero.
	req := &st.req
	req.Client, req.V6 = st.client, qtype == dnswire.TypeAAAA
	sel := &st.sel
	d := &st.dyn
	var routed bool
	switch {
	case atOwner && z.routingIsName:
		req.Host = z.routingHost
		routed = c.table.RouteDNSRoutingName(z.routingDS, req, &st.sc, sel)
	case atOwner:
		req.Host = z.routingHost
		routed = c.table.RouteDNSMatched(z.routingDS, req, &st.sc, sel)
	default:
		st.host = appendHost(st.host[:0], name)
		req.Host = st.host
		routed = c.table.RouteDNS(req, &st.sc, sel)
	}
	if routed {
		ds := sel.DS
		info := &c.ds[ds.Index]
		var owner []byte
		if info.zone == zi {
			owner = z.routingOwner
		}
		switch {
		case sel.Federation != nil:
			d.cname = c.fed[sel.Federation]
		case len(sel.Caches) > 0:
			if !info.hasTTLs {
				// Traffic Router fails to build records with TTL -1 and
				// answers from the static zone.
				return
			}
			d.owner, d.caches, d.ttlA, d.ttlAAAA, d.v6 = owner, sel.Caches, info.ttlA, info.ttlAAAA, ds.IP6RoutingEnabled
		case sel.Bypass:
			d.owner, d.fixedA, d.fixedAAAA, d.cname = owner, info.bypassA, info.bypassAAAA, info.bypassCNAME
		}
		st.rtype, st.rdtl = logResult(sel.Type), logDetail(sel.Detail)
		st.hasLoc, st.lat, st.lon, st.svc = sel.HasCoordinates, sel.Lat, sel.Lon, ds.ID
		if sel.Federation == nil && c.edgeDNS && c.edgeActive {
			d.setNS(edgeFor(c, st, z))
		}
		return
	}
	if !c.edgeActive {
		return
	}
	es := edgeFor(c, st, z)
	if c.edgeDNS {
		d.setNS(es)
	}
	if sel.DS != nil && z.ds == sel.DS.Index && (len(es.a) > 0 || len(es.aaaa) > 0) {
		d.owner, d.fixedA, d.fixedAAAA = z.routingOwner, es.a, es.aaaa
	}
	st.rtype, st.rdtl = logResult(st.edgeLoc.Type), accesslog.DetailsLocalizedDNS
	st.hasLoc, st.svc = false, ""
	if st.edgeLoc.Loc >= 0 {
		l := &c.edge.Locations[st.edgeLoc.Loc]
		st.hasLoc, st.lat, st.lon = true, l.Latitude, l.Longitude
	}
	if sel.DS != nil {
		st.svc = sel.DS.ID
	}
}

// edgeFor places the client once per query and returns the zone's edge
// records for that place.
func edgeFor(c *compiled, st *queryState, z *zone) *edgeSet {
	if !st.located {
		st.edgeLoc = c.table.LocateEdge(c.edge, st.client)
		st.located = true
	}
	if st.edgeLoc.Loc >= 0 && st.edgeLoc.Loc < len(z.edge) {
		return &z.edge[st.edgeLoc.Loc]
	}
	return &z.edgeMiss
}

// answerAt looks name up in zone z overlaid with st.dyn and appends the
// answer records; atOwner says name is z's routing owner, the only owner
// st.dyn places address records at. For outCNAME it returns the target
// (wire form).
func answerAt(c *compiled, st *queryState, w *Response, z *zone, nd *node, name []byte, owner dnswire.Owner, qtype uint16, atOwner bool) (outcome, []byte) {
	d := &st.dyn
	if len(d.cname) > 0 {
		emit(st, w, dnswire.Answer, owner, d.cname, true, 0)
		if qtype == dnswire.TypeCNAME || qtype == dnswire.TypeANY {
			return outSuccess, nil
		}
		return outCNAME, d.cname[0].RData()
	}
	isOwner := d.owner != nil && atOwner
	dynAddr := isOwner && (d.hasA() || d.hasAAAA())
	if qtype != dnswire.TypeCNAME && qtype != dnswire.TypeANY && !dynAddr {
		if s := nd.set(dnswire.TypeCNAME); s != nil {
			emit(st, w, dnswire.Answer, owner, s.rrs, true, 0)
			return outCNAME, s.rrs[0].RData()
		}
	}
	apex := nd != nil && nd == z.apex
	n := 0
	if qtype == dnswire.TypeANY {
		if nd != nil {
			for i := range nd.sets {
				n += emitType(c, st, w, z, nd, owner, nd.sets[i].typ, isOwner, apex)
			}
		}
		if isOwner && nd.set(dnswire.TypeA) == nil {
			n += emitType(c, st, w, z, nd, owner, dnswire.TypeA, isOwner, apex)
		}
		if isOwner && nd.set(dnswire.TypeAAAA) == nil {
			n += emitType(c, st, w, z, nd, owner, dnswire.TypeAAAA, isOwner, apex)
		}
	} else {
		n = emitType(c, st, w, z, nd, owner, qtype, isOwner, apex)
	}
	switch {
	case n > 0:
		return outSuccess, nil
	case nd != nil || dynAddr:
		return outNoData, nil
	}
	return outNXDomain, nil
}

// emitType appends the RRset of typ at the current name: dynamic address
// records at the routing name, the localized NS at the apex, else the
// static set.
func emitType(c *compiled, st *queryState, w *Response, z *zone, nd *node, owner dnswire.Owner, typ uint16, isOwner, apex bool) int {
	d := &st.dyn
	switch {
	case typ == dnswire.TypeA && isOwner && d.hasA():
		return emitAddrs(c, st, w, owner, false)
	case typ == dnswire.TypeAAAA && isOwner && d.hasAAAA():
		return emitAddrs(c, st, w, owner, true)
	case typ == dnswire.TypeNS && apex && d.ns != nil:
		st.nsApex = z.origin
		return emit(st, w, dnswire.Answer, owner, d.ns.ns, true, 0)
	}
	s := nd.set(typ)
	if s == nil {
		return 0
	}
	if typ == dnswire.TypeNS && apex {
		st.nsApex = z.origin
	}
	return emit(st, w, dnswire.Answer, owner, s.rrs, true, 0)
}

// emitAddrs appends the dynamic A (or AAAA) records.
func emitAddrs(c *compiled, st *queryState, w *Response, owner dnswire.Owner, v6 bool) int {
	d := &st.dyn
	if len(d.caches) > 0 {
		if v6 && !d.v6 {
			return 0
		}
		if len(d.caches) > 1 {
			shuffle32(d.caches)
		}
		tmpl, ttl := c.cacheA, d.ttlA
		if v6 {
			tmpl, ttl = c.cacheAAAA, d.ttlAAAA
		}
		// Not through appendRR, which is not inlined: this is the routed
		// answer, the most frequent one (Response.AppendTTL is).
		n := 0
		for _, ci := range d.caches {
			rr := &tmpl[ci]
			if rr.Type == 0 || !w.AppendTTL(dnswire.Answer, owner, rr, ttl) {
				continue
			}
			n++
			st.noteAnswer(rr, ttl)
		}
		return n
	}
	if v6 {
		return emit(st, w, dnswire.Answer, owner, d.fixedAAAA, true, 0)
	}
	return emit(st, w, dnswire.Answer, owner, d.fixedA, true, 0)
}

// emit appends an RRset in random order (spec 6.4); ttl 0 keeps the
// templates' TTLs. It returns the records written.
func emit(st *queryState, w *Response, sec dnswire.Section, owner dnswire.Owner, rrs []dnswire.RR, log bool, ttl uint32) int {
	n := len(rrs)
	switch {
	case n == 0:
		return 0
	case n == 1:
		return emitAt(st, w, sec, owner, &rrs[0], log, ttl)
	case n <= len(st.perm):
		written := 0
		for _, i := range st.shuffled(n) {
			written += emitAt(st, w, sec, owner, &rrs[i], log, ttl)
		}
		return written
	}
	off, written := rand.IntN(n), 0
	for i := range n {
		written += emitAt(st, w, sec, owner, &rrs[(off+i)%n], log, ttl)
	}
	return written
}

// shuffled returns a random permutation of [0, n) in st.perm; n must be
// at most len(st.perm).
func (st *queryState) shuffled(n int) []uint8 {
	p := st.perm[:n]
	for i := range p {
		p[i] = uint8(i)
	}
	for i := n - 1; i > 0; i-- {
		j := rand.IntN(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// emitAuthority appends the NS RRset rrs of the zone at origin to the
// authority section in random order, as emit does: from its encoding set
// when it applies (same bytes), else record by record. checked says the
// set applies to the question's name (dnswire.OriginSet.AppliesTo).
func emitAuthority(st *queryState, w *Response, origin []byte, rrs []dnswire.RR, set *dnswire.OriginSet, checked bool) {
	n := len(rrs)
	if set == nil || set.Len() != n || n > len(st.perm) {
		emit(st, w, dnswire.Authority, dnswire.OwnerName(origin), rrs, false, 0)
		return
	}
	var order []uint8
	if n > 1 {
		order = st.shuffled(n)
	}
	if w.AppendOriginSet(dnswire.Authority, set, order, checked) {
		return
	}
	if order == nil {
		emitAt(st, w, dnswire.Authority, dnswire.OwnerName(origin), &rrs[0], false, 0)
		return
	}
	for _, i := range order {
		emitAt(st, w, dnswire.Authority, dnswire.OwnerName(origin), &rrs[i], false, 0)
	}
}

func emitAt(st *queryState, w *Response, sec dnswire.Section, owner dnswire.Owner, rr *dnswire.RR, log bool, ttl uint32) int {
	if ttl == 0 {
		ttl = rr.TTL
	}
	if appendRR(st, w, sec, owner, rr, ttl, log) {
		return 1
	}
	return 0
}

// appendRR appends one record and notes answers for the access log.
func appendRR(st *queryState, w *Response, sec dnswire.Section, owner dnswire.Owner, rr *dnswire.RR, ttl uint32, log bool) bool {
	if !w.AppendTTL(sec, owner, rr, ttl) {
		return false
	}
	if log && sec == dnswire.Answer {
		st.noteAnswer(rr, ttl)
	}
	return true
}

// noteAnswer keeps an answer record for the access log when it is on.
func (st *queryState) noteAnswer(rr *dnswire.RR, ttl uint32) {
	if st.logging {
		st.answers = append(st.answers, accesslog.DNSAnswer{TTL: ttl, Type: rr.Type, RData: rr.RData()})
	}
}

// shuffle32 permutes s (math/rand/v2, lock free).
func shuffle32(s []int32) {
	for i := len(s) - 1; i > 0; i-- {
		j := rand.IntN(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}

// appendHost appends the wire name as lower-case text without the trailing
// dot (the router's Request.Host).
func appendHost(dst, name []byte) []byte {
	if len(name) < 2 {
		return dst
	}
	// The text is the wire name without its first length octet and the
	// root label, the other length octets turned into dots.
	base := len(dst) - 1
	dst = append(dst, name[1:len(name)-1]...)
	for i := 1 + int(name[0]); i < len(name)-1 && name[i] != 0; i += 1 + int(name[i]) {
		dst[base+i] = '.'
	}
	return dst
}

// logResult maps the router's rtype to the access log's.
func logResult(t router.ResultType) accesslog.ResultType {
	return accesslog.ResultType(t) + 1
}

// logDetail maps the router's rdtl; Traffic Router's DNS track has no
// detail by default, so DetailNone logs "-".
func logDetail(d router.ResultDetail) accesslog.ResultDetails {
	if d == router.DetailNone {
		return accesslog.DetailsNone
	}
	return accesslog.ResultDetails(d) + 1
}

// record fills the access-log record of the query.
func (st *queryState) record(q *dnswire.Query, start time.Time, elapsed time.Duration) *accesslog.DNSRecord {
	st.rec = accesslog.DNSRecord{
		Received: start, Elapsed: elapsed,
		Client: st.client, Resolver: st.resolver,
		HasMessage: true, ID: q.ID, QName: q.Name(), QType: q.Type, QClass: q.Class,
		Rcode:  uint16(st.rcode),
		Result: st.rtype, Details: st.rdtl,
		HasLocation: st.hasLoc, Lat: st.lat, Lon: st.lon,
		Answers: st.answers, Service: st.svc,
	}
	return &st.rec
}
