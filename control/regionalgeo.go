package control

import (
	"net/netip"
	"regexp"
	"strings"
)

// RegionalGeoblock is the regional geo-blocking rule set
// (regional-geoblock.json, spec §4.11). Immutable once returned.
type RegionalGeoblock struct {
	// Rules in document order.
	Rules    []RegionalGeoRule
	Warnings []Problem

	byDS map[string][]int
}

// PostalMode says how a regional geo rule uses its postal code list.
type PostalMode uint8

// Postal modes: an include list allows only the listed codes, an exclude
// list allows every code but the listed ones.
const (
	PostalInclude PostalMode = iota + 1
	PostalExclude
)

// RegionalGeoRule is one deliveryServices element.
type RegionalGeoRule struct {
	DeliveryService string
	// URLRegex as sent; URLPattern its case-insensitive full-match
	// compilation, matched against scheme://host[:port]/path.
	URLRegex   string
	URLPattern *regexp.Regexp
	// RedirectURL is redirectUrl as sent. Absolute (http:// or https://)
	// redirects are used verbatim; relative ones become a path on the
	// chosen cache, RedirectPath ("/" prepended when missing).
	RedirectURL      string
	RedirectAbsolute bool
	RedirectPath     string
	IsSteeringDS     bool
	// Mode and Postals: includePostalCode wins when both lists are
	// present (as in Traffic Router).
	Mode    PostalMode
	Postals []string
	// CoordinateRanges allow clients without a postal code.
	CoordinateRanges []CoordinateRange
	// IPWhitelist is ipWhiteList, masked prefixes of both families.
	IPWhitelist []netip.Prefix
}

// CoordinateRange is one inclusive latitude/longitude box.
type CoordinateRange struct {
	MinLat, MaxLat, MinLon, MaxLon float64
}

// Contains reports whether (lat, lon) is inside the box, bounds included.
func (c CoordinateRange) Contains(lat, lon float64) bool {
	return lat >= c.MinLat && lat <= c.MaxLat && lon >= c.MinLon && lon <= c.MaxLon
}

// RulesFor returns the rules of a delivery service in document order.
func (r *RegionalGeoblock) RulesFor(xmlID string) []int {
	if r == nil {
		return nil
	}
	return r.byDS[xmlID]
}

// ParseRegionalGeoblock decodes and validates a regional geo-blocking
// document. Like Traffic Router it rejects the whole document when a rule
// lacks its id, urlRegex or redirectUrl, has no postal code list, redirects
// (absolutely) to a URL its own regex matches, or is a steering rule with a
// relative redirect; invalid coordinate ranges are dropped with a warning.
func ParseRegionalGeoblock(name string, data []byte) (*RegionalGeoblock, error) {
	p, root, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	if !p.object(root, "", true) {
		return nil, p.result()
	}
	rg := &RegionalGeoblock{byDS: map[string][]int{}}
	list := root.get("deliveryServices")
	switch {
	case list.isNull():
		p.error("deliveryServices", "", "required array is missing")
	case list.kind != kindArray:
		p.error("deliveryServices", list.text(), "expected an array, got "+list.kind.String())
	default:
		for i, e := range list.vals {
			ep := index("deliveryServices", i)
			if !p.object(e, ep, true) {
				continue
			}
			if r, ok := parseRegionalRule(p, e, ep); ok {
				rg.byDS[r.DeliveryService] = append(rg.byDS[r.DeliveryService], len(rg.Rules))
				rg.Rules = append(rg.Rules, r)
			}
		}
	}
	if err := p.result(); err != nil {
		return nil, err
	}
	rg.Warnings = p.warnings()
	return rg, nil
}

