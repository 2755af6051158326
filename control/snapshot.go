package control

import (
	"net/netip"
	"regexp"
)

// Snapshot is one decoded and validated CDN snapshot (Traffic Ops CrConfig).
// It is immutable once returned by ParseSnapshot and safe to share between
// goroutines. Collections keep the document order of the JSON object keys;
// the lookup methods (DeliveryService, ContentServer, ...) use indexes built
// at decode time.
type Snapshot struct {
	// Name is the file name the snapshot was parsed from (for messages).
	Name string
	// Hash is the hex sha256 of the bytes parsed; it identifies the snapshot.
	Hash string

	Config Config
	Stats  Stats

	// ContentServers lists every cache in document order, including those
	// whose LocationID is not an edge location (Known == false): Traffic
	// Router ignores those, and so must the router.
	ContentServers         []ContentServer
	ContentRouters         []ContentRouter
	DeliveryServices       []DeliveryService
	EdgeLocations          []EdgeLocation
	TrafficRouterLocations []TrafficRouterLocation
	Monitors               []Monitor
	Topologies             []Topology

	// IgnoredContentServers counts caches whose locationId names no edge
	// location (Traffic Router drops them silently; each is also a warning).
	IgnoredContentServers int

	// Warnings are the non-fatal problems found while decoding.
	Warnings []Problem

	csIndex   map[string]int
	crIndex   map[string]int
	dsIndex   map[string]int
	elIndex   map[string]int
	trlIndex  map[string]int
	monIndex  map[string]int
	topoIndex map[string]int
}

// DeliveryService returns the delivery service with the given xml_id.
func (s *Snapshot) DeliveryService(xmlID string) (*DeliveryService, bool) {
	return lookup(s.DeliveryServices, s.dsIndex, xmlID)
}

// ContentServer returns the cache with the given host name (contentServers key).
func (s *Snapshot) ContentServer(id string) (*ContentServer, bool) {
	return lookup(s.ContentServers, s.csIndex, id)
}

// ContentRouter returns the traffic router with the given host name.
func (s *Snapshot) ContentRouter(id string) (*ContentRouter, bool) {
	return lookup(s.ContentRouters, s.crIndex, id)
}

// EdgeLocation returns the edge cache group with the given name.
func (s *Snapshot) EdgeLocation(name string) (*EdgeLocation, bool) {
	return lookup(s.EdgeLocations, s.elIndex, name)
}

// TrafficRouterLocation returns the router cache group with the given name.
func (s *Snapshot) TrafficRouterLocation(name string) (*TrafficRouterLocation, bool) {
	return lookup(s.TrafficRouterLocations, s.trlIndex, name)
}

// Monitor returns the monitor with the given host name.
func (s *Snapshot) Monitor(name string) (*Monitor, bool) {
	return lookup(s.Monitors, s.monIndex, name)
}

// Topology returns the topology with the given name.
func (s *Snapshot) Topology(name string) (*Topology, bool) {
	return lookup(s.Topologies, s.topoIndex, name)
}

func lookup[T any](list []T, idx map[string]int, k string) (*T, bool) {
	i, ok := idx[k]
	if !ok {
		return nil, false
	}
	return &list[i], true
}

// Config is the snapshot's config section (spec §12) with Traffic Router's
// defaults applied. Raw holds every key as text (objects and arrays as their
// JSON) for parameters without a typed field.
type Config struct {
	DomainName string
	TTLs       TTLs
	SOA        SOA

	// GeolocationURL is alt.geolocation.polling.url when present, else
	// geolocation.polling.url.
	GeolocationURL           string
	GeolocationInterval      int64 // ms; 0 = updater default
	CoverageZoneURL          string
	CoverageZoneInterval     int64 // ms; default 10800000
	DeepCoverageZoneURL      string
	DeepCoverageZoneInterval int64
	FederationURL            string // default https://${toHostname}/api/5.0/federations/all
	FederationInterval       int64  // ms; default 300000
	SteeringURL              string // default https://${toHostname}/api/5.0/steering
	SteeringInterval         int64  // ms; default 10000
	CertificateAPIURL        string
	CertificatesInterval     int64 // ms; default 3600000
	KeystoreAPIURL           string
	KeystoreMaintenance      int64 // s; default 300
	AuthURL                  string

	DNSSECEnabled                 bool
	DNSSECAllowExpiredKeys        bool  // default true
	SignatureExpirationMultiplier int64 // default 5
	ZoneCacheMaintenanceInterval  int64 // s; default 300

	ConsistentDNSRouting bool
	EdgeDNSRouting       bool
	EdgeDNSLimit         int64 // default 4
	EdgeHTTPRouting      bool
	EdgeHTTPLimit        int64 // default 4
	ECSEnable            bool

	StripSpecialQueryParams bool
	RegexSuperhack          bool // confighandler.regex.superhack.enabled, default true

	RequestHeaders         []string
	MaxmindDefaultOverride []GeoOverride

	RegionalGeoblockURL      string
	RegionalGeoblockInterval int64
	AnonymousIPPolicyURL     string // anonymousip.policy.configuration
	AnonymousIPURL           string
	AnonymousIPInterval      int64

	// Raw is every config key as text, including those above.
	Raw map[string]string
}

