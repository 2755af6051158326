package cdngen

import (
	"fmt"
	"io"
	"strconv"
)

// infraDomain holds the host names of caches, routers and monitors; it is
// outside the CDN domain, as Traffic Ops servers usually are.
const infraDomain = "infra.example.net"

// writeCrConfig streams crconfig.json in the shape Traffic Ops emits (spec
// §1): strings for most numbers and booleans, objects keyed by name, keys in
// the order Go's encoder writes maps. It returns the number of cache to
// delivery service assignments written.
func (p *plan) writeCrConfig(w io.Writer) (refs int, n int64, err error) {
	o := newOut(w)
	o.raw("{")
	p.writeConfig(o)
	o.raw(",\n")
	p.writeRouters(o)
	o.raw(",\n")
	refs = p.writeServers(o)
	o.raw(",\n")
	p.writeDeliveryServices(o)
	o.raw(",\n")
	p.writeEdgeLocations(o)
	o.raw(",\n")
	p.writeMonitors(o)
	o.raw(",\n")
	p.writeStats(o)
	o.raw(",\n")
	p.writeTRLocations(o)
	o.raw("}\n")
	o.flush()
	return refs, o.n, o.err
}

func (p *plan) writeConfig(o *out) {
	const to = "https://${toHostname}/api/5.0/"
	o.key("config", true)
	o.raw("{")
	o.kv("api.auth.url", to+"user/login", true)
	o.kv("certificate.api.url", to+"cdns/name/${cdnName}/sslkeys", false)
	o.kv("certificates.polling.interval", "300000", false)
	o.kv("consistent.dns.routing", "false", false)
	o.kv("coveragezone.polling.interval", "86400000", false)
	o.kv("coveragezone.polling.url", "https://${toHostname}/loadtest/czmap.json", false)
	o.kv("deepcoveragezone.polling.url", "https://${toHostname}/loadtest/dczmap.json", false)
	o.kv("dnssec.enabled", "false", false)
	o.kv("domain_name", p.o.Domain, false)
	o.kv("edge.dns.routing", "true", false)
	o.kv("edge.http.routing", "true", false)
	o.kv("federationmapping.polling.interval", "600000", false)
	o.kv("federationmapping.polling.url", to+"federations/all", false)
	o.kv("geolocation.polling.interval", "86400000", false)
	o.kv("geolocation.polling.url", "https://${toHostname}/loadtest/GeoLite2-City.mmdb.gz", false)
	o.key("soa", false)
	writeSOA(o, "traffic_ops")
	o.kv("steeringmapping.polling.interval", "15000", false)
	o.kv("steeringmapping.polling.url", to+"steering", false)
	o.key("ttls", false)
	writeTTLs(o, 3600)
	o.kv("weight", "1.0", false)
	o.raw("}")
}

func writeSOA(o *out, admin string) {
	o.raw("{")
	o.kv("admin", admin, true)
	o.kv("expire", "604800", false)
	o.kv("minimum", "30", false)
	o.kv("refresh", "28800", false)
	o.kv("retry", "7200", false)
	o.raw("}")
}

func writeTTLs(o *out, a int64) {
	o.raw("{")
	o.kistr("A", a, true)
	o.kistr("AAAA", a, false)
	o.kistr("NS", 3600, false)
	o.kistr("SOA", 86400, false)
	o.raw("}")
}

func (p *plan) routerName(i int) string { return pad("router", i, p.o.Routers) }

func (p *plan) trLocation(i int) string { return pad("tr-loc", i, p.o.Routers) }

// trGroup is the cache group whose coordinates router i's location takes.
func (p *plan) trGroup(i int) int { return i * p.o.CacheGroups / p.o.Routers }

func (p *plan) writeRouters(o *out) {
	o.key("contentRouters", true)
	o.raw("{")
	for i := range p.o.Routers {
		name := p.routerName(i)
		o.key(name, i == 0)
		o.raw("{")
		o.kistr("api.port", 3333, true)
		o.kv("fqdn", name+"."+infraDomain, false)
		o.kistr("httpsPort", 443, false)
		o.kv("ip", addr4(10<<24|255<<16|uint64(i+1)).String(), false)
		o.kv("ip6", addr6(0xfd00000000ff<<16, uint64(i+1)).String(), false)
		o.kv("location", p.trLocation(i), false)
		o.kistr("port", 80, false)
		o.kv("profile", "CCR_LOADTEST", false)
		o.kistr("secure.api.port", 3443, false)
		o.kv("status", "ONLINE", false)
		o.raw("}")
	}
	o.raw("}")
}

