package control

import (
	"net/netip"
	"strconv"
	"strings"
)

// ParseSnapshot decodes and validates a CDN snapshot (CrConfig) in the
// shapes Traffic Ops emits (spec §1), bare or wrapped as {"response": ...}.
// name is the file name used in messages. A rejected snapshot returns a
// *ValidationError listing every problem; an accepted one carries its
// warnings in Snapshot.Warnings.
func ParseSnapshot(name string, data []byte) (*Snapshot, error) {
	p, root, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	root = unwrapResponse(root)
	s := decodeSnapshot(p, root)
	if err := p.result(); err != nil {
		return nil, err
	}

	s.Name = name
	s.Hash = ContentHash(data)
	s.Warnings = p.list
	return s, nil
}

// unwrapResponse returns root["response"] when root is an object holding
// "response" and none of the snapshot sections.
func unwrapResponse(root *node) *node {
	r := root.get("response")
	if r != nil && r.kind == kindObject && !root.has("config") && !root.has("deliveryServices") {
		return r
	}
	return root
}

// each calls fn for every member of an object in document order.
func each(n *node, path string, fn func(k string, v *node, path string)) {
	for i, k := range n.keys {
		fn(k, n.vals[i], key(path, k))
	}
}

func decodeSnapshot(p *problems, root *node) *Snapshot {
	s := &Snapshot{}
	if root.kind != kindObject {
		p.error("", root.text(), "snapshot must be a JSON object, got "+root.kind.String())
		return s
	}
	cfg := root.get("config")
	if p.object(cfg, "config", true) {
		decodeConfig(p, cfg, &s.Config)
	} else {
		s.Config.RegexSuperhack = true
	}
	if st := root.get("stats"); p.object(st, "stats", true) {
		decodeStats(p, st, &s.Stats)
	}
	for _, req := range []string{"contentServers", "contentRouters", "deliveryServices", "edgeLocations", "monitors"} {
		p.object(root.get(req), req, true)
	}

	if el := root.get("edgeLocations"); el != nil && el.kind == kindObject {
		decodeEdgeLocations(p, el, s)
	}
	if trl := root.get("trafficRouterLocations"); p.object(trl, "trafficRouterLocations", false) {
		s.trlIndex = make(map[string]int, len(trl.keys))
		each(trl, "trafficRouterLocations", func(k string, v *node, path string) {
			lat, lon, ok := latLong(p, v, path)
			if !ok {
				return
			}
			s.trlIndex[k] = len(s.TrafficRouterLocations)
			s.TrafficRouterLocations = append(s.TrafficRouterLocations, TrafficRouterLocation{Name: k, Latitude: lat, Longitude: lon})
		})
	}
	if mon := root.get("monitors"); mon != nil && mon.kind == kindObject {
		decodeMonitors(p, mon, s)
	}
	if topo := root.get("topologies"); p.object(topo, "topologies", false) {
		s.topoIndex = make(map[string]int, len(topo.keys))
		each(topo, "topologies", func(k string, v *node, path string) {
			if !p.object(v, path, true) {
				return
			}
			s.topoIndex[k] = len(s.Topologies)
			s.Topologies = append(s.Topologies, Topology{Name: k, Nodes: p.strList(v.get("nodes"), field(path, "nodes"))})
		})
	}
	if ds := root.get("deliveryServices"); ds != nil && ds.kind == kindObject {
		s.dsIndex = make(map[string]int, len(ds.keys))
		s.DeliveryServices = make([]DeliveryService, 0, len(ds.keys))
		each(ds, "deliveryServices", func(k string, v *node, path string) {
			if !p.object(v, path, true) {
				return
			}
			s.dsIndex[k] = len(s.DeliveryServices)
			s.DeliveryServices = append(s.DeliveryServices, decodeDeliveryService(p, k, v, path, s.Config.RegexSuperhack))
		})
	}
	if cs := root.get("contentServers"); cs != nil && cs.kind == kindObject {
		decodeContentServers(p, cs, s)
	}
	if cr := root.get("contentRouters"); cr != nil && cr.kind == kindObject {
		decodeContentRouters(p, cr, s)
	}
	return s
}