// NegativeTTL is the SOA MINIMUM of every zone and the TTL of negative
// answers and NSEC records: config.soa.minimum, default 900. This is
// Traffic Router's intended behaviour (quirk 1 fixed; see
// docs/compatibility-control.md).
func (c *Config) NegativeTTL() int64 { return c.SOA.Minimum.Or(900) }

// GeoOverride is one maxmindDefaultOverride entry.
type GeoOverride struct {
	CountryCode string
	Lat, Long   float64
}

// TTLs holds a ttls object: record type (upper case) to seconds. Absent or
// unparsable values are not set; callers apply the per-record defaults of
// spec §6.7.
type TTLs struct {
	// Present is true when the ttls object exists.
	Present bool
	byType  map[string]int64
}

// Get returns the TTL for the record type and whether it is set.
func (t TTLs) Get(rtype string) (int64, bool) {
	v, ok := t.byType[rtype]
	return v, ok
}

// Or returns the TTL for the record type, or def when it is not set.
func (t TTLs) Or(rtype string, def int64) int64 {
	if v, ok := t.byType[rtype]; ok {
		return v
	}
	return def
}

// SOA holds an soa object. Unset fields take the caller's defaults
// (Traffic Router: admin traffic_ops, expire 604800, refresh 28800,
// retry 7200; minimum see Config.NegativeTTL).
type SOA struct {
	Present  bool
	Admin    string // "" when absent
	Expire   Opt
	Minimum  Opt
	Refresh  Opt
	Retry    Opt
	Serial   Opt
	HasAdmin bool
}

// Stats is the snapshot's stats section.
type Stats struct {
	// Date is the snapshot's stats.date in epoch seconds.
	Date      int64
	CDNName   string
	TMHost    string
	TOHost    string
	TMVersion string
	TMUser    string
}

// OpsHost is the ops host for ${toHostname}: tm_host, else to_host.
func (s Stats) OpsHost() string {
	if s.TMHost != "" {
		return s.TMHost
	}
	return s.TOHost
}

// ContentServer is one cache (contentServers entry).
type ContentServer struct {
	// ID is the contentServers key (the cache host name).
	ID         string
	LocationID string
	// Known is true when LocationID names an edge location; other caches
	// are not routed to.
	Known bool
	// HashID is hashId when it is a JSON string, else ID.
	HashID string
	// HashCount is hashCount when > 0, else 1000 (Traffic Router default;
	// Traffic Ops usually sends 999, kept as sent).
	HashCount int
	FQDN      string
	Port      int
	HTTPSPort int // decoded, not used by Traffic Router (quirk 5)
	// IP and IP6 are the parsed addresses (invalid when empty or unusable);
	// IP6 has any "/prefix" stripped.
	IP, IP6    netip.Addr
	IPText     string
	IP6Text    string
	Status     string
	Type       string
	Profile    string
	CacheGroup string
	// Capabilities are the server capabilities (topology filtering).
	Capabilities []string
	// DeliveryServices lists the DS assignments in document order.
	DeliveryServices []DSReference
}

// DSReference assigns a cache to a delivery service. FQDN is the first
// element of the array (the only one Traffic Router uses, quirk 6); All
// keeps the whole array.
type DSReference struct {
	XMLID string
	FQDN  string
	All   []string
}

// ContentRouter is one Traffic Router (contentRouters entry).
type ContentRouter struct {
	ID            string
	FQDN          string
	IP, IP6       netip.Addr
	IPText        string
	IP6Text       string
	Location      string
	Status        string
	Profile       string
	Port          int
	HTTPSPort     int
	APIPort       int
	SecureAPIPort int
}

// Monitor is one Traffic Monitor (monitors entry).
type Monitor struct {
	ID       string
	FQDN     string
	Port     int // default 80
	Status   string
	IP       string
	IP6      string
	Location string
	Profile  string
}

// EdgeLocation is one edge cache group (edgeLocations entry).
type EdgeLocation struct {
	Name                string
	Latitude, Longitude float64
	Localization        Localization
	// BackupLocations is backupLocations.list in order (unknown names are
	// kept; each produced a warning).
	BackupLocations []string
	// FallbackToClosest: see docs/compatibility-control.md (quirk 7): the
	// fallbackToClosest flag is honoured whenever it is present; absent, it
	// is true unless a list is present.
	FallbackToClosest bool
}

// Localization lists the enabled localization methods of a cache group.
type Localization struct {
	CZ, DeepCZ, Geo bool
}

// TrafficRouterLocation is one router cache group.
type TrafficRouterLocation struct {
	Name                string
	Latitude, Longitude float64
}

