package cdngen

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
)

// FileClients is the name of the client population file Write puts next to
// the snapshot files. The router ignores it (it is not one of
// control.Files()).
const FileClients = "clients.json"

// Clients is the content of clients.json: the names a load generator asks
// for and the client addresses it asks from, each with the outcome the
// generated data implies.
type Clients struct {
	Seed   int64  `json:"seed"`
	Domain string `json:"domain"`
	// DeliveryServices lists every delivery service with its routing name.
	DeliveryServices []ClientDS `json:"deliveryServices"`
	// CoverageZone addresses are inside a coverage zone network (the most
	// specific one is Zone's).
	CoverageZone []ZoneClient `json:"coverageZone"`
	// DeepCoverageZone addresses are inside a deep coverage zone network
	// (Zone is the deep zone) and inside CacheGroup's coverage zone.
	DeepCoverageZone []ZoneClient `json:"deepCoverageZone"`
	// GeoOnly addresses are in geo.mmdb but in no coverage zone.
	GeoOnly []GeoClient `json:"geoOnly"`
	// Miss addresses are in neither.
	Miss []netip.Addr `json:"miss"`
	// Federation addresses are in a federation mapping of a DNS delivery
	// service (and in no coverage zone, deep zone or geo network).
	Federation []FederationClient `json:"federation"`
}

// ClientDS is one delivery service as a load generator sees it. FQDN is
// routingName.xmlId.domain: the Host of HTTP requests and the name of DNS
// queries. For a DNS delivery service an A/AAAA query for it is answered
// with caches; for the others it is answered with Traffic Router addresses,
// and an HTTP request to it is redirected to a cache.
type ClientDS struct {
	XMLID string `json:"xmlId"`
	// Type is HTTP, DNS, STEERING or CLIENT_STEERING.
	Type                      string   `json:"type"`
	FQDN                      string   `json:"fqdn"`
	AcceptHTTP                bool     `json:"acceptHttp"`
	AcceptHTTPS               bool     `json:"acceptHttps"`
	RedirectToHTTPS           bool     `json:"redirectToHttps"`
	DeepCaching               bool     `json:"deepCaching"`
	CoverageZoneOnly          bool     `json:"coverageZoneOnly"`
	ConsistentHashQueryParams []string `json:"consistentHashQueryParams"`
	// CacheGroups is the number of cache groups with caches for it (0 for
	// steering delivery services).
	CacheGroups int `json:"cacheGroups"`
	// SteeringTargets lists the targets of a steering delivery service.
	SteeringTargets []string `json:"steeringTargets"`
}

// ZoneClient is an address inside a (deep) coverage zone.
type ZoneClient struct {
	Addr       netip.Addr `json:"addr"`
	Zone       string     `json:"zone"`
	CacheGroup string     `json:"cacheGroup"`
}

// GeoClient is an address that only geolocates. Default is set when its
// record is a country-only "default location".
type GeoClient struct {
	Addr    netip.Addr `json:"addr"`
	Country string     `json:"country"`
	Default bool       `json:"default"`
}

// FederationClient is an address a federation mapping resolves to CNAME.
type FederationClient struct {
	Addr            netip.Addr `json:"addr"`
	DeliveryService string     `json:"deliveryService"`
	CNAME           string     `json:"cname"`
}

// ParseClients decodes clients.json; name is used in errors.
func ParseClients(name string, data []byte) (*Clients, error) {
	var c Clients
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &c, nil
}

// ReadClients reads and decodes the clients.json of a generated directory.
func ReadClients(dir string) (*Clients, error) {
	path := dir + string(os.PathSeparator) + FileClients
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseClients(path, data)
}

// clientCounts are the sizes of the populations, for the Summary.
type clientCounts struct{ cz, deep, geo, miss, fed int }

