package httpserver

import (
	"bytes"
	"net/netip"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/signpost-cdn/signpost/router"
	"github.com/signpost-cdn/signpost/router/accesslog"
)

// work is the per-request scratch memory of the routing handler, pooled.
// Everything in it is valid only while one request is handled.
type work struct {
	sc   router.Scratch
	sel  router.Selection
	req  router.Request
	host []byte // lower-case host without port
	path []byte // decoded path
	addr []byte // decoded client override
	loc  []byte // the produced URL
	url  []byte // requestedUrl: scheme://host[:port]/path
	body []byte // JSON body
	rec  accesslog.HTTPRecord
	svc  [1]string
	urls [1][]byte
	hdrs []accesslog.Header
	st   steeringWork
}

// outcome is what the handler decided for one request.
type outcome struct {
	status    int
	rtype     router.ResultType
	detail    router.ResultDetail
	hasURL    bool // w.loc holds the Location
	dsHeaders bool // add the delivery service's response headers
	multi     bool // a CLIENT_STEERING answer (w.st holds the locations)
	rgb       accesslog.RegionalGeo
}

var (
	strCrossdomain        = []byte("/crossdomain.xml")
	strClientAccessPolicy = []byte("/clientaccesspolicy.xml")
	strHTTPScheme         = []byte("http://")
	strHTTPSScheme        = []byte("https://")
	hdrClientIP           = "X-MM-Client-IP"
	paramFakeClientIP     = []byte("fakeClientIpAddress")
	paramTrred            = []byte("trred")
	paramFormat           = []byte("format")
	valFalse              = []byte("false")
	valJSON               = []byte("json")
	contentTypeJSON       = []byte("application/json")
	contentTypeXML        = []byte("text/xml")
	strLocation           = []byte("Location")
	jsonLocationPrefix    = []byte(`{"location": "`)
	jsonLocationSuffix    = []byte("\" }\n")
	jsonLocationsPrefix   = []byte(`{"locations":["`)
	jsonLocationsSuffix   = []byte("\"]}\n")
	strProtoHTTP11        = []byte("HTTP/1.1")
	strProtoHTTP10        = []byte("HTTP/1.0")
)

// serveRouting is the handler of the routing ports (spec 7).
func (s *Server) serveRouting(ctx *fasthttp.RequestCtx) {
	// fasthttp reads the clock when the request arrives; reuse it (a
	// RequestCtx not served by a fasthttp.Server has no time).
	start := ctx.Time()
	if start.IsZero() {
		start = time.Now()
	}
	d := s.data.Load()
	if d == nil {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		s.m.status(fasthttp.StatusServiceUnavailable)
		return
	}
	w := s.pool.Get().(*work)
	s.route(ctx, d, w, start)
	s.pool.Put(w)
}

// route handles one routing request with the table data d.
func (s *Server) route(ctx *fasthttp.RequestCtx, d *tableData, w *work, start time.Time) {
	secure := ctx.IsTLS()
	target := ctx.Request.Header.RequestURI()
	rawPath, rawQuery, hasQuery := splitTarget(target)
	peer := peerAddr(ctx)
	override := peekHeader(&ctx.Request.Header, hdrClientIP)
	if len(override) == 0 {
		override = nil
		if v, ok := queryParamFold(rawQuery, paramFakeClientIP); ok {
			override = v
		}
	}
	client := peer
	if override != nil {
		if a, ok := parseAddrBytes(w, override); ok {
			client = a
		}
	}
	rec := &w.rec
	*rec = accesslog.HTTPRecord{
		Start:          start,
		Remote:         peer,
		ClientOverride: override,
		Query:          rawQuery,
		Method:         ctx.Method(),
		Proto:          protoOf(ctx),
		UserAgent:      nilIfEmpty(ctx.Request.Header.UserAgent()),
		Result:         accesslog.ResultError,
	}
	host, port, ok := parseHost(w.host[:0], ctx.Request.Header.Host())
	w.host = host
	var o outcome
	switch {
	case !ok || len(rawPath) == 0 || rawPath[0] != '/':
		o.status = fasthttp.StatusBadRequest
	case bytes.Equal(rawPath, strCrossdomain) || bytes.Equal(rawPath, strClientAccessPolicy):
		w.url = appendRequestedURL(w.url[:0], secure, host, port, rawPath)
		rec.URL = w.url
		s.serveStatic(ctx, rawPath, rec, start)
		return
	default:
		w.url = appendRequestedURL(w.url[:0], secure, host, port, rawPath)
		rec.URL = w.url
		var err error
		w.path, err = router.AppendDecodedPath(w.path[:0], rawPath)
		if err != nil {
			o.status = fasthttp.StatusBadRequest
			break
		}
		o = s.decide(ctx, d, w, secure, client, rawPath, rawQuery, hasQuery)
	}
	s.respond(ctx, d, w, &o, rawQuery)
	s.finish(ctx, d, w, &o, start)
}

