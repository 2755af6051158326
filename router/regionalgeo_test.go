package router

import (
	"net/netip"
	"testing"

	"github.com/signpost-cdn/signpost/geo"
	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/router/routertest"
)

// TestRegionalGeoVectors holds spec 15.5 (RegionalGeoTest on
// regional_geoblock.json).
func TestRegionalGeoVectors(t *testing.T) {
	rg := routertest.LoadSet(t, fixture.DefaultDir(t)).RegionalGeoblock
	if rg == nil {
		t.Fatal("no regional-geoblock.json in the fixture")
	}
	const ex, in = "ds-geoblock-exclude", "ds-geoblock-include"
	for i, tc := range []struct {
		ds, url, ip string
		postal      string
		hasPostal   bool
		lat, lon    float64
		want        RegionalGeoOutcome
		wantURL     string
		whitelisted bool
	}{
		{ex, "http://ds1.example.com/live1", "10.0.0.1", "", false, 12, 55, RegionalGeoAllowed, "", false},
		{in, "http://ds2.example.com/live2", "10.0.0.1", "", false, 12, 55, RegionalGeoAlternateWithCache, "/path/redirect_T2", false},
		{ex, "http://ds1.example.com/live1", "10.0.0.1", "N7G", true, 0, 0, RegionalGeoAllowed, "", false},
		{in, "http://ds2.example.com/live2", "10.0.0.1", "N7G", true, 0, 0, RegionalGeoAlternateWithCache, "/path/redirect_T2", false},
		{ex, "http://ds1.example.com/live1", "10.0.0.1", "V5G", true, 0, 0, RegionalGeoAlternateWithoutCache, "http://example.com/redirect_T1", false},
		{"ds-geoblock-no-exist", "http://ds1.example.com/live1", "10.0.0.1", "V5G", true, 0, 0, RegionalGeoDenied, "", false},
		{in, "http://ds2.example.com/live-not-exist", "10.0.0.1", "V5G", true, 0, 0, RegionalGeoDenied, "", false},
		{in, "http://ds2.example.com/live3", "10.0.0.1", "V5D", true, 0, 0, RegionalGeoAlternateWithCache, "/redirect_T3", false},
		{ex, "http://ds1.example.com/live1", "10.0.0.1", "", false, 0, 0, RegionalGeoAlternateWithoutCache, "http://example.com/redirect_T1", false},
		{ex, "http://ds1.example.com/live1", "10.0.0.1", "", true, 0, 0, RegionalGeoAlternateWithoutCache, "http://example.com/redirect_T1", false},
		{in, "http://ds2.example.com/live2", "10.0.0.1", "", true, 0, 0, RegionalGeoAlternateWithCache, "/path/redirect_T2", false},
		{in, "http://ds2.example.com/live4", "129.100.254.2", "", false, 0, 0, RegionalGeoAllowed, "", true},
		{"ds-geoblock-redirect-https", "http://ds2.example.com/httpsredirect", "129.100.254.2", "", false, 0, 0, RegionalGeoAlternateWithoutCache, "https://example.com/redirect_https", false},
		{"ds-steering-1", "http://ds2.example.com/steering", "129.100.254.4", "", false, 0, 0, RegionalGeoAlternateWithoutCache, "https://example.com/steering-test", false},
		{in, "http://ds2.example.com/live4", "129.202.254.2", "N7G", true, 0, 0, RegionalGeoAlternateWithCache, "/redirect_T4", false},
		{in, "http://ds2.example.com/live4", "129.202.254.2", "N6G", true, 0, 0, RegionalGeoAllowed, "", false},
		// Case-insensitive full match of the URL regex.
		{ex, "HTTP://DS1.EXAMPLE.COM/LIVE1", "10.0.0.1", "N7G", true, 0, 0, RegionalGeoAllowed, "", false},
	} {
		got := EnforceRegionalGeo(rg, tc.ds, []byte(tc.url), netip.MustParseAddr(tc.ip), tc.postal, tc.hasPostal, tc.lat, tc.lon)
		if got.Outcome != tc.want || got.URL != tc.wantURL || got.Whitelisted != tc.whitelisted || got.Fallback {
			t.Errorf("%d %s %s %s %q: %+v, want outcome %d url %q", i, tc.ds, tc.url, tc.ip, tc.postal, got, tc.want, tc.wantURL)
		}
	}
	// Rules never loaded: denied, fallback.
	if got := EnforceRegionalGeo(nil, ex, []byte("http://ds1.example.com/live1"), netip.MustParseAddr("10.0.0.1"), "", false, 0, 0); got.Outcome != RegionalGeoDenied || !got.Fallback {
		t.Errorf("no rules: %+v", got)
	}
}

func TestRegionalGeoClient(t *testing.T) {
	for _, tc := range []struct {
		postal, want string
		has          bool
		wantLat      float64
	}{{"V5G 1A1", "V5G", true, 0}, {"N6G", "N6G", true, 10}, {"", "", false, 10}} {
		p, has, lat, _ := RegionalGeoClient(geo.Location{PostalCode: tc.postal, Latitude: 10, Longitude: 20}, true)
		if p != tc.want || has != tc.has || lat != tc.wantLat {
			t.Errorf("%q: %q %v %v", tc.postal, p, has, lat)
		}
	}
}