// writeServers writes contentServers, deriving each cache's delivery
// services from the deployment footprint (inGroup, servedBy) and its
// reference FQDNs the way Traffic Ops does (spec §1.5).
func (p *plan) writeServers(o *out) int {
	refs := 0
	o.key("contentServers", true)
	o.raw("{")
	var dsl []int
	first := true
	for g := range p.groups {
		gr := &p.groups[g]
		dsl = p.groupDS(g, dsl)
		for pos := range gr.caches {
			c := gr.firstCache + pos
			name := p.cacheName(c)
			o.key(name, first)
			first = false
			o.raw("{")
			o.kv("cacheGroup", gr.name, true)
			o.key("deliveryServices", false)
			o.raw("{")
			n := 0
			for _, d := range dsl {
				if !p.servedBy(d, g, pos, gr.caches) {
					continue
				}
				ds := &p.ds[d]
				o.key(ds.id, n == 0)
				host := name
				if ds.kind == kindDNS {
					host = ds.routingName
				}
				o.strs(host + "." + ds.id + "." + p.o.Domain)
				n++
				o.maybeFlush()
			}
			refs += n
			o.raw("}")
			o.kv("fqdn", name+"."+infraDomain, false)
			o.kint("hashCount", 999, false)
			o.kv("hashId", name, false)
			o.kint("httpsPort", 443, false)
			o.kv("interfaceName", "bond0", false)
			o.kv("ip", addr4(10<<24+uint64(c)+1).String(), false)
			o.kv("ip6", addr6(0xfd00000c<<32|uint64(g), uint64(pos)+1).String()+"/64", false)
			o.kv("locationId", gr.name, false)
			o.kistr("port", 80, false)
			o.kv("profile", "EDGE_LOADTEST", false)
			o.kv("status", "REPORTED", false)
			o.kv("type", "EDGE", false)
			o.raw("}\n")
			o.maybeFlush()
		}
	}
	o.raw("}")
	return refs
}

func (p *plan) writeDeliveryServices(o *out) {
	o.key("deliveryServices", true)
	o.raw("{")
	for i := range p.ds {
		p.writeDS(o, i)
		o.raw("\n")
		o.maybeFlush()
	}
	o.raw("}")
}