// writeClients streams clients.json.
func (p *plan) writeClients(w io.Writer) (clientCounts, int64, error) {
	var cc clientCounts
	o := newOut(w)
	r := p.rng(streamClients)
	o.raw("{")
	o.kint("seed", p.o.Seed, true)
	o.kv("domain", p.o.Domain, false)
	o.raw(",\n\"deliveryServices\":[")
	for i := range p.ds {
		p.writeClientDS(o, i)
	}
	o.raw("],\n\"coverageZone\":[")
	if n := len(p.cz); n > 0 {
		for i := range p.o.Clients {
			pf := p.cz[i*n/p.o.Clients]
			name := p.groups[pf.owner].name
			writeZoneClient(o, i, clientIn(r, pf), name, name)
			cc.cz++
		}
	}
	o.raw("],\n\"deepCoverageZone\":[")
	for d := range p.deep {
		for _, pf := range p.deep[d].nets {
			for range 2 {
				writeZoneClient(o, cc.deep, clientIn(r, pf), p.deepName(d), p.groups[p.deep[d].group].name)
				cc.deep++
			}
		}
	}
	o.raw("],\n\"geoOnly\":[")
	if n := len(p.geoNets); n > 0 {
		for i := range p.o.Clients {
			pf := p.geoNets[i*n/p.o.Clients]
			c, def := p.recordCountry(int(pf.owner))
			if i > 0 {
				o.raw(",")
			}
			o.raw("\n{")
			o.kv("addr", geoClientIn(r, pf).String(), true)
			o.kv("country", c.code, false)
			o.kbool("default", def, false)
			o.raw("}")
			o.maybeFlush()
			cc.geo++
		}
	}
	o.raw("],\n\"miss\":[")
	for i := range max(p.o.Clients/10, 1) {
		var a netip.Addr
		if i%4 == 3 {
			a = addr6(missBase6|uint64(r.Int64N(1<<40)), r.Uint64()|1)
		} else {
			a = addr4(missBase4 + uint64(r.IntN(1<<17)))
		}
		if i > 0 {
			o.raw(",")
		}
		o.raw("\n")
		o.str(a.String())
		o.maybeFlush()
		cc.miss++
	}
	o.raw("],\n\"federation\":[")
	for k, d := range p.feds {
		v4, v6 := fedNets(k)
		for _, pf := range []prefix{v4, v6} {
			if cc.fed > 0 {
				o.raw(",")
			}
			o.raw("\n{")
			o.kv("addr", clientIn(r, pf).String(), true)
			o.kv("cname", fedCNAME(k), false)
			o.kv("deliveryService", p.ds[d].id, false)
			o.raw("}")
			cc.fed++
		}
	}
	o.raw("]}\n")
	o.flush()
	return cc, o.n, o.err
}

func writeZoneClient(o *out, i int, a netip.Addr, zone, group string) {
	if i > 0 {
		o.raw(",")
	}
	o.raw("\n{")
	o.kv("addr", a.String(), true)
	o.kv("cacheGroup", group, false)
	o.kv("zone", zone, false)
	o.raw("}")
	o.maybeFlush()
}

// recordCountry returns the country of geo record i and whether the record
// is a country-only default location.
func (p *plan) recordCountry(i int) (*country, bool) {
	if i >= len(p.cities) {
		return &p.countries[i-len(p.cities)], true
	}
	return &p.countries[p.cities[i].country], false
}

// dsGroups is the number of cache groups regular delivery service d is
// deployed in.
func (p *plan) dsGroups(d int) int {
	if p.ds[d].global {
		return p.o.CacheGroups
	}
	return p.o.GroupsPerDS
}

func (p *plan) writeClientDS(o *out, i int) {
	d := &p.ds[i]
	if i > 0 {
		o.raw(",")
	}
	o.raw("\n{")
	o.kv("xmlId", d.id, true)
	o.kv("type", d.kind.String(), false)
	o.kv("fqdn", d.fqdn(p.o.Domain), false)
	o.kbool("acceptHttp", d.https != httpsOnly, false)
	o.kbool("acceptHttps", d.https != httpOnly, false)
	o.kbool("redirectToHttps", d.https == redirectToHTTPS, false)
	o.kbool("deepCaching", d.deep, false)
	o.kbool("coverageZoneOnly", d.czOnly, false)
	o.key("consistentHashQueryParams", false)
	o.strs(d.queryParams...)
	groups := 0
	var targets []string
	if i < p.regular {
		groups = p.dsGroups(i)
	} else {
		for _, t := range p.steeringTargets(i - p.regular) {
			targets = append(targets, p.ds[t].id)
		}
	}
	o.kint("cacheGroups", int64(groups), false)
	o.key("steeringTargets", false)
	o.strs(targets...)
	o.raw("}")
	o.maybeFlush()
}
