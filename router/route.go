package router

import "bytes"

// RouteHTTP routes an HTTP request (spec 4.2, without steering): the
// delivery service match, then RouteHTTPTo. Client must be unmapped (an
// IPv4 client as IPv4).
func (t *Table) RouteHTTP(req *Request, sc *Scratch, sel *Selection) error {
	return t.RouteMatched(t.MatchDS(req, sc), req, sc, sel)
}

// RouteMatched is RouteHTTP after the match: ds is the matched delivery
// service, nil when none matched (DS_MISS / DS_NOT_FOUND).
func (t *Table) RouteMatched(ds *DeliveryService, req *Request, sc *Scratch, sel *Selection) error {
	if ds == nil {
		sel.reset()
		sel.Type, sel.Detail = ResultDSMiss, DetailDSNotFound
		return nil
	}
	return t.RouteHTTPTo(ds, req, sc, sel)
}

// RouteHTTPTo routes an HTTP request to the delivery service ds (matched,
// or a steering target): the TLS check, availability, cache selection and
// the consistent-hash order of the chosen group. The result is written to
// sel; sel.Caches[0] is the cache to redirect to when sel.Caches is not
// empty. An error is a malformed escape in a consistent-hash query
// parameter (HTTP 400).
func (t *Table) RouteHTTPTo(ds *DeliveryService, req *Request, sc *Scratch, sel *Selection) error {
	sel.reset()
	sel.DS = ds
	h := t.health.Load()
	if tlsMismatch(ds, req) {
		sel.Type, sel.Detail = ResultError, DetailDSTLSMismatch
		return nil
	}
	v6 := req.Client.Is6()
	if !h.DSAvailable(ds.Index) {
		httpBypass(ds, sel)
		return nil
	}
	g := t.selectCaches(h, req, ds, v6, true, sel)
	if g == nil {
		if !sel.GeoRedirect {
			httpBypass(ds, sel)
		}
		return nil
	}
	hs, err := t.appendHashString(sc, ds, req)
	if err != nil {
		return err
	}
	sc.idx = g.ring.AppendDispersed(sc.idx[:0], t.mode.HashBytes(hs), ds.dispersion, func(i int) bool {
		return g.member.get(int32(i)) && h.CacheAvailable(g.all[i], v6)
	})
	for k, m := range sc.idx {
		sc.idx[k] = g.all[m]
	}
	sel.Caches = sc.idx
	return nil
}

func tlsMismatch(ds *DeliveryService, req *Request) bool {
	return (req.Secure && !ds.SSLEnabled) || (!req.Secure && !ds.Protocol.AcceptHTTP)
}

// httpBypass applies the HTTP failure path: the bypass destination when
// the service has one (DS_REDIRECT, detail kept), else MISS/DS_NO_BYPASS.
func httpBypass(ds *DeliveryService, sel *Selection) {
	if ds.BypassHTTP != nil && ds.BypassHTTP.FQDN != "" {
		sel.Type, sel.Bypass = ResultDSRedirect, true
		return
	}
	sel.Type, sel.Detail = ResultMiss, DetailDSNoBypass
}

// appendHashString builds Traffic Router's consistent-hash request string
// (spec 5.6) in scratch memory.
func (t *Table) appendHashString(sc *Scratch, ds *DeliveryService, req *Request) ([]byte, error) {
	sc.hash = sc.hash[:0]
	if len(req.Path) > 0 {
		sc.hash = appendPatternString(sc.hash, ds.ConsistentHashPattern, req.Path)
	}
	var err error
	sc.hash, sc.query, err = appendSignificantQuery(sc.hash, sc.query, ds.ConsistentHashQueryParams, req.RawQuery)
	return sc.hash, err
}

// IsRoutingName reports whether the DNS query name (lower case, no trailing
// dot) asks for the delivery service's routing name: it starts with
// routingName + "." (quirk 22: the rest of the name is not checked).
func (ds *DeliveryService) IsRoutingName(host []byte) bool {
	return ds.IsDNS && len(host) > len(ds.routingPrefix) && bytes.HasPrefix(host, []byte(ds.routingPrefix))
}

