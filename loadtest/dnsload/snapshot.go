package dnsload

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Routed and static answers carry this TTL on every server.
const answerTTL = 300

// routerName is the one content router; its address is loopback.
const routerName = "tr0"

// obj is a JSON object; encoding/json writes its keys sorted, so output is
// deterministic.
type obj = map[string]any

// groupCoords places group g on a line of latitudes; the values only need
// to be distinct and valid.
func groupCoords(g int) (lat, lon float64) {
	return 30 + float64(g)*0.1, -100 + float64(g)*0.1
}

// crconfig is the snapshot in the Traffic Ops shape: numbers and booleans as
// strings where Traffic Ops sends strings.
func (p *plan) crconfig() ([]byte, error) {
	ttls := obj{"A": strconv.Itoa(answerTTL), "AAAA": strconv.Itoa(answerTTL), "NS": "3600", "SOA": "86400"}
	soa := obj{"admin": "hostmaster", "expire": "1209600", "minimum": "300", "refresh": "7200", "retry": "3600"}
	config := obj{
		"api.auth.url":                       "https://${toHostname}/api/5.0/user/login",
		"certificate.api.url":                "https://${toHostname}/api/5.0/cdns/name/${cdnName}/sslkeys",
		"certificates.polling.interval":      "300000",
		"consistent.dns.routing":             "false",
		"coveragezone.polling.interval":      "86400000",
		"coveragezone.polling.url":           "https://${toHostname}/bench/czmap.json",
		"deepcoveragezone.polling.url":       "https://${toHostname}/bench/dczmap.json",
		"dnssec.enabled":                     "false",
		"domain_name":                        Domain,
		"ecsEnable":                          "true",
		"edge.dns.routing":                   strconv.FormatBool(p.o.EdgeDNSRouting),
		"edge.http.routing":                  "false",
		"federationmapping.polling.url":      "https://${toHostname}/api/5.0/federations/all",
		"geolocation.polling.interval":       "86400000",
		"geolocation.polling.url":            "https://${toHostname}/bench/GeoLite2-City.mmdb.gz",
		"soa":                                soa,
		"steeringmapping.polling.url":        "https://${toHostname}/api/5.0/steering",
		"ttls":                               ttls,
		"weight":                             "1.0",
		"federationmapping.polling.interval": "600000",
		"steeringmapping.polling.interval":   "15000",
	}
	servers := obj{}
	locations := obj{}
	for g := range p.o.Groups {
		name := groupName(g)
		cache := "cache-" + name
		servers[cache] = obj{
			"cacheGroup": name,
			"deliveryServices": obj{
				"geo":    []string{RoutedName},
				"static": []string{"edge." + StaticZone},
			},
			"fqdn":          cache + ".infra.test",
			"hashCount":     999,
			"hashId":        cache,
			"httpsPort":     443,
			"interfaceName": "eth0",
			"ip":            cacheAddr(g).String(),
			"ip6":           "",
			"locationId":    name,
			"port":          "80",
			"profile":       "EDGE_BENCH",
			"status":        "REPORTED",
			"type":          "EDGE",
		}
		lat, lon := groupCoords(g)
		locations[name] = obj{
			"backupLocations":     obj{"fallbackToClosest": "true"},
			"latitude":            lat,
			"localizationMethods": []string{"CZ", "GEO"},
			"longitude":           lon,
		}
	}
	lat0, lon0 := groupCoords(0)
	snap := obj{
		"config": config,
		"contentRouters": obj{routerName: obj{
			"api.port": "3333", "fqdn": routerName + ".infra.test", "httpsPort": "443",
			"ip": "127.0.0.1", "ip6": "", "location": "tr-loc", "port": "80",
			"profile": "CCR_BENCH", "status": "ONLINE",
		}},
		"contentServers": servers,
		"deliveryServices": obj{
			"geo":    p.deliveryService("geo", true, nil, ttls, soa, lat0, lon0),
			"static": p.deliveryService("static", false, p.staticEntries(), ttls, soa, lat0, lon0),
		},
		"edgeLocations": locations,
		"monitors": obj{"monitor-0": obj{
			"fqdn": "monitor-0.infra.test", "ip": "127.0.0.2", "ip6": "", "location": groupName(0),
			"port": "80", "profile": "RASCAL_BENCH", "status": "ONLINE",
		}},
		"stats": obj{
			"CDN_name": "bench", "date": 1700000000, "tm_host": "ops.infra.test",
			"tm_path": "/api/5.0/cdns/bench/snapshot", "tm_user": "admin", "tm_version": "signpost-dnsload",
		},
		"trafficRouterLocations": obj{"tr-loc": obj{"latitude": lat0, "longitude": lon0}},
	}
	b, err := json.MarshalIndent(snap, "", " ")
	if err != nil {
		return nil, fmt.Errorf("dnsload: crconfig.json: %w", err)
	}
	return append(b, '\n'), nil
}

