package loadtest

import (
	"net/netip"
	"strings"

	"github.com/signpost-cdn/signpost/router"
)

// missKind says what an answer without a cache was, for the comparison
// with the routing table (missCheck).
type missKind uint8

const (
	// missNone: the answer names a cache, or is not checked against the
	// table (a wrong address, a malformed message).
	missNone missKind = iota
	// missNoCache: DNS NXDOMAIN or NOERROR without addresses, HTTP 503.
	missNoCache
	// missBypass: an HTTP redirect to the delivery service's bypass
	// destination.
	missBypass
)

// missCheck decides whether an answer without a cache is the answer the
// router should give: Traffic Router answers MISS (NXDOMAIN; HTTP 503 or
// the bypass destination) for a client whose cache group has no cache
// for the delivery service and whose backupLocations forbid falling back
// to the closest group (fallbackToClosest false), for services that are
// unavailable, and so on. The CDN's routing table is asked for the same
// (delivery service, client): when it selects no cache either, the
// answer is an expected miss; otherwise the router failed a request it
// should have routed. Each worker owns one missCheck (the router's
// Scratch is per goroutine). It only runs for answers without a cache,
// off the success path, and may allocate there.
type missCheck struct {
	req  router.Request
	sc   router.Scratch
	sel  router.Selection
	ms   router.MultiSelection
	host []byte
	path []byte
	// cache is the host name of the first cache the table chose when it
	// disagreed, for the error sample.
	cache string
}

// ecsClient is the client address the router reads from the ECS option
// appendQuery writes: IPv4 /32, IPv6 /64 (zero-filled beyond the prefix).
func ecsClient(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().Addr()
	}
	return a
}

// dns turns v, the verdict on an answer to q that has no cache, into
// an expected miss when the table selects no cache for the query either.
// src is the address the router sees the query come from (its client
// when it does not honour ECS for the service).
func (m *missCheck) dns(c *CDN, q *dnsQuery, src netip.Addr, v verdict) verdict {
	m.cache = ""
	if v.miss == missNone || c.Table == nil {
		return v
	}
	svc := &c.Services[q.svc]
	client := src.Unmap()
	if svc.ECS {
		client = ecsClient(q.client.addr)
	}
	m.host = append(m.host[:0], svc.FQDN...)
	m.req = router.Request{Host: m.host, Client: client, V6: q.qtype == 28}
	if !c.Table.RouteDNS(&m.req, &m.sc, &m.sel) {
		return v // not a routing name: the answer is not the router's to miss
	}
	switch {
	case len(m.sel.Caches) > 0:
		m.cache = c.Table.Caches()[m.sel.Caches[0]].ID
	case m.sel.Federation == nil && !m.sel.Bypass:
		v.out = outMiss
	}
	return v
}

// http is dns for an HTTP(S) request: a 503 is expected when the table
// selects no cache and no bypass, a bypass redirect when the table, too,
// sends the client to the bypass destination.
func (m *missCheck) http(c *CDN, r *httpRequest, secure bool, v verdict) verdict {
	m.cache = ""
	if v.miss == missNone || c.Table == nil || !r.clientAddr.IsValid() {
		return v
	}
	t := c.Table
	rawPath, rawQuery, _ := strings.Cut(r.path, "?")
	var err error
	if m.path, err = router.AppendDecodedPath(m.path[:0], []byte(rawPath)); err != nil {
		return v
	}
	m.host = append(m.host[:0], r.host...)
	m.req = router.Request{Host: m.host, Path: m.path, RawQuery: []byte(rawQuery), Client: r.clientAddr.Unmap(),
		HTTP: true, Secure: secure}
	caches, bypass := 0, false
	ds := t.MatchDS(&m.req, &m.sc)
	if ds != nil && t.SteeringEntry(ds) != nil {
		multi, err := t.RouteSteering(ds, &m.req, nil, &m.sc, &m.ms, &m.sel)
		if err != nil {
			return v
		}
		if multi {
			caches, bypass = len(m.ms.Results), m.ms.Bypass
			if caches > 0 {
				m.cache = m.ms.Results[0].Cache.ID
			}
		} else {
			caches, bypass = len(m.sel.Caches), m.sel.Bypass
		}
	} else {
		if err := t.RouteMatched(ds, &m.req, &m.sc, &m.sel); err != nil {
			return v
		}
		caches, bypass = len(m.sel.Caches), m.sel.Bypass
		if m.sel.GeoRedirect {
			return v
		}
	}
	if caches > 0 && m.cache == "" {
		m.cache = t.Caches()[m.sel.Caches[0]].ID
	}
	switch {
	case caches > 0:
	case v.miss == missNoCache && !bypass, v.miss == missBypass && bypass:
		v.out = outMiss
	}
	return v
}

// detail adds to d, the sample detail of v, the cache the table chose when
// v was compared with the table (by the last dns or http call).
func (m *missCheck) detail(v verdict, d string) string {
	if v.miss == missNone || m.cache == "" {
		return d
	}
	return d + "; the snapshot routes it to cache " + m.cache
}
