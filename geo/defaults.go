package geo

// Point is a pair of coordinates in degrees.
type Point struct {
	Latitude, Longitude float64
}

// IsValidMissLocation is Traffic Router's DeliveryService.isValidMissLocation:
// a delivery service's missLocation is used for default-location overrides
// only when both its coordinates are non-zero (spec §4.5, §15.5).
func IsValidMissLocation(p Point) bool {
	return p.Latitude != 0 && p.Longitude != 0
}

// DefaultSource says where the point chosen by ApplyDefaultOverride came from.
type DefaultSource uint8

const (
	// FromLookup: the looked-up location itself (not a default location,
	// or its country has no override). The result type stays GEO.
	FromLookup DefaultSource = iota
	// FromMissLocation: the delivery service's missLocation replaced a
	// default location. Traffic Router reports result type GEO_DS.
	FromMissLocation
	// FromCountryOverride: the config.maxmindDefaultOverride point for the
	// location's country replaced it. The result type stays GEO.
	FromCountryOverride
)

// String returns the name of the source.
func (s DefaultSource) String() string {
	switch s {
	case FromLookup:
		return "lookup"
	case FromMissLocation:
		return "missLocation"
	case FromCountryOverride:
		return "maxmindDefaultOverride"
	}
	return "unknown"
}

// ApplyDefaultOverride applies Traffic Router's default-location override
// (spec §4.5) to a City answer: when loc.IsDefault and overrides (from
// config.maxmindDefaultOverride, keyed by ISO country code, matched
// exactly) has loc.CountryCode, the point becomes the delivery service's
// missLocation if it is valid (IsValidMissLocation; nil means the service
// has none), else the country's override. Otherwise loc's own coordinates
// are returned. It does not allocate.
func ApplyDefaultOverride(loc Location, overrides map[string]Point, missLocation *Point) (Point, DefaultSource) {
	if loc.IsDefault {
		if p, ok := overrides[loc.CountryCode]; ok {
			if missLocation != nil && IsValidMissLocation(*missLocation) {
				return *missLocation, FromMissLocation
			}
			return p, FromCountryOverride
		}
	}
	return Point{Latitude: loc.Latitude, Longitude: loc.Longitude}, FromLookup
}