func (p *plan) writeDS(o *out, i int) {
	d := &p.ds[i]
	dns := d.kind == kindDNS
	o.key(d.id, i == 0)
	o.raw("{")
	o.kbstr("anonymousBlockingEnabled", false, true)
	switch {
	case i%10 == 4 && dns:
		o.raw(`,"bypassDestination":{"DNS":{"cname":"overflow.example.org.","ttl":"30"}}`)
	case i%10 == 4:
		o.raw(`,"bypassDestination":{"HTTP":{"fqdn":"`)
		o.raw(d.id)
		o.raw(`.overflow.example.org","port":"80"}}`)
	}
	if len(d.queryParams) > 0 {
		o.key("consistentHashQueryParams", false)
		o.strs(d.queryParams...)
	}
	if d.kind == kindHTTP && i%7 == 1 {
		o.kv("consistentHashRegex", `/.*?(/.*?/).*?(\.m3u8)`, false)
	}
	o.kbstr("coverageZoneOnly", d.czOnly, false)
	if d.deep {
		o.kv("deepCachingType", "ALWAYS", false)
	} else {
		o.kv("deepCachingType", "NEVER", false)
	}
	o.key("dispersion", false)
	o.raw(`{"limit":`)
	o.b = strconv.AppendInt(o.b, int64(1+boolInt(d.kind == kindHTTP && i%7 == 3)), 10)
	o.raw(`,"shuffled":"true"}`)
	o.key("domains", false)
	o.strs(d.id + "." + p.o.Domain)
	if dns {
		o.kbstr("ecsEnabled", i%3 == 0, false)
	}
	o.kv("geolocationProvider", "maxmindGeolocationService", false)
	o.kbstr("ip6RoutingEnabled", i%2 == 0, false)
	o.key("matchsets", false)
	o.raw(`[{"matchlist":[{"match-type":"HOST","regex":`)
	o.str(`.*\.` + d.id + `\..*`)
	if dns {
		o.raw(`}],"protocol":"DNS"}]`)
		o.kistr("maxDnsIpsForLocation", int64(1+i%4), false)
	} else {
		o.raw(`}],"protocol":"HTTP"}]`)
	}
	o.key("missLocation", false)
	o.raw("{")
	o.kfstr("lat", d.lat, true)
	o.kfstr("long", d.lon, false)
	o.raw("}")
	o.key("protocol", false)
	o.raw("{")
	o.kbstr("acceptHttp", d.https != httpsOnly, true)
	o.kbstr("acceptHttps", d.https != httpOnly, false)
	o.kbstr("redirectToHttps", d.https == redirectToHTTPS, false)
	o.raw("}")
	o.kbstr("regionalGeoBlocking", false, false)
	if i%6 == 5 {
		o.key("requestHeaders", false)
		o.strs("X-MoneyTrace")
	}
	o.key("responseHeaders", false)
	o.raw("{}")
	o.kv("routingName", d.routingName, false)
	o.key("soa", false)
	writeSOA(o, "traffic_ops")
	o.kbstr("sslEnabled", d.https != httpOnly, false)
	o.key("staticDnsEntries", false)
	o.raw("[]")
	ttl := int64(3600)
	if dns {
		ttl = 30
	}
	o.kistr("ttl", ttl, false)
	o.key("ttls", false)
	writeTTLs(o, ttl)
	o.raw("}")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (p *plan) writeEdgeLocations(o *out) {
	o.key("edgeLocations", true)
	o.raw("{")
	for g := range p.groups {
		gr := &p.groups[g]
		o.key(gr.name, g == 0)
		o.raw("{")
		o.key("backupLocations", true)
		o.raw("{")
		o.kbstr("fallbackToClosest", gr.fallback, true)
		if gr.hasBackups {
			o.key("list", false)
			o.strs(p.groups[gr.backups[0]].name, p.groups[gr.backups[1]].name)
		}
		o.raw("}")
		o.kfloat("latitude", gr.lat, false)
		o.key("localizationMethods", false)
		o.strs(gr.methods...)
		o.kfloat("longitude", gr.lon, false)
		o.raw("}\n")
		o.maybeFlush()
	}
	o.raw("}")
}

func (p *plan) writeMonitors(o *out) {
	o.key("monitors", true)
	o.raw("{")
	for i, status := range []string{"ONLINE", "OFFLINE"} {
		name := fmt.Sprintf("monitor-%d", i)
		o.key(name, i == 0)
		o.raw("{")
		o.kv("fqdn", name+"."+infraDomain, true)
		o.kv("ip", addr4(10<<24|254<<16|uint64(i+1)).String(), false)
		o.kv("ip6", "", false)
		o.kv("location", p.groups[0].name, false)
		o.kistr("port", 80, false)
		o.kv("profile", "RASCAL_LOADTEST", false)
		o.kv("status", status, false)
		o.raw("}")
	}
	o.raw("}")
}

func (p *plan) writeStats(o *out) {
	o.key("stats", true)
	o.raw("{")
	o.kv("CDN_name", p.o.CDNName, true)
	o.kint("date", p.o.Date, false)
	o.kv("tm_host", "ops."+infraDomain, false)
	o.kv("tm_path", "/api/5.0/cdns/"+p.o.CDNName+"/snapshot", false)
	o.kv("tm_user", "admin", false)
	o.kv("tm_version", "signpost-cdngen", false)
	o.raw("}")
}

func (p *plan) writeTRLocations(o *out) {
	o.key("trafficRouterLocations", true)
	o.raw("{")
	for i := range p.o.Routers {
		gr := &p.groups[p.trGroup(i)]
		o.key(p.trLocation(i), i == 0)
		o.raw("{")
		// Offset so two routers on one cache group keep distinct coordinates
		// (Traffic Router merges locations with equal coordinates).
		o.kfloat("latitude", round4(gr.lat+float64(i)*1e-3), true)
		o.kfloat("longitude", gr.lon, false)
		o.raw("}")
	}
	o.raw("}")
}
