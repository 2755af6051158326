package steering

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

var (
	seattle = [2]float64{47, -122}
	denver  = [2]float64{39, -104}
	boston  = [2]float64{42, -71}
)

func colocated(p [2]float64, geoOrder int64) GeoKey {
	return GeoKey{HasOrigin: true, OriginLat: p[0], OriginLon: p[1], CacheLat: p[0], CacheLon: p[1], GeoOrder: geoOrder}
}

// TestComparator holds the SteeringGeolocationComparatorTest vectors of
// spec §15.5 for a client in Seattle.
func TestComparator(t *testing.T) {
	lat, lon := seattle[0], seattle[1]
	s, d, b := colocated(seattle, 0), colocated(denver, 0), colocated(boston, 0)
	for _, tc := range []struct {
		name string
		a, b GeoKey
		want int
	}{
		{"seattle<denver", s, d, -1},
		{"denver<boston", d, b, -1},
		{"seattle<boston", s, b, -1},
		{"boston>denver", b, d, 1},
		{"same locations: lower geoOrder", colocated(denver, 1), colocated(denver, 2), -1},
		{"same locations: higher geoOrder", colocated(denver, 3), colocated(denver, 2), 1},
		{"same locations and geoOrder", colocated(denver, 2), colocated(denver, 2), 0},
		{"no origin sorts after", GeoKey{CacheLat: 47, CacheLon: -122}, b, 1},
		{"origin sorts before none", b, GeoKey{}, -1},
		{"neither has an origin", GeoKey{GeoOrder: 1}, GeoKey{GeoOrder: 2}, 0},
		// Cache in Seattle with the origin in Boston is farther in total
		// than cache and origin in Denver.
		{"total distance", GeoKey{HasOrigin: true, OriginLat: boston[0], OriginLon: boston[1], CacheLat: seattle[0], CacheLon: seattle[1]}, d, 1},
		// Equal totals (client→cache→origin is Seattle→Seattle→Denver
		// against Seattle→Denver→Denver): the nearer cache first.
		{"equal totals: nearer cache", GeoKey{HasOrigin: true, OriginLat: denver[0], OriginLon: denver[1], CacheLat: seattle[0], CacheLon: seattle[1]},
			d, -1},
		{"equal totals: farther cache", d,
			GeoKey{HasOrigin: true, OriginLat: denver[0], OriginLon: denver[1], CacheLat: seattle[0], CacheLon: seattle[1]}, 1},
	} {
		if got := Compare(lat, lon, &tc.a, &tc.b); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// sorted sorts named keys and returns the names in order.
func sorted(names []string, keys []GeoKey) []string {
	for i := range keys {
		keys[i].Index = int32(i)
	}
	SortByGeo(keys, seattle[0], seattle[1])
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = names[k.Index]
	}
	return out
}

// TestGeoSort is GeoSortSteeringResultsTest (spec §15.5): (order −1 no
// geo), (order 1 no geo), (order 0 no geo), (order 0 geo) sort to
// [order −1, geo/0, nogeo/0, order 1].
func TestGeoSort(t *testing.T) {
	got := sorted([]string{"neg", "one", "nogeo0", "geo0"}, []GeoKey{{Order: -1}, {Order: 1}, {Order: 0}, colocated(denver, 0)})
	if want := []string{"neg", "geo0", "nogeo0", "one"}; !slices.Equal(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
	// Targets grouped by origin location, ordered by distance from the
	// client, geo order inside a location (STEERING_GEO_ORDER).
	got = sorted([]string{"boston", "denver-2", "seattle", "denver-1"},
		[]GeoKey{colocated(boston, 0), colocated(denver, 2), colocated(seattle, 5), colocated(denver, 1)})
	if want := []string{"seattle", "denver-1", "denver-2", "boston"}; !slices.Equal(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
}

// TestTimSortStable: for consistent comparators the TimSort emulation is
// a stable sort, for every length across the binary-insertion limit.
func TestTimSortStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 70 {
		for range 20 {
			s := make([]GeoKey, n)
			for i := range s {
				s[i] = GeoKey{Order: int64(rng.IntN(5)), Index: int32(i)}
			}
			want := slices.Clone(s)
			slices.SortStableFunc(want, func(a, b GeoKey) int { return cmp.Compare(a.Order, b.Order) })
			timSort(s, byOrder, 0, 0)
			if !slices.Equal(s, want) {
				t.Fatalf("n %d: %v, want %v", n, s, want)
			}
		}
	}
}