func (p *plan) deliveryService(id string, ecs bool, static []obj, ttls, soa obj, lat, lon float64) obj {
	if static == nil {
		static = []obj{}
	}
	return obj{
		"anonymousBlockingEnabled": "false",
		"coverageZoneOnly":         "false",
		"deepCachingType":          "NEVER",
		"dispersion":               obj{"limit": 1, "shuffled": "true"},
		"domains":                  []string{id + "." + Domain},
		"ecsEnabled":               strconv.FormatBool(ecs),
		"geolocationProvider":      "maxmindGeolocationService",
		"ip6RoutingEnabled":        "false",
		"matchsets": []obj{{
			"matchlist": []obj{{"match-type": "HOST", "regex": `.*\.` + id + `\..*`}},
			"protocol":  "DNS",
		}},
		"maxDnsIpsForLocation": "1",
		"missLocation":         obj{"lat": strconv.FormatFloat(lat, 'f', -1, 64), "long": strconv.FormatFloat(lon, 'f', -1, 64)},
		"protocol":             obj{"acceptHttp": "true", "acceptHttps": "false", "redirectToHttps": "false"},
		"regionalGeoBlocking":  "false",
		"responseHeaders":      obj{},
		"routingName":          "edge",
		"soa":                  soa,
		"sslEnabled":           "false",
		"staticDnsEntries":     static,
		"ttl":                  strconv.Itoa(answerTTL),
		"ttls":                 ttls,
	}
}

// staticEntries are www, img and h0..hN-1 (A; AAAA on every fourth).
func (p *plan) staticEntries() []obj {
	ttl := strconv.Itoa(answerTTL)
	out := []obj{
		{"name": "www", "type": "A", "value": "192.0.2.10", "ttl": ttl},
		{"name": "img", "type": "A", "value": "192.0.2.11", "ttl": ttl},
	}
	for i := range p.o.StaticNames {
		name := "h" + strconv.Itoa(i)
		out = append(out, obj{"name": name, "type": "A", "value": staticAddr4(i).String(), "ttl": ttl})
		if i%4 == 0 {
			out = append(out, obj{"name": name, "type": "AAAA", "value": staticAddr6(i).String(), "ttl": ttl})
		}
	}
	return out
}

// czmap is the coverage zone file: one zone per cache group with its /24s,
// plus 127.0.0.0/8 in loopbackGroup.
func (p *plan) czmap() ([]byte, error) {
	nets := make([][]string, p.o.Groups)
	for _, n := range p.nets {
		nets[n.group] = append(nets[n.group], n.prefix.String())
	}
	lb := loopbackGroup % p.o.Groups
	nets[lb] = append(nets[lb], "127.0.0.0/8")
	zones := obj{}
	for g := range p.o.Groups {
		lat, lon := groupCoords(g)
		zones[groupName(g)] = obj{
			"coordinates": obj{"latitude": lat, "longitude": lon},
			"network":     nets[g],
			"network6":    []string{},
		}
	}
	b, err := json.MarshalIndent(obj{"coverageZones": zones, "customerName": "bench", "revision": "dnsload"}, "", " ")
	if err != nil {
		return nil, fmt.Errorf("dnsload: czmap.json: %w", err)
	}
	return append(b, '\n'), nil
}