// decide routes the request and fills w.loc with the URL, if any.
func (s *Server) decide(ctx *fasthttp.RequestCtx, d *tableData, w *work, secure bool, client netip.Addr,
	rawPath, rawQuery []byte, hasQuery bool) outcome {
	t := d.table
	w.req = router.Request{
		Host: w.host, Path: w.path, RawQuery: rawQuery, Headers: &ctx.Request.Header,
		Client: client, HTTP: true, Secure: secure,
	}
	sel := &w.sel
	matched := t.MatchDS(&w.req, &w.sc)
	if matched != nil && t.SteeringEntry(matched) != nil {
		sel.DS = matched
		if o, multi := s.steer(ctx, d, w, secure, client, rawPath, rawQuery, hasQuery); multi {
			return o
		}
	} else if err := t.RouteMatched(matched, &w.req, &w.sc, sel); err != nil {
		// A malformed escape in a consistent-hash query parameter (TR: 500).
		return outcome{status: fasthttp.StatusBadRequest, rtype: sel.Type, detail: sel.Detail}
	}
	o := outcome{rtype: sel.Type, detail: sel.Detail, status: fasthttp.StatusServiceUnavailable}
	ds := sel.DS
	if ds == nil || sel.Detail == router.DetailDSTLSMismatch {
		return o
	}
	ready := d.sslReady[ds.Index]
	q := queryPart{raw: rawQuery, present: hasQuery && ds.AppendQueryString, strip: d.strip}
	switch {
	case sel.Bypass:
		w.loc = appendBypassURL(w.loc[:0], ds, secure, ready, rawPath, q)
		o.status, o.hasURL = fasthttp.StatusFound, true
		o.dsHeaders = t.Health().DSAvailable(ds.Index)
		return o
	case sel.GeoRedirect:
		w.loc = append(w.loc[:0], ds.GeoLimitRedirectURL...)
		o.status, o.hasURL, o.dsHeaders = fasthttp.StatusFound, true, true
		return o
	case len(sel.Caches) == 0:
		return o
	}
	cache := &t.Caches()[sel.Caches[0]]
	if ds.AnonymousBlockingEnabled && d.anon.Blocked(client) {
		o.rtype, o.detail = router.ResultAnonBlock, router.DetailNone
		if u := d.anon.RedirectURL(); u != "" {
			w.loc = append(w.loc[:0], u...)
			o.status, o.hasURL = fasthttp.StatusFound, true
			return o
		}
		o.status = fasthttp.StatusForbidden
		return o
	}
	if ds.RegionalGeoBlocking {
		loc, found := t.Geolocate(client, sel)
		postal, hasPostal, lat, lon := router.RegionalGeoClient(loc, found)
		res := router.EnforceRegionalGeo(d.regional, ds.ID, w.url, client, postal, hasPostal, lat, lon)
		o.rgb = rgbOf(&res)
		switch res.Outcome {
		case router.RegionalGeoDenied:
			o.rtype, o.detail, o.status = router.ResultRGDeny, router.DetailRegionalGeoNoRule, statusRegionalDenied
			return o
		case router.RegionalGeoAlternateWithoutCache:
			o.rtype, o.detail = router.ResultRGAlt, router.DetailRegionalGeoAlternateWithoutCache
			w.loc = append(w.loc[:0], res.URL...)
			o.status, o.hasURL, o.dsHeaders = fasthttp.StatusFound, true, true
			return o
		case router.RegionalGeoAlternateWithCache:
			o.rtype, o.detail = router.ResultRGAlt, router.DetailRegionalGeoAlternateWithCache
			w.loc = appendCacheOrigin(w.loc[:0], ds, cache, secure, ready, w.host)
			w.loc = append(w.loc, res.URL...)
			o.status, o.hasURL, o.dsHeaders = fasthttp.StatusFound, true, true
			return o
		}
	}
	w.loc = appendCacheOrigin(w.loc[:0], ds, cache, secure, ready, w.host)
	w.loc = append(w.loc, rawPath...)
	w.loc = q.appendTo(w.loc)
	o.status, o.hasURL, o.dsHeaders = fasthttp.StatusFound, true, true
	return o
}

// statusRegionalDenied is Traffic Router's status for regional geo denial.
const statusRegionalDenied = 520

