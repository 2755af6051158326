package httpserver

import (
	"encoding/json"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/signpost-cdn/signpost/router"
)

// apiRoutes maps the fixed API paths to their handlers. Paths with a
// variable part (/crs/stats/ip/{ip}, /crs/locations/{cg}/caches) are
// matched in serveAPI.
func (s *Server) apiHandler(path string) func(*fasthttp.RequestCtx, *tableData) {
	switch path {
	case "/crs/stats":
		return s.apiStats
	case "/crs/stats/zones/caches":
		return apiZoneCaches("")
	case "/crs/stats/zones/caches/static":
		return apiZoneCaches("static")
	case "/crs/stats/zones/caches/dynamic":
		return apiZoneCaches("dynamic")
	case "/crs/locations":
		return apiLocations
	case "/crs/locations/caches":
		return apiLocationsCaches
	case "/crs/coveragezone/cachelocation":
		return apiCZLocation
	case "/crs/coveragezone/caches":
		return apiCZCaches
	case "/crs/deepcoveragezone/cachelocation":
		return apiDeepCZLocation
	case "/crs/consistenthash/cache/coveragezone":
		return apiHashCache(router.ByCoverageZone)
	case "/crs/consistenthash/cache/deep/coveragezone":
		return apiHashCache(router.ByDeepCoverageZone)
	case "/crs/consistenthash/cache/geolocation":
		return apiHashCache(router.ByGeolocation)
	case "/crs/consistenthash/patternbased/regex":
		return apiPatternRegex
	case "/crs/consistenthash/patternbased/deliveryservice":
		return apiPatternDS
	case "/crs/deliveryservices":
		return apiDeliveryServices
	case "/crs/certificates":
		return apiCertificates
	case "/crs/steering":
		return apiSteering
	case "/crs/consistenthash/deliveryservice":
		return apiSteeredDS
	case "/crs/consistenthash/cache/coveragezone/steering":
		return apiSteeredCache
	}
	return nil
}

// serveAPI is the handler of the API port (spec 10).
func (s *Server) serveAPI(ctx *fasthttp.RequestCtx) {
	s.m.apiRequests.Inc()
	path := string(ctx.Path())
	switch path {
	case "/healthz":
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("ok\n")
		return
	case "/readyz":
		ctx.SetContentType("text/plain; charset=utf-8")
		if s.data.Load() == nil {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			ctx.SetBodyString("no routing table yet\n")
			return
		}
		ctx.SetBodyString("ready\n")
		return
	case "/metrics":
		ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
		ctx.SetBody(s.cfg.Metrics.AppendText(nil))
		return
	}
	h := s.apiHandler(path)
	var arg string
	switch {
	case h != nil:
	case strings.HasPrefix(path, "/crs/stats/ip/"):
		arg = strings.TrimPrefix(path, "/crs/stats/ip/")
		h = func(ctx *fasthttp.RequestCtx, d *tableData) { s.apiStatsIP(ctx, d, arg) }
	case strings.HasPrefix(path, "/crs/locations/") && strings.HasSuffix(path, "/caches"):
		arg = strings.TrimSuffix(strings.TrimPrefix(path, "/crs/locations/"), "/caches")
		if arg != "" && !strings.Contains(arg, "/") {
			h = apiLocationCaches(arg)
		}
	}
	if h == nil {
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		return
	}
	d := s.data.Load()
	if d == nil {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		return
	}
	h(ctx, d)
}

// writeJSON answers v as JSON with the given status.
func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json;charset=UTF-8")
	ctx.SetBody(b)
}

// param returns a required query parameter; a missing one answers 400.
// dsAndPath reads the deliveryServiceId and requestPath parameters of the
// consistent-hash endpoints: false (with 400, or 404 for an unknown
// delivery service, already answered) when the request cannot go on.
func dsAndPath(ctx *fasthttp.RequestCtx, d *tableData) (*router.DeliveryService, string, bool) {
	dsID, ok := param(ctx, "deliveryServiceId")
	if !ok {
		return nil, "", false
	}
	path, ok := param(ctx, "requestPath")
	if !ok {
		return nil, "", false
	}
	ds, found := d.table.DeliveryService(dsID)
	if !found {
		notFoundObject(ctx)
		return nil, "", false
	}
	return ds, path, true
}

