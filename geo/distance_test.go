package geo

import (
	"math"
	"testing"
)

// Vectors computed by hand (Python, C libm) with the formula of spec §4.5:
// r = 0.017453292519943295; dLat = (lat1-lat2)·r; dLon = (lon1-lon2)·r;
// a = sin(dLat/2)² + cos(lat1·r)·cos(lat2·r)·sin(dLon/2)²;
// d = 6371.0·2·atan2(√a, √(1−a)).
func TestDistanceVectors(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want                   float64
	}{
		// The points of SteeringGeolocationComparatorTest (spec §15.5).
		{"seattle-denver", 47, -122, 39, -104, 1706.8266426458943},
		{"denver-boston", 39, -104, 42, -71, 2792.676908224883},
		{"seattle-boston", 47, -122, 42, -71, 4010.505951230411},
		{"denver-seattle downtown", 39.7392, -104.9903, 47.6062, -122.3321, 1640.7363103473933},
		{"london-tokyo (test DB records)", 51.5142, -0.0931, 35.68536, 139.75309, 9559.461729974484},
		{"US override to a missLocation", 37.751, -97.822, 41.88, -87.63, 983.2241685010791},
		{"quarter circle", 0, 0, 0, 90, 6371 * math.Pi / 2},
		{"half circle on the equator", 0, 0, 0, 180, 6371 * math.Pi},
		{"pole to pole", 90, 0, -90, 0, 6371 * math.Pi},
		{"across the antimeridian", 0, 179.5, 0, -179.5, 111.19492664455905},
	} {
		got := Distance(tc.lat1, tc.lon1, tc.lat2, tc.lon2)
		if math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: Distance(%v, %v, %v, %v) = %v, want %v", tc.name, tc.lat1, tc.lon1, tc.lat2, tc.lon2, got, tc.want)
		}
		if back := Distance(tc.lat2, tc.lon2, tc.lat1, tc.lon1); back != got {
			t.Errorf("%s: not symmetric: %v vs %v", tc.name, got, back)
		}
	}
	// The steering comparator's order (spec §15.5): from Seattle, Seattle <
	// Denver < Boston.
	s, d, b := Distance(47, -122, 47, -122), Distance(47, -122, 39, -104), Distance(47, -122, 42, -71)
	if !(s < d && d < b) {
		t.Errorf("seattle %v, denver %v, boston %v: want increasing", s, d, b)
	}
}

func TestDistanceConstants(t *testing.T) {
	// Java's Math.toRadians constant is the float64 nearest to π/180.
	var piOver180 float64 = math.Pi / 180
	var java float64 = degToRad
	if java != piOver180 {
		t.Errorf("degToRad %v != float64(π/180) %v", java, piOver180)
	}
}

func TestDistanceSymmetricAndZero(t *testing.T) {
	pts := []float64{-90, -89.999, -45.5, -1e-9, 0, 1e-9, 12.34567, 45.5, 89.999, 90}
	lons := []float64{-180, -179.999, -97.822, -0.5, 0, 0.5, 55, 139.75309, 179.999, 180}
	for _, lat1 := range pts {
		for _, lon1 := range lons {
			if d := Distance(lat1, lon1, lat1, lon1); d != 0 {
				t.Errorf("Distance to itself (%v, %v) = %v", lat1, lon1, d)
			}
			for _, lat2 := range pts {
				for _, lon2 := range lons {
					d1, d2 := Distance(lat1, lon1, lat2, lon2), Distance(lat2, lon2, lat1, lon1)
					if d1 != d2 {
						t.Fatalf("Distance(%v,%v,%v,%v) = %v but reversed %v", lat1, lon1, lat2, lon2, d1, d2)
					}
					if d1 < 0 || d1 > 6371*math.Pi+1e-9 || math.IsNaN(d1) {
						t.Fatalf("Distance(%v,%v,%v,%v) = %v out of [0, πR]", lat1, lon1, lat2, lon2, d1)
					}
				}
			}
		}
	}
}

func TestDistanceNaN(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, in := range [][4]float64{
		{nan, 0, 0, 0}, {0, nan, 0, 0}, {0, 0, nan, 0}, {0, 0, 0, nan},
		{inf, 0, 0, 0}, {0, 0, 0, -inf},
	} {
		if d := Distance(in[0], in[1], in[2], in[3]); !math.IsNaN(d) {
			t.Errorf("Distance(%v) = %v, want NaN", in, d)
		}
	}
}
