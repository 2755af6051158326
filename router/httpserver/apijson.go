package httpserver

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/signpost-cdn/signpost/geo"
	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/router"
)

// The JSON shapes of the Traffic Router API (spec 10), with Traffic
// Router's field names.

type geolocationJSON struct {
	Latitude        float64           `json:"latitude"`
	Longitude       float64           `json:"longitude"`
	PostalCode      *string           `json:"postalCode"`
	City            *string           `json:"city"`
	CountryCode     *string           `json:"countryCode"`
	CountryName     *string           `json:"countryName"`
	DefaultLocation bool              `json:"defaultLocation"`
	Properties      map[string]string `json:"properties"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// javaDouble formats like Java's Double.toString for ordinary values
// (always a fraction part: 40 -> "40.0").
func javaDouble(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEnN") {
		s += ".0"
	}
	return s
}

func newGeolocation(lat, lon float64, postal, city, cc, cn string, def bool, id string) geolocationJSON {
	g := geolocationJSON{Latitude: lat, Longitude: lon, PostalCode: strPtr(postal), City: strPtr(city),
		CountryCode: strPtr(cc), CountryName: strPtr(cn), DefaultLocation: def,
		Properties: map[string]string{"latitude": javaDouble(lat), "longitude": javaDouble(lon),
			"postalCode": postal, "city": city, "countryCode": cc, "countryName": cn}}
	if id != "" {
		g.Properties["id"] = id
	}
	return g
}

type dsRefJSON struct {
	DeliveryServiceID string `json:"deliveryServiceId"`
	FQDN              string `json:"fqdn"`
}

type cacheJSON struct {
	ID               string          `json:"id"`
	FQDN             string          `json:"fqdn"`
	Port             int             `json:"port"`
	HTTPSPort        int             `json:"httpsPort"`
	IP4              string          `json:"ip4"`
	IP6              string          `json:"ip6"`
	Available        bool            `json:"available"`
	Capabilities     []string        `json:"capabilities"`
	HashValues       []float64       `json:"hashValues"`
	Order            int             `json:"order"`
	DeliveryServices []dsRefJSON     `json:"deliveryServices"`
	Geolocation      geolocationJSON `json:"geolocation"`
}

func newCacheJSON(d *tableData, c *router.Cache) cacheJSON {
	t := d.table
	h := t.Health()
	j := cacheJSON{
		ID: c.ID, FQDN: c.FQDN, Port: c.Port, HTTPSPort: 443,
		IP4: javaIP(c.IP), IP6: javaIP(c.IP6),
		Available:    h.CacheAvailable(c.Index, false) || h.CacheAvailable(c.Index, true),
		Capabilities: c.Capabilities, DeliveryServices: []dsRefJSON{},
	}
	if j.Capabilities == nil {
		j.Capabilities = []string{}
	}
	pts := hashring.NewPoints(t.HashMode(), c.HashID, c.HashCount)
	j.HashValues = make([]float64, pts.Len())
	for i := range j.HashValues {
		j.HashValues[i] = pts.At(i)
	}
	for _, r := range c.DeliveryServices {
		j.DeliveryServices = append(j.DeliveryServices, dsRefJSON{DeliveryServiceID: r.XMLID, FQDN: r.FQDN})
	}
	if c.Loc >= 0 && int(c.Loc) < len(t.Locations()) {
		loc := &t.Locations()[c.Loc]
		j.Geolocation = newGeolocation(loc.Latitude, loc.Longitude, "", "", "", "", false, loc.Name)
	}
	return j
}

// javaIP prints an address as Java's InetAddress.getHostAddress: IPv6 in
// eight groups without "::" compression; "" when invalid.
func javaIP(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	if a.Is4() || a.Is4In6() {
		return a.Unmap().String()
	}
	b := a.As16()
	var sb strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(strconv.FormatUint(uint64(b[i])<<8|uint64(b[i+1]), 16))
	}
	return sb.String()
}

type cacheModel struct {
	CacheID           string   `json:"cacheId"`
	FQDN              string   `json:"fqdn"`
	IPAddresses       []string `json:"ipAddresses"`
	Port              int      `json:"port"`
	AdminStatus       *string  `json:"adminStatus"`
	LastUpdateHealthy bool     `json:"lastUpdateHealthy"`
	LastUpdateTime    int64    `json:"lastUpdateTime"`
	Connections       int64    `json:"connections"`
	CurrentBW         int64    `json:"currentBW"`
	AvailBW           int64    `json:"availBW"`
	CacheOnline       bool     `json:"cacheOnline"`
}

func cacheModels(d *tableData, loc *router.Location) []cacheModel {
	h := d.table.Health()
	out := make([]cacheModel, 0, len(loc.Caches))
	for _, ci := range loc.Caches {
		c := &d.table.Caches()[ci]
		m := cacheModel{CacheID: c.ID, FQDN: c.FQDN, IPAddresses: []string{}}
		for _, a := range []netip.Addr{c.IP, c.IP6} {
			if a.IsValid() {
				m.IPAddresses = append(m.IPAddresses, javaIP(a))
			}
		}
		if h.Source != nil {
			m.CacheOnline = h.CacheAvailable(ci, false) || h.CacheAvailable(ci, true)
		}
		out = append(out, m)
	}
	return out
}

type cacheLocationJSON struct {
	ID                string            `json:"id"`
	Geolocation       geolocationJSON   `json:"geolocation"`
	Properties        map[string]string `json:"properties"`
	Caches            []cacheJSON       `json:"caches"`
	BackupCacheGroups []string          `json:"backupCacheGroups"`
	UseClosestGeoLoc  bool              `json:"useClosestGeoLoc"`
}

func newCacheLocation(d *tableData, loc *router.Location) cacheLocationJSON {
	g := newGeolocation(loc.Latitude, loc.Longitude, "", "", "", "", false, "")
	j := cacheLocationJSON{ID: loc.Name, Geolocation: g, Properties: g.Properties,
		Caches: make([]cacheJSON, 0, len(loc.Caches)), BackupCacheGroups: loc.BackupLocations,
		UseClosestGeoLoc: loc.FallbackToClosest}
	j.Properties["id"] = loc.Name
	for _, ci := range loc.Caches {
		j.Caches = append(j.Caches, newCacheJSON(d, &d.table.Caches()[ci]))
	}
	return j
}

func newDeepCacheLocation(d *tableData, dl router.DeepLocation) cacheLocationJSON {
	g := newGeolocation(dl.Lat, dl.Lon, "", "", "", "", false, "")
	j := cacheLocationJSON{ID: dl.Name, Geolocation: g, Properties: g.Properties,
		Caches: make([]cacheJSON, 0, len(dl.Caches))}
	j.Properties["id"] = dl.Name
	for _, ci := range dl.Caches {
		j.Caches = append(j.Caches, newCacheJSON(d, &d.table.Caches()[ci]))
	}
	return j
}

type zoneCacheStats struct {
	RequestCount       int64   `json:"requestCount"`
	HitCount           int64   `json:"hitCount"`
	MissCount          int64   `json:"missCount"`
	HitRate            float64 `json:"hitRate"`
	MissRate           float64 `json:"missRate"`
	EvictionCount      int64   `json:"evictionCount"`
	LoadCount          int64   `json:"loadCount"`
	LoadSuccessCount   int64   `json:"loadSuccessCount"`
	LoadExceptionCount int64   `json:"loadExceptionCount"`
	LoadExceptionRate  float64 `json:"loadExceptionRate"`
	TotalLoadTime      int64   `json:"totalLoadTime"`
	AverageLoadPenalty float64 `json:"averageLoadPenalty"`
}

type tallyJSON struct {
	CZ             uint64 `json:"czCount"`
	Geo            uint64 `json:"geoCount"`
	DeepCZ         uint64 `json:"deepCzCount"`
	Miss           uint64 `json:"missCount"`
	DSR            uint64 `json:"dsrCount"`
	Err            uint64 `json:"errCount"`
	StaticRoute    uint64 `json:"staticRouteCount"`
	Fed            uint64 `json:"fedCount"`
	RegionalDenied uint64 `json:"regionalDeniedCount"`
	RegionalAlt    uint64 `json:"regionalAlternateCount"`
}

// apiStats is /crs/stats. httpMap is keyed by the delivery service's
// routing name + domain (Signpost counts per service, not per request
// host name); the DNS side belongs to the DNS server and is empty here.
func (s *Server) apiStats(ctx *fasthttp.RequestCtx, d *tableData) {
	httpMap := map[string]tallyJSON{}
	for i := range d.table.DeliveryServices() {
		ds := &d.table.DeliveryServices()[i]
		t := &d.tallies[i]
		j := tallyJSON{CZ: t.cz.Load(), Geo: t.geo.Load(), DeepCZ: t.deepCZ.Load(), Miss: t.miss.Load(),
			DSR: t.dsr.Load(), Err: t.err.Load(), StaticRoute: t.static.Load(), Fed: t.fed.Load(),
			RegionalDenied: t.rgDenied.Load(), RegionalAlt: t.rgAlt.Load()}
		name := ds.ID
		if ds.RoutingName != "" && ds.Domain() != "" {
			name = ds.RoutingName + "." + strings.ToLower(ds.Domain())
		}
		httpMap[name] = j
	}
	// The average is over the timed requests (all of them with an access
	// log, one in latencySampleEvery without).
	avg := 0.0
	if timed := s.tallies.timed.Load(); timed > 0 {
		avg = float64(s.tallies.nanos.Load()) / float64(timed) / 1e6
	}
	tracker := map[string]int64{"lastConfigChange": d.published.UnixMilli()}
	if s.cfg.ReloadStatus != nil {
		st := s.cfg.ReloadStatus()
		tracker["lastConfigCheck"] = st.Published.UnixMilli()
		for _, f := range st.Files {
			if !f.Accepted.IsZero() && f.Accepted.UnixMilli() > tracker["lastConfigChange"] {
				tracker["lastConfigChange"] = f.Accepted.UnixMilli()
			}
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{
		"app": map[string]string{"name": "signpost", "version": s.cfg.Version, "git-revision": s.cfg.Revision,
			"buildTimestamp": "", "deploy-dir": ""},
		"stats": map[string]any{
			"dnsMap": map[string]tallyJSON{}, "httpMap": httpMap,
			"totalDnsCount": 0, "totalHttpCount": s.tallies.total.Load(), "totalDsMissCount": s.tallies.dsMiss.Load(),
			"appStartTime": s.start.UnixMilli(), "averageDnsTime": 0, "averageHttpTime": avg,
			"updateTracker": tracker,
		},
	})
}

// apiStatsIP is /crs/stats/ip/{ip}: where the coverage zone file, MaxMind,
// the federations and the deep coverage zone file place an address.
func (s *Server) apiStatsIP(ctx *fasthttp.RequestCtx, d *tableData, ipText string) {
	ip, err := netip.ParseAddr(ipText)
	if err != nil {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		return
	}
	ip = ip.Unmap()
	t := d.table
	out := map[string]any{"requestIp": ipText, "locationByCoverageZone": "not found", "locationByGeo": "not found",
		"locationByFederation": "not found", "locationByDeepCoverageZone": "not found"}
	if t.Set != nil && t.Set.CoverageZones != nil {
		if z, ok := t.Set.CoverageZones.Lookup(ip); ok {
			zone := t.Set.CoverageZones.Zone(z)
			lat, lon := zone.Latitude, zone.Longitude
			if loc, ok := t.Location(zone.Name); ok && !zone.HasCoordinates {
				lat, lon = loc.Latitude, loc.Longitude
			}
			out["locationByCoverageZone"] = newGeolocation(lat, lon, "", "", "", "", false, zone.Name).Properties
		}
	}
	if t.Set != nil && t.Set.Geo != nil {
		if g, ok := t.Set.Geo.Lookup(ip); ok {
			out["locationByGeo"] = geoProps(g)
		}
	}
	if t.Set != nil && t.Set.Federations != nil {
		var feds []map[string]any
		for _, f := range t.Set.Federations.Entries {
			var maps []map[string]any
			for _, m := range f.Mappings {
				r4, r6 := []string{}, []string{}
				for _, p := range m.Resolve4 {
					if p.Contains(ip) {
						r4 = append(r4, "/"+p.Addr().String()+"/"+strconv.Itoa(p.Bits()))
					}
				}
				for _, p := range m.Resolve6 {
					if p.Contains(ip) {
						r6 = append(r6, "/"+javaIP(p.Addr())+"/"+strconv.Itoa(p.Bits()))
					}
				}
				if len(r4)+len(r6) > 0 {
					maps = append(maps, map[string]any{"cname": m.CNAME, "ttl": m.TTL, "resolve4": r4, "resolve6": r6})
				}
			}
			if maps != nil {
				feds = append(feds, map[string]any{"deliveryService": f.DeliveryService, "federationMappings": maps})
			}
		}
		if feds != nil {
			out["locationByFederation"] = feds
		}
	}
	if dl, ok := t.DeepZoneOf(ip); ok {
		ids := make([]string, 0, len(dl.Caches))
		for _, ci := range dl.Caches {
			ids = append(ids, t.Caches()[ci].ID)
		}
		out["locationByDeepCoverageZone"] = map[string]any{
			"properties": newGeolocation(dl.Lat, dl.Lon, "", "", "", "", false, dl.Name).Properties, "caches": ids}
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func geoProps(g geo.Location) map[string]string {
	return newGeolocation(g.Latitude, g.Longitude, g.PostalCode, g.City, g.CountryCode, g.CountryName, g.IsDefault, "").Properties
}