func latLong(p *problems, v *node, path string) (float64, float64, bool) {
	if !p.object(v, path, true) {
		return 0, 0, false
	}
	lat, okLat := coerceFloat(v.get("latitude"))
	lon, okLon := coerceFloat(v.get("longitude"))
	if !okLat || !okLon {
		p.warn(path, "", "latitude and longitude are required numbers; cache group skipped")
		return 0, 0, false
	}
	return lat, lon, true
}

func decodeConfig(p *problems, n *node, c *Config) {
	const path = "config"
	c.Raw = make(map[string]string, len(n.keys))
	for i, k := range n.keys {
		c.Raw[k] = rawText(n.vals[i])
	}
	get := func(k string) (*node, string) { return n.get(k), field(path, k) }
	str := func(k, def string) string { v, pp := get(k); return p.str(v, pp, def) }
	num := func(k string, def int64) int64 { v, pp := get(k); return p.integer(v, pp, def) }
	flag := func(k string, def bool) bool { v, pp := get(k); return p.boolean(v, pp, def) }

	c.DomainName = strings.ToLower(strings.TrimSuffix(str("domain_name", ""), "."))
	if c.DomainName == "" {
		p.error(field(path, "domain_name"), "", "required string is missing")
	}
	if v, pp := get("ttls"); p.object(v, pp, false) {
		c.TTLs = decodeTTLs(p, v, pp)
	}
	if v, pp := get("soa"); p.object(v, pp, false) {
		c.SOA = decodeSOA(p, v, pp)
	}
	c.GeolocationURL = str("alt.geolocation.polling.url", "")
	if c.GeolocationURL == "" {
		c.GeolocationURL = str("geolocation.polling.url", "")
	}
	if c.GeolocationURL == "" {
		p.error(field(path, "geolocation.polling.url"), "", "required string is missing (nor is alt.geolocation.polling.url set)")
	}
	c.GeolocationInterval = num("geolocation.polling.interval", 0)
	c.CoverageZoneURL = str("coveragezone.polling.url", "")
	if c.CoverageZoneURL == "" {
		p.error(field(path, "coveragezone.polling.url"), "", "required string is missing")
	}
	c.CoverageZoneInterval = num("coveragezone.polling.interval", 10800000)
	c.DeepCoverageZoneURL = str("deepcoveragezone.polling.url", "")
	c.DeepCoverageZoneInterval = num("deepcoveragezone.polling.interval", 10800000)
	c.FederationURL = str("federationmapping.polling.url", "https://${toHostname}/api/5.0/federations/all")
	c.FederationInterval = num("federationmapping.polling.interval", 300000)
	c.SteeringURL = str("steeringmapping.polling.url", "https://${toHostname}/api/5.0/steering")
	c.SteeringInterval = num("steeringmapping.polling.interval", 10000)
	c.CertificateAPIURL = str("certificate.api.url", "https://${toHostname}/api/5.0/cdns/name/${cdnName}/sslkeys")
	c.CertificatesInterval = num("certificates.polling.interval", 3600000)
	c.KeystoreAPIURL = str("keystore.api.url", "https://${toHostname}/api/5.0/cdns/name/${cdnName}/dnsseckeys")
	c.KeystoreMaintenance = num("keystore.maintenance.interval", 300)
	c.AuthURL = str("api.auth.url", "https://${toHostname}/api/5.0/user/login")

	c.DNSSECEnabled = flag("dnssec.enabled", false)
	c.DNSSECAllowExpiredKeys = flag("dnssec.allow.expired.keys", true)
	c.SignatureExpirationMultiplier = num("signaturemanager.expiration.multiplier", 5)
	c.ZoneCacheMaintenanceInterval = num("zonemanager.cache.maintenance.interval", 300)
	c.ConsistentDNSRouting = flag("consistent.dns.routing", false)
	c.EdgeDNSRouting = flag("edge.dns.routing", false)
	c.EdgeDNSLimit = num("edge.dns.limit", 4)
	c.EdgeHTTPRouting = flag("edge.http.routing", false)
	c.EdgeHTTPLimit = num("edge.http.limit", 4)
	c.ECSEnable = flag("ecsEnable", false)
	c.StripSpecialQueryParams = flag("strip.special.query.params", false)
	c.RegexSuperhack = flag("confighandler.regex.superhack.enabled", true)
	if v, pp := get("requestHeaders"); v != nil {
		c.RequestHeaders = p.strList(v, pp)
	}
	if v, pp := get("maxmindDefaultOverride"); !v.isNull() {
		if v.kind != kindArray {
			p.warn(pp, v.text(), "expected an array; ignored")
		} else {
			for i, e := range v.vals {
				ep := index(pp, i)
				if !p.object(e, ep, false) {
					continue
				}
				cc := p.str(e.get("countryCode"), field(ep, "countryCode"), "")
				lat, okLat := coerceFloat(e.get("lat"))
				lon, okLon := coerceFloat(e.get("long"))
				if cc == "" || !okLat || !okLon {
					p.warn(ep, "", "countryCode, lat and long are required; entry ignored")
					continue
				}
				c.MaxmindDefaultOverride = append(c.MaxmindDefaultOverride, GeoOverride{CountryCode: cc, Lat: lat, Long: lon})
			}
		}
	}
	c.RegionalGeoblockURL = str("regional_geoblock.polling.url", "")
	c.RegionalGeoblockInterval = num("regional_geoblock.polling.interval", 0)
	c.AnonymousIPPolicyURL = str("anonymousip.policy.configuration", "")
	c.AnonymousIPURL = str("anonymousip.polling.url", "")
	c.AnonymousIPInterval = num("anonymousip.polling.interval", 0)
}