// Topology is one topology: the cache groups of its nodes in order.
type Topology struct {
	Name  string
	Nodes []string
}

// DeepCaching is a delivery service's deepCachingType.
type DeepCaching uint8

// Deep caching types.
const (
	DeepCachingNever DeepCaching = iota
	DeepCachingAlways
)

// DeliveryService is one delivery service with Traffic Router's defaults
// (spec §1.7).
type DeliveryService struct {
	// ID is the xml_id (deliveryServices key).
	ID string
	// RoutingName is lower-cased.
	RoutingName      string
	CoverageZoneOnly bool
	// Domains as sent; Domains[0] is the DS domain.
	Domains []string
	// MatchSets in order; matchsets that can never match (a HEADER match
	// without target) are dropped with a warning.
	MatchSets []MatchSet
	// IsDNS is true when any matchset protocol is "DNS".
	IsDNS               bool
	TTLs                TTLs
	SOA                 SOA
	MissLocation        *LatLong // nil when absent
	GeoEnabled          []GeoLimit
	GeoLimitRedirectURL string
	Dispersion          Dispersion
	// MaxDNSIPsForLocation is maxDnsIpsForLocation (0 = no limit).
	MaxDNSIPsForLocation int
	IP6RoutingEnabled    bool
	ECSEnabled           bool
	SSLEnabled           bool
	Protocol             Protocol
	DeepCachingType      DeepCaching
	// ConsistentHashRegex is the pattern as sent; ConsistentHashPattern is
	// its compilation (case-sensitive, find semantics), nil when empty or
	// when it does not compile (Traffic Router then hashes the path).
	ConsistentHashRegex   string
	ConsistentHashPattern *regexp.Regexp
	// ConsistentHashQueryParams: empty names dropped, duplicates collapsed,
	// first-occurrence order.
	ConsistentHashQueryParams []string
	ResponseHeaders           []Header
	RequestHeaders            []string
	RegionalGeoBlocking       bool
	AnonymousBlockingEnabled  bool
	GeolocationProvider       string
	// HasBypass is true when bypassDestination is present at all.
	HasBypass        bool
	BypassHTTP       *HTTPBypass
	BypassDNS        *DNSBypass
	StaticDNSEntries []StaticDNSEntry
	Topology         string
	// RequiredCapabilities in order, duplicates collapsed.
	RequiredCapabilities  []string
	AppendQueryString     bool // default true
	TransInfoType         string
	LocationFailoverLimit int
}

// Domain returns Domains[0] lower-cased, or "".
func (ds *DeliveryService) Domain() string {
	if len(ds.Domains) == 0 {
		return ""
	}
	return ds.Domains[0]
}

// LatLong is a coordinate pair.
type LatLong struct {
	Lat, Long float64
}

// GeoLimit is one geoEnabled entry: every key/value must equal the client's
// geolocation property (case-insensitively).
type GeoLimit []KeyValue

// KeyValue is one name/value pair in document order.
type KeyValue struct {
	Key, Value string
}

// Header is a response header to add.
type Header struct {
	Name, Value string
}

// Dispersion is the initial dispersion of a delivery service: how many
// caches are candidates and whether they are shuffled.
type Dispersion struct {
	Limit    int
	Shuffled bool
}

// Protocol is the protocol object of a delivery service.
type Protocol struct {
	AcceptHTTP      bool // default true
	AcceptHTTPS     bool
	RedirectToHTTPS bool
}

// HTTPBypass is bypassDestination.HTTP.
type HTTPBypass struct {
	FQDN string
	Port Opt
}

// DNSBypass is bypassDestination.DNS. TTL is required for any answer.
type DNSBypass struct {
	IP, IP6 netip.Addr
	CNAME   string
	TTL     Opt
}

// StaticDNSEntry is one staticDnsEntries element; Type is upper-cased and
// TTL 0 means "use the DS ttls".
type StaticDNSEntry struct {
	Name  string
	Type  string
	Value string
	TTL   int64
}

// MatchSet is one matchset: a matcher that matches when all its matches do.
// An empty MatchSet never matches.
type MatchSet struct {
	Protocol string
	Matches  []Match
}

// MatchType is the match-type of a match.
type MatchType uint8

// Match types.
const (
	MatchHost MatchType = iota
	MatchPath
	MatchHeader
)

func (t MatchType) String() string {
	switch t {
	case MatchHost:
		return "HOST"
	case MatchPath:
		return "PATH"
	default:
		return "HEADER"
	}
}

// Match is one request matcher. Regex is the pattern as sent, Pattern the
// pattern used (after the superhack, §1.13), Compiled its full-match,
// case-insensitive compilation `(?i)^(?:Pattern)$`. Target is the header
// name of a HEADER match, lower-cased.
type Match struct {
	Type     MatchType
	Regex    string
	Pattern  string
	Compiled *regexp.Regexp
	Target   string
}
