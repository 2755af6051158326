package router

import (
	"net/netip"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/geo"
)

// RegionalGeoOutcome is the result type of regional geo-blocking (spec
// 4.11).
type RegionalGeoOutcome uint8

// Regional geo-blocking outcomes.
const (
	// RegionalGeoAllowed: route normally.
	RegionalGeoAllowed RegionalGeoOutcome = iota
	// RegionalGeoAlternateWithCache: redirect to URL, a path, on the cache.
	RegionalGeoAlternateWithCache
	// RegionalGeoAlternateWithoutCache: redirect to URL verbatim.
	RegionalGeoAlternateWithoutCache
	// RegionalGeoDenied: answer 520.
	RegionalGeoDenied
)

// RegionalGeoResult is the outcome of EnforceRegionalGeo and what the
// access log's rgb field shows.
type RegionalGeoResult struct {
	Outcome RegionalGeoOutcome
	// URL is the alternate: an absolute URL (without cache) or a path
	// starting with "/" (with cache); "" otherwise.
	URL string
	// Mode is the postal mode of the matching rule (0 when none matched).
	Mode control.PostalMode
	// Postal is the postal code used (HasPostal false: none, logged "-").
	Postal    string
	HasPostal bool
	// Whitelisted is true when the rule's IP whitelist allowed the client.
	Whitelisted bool
	// Fallback is true when no rules were ever loaded.
	Fallback bool
}

// RegionalGeoClient derives the inputs of EnforceRegionalGeo from the
// client's MaxMind answer as Traffic Router does: the postal code cut to
// its first 3 characters (the Canadian FSA), and the coordinates only when
// the postal code has at most 3 characters. An empty postal code counts as
// none.
func RegionalGeoClient(loc geo.Location, found bool) (postal string, hasPostal bool, lat, lon float64) {
	if !found {
		return "", false, 0, 0
	}
	postal = loc.PostalCode
	if len(postal) > 3 {
		return postal[:3], true, 0, 0
	}
	return postal, postal != "", loc.Latitude, loc.Longitude
}

// EnforceRegionalGeo applies the rules of delivery service dsID to a
// request (spec 4.11). url is scheme://host[:port]/path without the query.
// The first rule whose urlRegex matches decides: a whitelisted client is
// allowed; a client without postal code is allowed inside a coordinate
// range; otherwise the include or exclude list decides. A disallowed client
// gets the rule's alternate; no matching rule (or no rules at all) denies.
// It does not allocate.
func EnforceRegionalGeo(rg *control.RegionalGeoblock, dsID string, url []byte, client netip.Addr,
	postal string, hasPostal bool, lat, lon float64) RegionalGeoResult {
	res := RegionalGeoResult{Postal: postal, HasPostal: hasPostal, Fallback: rg == nil}
	var rule *control.RegionalGeoRule
	for _, i := range rg.RulesFor(dsID) {
		if r := &rg.Rules[i]; r.URLPattern != nil && r.URLPattern.Match(url) {
			rule = r
			break
		}
	}
	if rule == nil {
		res.Outcome = RegionalGeoDenied
		return res
	}
	res.Mode = rule.Mode
	allowed := false
	client = client.Unmap()
	for _, p := range rule.IPWhitelist {
		if p.Contains(client) {
			allowed, res.Whitelisted = true, true
			break
		}
	}
	if !allowed {
		if !hasPostal || postal == "" {
			for _, c := range rule.CoordinateRanges {
				if c.Contains(lat, lon) {
					allowed = true
					break
				}
			}
		} else {
			listed := false
			for _, p := range rule.Postals {
				if p == postal {
					listed = true
					break
				}
			}
			allowed = listed == (rule.Mode == control.PostalInclude)
		}
	}
	switch {
	case allowed:
		res.Outcome = RegionalGeoAllowed
	case rule.RedirectAbsolute:
		res.Outcome, res.URL = RegionalGeoAlternateWithoutCache, rule.RedirectURL
	default:
		res.Outcome, res.URL = RegionalGeoAlternateWithCache, rule.RedirectPath
	}
	return res
}