func decodeTTLs(p *problems, n *node, path string) TTLs {
	t := TTLs{Present: true, byType: make(map[string]int64, len(n.keys))}
	// TTL paths read ttls.A (field), not each's ttls["A"].
	each(n, path, func(k string, v *node, _ string) {
		pp := field(path, k)
		if o := p.optInt(v, pp); o.OK {
			t.byType[k] = o.Value
		}
	})
	return t
}

func decodeSOA(p *problems, n *node, path string) SOA {
	s := SOA{Present: true}
	if v := n.get("admin"); !v.isNull() {
		s.Admin = p.str(v, field(path, "admin"), "")
		s.HasAdmin = s.Admin != ""
	}
	s.Expire = p.optInt(n.get("expire"), field(path, "expire"))
	s.Minimum = p.optInt(n.get("minimum"), field(path, "minimum"))
	s.Refresh = p.optInt(n.get("refresh"), field(path, "refresh"))
	s.Retry = p.optInt(n.get("retry"), field(path, "retry"))
	s.Serial = p.optInt(n.get("serial"), field(path, "serial"))
	return s
}

func decodeStats(p *problems, n *node, st *Stats) {
	d := n.get("date")
	if v, ok := coerceInt(d); ok {
		st.Date = v
	} else if d.isNull() {
		p.error("stats.date", "", "required field is missing")
	} else {
		p.error("stats.date", d.text(), "expected epoch seconds, got "+q(d.text()))
	}
	st.CDNName = p.str(n.get("CDN_name"), "stats.CDN_name", "")
	st.TMHost = p.str(n.get("tm_host"), "stats.tm_host", "")
	st.TOHost = p.str(n.get("to_host"), "stats.to_host", "")
	st.TMVersion = p.str(n.get("tm_version"), "stats.tm_version", "")
	st.TMUser = p.str(n.get("tm_user"), "stats.tm_user", "")
	if st.TMHost == "" && st.TOHost == "" {
		p.error("stats.tm_host", "", "stats needs tm_host or to_host")
	}
}

