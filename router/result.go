package router

// ResultType is Traffic Router's "rtype" (spec 4.7): how a request was
// routed. The names are the access-log and API spellings.
type ResultType uint8

// Result types in Traffic Router's order.
const (
	ResultError ResultType = iota
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
)

var resultTypeNames = [...]string{
	ResultError: "ERROR", ResultCZ: "CZ", ResultGeo: "GEO", ResultMiss: "MISS",
	ResultStaticRoute: "STATIC_ROUTE", ResultDSRedirect: "DS_REDIRECT", ResultDSMiss: "DS_MISS",
	ResultInit: "INIT", ResultFed: "FED", ResultRGDeny: "RGDENY", ResultRGAlt: "RGALT",
	ResultGeoRedirect: "GEO_REDIRECT", ResultDeepCZ: "DEEP_CZ", ResultAnonBlock: "ANON_BLOCK",
	ResultGeoDS: "GEO_DS",
}

// String returns the Traffic Router spelling (CZ, GEO, DS_MISS, ...).
func (t ResultType) String() string {
	if int(t) < len(resultTypeNames) {
		return resultTypeNames[t]
	}
	return "ERROR"
}

// ResultDetail is Traffic Router's "rdtl" (spec 4.7).
type ResultDetail uint8

// Result details in Traffic Router's order.
const (
	DetailNone ResultDetail = iota
	DetailDSNotFound
	DetailDSTLSMismatch
	DetailDSNoBypass
	DetailDSBypass
	DetailDSCZOnly
	DetailDSClientGeoUnsupported
	DetailGeoNoCacheFound
	DetailRegionalGeoNoRule
	DetailRegionalGeoAlternateWithoutCache
	DetailRegionalGeoAlternateWithCache
	DetailDSCZBackupCG
	DetailDSInvalidRoutingName
	DetailLocalizedDNS
)

var resultDetailNames = [...]string{
	DetailNone: "NO_DETAILS", DetailDSNotFound: "DS_NOT_FOUND", DetailDSTLSMismatch: "DS_TLS_MISMATCH",
	DetailDSNoBypass: "DS_NO_BYPASS", DetailDSBypass: "DS_BYPASS", DetailDSCZOnly: "DS_CZ_ONLY",
	DetailDSClientGeoUnsupported: "DS_CLIENT_GEO_UNSUPPORTED", DetailGeoNoCacheFound: "GEO_NO_CACHE_FOUND",
	DetailRegionalGeoNoRule:                "REGIONAL_GEO_NO_RULE",
	DetailRegionalGeoAlternateWithoutCache: "REGIONAL_GEO_ALTERNATE_WITHOUT_CACHE",
	DetailRegionalGeoAlternateWithCache:    "REGIONAL_GEO_ALTERNATE_WITH_CACHE",
	DetailDSCZBackupCG:                     "DS_CZ_BACKUP_CG", DetailDSInvalidRoutingName: "DS_INVALID_ROUTING_NAME",
	DetailLocalizedDNS: "LOCALIZED_DNS",
}

// String returns the Traffic Router spelling (NO_DETAILS, DS_NOT_FOUND, ...).
func (d ResultDetail) String() string {
	if int(d) < len(resultDetailNames) {
		return resultDetailNames[d]
	}
	return "NO_DETAILS"
}
