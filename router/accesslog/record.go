// Package accesslog writes Traffic Router's access log: one line per HTTP request or DNS
// query, byte-for-byte in the format of Traffic Router's HTTPAccessEventBuilder and
// DNSAccessEventBuilder (spec §11).
//
// Callers fill an [HTTPRecord] or [DNSRecord] (plain value structs, no allocation: fields are
// fixed-size values, strings that point at long-lived table data, or byte slices that point
// at the request's own buffers) and either append the line themselves with [AppendHTTP] /
// [AppendDNS] or hand the record to a [Writer], which formats it at once (so the slices
// only have to stay valid for the duration of the call) into a per-shard chunk that one
// goroutine writes out. The Writer never blocks a query: when its queue is full the record
// is dropped and counted.
package accesslog

import (
	"net/netip"
	"time"
)

// ResultType is Traffic Router's ResultType (rtype). The zero value, ResultNone, prints as
// "-" (Java null: static files and static DNS answers). An HTTP request that never got a
// result logs ResultError, Traffic Router's default per request.
type ResultType uint8

// Result types of spec §4.7 in Traffic Router's enum order.
const (
	ResultNone ResultType = iota
	ResultError
	ResultCZ
	ResultGeo
	ResultMiss
	ResultStaticRoute
	ResultDSRedirect
	ResultDSMiss
	ResultInit
	ResultFed
	ResultRGDeny
	ResultRGAlt
	ResultGeoRedirect
	ResultDeepCZ
	ResultAnonBlock
	ResultGeoDS
	numResultTypes
)

var resultTypeNames = [numResultTypes]string{
	"-", "ERROR", "CZ", "GEO", "MISS", "STATIC_ROUTE", "DS_REDIRECT", "DS_MISS", "INIT", "FED",
	"RGDENY", "RGALT", "GEO_REDIRECT", "DEEP_CZ", "ANON_BLOCK", "GEO_DS",
}

// String returns the name Traffic Router logs ("-" for ResultNone).
func (t ResultType) String() string {
	if t < numResultTypes {
		return resultTypeNames[t]
	}
	return "-"
}

// ResultDetails is Traffic Router's ResultDetails (rdtl). The zero value, DetailsNone,
// prints as "-" (Java null); DetailsNoDetails prints "NO_DETAILS".
type ResultDetails uint8

// Result details of spec §4.7 in Traffic Router's enum order.
const (
	DetailsNone ResultDetails = iota
	DetailsNoDetails
	DetailsDSNotFound
	DetailsDSTLSMismatch
	DetailsDSNoBypass
	DetailsDSBypass
	DetailsDSCZOnly
	DetailsDSClientGeoUnsupported
	DetailsGeoNoCacheFound
	DetailsRegionalGeoNoRule
	DetailsRegionalGeoAlternateWithoutCache
	DetailsRegionalGeoAlternateWithCache
	DetailsDSCZBackupCG
	DetailsDSInvalidRoutingName
	DetailsLocalizedDNS
	numResultDetails
)

var resultDetailsNames = [numResultDetails]string{
	"-", "NO_DETAILS", "DS_NOT_FOUND", "DS_TLS_MISMATCH", "DS_NO_BYPASS", "DS_BYPASS",
	"DS_CZ_ONLY", "DS_CLIENT_GEO_UNSUPPORTED", "GEO_NO_CACHE_FOUND", "REGIONAL_GEO_NO_RULE",
	"REGIONAL_GEO_ALTERNATE_WITHOUT_CACHE", "REGIONAL_GEO_ALTERNATE_WITH_CACHE",
	"DS_CZ_BACKUP_CG", "DS_INVALID_ROUTING_NAME", "LOCALIZED_DNS",
}

// String returns the name Traffic Router logs ("-" for DetailsNone).
func (d ResultDetails) String() string {
	if d < numResultDetails {
		return resultDetailsNames[d]
	}
	return "-"
}

// RegionalGeoOutcome is the regional geo-blocking result type (spec §4.11).
type RegionalGeoOutcome uint8

// Regional geo outcomes.
const (
	RegionalGeoAllowed RegionalGeoOutcome = iota
	RegionalGeoAlternateWithCache
	RegionalGeoAlternateWithoutCache
	RegionalGeoDenied
)

// RegionalGeoRule is the postal-code rule kind of the matching regional geo rule.
type RegionalGeoRule uint8

// Regional geo rule kinds; RegionalGeoRuleNone prints "-".
const (
	RegionalGeoRuleNone RegionalGeoRule = iota
	RegionalGeoRuleInclude
	RegionalGeoRuleExclude
)