func decodeEdgeLocations(p *problems, n *node, s *Snapshot) {
	s.elIndex = make(map[string]int, len(n.keys))
	lists := make([][]string, 0, len(n.keys))
	paths := make([]string, 0, len(n.keys))
	each(n, "edgeLocations", func(k string, v *node, path string) {
		lat, lon, ok := latLong(p, v, path)
		if !ok {
			return
		}
		el := EdgeLocation{Name: k, Latitude: lat, Longitude: lon, FallbackToClosest: true}
		el.Localization = decodeLocalization(p, v.get("localizationMethods"), field(path, "localizationMethods"))
		if b := v.get("backupLocations"); p.object(b, field(path, "backupLocations"), false) {
			bp := field(path, "backupLocations")
			list := b.get("list")
			if !list.isNull() {
				el.BackupLocations = p.strList(list, field(bp, "list"))
				el.FallbackToClosest = false
			}
			if f := b.get("fallbackToClosest"); !f.isNull() {
				el.FallbackToClosest = p.boolean(f, field(bp, "fallbackToClosest"), el.FallbackToClosest)
			}
		}
		s.elIndex[k] = len(s.EdgeLocations)
		s.EdgeLocations = append(s.EdgeLocations, el)
		lists = append(lists, el.BackupLocations)
		paths = append(paths, field(field(path, "backupLocations"), "list"))
	})
	for i, list := range lists {
		for j, cg := range list {
			if _, ok := s.elIndex[cg]; !ok {
				p.warn(index(paths[i], j), cg, "backup location "+q(cg)+" is not an edge location; it is skipped")
			}
		}
	}
}

func decodeLocalization(p *problems, n *node, path string) Localization {
	var l Localization
	if !n.isNull() && n.kind == kindArray {
		for i, e := range n.vals {
			switch {
			case e.kind == kindString && e.s == "CZ":
				l.CZ = true
			case e.kind == kindString && e.s == "DEEP_CZ":
				l.DeepCZ = true
			case e.kind == kindString && e.s == "GEO":
				l.Geo = true
			default:
				p.warn(index(path, i), e.text(), "unknown localization method "+q(e.text())+"; skipped")
			}
		}
	} else if !n.isNull() {
		p.warn(path, n.text(), "expected an array; all localization methods enabled")
	}
	if !l.CZ && !l.DeepCZ && !l.Geo {
		return Localization{CZ: true, DeepCZ: true, Geo: true}
	}
	return l
}

func decodeMonitors(p *problems, n *node, s *Snapshot) {
	s.monIndex = make(map[string]int, len(n.keys))
	online := 0
	each(n, "monitors", func(k string, v *node, path string) {
		if !p.object(v, path, true) {
			return
		}
		m := Monitor{ID: k}
		m.FQDN = p.str(v.get("fqdn"), field(path, "fqdn"), "")
		m.Status = p.str(v.get("status"), field(path, "status"), "")
		if m.FQDN == "" {
			p.error(field(path, "fqdn"), "", "required string is missing")
		}
		if m.Status == "" {
			p.error(field(path, "status"), "", "required string is missing")
		}
		m.Port = int(p.integer(v.get("port"), field(path, "port"), 80))
		m.IP = p.str(v.get("ip"), field(path, "ip"), "")
		m.IP6 = p.str(v.get("ip6"), field(path, "ip6"), "")
		m.Location = p.str(v.get("location"), field(path, "location"), "")
		m.Profile = p.str(v.get("profile"), field(path, "profile"), "")
		if m.Status == "ONLINE" {
			online++
		}
		s.monIndex[k] = len(s.Monitors)
		s.Monitors = append(s.Monitors, m)
	})
	if online == 0 {
		p.error("monitors", "", "no monitor has status \"ONLINE\"; at least one is required")
	}
}