// RouteDNS routes a DNS query for a delivery service's routing name (spec
// 4.8). It returns false, with sel.DS set to the matched service if any,
// when the name is not a DNS routing name; the DNS server then answers from
// its zones. sel.Caches are the caches to answer with; sel.Bypass asks for
// the service's DNS bypass records, sel.Federation for a CNAME.
func (t *Table) RouteDNS(req *Request, sc *Scratch, sel *Selection) bool {
	return t.RouteDNSMatched(t.MatchDS(req, sc), req, sc, sel)
}

// RouteDNSMatched is RouteDNS after the delivery service match: ds must be
// what MatchDS returns for req (nil when no service matched). For a DNS
// request the match depends on req.Host alone, so a server answering one
// name often (a zone's routing name) matches it once per table and passes
// the result here.
func (t *Table) RouteDNSMatched(ds *DeliveryService, req *Request, sc *Scratch, sel *Selection) bool {
	if ds == nil || !ds.IsRoutingName(req.Host) {
		sel.reset()
		sel.DS = ds
		return false
	}
	return t.RouteDNSRoutingName(ds, req, sc, sel)
}

// RouteDNSRoutingName is RouteDNSMatched for a name known to be ds's
// routing name: ds is what MatchDS returns for req and ds.IsRoutingName
// (req.Host) holds, both checked once for a name the server answers often.
// It always routes (returns true).
func (t *Table) RouteDNSRoutingName(ds *DeliveryService, req *Request, sc *Scratch, sel *Selection) bool {
	sel.reset()
	h := t.health.Load()
	sel.DS = ds
	v6 := req.V6
	if !h.DSAvailable(ds.Index) {
		dnsBypass(ds, sel)
		return true
	}
	loc := t.czLocation(h, req.Client, ds, v6, sel)
	if loc != nil && !h.LocationDisabled(ds.Index, loc.Index) {
		if g := ds.groupAt(loc.Index); g != nil {
			if avail := h.available(g, v6); len(avail) > 0 {
				sel.Type, sel.Loc = ResultCZ, loc
				sel.setLocation(loc.Name, loc.Latitude, loc.Longitude)
				if sel.fromBackup {
					sel.Detail = DetailDSCZBackupCG
				}
				t.dnsCaches(h, sc, req, ds, g, avail, v6, sel)
				return true
			}
		}
	}
	if ds.CoverageZoneOnly {
		sel.Type, sel.Detail = ResultMiss, DetailDSCZOnly
		sel.Bypass = ds.BypassDNS != nil
		return true
	}
	if fs := t.Set.Federations; fs != nil {
		if m, ok := fs.Lookup(ds.ID, req.Client); ok {
			sel.Type, sel.Federation = ResultFed, m
			return true
		}
	}
	var g *group
	if sel.continueGeo {
		g = t.selectByGeo(h, req.Client, ds, loc, v6, sel)
	}
	if g == nil {
		sel.Type = ResultMiss
		sel.Bypass = ds.BypassDNS != nil
		return true
	}
	t.dnsCaches(h, sc, req, ds, g, h.available(g, v6), v6, sel)
	return true
}

// dnsBypass is the DNS failure path for an unavailable service.
func dnsBypass(ds *DeliveryService, sel *Selection) {
	if ds.HasBypass {
		sel.Type, sel.Detail = ResultDSRedirect, DetailDSBypass
		sel.Bypass = ds.BypassDNS != nil
		return
	}
	sel.Type, sel.Detail = ResultMiss, DetailDSNoBypass
}

// dnsCaches picks the caches of g to answer with (ipRecords, spec 4.8);
// avail is h.available(g, v6).
func (t *Table) dnsCaches(h *Health, sc *Scratch, req *Request, ds *DeliveryService, g *group, avail []int32, v6 bool, sel *Selection) {
	limit := ds.MaxDNSIPsForLocation
	switch {
	case limit > 0 && t.snap.Config.ConsistentDNSRouting:
		hv := t.mode.HashBytes(req.Host)
		sc.idx = g.ring.AppendDispersed(sc.idx[:0], hv, ds.dispersion, func(i int) bool {
			return g.member.get(int32(i)) && h.CacheAvailable(g.all[i], v6)
		})
		for k, m := range sc.idx {
			sc.idx[k] = g.all[m]
		}
	default:
		sc.idx = append(sc.idx[:0], avail...) // shuffled in place by the DNS server
		if limit > 0 && len(sc.idx) > limit {
			shuffle(sc.idx)
			sc.idx = sc.idx[:limit]
		}
	}
	sel.Caches = sc.idx
}
