package control

import (
	"strings"
)

func decodeDeliveryService(p *problems, id string, v *node, path string, superhackOn bool) DeliveryService {
	ds := DeliveryService{ID: id}
	f := func(name string) (*node, string) { return v.get(name), field(path, name) }

	// Required fields (§1.4 step 3).
	if rn, rp := f("routingName"); rn.isNull() {
		p.error(rp, "", "required field is missing")
	} else if rn.kind == kindObject || rn.kind == kindArray {
		p.error(rp, rn.text(), "expected a string, got "+rn.kind.String())
	} else {
		ds.RoutingName = strings.ToLower(p.str(rn, rp, ""))
		if ds.RoutingName == "" {
			p.error(rp, "", "routingName must not be empty")
		}
	}
	if cz, cp := f("coverageZoneOnly"); cz.isNull() {
		p.error(cp, "", "required field is missing")
	} else if b, ok := coerceBool(cz); ok {
		ds.CoverageZoneOnly = b
	} else if cz.kind == kindObject || cz.kind == kindArray {
		p.error(cp, cz.text(), "expected a boolean, got "+cz.kind.String())
	} else {
		p.warn(cp, cz.text(), "expected a boolean, got "+q(cz.text())+"; using false")
	}
	if d, dp := f("domains"); !d.isNull() {
		if d.kind != kindArray || len(d.vals) == 0 {
			p.error(dp, d.text(), "domains must be a non-empty array when present")
		} else {
			for _, dom := range p.strList(d, dp) {
				ds.Domains = append(ds.Domains, strings.ToLower(strings.TrimSuffix(dom, ".")))
			}
		}
	}
	decodeMatchsets(p, &ds, v.get("matchsets"), field(path, "matchsets"), superhackOn)

	if t, tp := f("ttls"); p.object(t, tp, false) {
		ds.TTLs = decodeTTLs(p, t, tp)
	}
	if s, sp := f("soa"); p.object(s, sp, false) {
		ds.SOA = decodeSOA(p, s, sp)
	}
	if m, mp := f("missLocation"); p.object(m, mp, false) {
		ds.MissLocation = &LatLong{
			Lat:  p.float(m.get("lat"), field(mp, "lat"), 0),
			Long: p.float(m.get("long"), field(mp, "long"), 0),
		}
	}
	if g, gp := f("geoEnabled"); !g.isNull() {
		if g.kind != kindArray {
			p.warn(gp, g.text(), "expected an array of objects; ignored")
		} else {
			for i, e := range g.vals {
				ep := index(gp, i)
				if !p.object(e, ep, false) {
					continue
				}
				var lim GeoLimit
				each(e, ep, func(k string, val *node, vp string) {
					lim = append(lim, KeyValue{Key: k, Value: p.str(val, vp, "")})
				})
				ds.GeoEnabled = append(ds.GeoEnabled, lim)
			}
		}
	}
	ds.GeoLimitRedirectURL = p.str(v.get("geoLimitRedirectURL"), field(path, "geoLimitRedirectURL"), "")
	ds.MaxDNSIPsForLocation = int(clamp(p.integer(v.get("maxDnsIpsForLocation"), field(path, "maxDnsIpsForLocation"), 0), 0, 1<<16))
	ds.Dispersion = Dispersion{Limit: 1, Shuffled: true}
	if d, dp := f("dispersion"); p.object(d, dp, false) {
		if l := p.integer(d.get("limit"), field(dp, "limit"), 1); l > 0 {
			ds.Dispersion.Limit = int(min(l, 1<<16))
		}
		ds.Dispersion.Shuffled = p.boolean(d.get("shuffled"), field(dp, "shuffled"), true)
	} else if ds.MaxDNSIPsForLocation > 0 {
		ds.Dispersion.Limit = ds.MaxDNSIPsForLocation
	}
	flag := func(name string, def bool) bool { n, np := f(name); return p.boolean(n, np, def) }
	ds.IP6RoutingEnabled = flag("ip6RoutingEnabled", false)
	ds.ECSEnabled = flag("ecsEnabled", false)
	ds.SSLEnabled = flag("sslEnabled", false)
	ds.Protocol = Protocol{AcceptHTTP: true}
	if pr, pp := f("protocol"); p.object(pr, pp, false) {
		ds.Protocol.AcceptHTTP = p.boolean(pr.get("acceptHttp"), field(pp, "acceptHttp"), true)
		ds.Protocol.AcceptHTTPS = p.boolean(pr.get("acceptHttps"), field(pp, "acceptHttps"), false)
		ds.Protocol.RedirectToHTTPS = p.boolean(pr.get("redirectToHttps"), field(pp, "redirectToHttps"), false)
	}
	if dc, dp := f("deepCachingType"); !dc.isNull() {
		switch t := p.str(dc, dp, ""); strings.ToUpper(t) {
		case "ALWAYS":
			ds.DeepCachingType = DeepCachingAlways
		case "NEVER", "":
		default:
			p.warn(dp, t, "unknown deepCachingType "+q(t)+"; using NEVER")
		}
	}
	if cr, cp := f("consistentHashRegex"); !cr.isNull() {
		ds.ConsistentHashRegex = p.str(cr, cp, "")
		if ds.ConsistentHashRegex != "" {
			rx, msg := compileRegex(ds.ConsistentHashRegex, false, false)
			if rx == nil {
				p.warn(cp, ds.ConsistentHashRegex, "delivery service "+q(id)+": consistentHashRegex "+q(ds.ConsistentHashRegex)+" "+msg+"; the request path is hashed instead")
			}
			ds.ConsistentHashPattern = rx
		}
	}
	if qp, qpp := f("consistentHashQueryParams"); !qp.isNull() {
		ds.ConsistentHashQueryParams = dedupe(p.strList(qp, qpp))
	}
	if rh, rp := f("responseHeaders"); p.object(rh, rp, false) {
		each(rh, rp, func(k string, val *node, vp string) {
			ds.ResponseHeaders = append(ds.ResponseHeaders, Header{Name: k, Value: p.str(val, vp, "")})
		})
	}
	if rq, rp := f("requestHeaders"); !rq.isNull() {
		ds.RequestHeaders = p.strList(rq, rp)
	}
	ds.RegionalGeoBlocking = flag("regionalGeoBlocking", false)
	ds.AnonymousBlockingEnabled = flag("anonymousBlockingEnabled", false)
	ds.GeolocationProvider = p.str(v.get("geolocationProvider"), field(path, "geolocationProvider"), "")
	if b, bp := f("bypassDestination"); p.object(b, bp, false) {
		ds.HasBypass = true
		if h, hp := b.get("HTTP"), field(bp, "HTTP"); p.object(h, hp, false) {
			ds.BypassHTTP = &HTTPBypass{
				FQDN: p.str(h.get("fqdn"), field(hp, "fqdn"), ""),
				Port: p.optInt(h.get("port"), field(hp, "port")),
			}
			if ds.BypassHTTP.FQDN == "" {
				p.warn(field(hp, "fqdn"), "", "HTTP bypass without fqdn; bypass ignored")
				ds.BypassHTTP = nil
			}
		}
		if d, dp := b.get("DNS"), field(bp, "DNS"); p.object(d, dp, false) {
			ipText := p.str(d.get("ip"), field(dp, "ip"), "")
			ip6Text := p.str(d.get("ip6"), field(dp, "ip6"), "")
			ds.BypassDNS = &DNSBypass{
				IP:    parseAddr(p, ipText, field(dp, "ip"), false),
				IP6:   parseAddr(p, ip6Text, field(dp, "ip6"), true),
				CNAME: p.str(d.get("cname"), field(dp, "cname"), ""),
				TTL:   p.optInt(d.get("ttl"), field(dp, "ttl")),
			}
		}
	}
	if se, sp := f("staticDnsEntries"); !se.isNull() {
		if se.kind != kindArray {
			p.warn(sp, se.text(), "expected an array; ignored")
		} else {
			for i, e := range se.vals {
				ep := index(sp, i)
				if !p.object(e, ep, false) {
					continue
				}
				ent := StaticDNSEntry{
					Name:  p.str(e.get("name"), field(ep, "name"), ""),
					Type:  strings.ToUpper(p.str(e.get("type"), field(ep, "type"), "")),
					Value: p.str(e.get("value"), field(ep, "value"), ""),
					TTL:   p.integer(e.get("ttl"), field(ep, "ttl"), 0),
				}
				if ent.Name == "" || ent.Type == "" || ent.Value == "" {
					p.warn(ep, "", "static DNS entry needs name, type and value; entry ignored")
					continue
				}
				ds.StaticDNSEntries = append(ds.StaticDNSEntries, ent)
			}
		}
	}
	ds.Topology = p.str(v.get("topology"), field(path, "topology"), "")
	if rc, rp := f("requiredCapabilities"); !rc.isNull() {
		ds.RequiredCapabilities = dedupe(p.strList(rc, rp))
	}
	ds.AppendQueryString = flag("appendQueryString", true)
	ds.TransInfoType = strings.ToUpper(p.str(v.get("transInfoType"), field(path, "transInfoType"), "NONE"))
	ds.LocationFailoverLimit = int(clamp(p.integer(v.get("locationFailoverLimit"), field(path, "locationFailoverLimit"), 0), 0, 1<<20))
	return ds
}