// respond writes the response of o.
func (s *Server) respond(ctx *fasthttp.RequestCtx, d *tableData, w *work, o *outcome, rawQuery []byte) {
	resp := &ctx.Response
	if o.dsHeaders && w.sel.DS != nil {
		for _, h := range w.sel.DS.ResponseHeaders {
			resp.Header.Set(h.Name, h.Value)
		}
	}
	if !o.hasURL {
		ctx.SetStatusCode(o.status)
		return
	}
	if o.multi {
		respondMulti(ctx, w, o, rawQuery)
		return
	}
	if v, ok := queryParam(rawQuery, paramTrred); ok && bytes.EqualFold(v, valFalse) {
		w.body = appendJSONString(append(w.body[:0], jsonLocationsPrefix...), w.loc)
		w.body = append(w.body, jsonLocationsSuffix...)
		w.urls[0] = w.loc
		w.rec.RURLs = w.urls[:1]
		o.status = fasthttp.StatusOK
	} else if v, ok := queryParam(rawQuery, paramFormat); ok && bytes.Equal(v, valJSON) {
		w.body = appendJSONString(append(w.body[:0], jsonLocationPrefix...), w.loc)
		w.body = append(w.body, jsonLocationSuffix...)
		o.status = fasthttp.StatusOK
	}
	ctx.SetStatusCode(o.status)
	if o.status == fasthttp.StatusOK {
		resp.Header.SetContentTypeBytes(contentTypeJSON)
		resp.SetBodyRaw(w.body)
	} else {
		resp.Header.SetCanonical(strLocation, w.loc)
	}
	w.rec.RURL = w.loc
}

// finish records metrics, tallies and the access log line.
func (s *Server) finish(ctx *fasthttp.RequestCtx, d *tableData, w *work, o *outcome, start time.Time) {
	rec := &w.rec
	sel := &w.sel
	rec.Status = o.status
	rec.Result = accesslog.ResultType(o.rtype) + 1
	rec.Details = accesslog.DetailsNone
	if o.detail != router.DetailNone {
		rec.Details = accesslog.ResultDetails(o.detail) + 1
	}
	rec.RGB = o.rgb
	if sel.HasCoordinates && o.status != fasthttp.StatusBadRequest {
		rec.HasLocation, rec.Lat, rec.Lon = true, sel.Lat, sel.Lon
	}
	logging := s.cfg.AccessLog != nil
	w.hdrs = w.hdrs[:0]
	if ds := sel.DS; ds != nil && o.status != fasthttp.StatusBadRequest {
		w.svc[0] = ds.ID
		rec.Services = w.svc[:1]
		if logging {
			for _, name := range d.logHeaders[ds.Index] {
				if v := peekHeader(&ctx.Request.Header, name); len(v) > 0 {
					w.hdrs = append(w.hdrs, accesslog.Header{Name: name, Value: v})
				}
			}
		}
		d.tallies[ds.Index].count(o.rtype)
		if o.multi && len(w.st.svcs) > 0 {
			rec.Services = w.st.svcs
		}
	}
	rec.Headers = w.hdrs
	// Without an access log one request in latencySampleEvery of each
	// connection is timed (as on the DNS port), from its first; every
	// counter still counts every request. A RequestCtx not served by a
	// fasthttp.Server (number 0) is always timed.
	if n := ctx.ConnRequestNum(); !logging && n%latencySampleEvery != 1 && n != 0 {
		s.tallies.count(o.rtype)
		s.m.count(o.status, o.rtype)
		return
	}
	elapsed := time.Since(start)
	rec.Elapsed = elapsed
	s.tallies.add(o.rtype, elapsed)
	s.m.observe(o.status, o.rtype, elapsed)
	if logging {
		s.cfg.AccessLog.LogHTTP(rec)
	}
}

// latencySampleEvery is how often (one request in N) a routing request is
// timed for the latency histogram and /crs/stats' average when there is no
// access log.
const latencySampleEvery = 16

