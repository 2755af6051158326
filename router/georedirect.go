package router

import (
	"net/url"
	"strings"
)

// classifyGeoRedirect types a delivery service's geoLimitRedirectURL at
// build time (spec 4.6): relative URLs and absolute URLs that route to the
// same service are DS_URL, other absolute URLs NOT_DS_URL, malformed ones
// INVALID_URL.
func (t *Table) classifyGeoRedirect(ds *DeliveryService) geoRedirectType {
	raw := ds.GeoLimitRedirectURL
	if raw == "" {
		return geoRedirectNone
	}
	if !strings.Contains(raw, "://") {
		return geoRedirectDSURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return geoRedirectInvalid
	}
	var sc Scratch
	req := Request{Host: []byte(strings.ToLower(u.Hostname())), Path: []byte(u.EscapedPath()), RawQuery: []byte(u.RawQuery), HTTP: true}
	if len(req.Path) == 0 {
		req.Path = []byte("/")
	}
	if other := t.MatchDS(&req, &sc); other != nil && other.Index == ds.Index {
		return geoRedirectDSURL
	}
	return geoRedirectNotDSURL
}