func param(ctx *fasthttp.RequestCtx, name string) (string, bool) {
	args := ctx.QueryArgs()
	if !args.Has(name) {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		ctx.SetContentType("application/json;charset=UTF-8")
		ctx.SetBodyString(`{"error":"missing required parameter ` + name + `"}`)
		return "", false
	}
	return string(args.Peek(name)), true
}

func notFoundEmpty(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(fasthttp.StatusNotFound) }

func notFoundObject(ctx *fasthttp.RequestCtx) { writeJSON(ctx, fasthttp.StatusNotFound, struct{}{}) }

func apiLocations(ctx *fasthttp.RequestCtx, d *tableData) {
	locs := d.table.Locations()
	names := make([]string, 0, len(locs))
	for i := range locs {
		names = append(names, locs[i].Name)
	}
	slices.Sort(names)
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"locations": names})
}

func apiLocationsCaches(ctx *fasthttp.RequestCtx, d *tableData) {
	out := map[string][]cacheModel{}
	for i := range d.table.Locations() {
		loc := &d.table.Locations()[i]
		out[loc.Name] = cacheModels(d, loc)
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"locations": out})
}

func apiLocationCaches(cg string) func(*fasthttp.RequestCtx, *tableData) {
	return func(ctx *fasthttp.RequestCtx, d *tableData) {
		loc, ok := d.table.Location(cg)
		if !ok {
			// Traffic Router answers 500 for an unknown cache group.
			ctx.SetStatusCode(fasthttp.StatusNotFound)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"caches": cacheModels(d, loc)})
	}
}

func apiCZLocation(ctx *fasthttp.RequestCtx, d *tableData) {
	ip, ds, ok := ipAndDS(ctx, d)
	if !ok {
		return
	}
	loc := d.table.CoverageZoneLocation(ip, ds)
	if loc == nil {
		notFoundEmpty(ctx)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, newCacheLocation(d, loc))
}

func apiDeepCZLocation(ctx *fasthttp.RequestCtx, d *tableData) {
	ip, ds, ok := ipAndDS(ctx, d)
	if !ok {
		return
	}
	dl, found := d.table.DeepCoverageZoneLocation(ip, ds)
	if !found {
		notFoundEmpty(ctx)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, newDeepCacheLocation(d, dl))
}

