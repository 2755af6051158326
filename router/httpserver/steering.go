package httpserver

import (
	"bytes"
	"net/netip"

	"github.com/valyala/fasthttp"

	"github.com/signpost-cdn/signpost/router"
)

// steeringWork is the per-request memory of steering answers (part of
// work, pooled with it).
type steeringWork struct {
	ms    router.MultiSelection
	urls  []byte   // every location URL, back to back
	spans [][]byte // the URLs, slices of urls (rurls)
	svcs  []string // entry|target1|target2... (svc)
}

var (
	jsonLocationsSep = []byte(`","`)
	jsonLocationsNil = []byte("{\"locations\":[]}\n")
)

// steer resolves a steering delivery service matched by RouteHTTP (spec
// 8): STEERING routes sel to the target (the caller continues with it);
// CLIENT_STEERING answers with several locations (multi is true and o is
// the outcome).
func (s *Server) steer(ctx *fasthttp.RequestCtx, d *tableData, w *work, secure bool, client netip.Addr,
	rawPath, rawQuery []byte, hasQuery bool) (o outcome, multi bool) {
	t := d.table
	entry := w.sel.DS
	option := ctx.Request.Header.Peek(router.SteeringOptionHeader)
	multi, err := t.RouteSteering(entry, &w.req, option, &w.sc, &w.st.ms, &w.sel)
	if err != nil {
		// A malformed escape in a consistent-hash query parameter.
		return outcome{status: fasthttp.StatusBadRequest, rtype: w.sel.Type, detail: w.sel.Detail}, true
	}
	if !multi {
		return outcome{}, false
	}
	return s.decideMulti(d, w, entry, secure, client, rawPath, rawQuery, hasQuery), true
}

// decideMulti builds the CLIENT_STEERING answer: every location in
// w.st.urls, the first also in w.loc.
func (s *Server) decideMulti(d *tableData, w *work, entry *router.DeliveryService, secure bool, client netip.Addr,
	rawPath, rawQuery []byte, hasQuery bool) outcome {
	ms := &w.st.ms
	sel := &w.sel
	sel.DS = entry
	sel.HasCoordinates, sel.Lat, sel.Lon = ms.HasCoordinates, ms.Lat, ms.Lon
	o := outcome{rtype: ms.Type, detail: ms.Detail, status: fasthttp.StatusServiceUnavailable, multi: true}
	st := &w.st
	st.urls, st.spans = st.urls[:0], st.spans[:0]
	st.svcs = append(st.svcs[:0], entry.ID)
	if len(ms.Results) == 0 && !ms.Bypass {
		return o
	}
	if entry.RegionalGeoBlocking {
		// Regional geo-blocking of the entry, without a cache (spec 4.11):
		// an alternate with cache cannot be honoured and is a denial; a
		// denial is enforced (quirk 10 fixed).
		loc, found := d.table.Geolocate(client, sel)
		postal, hasPostal, lat, lon := router.RegionalGeoClient(loc, found)
		res := router.EnforceRegionalGeo(d.regional, entry.ID, w.url, client, postal, hasPostal, lat, lon)
		o.rgb = rgbOf(&res)
		switch res.Outcome {
		case router.RegionalGeoAlternateWithoutCache:
			o.rtype, o.detail = router.ResultRGAlt, router.DetailRegionalGeoAlternateWithoutCache
			w.loc = append(w.loc[:0], res.URL...)
			st.addURL(w.loc)
			o.status, o.hasURL, o.dsHeaders = fasthttp.StatusFound, true, true
			return o
		case router.RegionalGeoAllowed:
		default:
			res.Outcome = router.RegionalGeoDenied
			o.rgb = rgbOf(&res)
			o.rtype, o.detail, o.status = router.ResultRGDeny, router.DetailRegionalGeoNoRule, statusRegionalDenied
			return o
		}
	}
	if ms.Bypass {
		w.loc = appendBypassURL(w.loc[:0], entry, secure, d.sslReady[entry.Index], rawPath,
			queryPart{raw: rawQuery, present: hasQuery && entry.AppendQueryString, strip: d.strip})
		st.addURL(w.loc)
		o.status, o.hasURL = fasthttp.StatusFound, true
		o.dsHeaders = true
		return o
	}
	for i := range ms.Results {
		r := &ms.Results[i]
		q := queryPart{raw: rawQuery, present: hasQuery && r.Target.AppendQueryString, strip: d.strip}
		w.loc = appendCacheOrigin(w.loc[:0], r.Target, r.Cache, secure, d.sslReady[r.Target.Index], w.host)
		w.loc = append(w.loc, rawPath...)
		w.loc = q.appendTo(w.loc)
		st.addURL(w.loc)
		st.svcs = append(st.svcs, r.Target.ID)
	}
	w.loc = append(w.loc[:0], st.spans[0]...)
	o.status, o.hasURL, o.dsHeaders = fasthttp.StatusFound, true, true
	return o
}

// addURL appends u to the location list.
func (st *steeringWork) addURL(u []byte) {
	off := len(st.urls)
	grown := cap(st.urls) < off+len(u)
	st.urls = append(st.urls, u...)
	if grown {
		// The backing array moved: re-point the earlier spans.
		pos := 0
		for k, sp := range st.spans {
			st.spans[k] = st.urls[pos : pos+len(sp) : pos+len(sp)]
			pos += len(sp)
		}
	}
	st.spans = append(st.spans, st.urls[off:len(st.urls):len(st.urls)])
}

// respondMulti writes a multi-location answer: 302 to the first location
// (200 with trred=false) and the body {"locations":[...]}.
func respondMulti(ctx *fasthttp.RequestCtx, w *work, o *outcome, rawQuery []byte) {
	st := &w.st
	w.body = append(w.body[:0], jsonLocationsPrefix...)
	for k, u := range st.spans {
		if k > 0 {
			w.body = append(w.body, jsonLocationsSep...)
		}
		w.body = appendJSONString(w.body, u)
	}
	w.body = append(w.body, jsonLocationsSuffix...)
	if len(st.spans) == 0 {
		w.body = append(w.body[:0], jsonLocationsNil...)
	}
	if v, ok := queryParam(rawQuery, paramTrred); ok && bytes.EqualFold(v, valFalse) {
		o.status = fasthttp.StatusOK
	} else {
		ctx.Response.Header.SetCanonical(strLocation, w.loc)
	}
	ctx.SetStatusCode(o.status)
	ctx.Response.Header.SetContentTypeBytes(contentTypeJSON)
	ctx.Response.SetBodyRaw(w.body)
	w.rec.RURL = w.loc
	w.rec.RURLs = st.spans
}