// RegionalGeo is the regional geo-blocking result logged in the rgb field as
// "<postal|->:<allowed 1|0>:<I|X|->:<fallback 1|0>:<whitelisted 1|0>" (Java
// RegionalGeoResult.toString). When Set is false the field is "-".
type RegionalGeo struct {
	Set         bool
	Outcome     RegionalGeoOutcome
	Rule        RegionalGeoRule
	HasPostal   bool   // false: postal is Java null and prints "-"
	Postal      string // printed as is when HasPostal (may be empty)
	Fallback    bool   // usingFallbackConfig
	Whitelisted bool   // allowedByWhiteList
}

// Header is one request header to log as rh="Name: value".
type Header struct {
	Name  string // the configured name as Traffic Router prints it
	Value []byte // empty values are skipped
}

// HTTPRecord holds everything one HTTP access log line needs (spec §11.1). Byte slices
// may point into the request's buffers: AppendHTTP and Writer.LogHTTP read them only
// during the call.
type HTTPRecord struct {
	Start   time.Time     // request start; t = epoch ms as %d.%03d
	Elapsed time.Duration // logged as ttms when Status != 0

	Remote netip.Addr // the peer address (Tomcat getRemoteAddr)
	// ClientOverride is the X-MM-Client-IP header value, else the fakeClientIpAddress
	// parameter value; nil means neither was present and chi is Remote. rhi is Remote when
	// its text differs from chi, else "-".
	ClientOverride []byte

	URL    []byte // scheme://host[:port]/path as requested; empty prints "-"
	Query  []byte // raw query string without '?'; appended as ?query when non-empty
	Method []byte // empty prints "-"
	Proto  []byte // e.g. HTTP/1.1; empty prints "-"

	Result  ResultType
	Details ResultDetails // printed only when Result != ResultNone

	HasLocation bool // rloc "lat,lon" (pattern 0.00, truncated) else "-"
	Lat, Lon    float64

	Err string      // rerr (exception message); empty prints "-"
	RGB RegionalGeo // rgb

	Status int // response status; 0 means none recorded (pssc/ttms omitted)

	RURL  []byte   // rurl; empty prints "-"
	RURLs [][]byte // rurls as Java list "[u1, u2]"; empty prints "-"

	UserAgent []byte // uas; nil prints null (header absent)

	Services []string // svc, joined with '|'; empty prints "-"
	Headers  []Header // rh fields in order; none non-empty prints rh="-"
}

// DNSAnswer is one resource record of the answer section, logged as its TTL in ttl and
// its rdata text in ans.
type DNSAnswer struct {
	TTL  uint32
	Type uint16
	// RData is the record's uncompressed wire rdata, formatted the way dnsjava's
	// rdataToString does for A, AAAA, NS, CNAME, PTR, DNAME, MX, SOA, SRV, TXT and SPF.
	RData []byte
	// Text, when non-nil, is logged verbatim instead of formatting RData. Types not listed
	// above (RRSIG, DNSKEY, DS, NSEC, ...) must supply it, else they print in RFC 3597
	// form (\# len HEX) as dnsjava does for unknown types.
	Text []byte
}

// DNSRecord holds everything one DNS access log line needs (spec §11.2).
type DNSRecord struct {
	Received time.Time     // query receive time
	Elapsed  time.Duration // ttms

	Client   netip.Addr // chi: the ECS address when used, else the resolver
	Resolver netip.Addr // rhi when its text differs from chi

	// HasMessage is false when the query could not be parsed: the line then carries
	// xn=- fqdn=- type=- class=- rcode=-.
	HasMessage bool
	ID         uint16
	// QName is the question name in uncompressed wire form (length-prefixed labels ending
	// in the root label), printed in dnsjava presentation form with a trailing dot. Nil
	// means the message had no question.
	QName  []byte
	QType  uint16
	QClass uint16
	Rcode  uint16 // response rcode (header rcode, or the extended rcode when known)

	Result      ResultType // set only for dynamic (routed) answers
	Details     ResultDetails
	HasLocation bool // rloc "lat,lon" in the DNS pattern .## (truncated) else "-"
	Lat, Lon    float64

	// Err selects the error form: when non-empty rtype, rloc, rdtl, ttl and ans print "-"
	// and rerr carries Err, e.g. "Bad Request:WireParseException:end of input" or
	// "Server Error:<ExceptionClass>:<msg>" (the caller sets Rcode to SERVFAIL).
	Err string

	Answers []DNSAnswer
	Service string // svc; empty prints "-"
}