// parseAddr parses an address, stripping a "/prefix"; "" yields the zero
// Addr. An unusable value is a warning.
func parseAddr(p *problems, text, path string, want6 bool) netip.Addr {
	if text == "" {
		return netip.Addr{}
	}
	t := text
	if i := strings.IndexByte(t, '/'); i >= 0 {
		t = t[:i]
	}
	a, err := netip.ParseAddr(t)
	if err != nil || a.Zone() != "" || (want6 && !a.Is6()) || (!want6 && !a.Unmap().Is4()) {
		fam := "IPv4"
		if want6 {
			fam = "IPv6"
		}
		p.warn(path, text, "invalid "+fam+" address "+q(text)+"; address ignored")
		return netip.Addr{}
	}
	if !want6 {
		a = a.Unmap()
	}
	return a
}

func decodeContentServers(p *problems, n *node, s *Snapshot) {
	s.csIndex = make(map[string]int, len(n.keys))
	s.ContentServers = make([]ContentServer, 0, len(n.keys))
	each(n, "contentServers", func(k string, v *node, path string) {
		if !p.object(v, path, true) {
			return
		}
		c := ContentServer{ID: k, HashID: k, HashCount: 1000}
		loc := v.get("locationId")
		c.LocationID = p.str(loc, field(path, "locationId"), "")
		_, c.Known = s.elIndex[c.LocationID]
		if !c.Known {
			s.IgnoredContentServers++
			p.warn(field(path, "locationId"), c.LocationID, "locationId "+q(c.LocationID)+" is not an edge location; cache ignored")
		}
		if h := v.get("hashId"); h != nil && h.kind == kindString && h.s != "" {
			c.HashID = h.s
		}
		if hc := p.integer(v.get("hashCount"), field(path, "hashCount"), 0); hc > 0 && hc <= 1<<20 {
			c.HashCount = int(hc)
		} else if hc > 1<<20 {
			p.warn(field(path, "hashCount"), strconv.FormatInt(hc, 10), "hashCount above 1048576; using 1000")
		}
		if c.Known {
			for _, req := range []string{"fqdn", "port", "ip"} {
				if v.get(req).isNull() {
					p.error(field(path, req), "", "required field is missing")
				}
			}
			if pv := v.get("port"); !pv.isNull() {
				if port, ok := coerceInt(pv); !ok || port < 0 || port > 65535 {
					p.error(field(path, "port"), pv.text(), "invalid port "+q(pv.text()))
				}
			}
		}
		c.FQDN = p.str(v.get("fqdn"), field(path, "fqdn"), "")
		port, _ := coerceInt(v.get("port"))
		c.Port = int(min(max(port, 0), 65535))
		c.HTTPSPort = int(min(max(p.integer(v.get("httpsPort"), field(path, "httpsPort"), 443), 0), 65535))
		c.IPText = p.str(v.get("ip"), field(path, "ip"), "")
		c.IP6Text = p.str(v.get("ip6"), field(path, "ip6"), "")
		c.IP = parseAddr(p, c.IPText, field(path, "ip"), false)
		c.IP6 = parseAddr(p, c.IP6Text, field(path, "ip6"), true)
		c.Status = p.str(v.get("status"), field(path, "status"), "")
		c.Type = p.str(v.get("type"), field(path, "type"), "")
		c.Profile = p.str(v.get("profile"), field(path, "profile"), "")
		c.CacheGroup = p.str(v.get("cacheGroup"), field(path, "cacheGroup"), "")
		c.Capabilities = p.strList(v.get("capabilities"), field(path, "capabilities"))
		if d := v.get("deliveryServices"); p.object(d, field(path, "deliveryServices"), false) {
			each(d, field(path, "deliveryServices"), func(xml string, fv *node, fp string) {
				var all []string
				if fv != nil && fv.kind == kindString {
					all = []string{fv.s}
				} else {
					all = p.strList(fv, fp)
				}
				if len(all) == 0 {
					p.warn(fp, fv.text(), "no FQDN for delivery service "+q(xml)+"; assignment ignored")
					return
				}
				ref := DSReference{XMLID: xml, FQDN: strings.ToLower(all[0]), All: all}
				if c.Known && !strings.Contains(ref.FQDN, ".") {
					p.error(index(fp, 0), all[0], "invalid FQDN "+q(all[0])+" for delivery service "+q(xml)+": it must contain a '.'; please verify the HOST regex(es)")
				}
				if _, ok := s.dsIndex[xml]; !ok && c.Known {
					p.warn(fp, xml, "delivery service "+q(xml)+" is not in deliveryServices; assignment ignored")
					return
				}
				c.DeliveryServices = append(c.DeliveryServices, ref)
			})
		}
		s.csIndex[k] = len(s.ContentServers)
		s.ContentServers = append(s.ContentServers, c)
	})
}

