package httpserver

import (
	"github.com/valyala/fasthttp"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/router"
)

// steeringJSON is one steering object of /crs/steering.
type steeringJSON struct {
	DeliveryService string               `json:"deliveryService"`
	ClientSteering  bool                 `json:"clientSteering"`
	Targets         []steeringTargetJSON `json:"targets"`
	Filters         []steeringFilterJSON `json:"filters"`
}

type steeringTargetJSON struct {
	DeliveryService string  `json:"deliveryService"`
	Weight          int64   `json:"weight"`
	Order           int64   `json:"order"`
	GeoOrder        int64   `json:"geoOrder"`
	Latitude        float64 `json:"latitude"`
	Longitude       float64 `json:"longitude"`
}

type steeringFilterJSON struct {
	Pattern         string `json:"pattern"`
	DeliveryService string `json:"deliveryService"`
}

// apiSteering answers the steering registry as decoded from steering.json
// (every entry, also those the snapshot does not know).
func apiSteering(ctx *fasthttp.RequestCtx, d *tableData) {
	out := []steeringJSON{}
	if st := d.table.Steering().Steering; st != nil {
		for i := range st.Entries {
			out = append(out, newSteeringJSON(&st.Entries[i]))
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func newSteeringJSON(e *control.SteeringEntry) steeringJSON {
	j := steeringJSON{DeliveryService: e.DeliveryService, ClientSteering: e.ClientSteering,
		Targets: make([]steeringTargetJSON, 0, len(e.Targets)), Filters: make([]steeringFilterJSON, 0, len(e.Filters))}
	for _, t := range e.Targets {
		j.Targets = append(j.Targets, steeringTargetJSON{t.DeliveryService, t.Weight, t.Order, t.GeoOrder, t.Latitude, t.Longitude})
	}
	for _, f := range e.Filters {
		j.Filters = append(j.Filters, steeringFilterJSON{f.Pattern, f.DeliveryService})
	}
	return j
}

// steeredDS resolves the delivery service a request for path (which may
// carry "?query") to ds goes to: the steering target for a STEERING
// service (no X-TC-Steering-Option), ds itself otherwise. nil when
// steering finds no target.
func steeredDS(d *tableData, ds *router.DeliveryService, path string) (*router.DeliveryService, error) {
	if d.table.SteeringEntry(ds) == nil {
		return ds, nil
	}
	p, q := path, ""
	for i := 0; i < len(path); i++ {
		if path[i] == '?' {
			p, q = path[:i], path[i+1:]
			break
		}
	}
	var sc router.Scratch
	req := router.Request{Path: []byte(p), RawQuery: []byte(q), HTTP: true}
	return d.table.SteeringTarget(ds, &req, nil, &sc)
}

// apiSteeredDS is /crs/consistenthash/deliveryservice: the delivery
// service a request path of a (steering) delivery service is routed to.
func apiSteeredDS(ctx *fasthttp.RequestCtx, d *tableData) {
	ds, path, ok := dsAndPath(ctx, d)
	if !ok {
		return
	}
	target, err := steeredDS(d, ds, path)
	if err != nil {
		writeJSON(ctx, fasthttp.StatusBadRequest, map[string]string{"Bad Input": err.Error()})
		return
	}
	if target == nil {
		notFoundObject(ctx)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, newDeliveryServiceJSON(d, target))
}

// apiSteeredCache is /crs/consistenthash/cache/coveragezone/steering: the
// steering target resolved, then its cache by coverage zone and consistent
// hash.
func apiSteeredCache(ctx *fasthttp.RequestCtx, d *tableData) {
	ip, ds, ok := ipAndDS(ctx, d)
	if !ok {
		return
	}
	path, ok := param(ctx, "requestPath")
	if !ok {
		return
	}
	target, err := steeredDS(d, ds, path)
	if err == nil && target != nil {
		var c *router.Cache
		if c, err = d.table.ConsistentHashCache(router.ByCoverageZone, ip, target, path); err == nil && c != nil {
			writeJSON(ctx, fasthttp.StatusOK, newCacheJSON(d, c))
			return
		}
	}
	if err != nil {
		writeJSON(ctx, fasthttp.StatusBadRequest, map[string]string{"Bad Input": err.Error()})
		return
	}
	notFoundObject(ctx)
}

// deliveryServiceJSON is Traffic Router's DeliveryService bean as the API
// serializes it (spec 10).
type deliveryServiceJSON struct {
	ID                        string            `json:"id"`
	CoverageZoneOnly          bool              `json:"coverageZoneOnly"`
	GeoRedirectURL            *string           `json:"geoRedirectUrl"`
	GeoRedirectFile           *string           `json:"geoRedirectFile"`
	GeoRedirectURLType        *string           `json:"geoRedirectUrlType"`
	RoutingName               string            `json:"routingName"`
	MissLocation              *geoPoint         `json:"missLocation"`
	Dispersion                dispersionJSON    `json:"dispersion"`
	IP6RoutingEnabled         bool              `json:"ip6RoutingEnabled"`
	ResponseHeaders           map[string]string `json:"responseHeaders"`
	RequestHeaders            []string          `json:"requestHeaders"`
	RegionalGeoEnabled        bool              `json:"regionalGeoEnabled"`
	GeolocationProvider       *string           `json:"geolocationProvider"`
	AnonymousIPEnabled        bool              `json:"anonymousIpEnabled"`
	SSLEnabled                bool              `json:"sslEnabled"`
	AcceptHTTP                bool              `json:"acceptHttp"`
	DeepCache                 string            `json:"deepCache"`
	ConsistentHashRegex       *string           `json:"consistentHashRegex"`
	ConsistentHashQueryParams []string          `json:"consistentHashQueryParams"`
	DNS                       bool              `json:"dns"`
	LocationLimit             int               `json:"locationLimit"`
	MaxDNSIPs                 int               `json:"maxDnsIps"`
	SSLReady                  bool              `json:"sslReady"`
	Available                 bool              `json:"available"`
	Topology                  *string           `json:"topology"`
	ECSEnabled                bool              `json:"ecsEnabled"`
}

type geoPoint struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

type dispersionJSON struct {
	Limit    int  `json:"limit"`
	Shuffled bool `json:"shuffled"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func newDeliveryServiceJSON(d *tableData, ds *router.DeliveryService) deliveryServiceJSON {
	j := deliveryServiceJSON{
		ID: ds.ID, CoverageZoneOnly: ds.CoverageZoneOnly, GeoRedirectURL: optString(ds.GeoLimitRedirectURL),
		GeoRedirectURLType: optString(ds.GeoRedirectURLType()), RoutingName: ds.RoutingName,
		Dispersion:        dispersionJSON{ds.Dispersion.Limit, ds.Dispersion.Shuffled},
		IP6RoutingEnabled: ds.IP6RoutingEnabled, ResponseHeaders: map[string]string{},
		RequestHeaders: append([]string{}, ds.RequestHeaders...), RegionalGeoEnabled: ds.RegionalGeoBlocking,
		GeolocationProvider: optString(ds.GeolocationProvider), AnonymousIPEnabled: ds.AnonymousBlockingEnabled,
		SSLEnabled: ds.SSLEnabled, AcceptHTTP: ds.Protocol.AcceptHTTP, DeepCache: "NEVER",
		ConsistentHashRegex:       optString(ds.ConsistentHashRegex),
		ConsistentHashQueryParams: append([]string{}, ds.ConsistentHashQueryParams...),
		DNS:                       ds.IsDNS, LocationLimit: ds.LocationFailoverLimit, MaxDNSIPs: ds.MaxDNSIPsForLocation,
		SSLReady: d.sslReady[ds.Index], Available: d.table.Health().DSAvailable(ds.Index),
		Topology: optString(ds.Topology), ECSEnabled: ds.ECSEnabled,
	}
	if ds.MissLocation != nil {
		j.MissLocation = &geoPoint{ds.MissLocation.Lat, ds.MissLocation.Long}
	}
	if ds.DeepCachingType == control.DeepCachingAlways {
		j.DeepCache = "ALWAYS"
	}
	for _, h := range ds.ResponseHeaders {
		j.ResponseHeaders[h.Name] = h.Value
	}
	return j
}
