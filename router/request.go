package router

import (
	"net/netip"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/geo"
)

// Headers gives HEADER matchers access to request headers by lower-case
// name. fasthttp's *RequestHeader satisfies it.
type Headers interface {
	Peek(name string) []byte
}

// Request is what the router needs of a DNS or HTTP request. Byte slices
// are borrowed for the duration of the call.
type Request struct {
	// Host is the lower-case host name: the Host header without port, or
	// the query name without the trailing dot.
	Host []byte
	// Path is the decoded request path (AppendDecodedPath); HTTP only.
	Path []byte
	// RawQuery is the query string without "?"; HTTP only.
	RawQuery []byte
	// Headers gives HEADER matchers the request headers; HTTP only.
	Headers Headers
	// Client is the client address (override, ECS or source address).
	Client netip.Addr
	// HTTP is true for HTTP requests, false for DNS.
	HTTP bool
	// Secure is true for HTTPS requests.
	Secure bool
	// V6 selects IPv6 availability: AAAA queries for DNS; for HTTP it is
	// derived from Client.
	V6 bool
}

// Scratch is per-worker working memory for routing. Reuse it across
// requests of one goroutine; its zero value is ready to use.
type Scratch struct {
	hash   []byte
	query  []byte
	target []byte
	idx    []int32
}

// Selection is the outcome of routing one request.
type Selection struct {
	// DS is the delivery service routed to (nil when none matched).
	DS *DeliveryService
	// Type and Detail are Traffic Router's rtype and rdtl.
	Type   ResultType
	Detail ResultDetail
	// Loc is the edge location that served the request (nil for deep
	// locations and when no location was chosen); LocName names it
	// ("deep.<zone>" for deep locations).
	Loc     *Location
	LocName string
	// HasCoordinates reports whether Lat/Lon hold the result location
	// (Traffic Router's rloc).
	HasCoordinates bool
	Lat, Lon       float64
	// Caches are the chosen caches, best first: for HTTP the dispersed
	// consistent-hash order (Caches[0] is the cache to redirect to); for
	// DNS the caches to answer with. It aliases Scratch memory.
	Caches []int32
	// Bypass is true when the answer is the delivery service's bypass
	// destination (DS_REDIRECT), GeoRedirect when it is a 302 to the
	// delivery service's geoLimitRedirectURL verbatim.
	Bypass      bool
	GeoRedirect bool
	// Federation is the federation mapping answering a DNS request (FED).
	Federation *control.FederationMapping
	// ClientGeo is the client's MaxMind answer when one was looked up.
	ClientGeo    geo.Location
	HasClientGeo bool

	geoLooked   bool
	continueGeo bool
	fromBackup  bool
}

func (s *Selection) reset() {
	// Cleared in place, then two fields set: assigning a composite
	// literal builds it on the stack and copies it, reading back words
	// just stored in other sizes (a stall on every query).
	*s = Selection{}
	s.Type, s.continueGeo = ResultError, true
}

func (s *Selection) setLocation(name string, lat, lon float64) {
	s.LocName, s.HasCoordinates, s.Lat, s.Lon = name, true, lat, lon
}