// serveStatic answers /crossdomain.xml and /clientaccesspolicy.xml.
func (s *Server) serveStatic(ctx *fasthttp.RequestCtx, path []byte, rec *accesslog.HTTPRecord, start time.Time) {
	body := crossdomainXML
	if bytes.Equal(path, strClientAccessPolicy) {
		body = clientAccessPolicyXML
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentTypeBytes(contentTypeXML)
	ctx.Response.SetBodyRaw(body)
	rec.Result = accesslog.ResultNone
	rec.Status = fasthttp.StatusOK
	rec.Elapsed = time.Since(start)
	s.m.observe(fasthttp.StatusOK, router.ResultStaticRoute, rec.Elapsed)
	if s.cfg.AccessLog != nil {
		s.cfg.AccessLog.LogHTTP(rec)
	}
}

var crossdomainXML = []byte(`<?xml version="1.0"?>
<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd">
<cross-domain-policy>
    <allow-access-from domain="*" />
</cross-domain-policy>
`)

var clientAccessPolicyXML = []byte(`<?xml version="1.0" encoding="utf-8"?>
<access-policy>
  <cross-domain-access>
    <policy>
      <allow-from http-request-headers="*">
        <domain uri="*"/>
      </allow-from>
      <grant-to>
        <resource path="/" include-subpaths="true"/>
      </grant-to>
    </policy>
  </cross-domain-access>
</access-policy>
`)

func rgbOf(r *router.RegionalGeoResult) accesslog.RegionalGeo {
	g := accesslog.RegionalGeo{Set: true, HasPostal: r.HasPostal, Postal: r.Postal,
		Fallback: r.Fallback, Whitelisted: r.Whitelisted}
	switch r.Outcome {
	case router.RegionalGeoAllowed:
		g.Outcome = accesslog.RegionalGeoAllowed
	case router.RegionalGeoAlternateWithCache:
		g.Outcome = accesslog.RegionalGeoAlternateWithCache
	case router.RegionalGeoAlternateWithoutCache:
		g.Outcome = accesslog.RegionalGeoAlternateWithoutCache
	default:
		g.Outcome = accesslog.RegionalGeoDenied
	}
	switch r.Mode {
	case 1:
		g.Rule = accesslog.RegionalGeoRuleInclude
	case 2:
		g.Rule = accesslog.RegionalGeoRuleExclude
	}
	return g
}

// peerAddr returns the TCP peer address (unmapped), as decoded once per
// connection by the routing listener.
func peerAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	if c, ok := ctx.Conn().(interface{ peerAddr() netip.Addr }); ok {
		if a := c.peerAddr(); a.IsValid() {
			return a
		}
	}
	a, _ := netip.AddrFromSlice(ctx.RemoteIP())
	return a.Unmap()
}

func protoOf(ctx *fasthttp.RequestCtx) []byte {
	if ctx.Request.Header.IsHTTP11() {
		return strProtoHTTP11
	}
	return strProtoHTTP10
}

// peekHeader returns the value of the request header key (any letter
// case), like RequestHeader.Peek but without copying and normalizing the
// key into the header's scratch buffer on every call, which cost more than
// the scan itself (a request has a handful of headers).
func peekHeader(h *fasthttp.RequestHeader, key string) []byte {
	for k, v := range h.All() {
		if len(k) == len(key) && equalFoldASCII(k, key) {
			return v
		}
	}
	return nil
}

// equalFoldASCII reports whether b and s are equal under ASCII case
// folding; len(b) == len(s).
func equalFoldASCII(b []byte, s string) bool {
	for i := 0; i < len(b); i++ {
		c, d := b[i], s[i]
		if c == d {
			continue
		}
		if c|0x20 != d|0x20 || c|0x20 < 'a' || c|0x20 > 'z' {
			return false
		}
	}
	return true
}

// parseIPv4Fast parses a dotted-quad IPv4 address ("12.34.0.1"): four
// decimal fields of 1 to 3 digits, no leading zeros (netip.ParseAddr
// rejects them), each at most 255. Anything else is left to
// netip.ParseAddr (ok false).
func parseIPv4Fast(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	field, i := 0, 0
	for ; field < 4; field++ {
		start, v := i, 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 3 {
			v = v*10 + int(b[i]-'0')
			i++
		}
		n := i - start
		if n == 0 || v > 255 || n > 1 && b[start] == '0' {
			return netip.Addr{}, false
		}
		ip[field] = byte(v)
		if field < 3 {
			if i >= len(b) || b[i] != '.' {
				return netip.Addr{}, false
			}
			i++
		}
	}
	if i != len(b) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// parseAddrBytes parses a client address override (percent-decoded into
// w.addr first when it holds escapes) without allocating: IPv4 or IPv6,
// optionally bracketed, text after '/' ignored, no zones.
func parseAddrBytes(w *work, b []byte) (netip.Addr, bool) {
	if bytes.IndexByte(b, '%') >= 0 {
		var err error
		if w.addr, err = router.AppendFormDecoded(w.addr[:0], b); err != nil {
			return netip.Addr{}, false
		}
		b = w.addr
	}
	if i := bytes.IndexByte(b, '/'); i >= 0 {
		b = b[:i]
	}
	if len(b) > 2 && b[0] == '[' && b[len(b)-1] == ']' {
		b = b[1 : len(b)-1]
	}
	if len(b) == 0 || len(b) > 64 {
		return netip.Addr{}, false
	}
	if a, ok := parseIPv4Fast(b); ok {
		return a, true
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':') {
			return netip.Addr{}, false
		}
	}
	// The string does not outlive the call: netip keeps no reference to
	// its input (zones, the only retained part, were excluded above).
	a, err := netip.ParseAddr(unsafe.String(&b[0], len(b)))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