func clamp(v, lo, hi int64) int64 { return min(max(v, lo), hi) }

// dedupe drops empty strings and repeated values, keeping first occurrences.
func dedupe(in []string) []string {
	out := in[:0]
	for _, s := range in {
		if s == "" {
			continue
		}
		dup := false
		for _, o := range out {
			if o == s {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func decodeMatchsets(p *problems, ds *DeliveryService, n *node, path string, superhackOn bool) {
	if n.isNull() {
		p.error(path, "", "required field is missing")
		return
	}
	if n.kind != kindArray {
		p.error(path, n.text(), "expected an array, got "+n.kind.String())
		return
	}
	errsBefore := p.errs
	for i, msn := range n.vals {
		mp := index(path, i)
		if !p.object(msn, mp, true) {
			continue
		}
		ms := MatchSet{}
		if pr := msn.get("protocol"); pr.isNull() {
			p.error(field(mp, "protocol"), "", "required field is missing")
		} else {
			ms.Protocol = p.str(pr, field(mp, "protocol"), "")
			if ms.Protocol == "DNS" {
				ds.IsDNS = true
			}
		}
		ml := msn.get("matchlist")
		lp := field(mp, "matchlist")
		if ml.isNull() {
			p.error(lp, "", "required field is missing")
			continue
		}
		if ml.kind != kindArray {
			p.error(lp, ml.text(), "expected an array, got "+ml.kind.String())
			continue
		}
		usable := true
		for j, mn := range ml.vals {
			jp := index(lp, j)
			if !p.object(mn, jp, true) {
				continue
			}
			m, ok := decodeMatch(p, ds.ID, mn, jp, superhackOn && i == 0 && j == 0)
			if !ok {
				usable = false
				continue
			}
			ms.Matches = append(ms.Matches, m)
		}
		if !usable {
			continue
		}
		if len(ms.Matches) == 0 {
			p.warn(lp, "", "empty matchlist never matches")
		}
		ds.MatchSets = append(ds.MatchSets, ms)
	}
	if len(ds.MatchSets) == 0 && p.errs == errsBefore {
		p.warn(path, "", "delivery service "+q(ds.ID)+" has no usable matchset; only its exact routing name can reach it")
	}
}

// decodeMatch decodes one match; ok is false when the match is an error or
// can never match (its matchset is then dropped).
func decodeMatch(p *problems, dsID string, n *node, path string, first bool) (Match, bool) {
	var m Match
	mtp := field(path, "match-type")
	mt := n.get("match-type")
	ok := true
	switch {
	case mt.isNull():
		p.error(mtp, "", "required field is missing")
		ok = false
	case mt.kind != kindString:
		p.error(mtp, mt.text(), "expected \"HOST\", \"PATH\" or \"HEADER\", got "+mt.kind.String())
		ok = false
	case mt.s == "HOST":
		m.Type = MatchHost
	case mt.s == "PATH":
		m.Type = MatchPath
	case mt.s == "HEADER":
		m.Type = MatchHeader
	default:
		p.error(mtp, mt.s, "unknown match-type "+q(mt.s)+"; expected \"HOST\", \"PATH\" or \"HEADER\"")
		ok = false
	}
	rp := field(path, "regex")
	re := n.get("regex")
	switch {
	case re.isNull():
		p.error(rp, "", "required field is missing")
		return m, false
	case re.kind != kindString:
		p.error(rp, re.text(), "expected a string, got "+re.kind.String())
		return m, false
	}
	m.Regex = re.s
	m.Pattern = re.s
	if first && ok && m.Type == MatchHost {
		m.Pattern = superhack(re.s)
	}
	rx, msg := compileRegex(m.Pattern, true, true)
	if rx == nil {
		p.error(rp, re.s, "delivery service "+q(dsID)+": regex "+q(re.s)+" "+msg)
		return m, false
	}
	m.Compiled = rx
	if ok && m.Type == MatchHeader {
		m.Target = strings.ToLower(p.str(n.get("target"), field(path, "target"), ""))
		if m.Target == "" {
			p.warn(field(path, "target"), "", "delivery service "+q(dsID)+": HEADER match without target can never match; its matchset is skipped")
			return m, false
		}
	}
	return m, ok
}
