package geo

import "testing"

func TestIsValidMissLocation(t *testing.T) {
	for _, tc := range []struct {
		p    Point
		want bool
	}{
		{Point{37.751, -97.822}, true}, // spec §15.5
		{Point{0, 0}, false},           // spec §15.5
		{Point{0, -97.822}, false},
		{Point{37.751, 0}, false},
		{Point{-1, -1}, true},
	} {
		if got := IsValidMissLocation(tc.p); got != tc.want {
			t.Errorf("IsValidMissLocation(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

// TrafficRouterTest.itChecksDefaultLocation (spec §15.5) and its variants.
func TestApplyDefaultOverride(t *testing.T) {
	overrides := map[string]Point{"US": {37.751, -97.822}}
	usDefault := Location{Latitude: 38, Longitude: -97, CountryCode: "US", CountryName: "United States", IsDefault: true}
	miss := &Point{41.88, -87.63}
	for _, tc := range []struct {
		name string
		loc  Location
		miss *Point
		want Point
		src  DefaultSource
	}{
		{"default US with valid missLocation -> GEO_DS", usDefault, miss, *miss, FromMissLocation},
		{"default US without missLocation -> override", usDefault, nil, Point{37.751, -97.822}, FromCountryOverride},
		{"default US with (0,0) missLocation -> override", usDefault, &Point{}, Point{37.751, -97.822}, FromCountryOverride},
		{"not a default location", Location{Latitude: 39, Longitude: -104, CountryCode: "US", City: "Denver"}, miss, Point{39, -104}, FromLookup},
		{"default in a country without override", Location{Latitude: 35, Longitude: 139, CountryCode: "JP", IsDefault: true}, miss, Point{35, 139}, FromLookup},
		{"country codes match exactly", Location{Latitude: 38, Longitude: -97, CountryCode: "us", IsDefault: true}, miss, Point{38, -97}, FromLookup},
	} {
		got, src := ApplyDefaultOverride(tc.loc, overrides, tc.miss)
		if got != tc.want || src != tc.src {
			t.Errorf("%s: = %v, %v; want %v, %v", tc.name, got, src, tc.want, tc.src)
		}
	}
	if got, src := ApplyDefaultOverride(usDefault, nil, miss); got != (Point{38, -97}) || src != FromLookup {
		t.Errorf("nil overrides: %v, %v", got, src)
	}
	for s, want := range map[DefaultSource]string{FromLookup: "lookup", FromMissLocation: "missLocation", FromCountryOverride: "maxmindDefaultOverride", 9: "unknown"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", s, s.String(), want)
		}
	}
}