func apiCZCaches(ctx *fasthttp.RequestCtx, d *tableData) {
	dsID, ok := param(ctx, "deliveryServiceId")
	if !ok {
		return
	}
	locID, ok := param(ctx, "cacheLocationId")
	if !ok {
		return
	}
	ds, ok1 := d.table.DeliveryService(dsID)
	loc, ok2 := d.table.Location(locID)
	if !ok1 || !ok2 {
		notFoundEmpty(ctx)
		return
	}
	caches := d.table.SupportingCaches(ds, loc)
	if len(caches) == 0 {
		notFoundEmpty(ctx)
		return
	}
	out := make([]cacheJSON, 0, len(caches))
	for _, ci := range caches {
		out = append(out, newCacheJSON(d, &d.table.Caches()[ci]))
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func apiHashCache(m router.LookupMethod) func(*fasthttp.RequestCtx, *tableData) {
	return func(ctx *fasthttp.RequestCtx, d *tableData) {
		ip, ds, ok := ipAndDS(ctx, d)
		if !ok {
			return
		}
		path, ok := param(ctx, "requestPath")
		if !ok {
			return
		}
		c, err := d.table.ConsistentHashCache(m, ip, ds, path)
		if err != nil {
			writeJSON(ctx, fasthttp.StatusBadRequest, map[string]string{"Bad Input": err.Error()})
			return
		}
		if c == nil {
			notFoundObject(ctx)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, newCacheJSON(d, c))
	}
}

// maxPatternPath is Traffic Router's limit on requestPath for the
// pattern-based consistent-hash test endpoint.
const maxPatternPath = 28

func apiPatternRegex(ctx *fasthttp.RequestCtx, _ *tableData) {
	re, ok := param(ctx, "regex")
	if !ok {
		return
	}
	path, ok := param(ctx, "requestPath")
	if !ok {
		return
	}
	if len(path) > maxPatternPath {
		writeJSON(ctx, fasthttp.StatusBadRequest, map[string]string{"Bad Input": "Request Path length is restricted by API to 28 characters"})
		return
	}
	rx, err := regexp.Compile(re)
	if err != nil {
		writeJSON(ctx, fasthttp.StatusBadRequest, map[string]string{"Bad Input": "invalid regex: " + err.Error()})
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, struct {
		RequestPath   string `json:"requestPath"`
		Regex         string `json:"consistentHashRegex"`
		ResultingPath string `json:"resultingPathToConsistentHash"`
	}{path, re, router.PatternString(rx, path)})
}

func apiPatternDS(ctx *fasthttp.RequestCtx, d *tableData) {
	ds, path, ok := dsAndPath(ctx, d)
	if !ok {
		return
	}
	hs, err := d.table.HashString(ds, path)
	if err != nil {
		writeJSON(ctx, fasthttp.StatusBadRequest, map[string]string{"Bad Input": err.Error()})
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, struct {
		RequestPath   string `json:"requestPath"`
		DS            string `json:"deliveryServiceId"`
		ResultingPath string `json:"resultingPathToConsistentHash"`
	}{path, ds.ID, hs})
}

// apiDeliveryServices matches a URL to a delivery service as an HTTP
// request to it would be (spec 10).
func apiDeliveryServices(ctx *fasthttp.RequestCtx, d *tableData) {
	raw, ok := param(ctx, "url")
	if !ok {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		return
	}
	path, err := router.AppendDecodedPath(nil, []byte(u.EscapedPath()))
	if err != nil {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		return
	}
	req := router.Request{Host: []byte(strings.ToLower(u.Hostname())), Path: path, RawQuery: []byte(u.RawQuery),
		HTTP: true, Secure: u.Scheme == "https"}
	var sc router.Scratch
	ds := d.table.MatchDS(&req, &sc)
	if ds == nil {
		notFoundEmpty(ctx)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]string{"id": ds.ID})
}

// apiCertificates is a Signpost addition: the certificate state of every
// sslEnabled delivery service (why one falls back to http://).
func apiCertificates(ctx *fasthttp.RequestCtx, d *tableData) {
	out := d.tls
	if out == nil {
		out = []TLSStatus{}
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"certificates": out})
}

// apiZoneCaches answers the DNS zone cache statistics. Signpost assembles
// DNS answers per query instead of caching zones, so every counter is 0.
func apiZoneCaches(which string) func(*fasthttp.RequestCtx, *tableData) {
	return func(ctx *fasthttp.RequestCtx, _ *tableData) {
		switch which {
		case "":
			writeJSON(ctx, fasthttp.StatusOK, map[string]zoneCacheStats{"dynamicZoneCaches": {}, "staticZoneCaches": {}})
		default:
			writeJSON(ctx, fasthttp.StatusOK, zoneCacheStats{})
		}
	}
}

// ipAndDS reads the ip and deliveryServiceId parameters; unknown delivery
// services and bad addresses answer 404 (empty) and 400.
func ipAndDS(ctx *fasthttp.RequestCtx, d *tableData) (netip.Addr, *router.DeliveryService, bool) {
	ipText, ok := param(ctx, "ip")
	if !ok {
		return netip.Addr{}, nil, false
	}
	dsID, ok := param(ctx, "deliveryServiceId")
	if !ok {
		return netip.Addr{}, nil, false
	}
	ip, err := netip.ParseAddr(ipText)
	if err != nil {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		return netip.Addr{}, nil, false
	}
	ds, found := d.table.DeliveryService(dsID)
	if !found {
		notFoundEmpty(ctx)
		return netip.Addr{}, nil, false
	}
	return ip.Unmap(), ds, true
}