func parseRegionalRule(p *problems, e *node, ep string) (RegionalGeoRule, bool) {
	before := p.errs
	r := RegionalGeoRule{
		DeliveryService: requiredString(p, e, ep, "deliveryServiceId"),
		URLRegex:        requiredString(p, e, ep, "urlRegex"),
		RedirectURL:     requiredString(p, e, ep, "redirectUrl"),
		IsSteeringDS:    p.boolean(e.get("isSteeringDS"), field(ep, "isSteeringDS"), false),
	}
	if r.URLRegex != "" {
		rx, msg := compileRegex(r.URLRegex, true, true)
		if rx == nil {
			p.error(field(ep, "urlRegex"), r.URLRegex, "delivery service "+q(r.DeliveryService)+": urlRegex "+q(r.URLRegex)+" "+msg)
		}
		r.URLPattern = rx
	}
	if r.RedirectURL != "" {
		l := strings.ToLower(r.RedirectURL)
		r.RedirectAbsolute = strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
		switch {
		case r.RedirectAbsolute && r.URLPattern != nil && r.URLPattern.MatchString(r.RedirectURL):
			p.error(field(ep, "redirectUrl"), r.RedirectURL, "delivery service "+q(r.DeliveryService)+": redirect URL "+q(r.RedirectURL)+" matches the rule's own urlRegex (redirect loop)")
		case !r.RedirectAbsolute && r.IsSteeringDS:
			p.error(field(ep, "redirectUrl"), r.RedirectURL, "delivery service "+q(r.DeliveryService)+": a steering rule needs an absolute http:// or https:// redirect URL")
		case !r.RedirectAbsolute:
			r.RedirectPath = r.RedirectURL
			if !strings.HasPrefix(r.RedirectPath, "/") {
				r.RedirectPath = "/" + r.RedirectPath
			}
		}
	}
	gp := field(ep, "geoLocation")
	if g := e.get("geoLocation"); p.object(g, gp, true) {
		inc, exc := g.get("includePostalCode"), g.get("excludePostalCode")
		switch {
		case !inc.isNull():
			r.Mode, r.Postals = PostalInclude, postalList(p, inc, field(gp, "includePostalCode"))
		case !exc.isNull():
			r.Mode, r.Postals = PostalExclude, postalList(p, exc, field(gp, "excludePostalCode"))
		default:
			p.error(gp, "", "delivery service "+q(r.DeliveryService)+": needs includePostalCode or excludePostalCode")
		}
		if cr := g.get("coordinateRange"); !cr.isNull() {
			crp := field(gp, "coordinateRange")
			if cr.kind != kindArray {
				p.warn(crp, cr.text(), "expected an array of ranges, got "+cr.kind.String()+"; ignored")
			} else {
				for j, c := range cr.vals {
					if rng, ok := coordinateRange(p, c, index(crp, j)); ok {
						r.CoordinateRanges = append(r.CoordinateRanges, rng)
					}
				}
			}
		}
	}
	if wl := e.get("ipWhiteList"); !wl.isNull() {
		wp := field(ep, "ipWhiteList")
		if wl.kind != kindArray {
			p.error(wp, wl.text(), "expected an array of CIDR strings, got "+wl.kind.String())
		} else {
			for j, c := range wl.vals {
				jp := index(wp, j)
				if c.kind != kindString {
					p.error(jp, c.text(), "expected a CIDR string, got "+c.kind.String())
					continue
				}
				pfx, msg := parseCIDR(c.s, strings.Contains(c.s, ":"))
				if msg != "" {
					p.error(jp, c.s, "invalid CIDR "+q(c.s)+": "+msg)
					continue
				}
				r.IPWhitelist = append(r.IPWhitelist, pfx)
			}
		}
	}
	return r, p.errs == before
}

func postalList(p *problems, n *node, path string) []string {
	if n.kind != kindArray {
		p.error(path, n.text(), "expected an array of postal codes, got "+n.kind.String())
		return nil
	}
	return p.strList(n, path)
}

// coordinateRange decodes one range; an invalid one is dropped with a
// warning, as Traffic Router drops it.
func coordinateRange(p *problems, n *node, path string) (CoordinateRange, bool) {
	if n.kind != kindObject {
		p.warn(path, n.text(), "expected an object, got "+n.kind.String()+"; range dropped")
		return CoordinateRange{}, false
	}
	var v [4]float64
	for k, name := range [4]string{"minLat", "maxLat", "minLon", "maxLon"} {
		f, ok := coerceFloat(n.get(name))
		if !ok {
			p.warn(field(path, name), n.get(name).text(), "missing or not a number; range dropped")
			return CoordinateRange{}, false
		}
		v[k] = f
	}
	c := CoordinateRange{MinLat: v[0], MaxLat: v[1], MinLon: v[2], MaxLon: v[3]}
	if c.MinLat < -90 || c.MaxLat > 90 || c.MinLon < -180 || c.MaxLon > 180 || c.MinLat > c.MaxLat || c.MinLon > c.MaxLon {
		p.warn(path, "", "invalid coordinate range; range dropped")
		return CoordinateRange{}, false
	}
	return c, true
}