func decodeContentRouters(p *problems, n *node, s *Snapshot) {
	s.crIndex = make(map[string]int, len(n.keys))
	s.ContentRouters = make([]ContentRouter, 0, len(n.keys))
	each(n, "contentRouters", func(k string, v *node, path string) {
		if !p.object(v, path, true) {
			return
		}
		r := ContentRouter{ID: k}
		r.FQDN = p.str(v.get("fqdn"), field(path, "fqdn"), "")
		r.IPText = p.str(v.get("ip"), field(path, "ip"), "")
		r.IP6Text = p.str(v.get("ip6"), field(path, "ip6"), "")
		r.IP = parseAddr(p, r.IPText, field(path, "ip"), false)
		r.IP6 = parseAddr(p, r.IP6Text, field(path, "ip6"), true)
		r.Location = p.str(v.get("location"), field(path, "location"), "")
		r.Status = p.str(v.get("status"), field(path, "status"), "")
		r.Profile = p.str(v.get("profile"), field(path, "profile"), "")
		r.Port = int(p.integer(v.get("port"), field(path, "port"), 0))
		r.HTTPSPort = int(p.integer(v.get("httpsPort"), field(path, "httpsPort"), 0))
		r.APIPort = int(p.integer(v.get("api.port"), field(path, "api.port"), 0))
		r.SecureAPIPort = int(p.integer(v.get("secure.api.port"), field(path, "secure.api.port"), 0))
		if (r.Status == "ONLINE" || r.Status == "REPORTED") && r.Location != "" {
			if _, ok := s.trlIndex[r.Location]; !ok {
				p.warn(field(path, "location"), r.Location, "location "+q(r.Location)+" is not in trafficRouterLocations; router not used for edge routing")
			}
		}
		s.crIndex[k] = len(s.ContentRouters)
		s.ContentRouters = append(s.ContentRouters, r)
	})
}

// rawText renders a node as text: scalars as their text, composite values
// as compact JSON.
func rawText(n *node) string {
	switch n.kind {
	case kindString, kindNumber:
		return n.s
	case kindBool:
		return strconv.FormatBool(n.b)
	case kindNull:
		return ""
	}
	var b []byte
	return string(appendJSON(b, n))
}

func appendJSON(b []byte, n *node) []byte {
	switch n.kind {
	case kindNull:
		return append(b, "null"...)
	case kindBool:
		return strconv.AppendBool(b, n.b)
	case kindNumber:
		return append(b, n.s...)
	case kindString:
		return strconv.AppendQuote(b, n.s)
	case kindObject:
		b = append(b, '{')
		for i, k := range n.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, k)
			b = append(b, ':')
			b = appendJSON(b, n.vals[i])
		}
		return append(b, '}')
	default:
		b = append(b, '[')
		for i, e := range n.vals {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	}
}
