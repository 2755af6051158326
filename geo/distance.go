package geo

import "math"

// EarthRadiusKm is the mean Earth radius Traffic Router uses (km).
const EarthRadiusKm = 6371.0

// degToRad is Java's Math.toRadians factor (JDK 9 and later multiply by
// this constant), the float64 nearest to π/180.
const degToRad = 0.017453292519943295

// Distance returns the great-circle distance in kilometres between two
// points given in degrees, with exactly Traffic Router's haversine formula
// (spec §4.5, Geolocation.getDistanceFrom):
//
//	dLat = rad(lat1-lat2); dLon = rad(lon1-lon2)
//	a = sin(dLat/2)·sin(dLat/2) + cos(rad lat1)·cos(rad lat2)·sin(dLon/2)·sin(dLon/2)
//	d = 6371.0 · 2·atan2(√a, √(1−a))
//
// The operations are evaluated in Java's order and each product is rounded
// on its own (no fused multiply-add on any architecture), so results match
// the Java implementation up to the last-bit differences of the sin/cos
// implementations. Distance is symmetric in its two points and 0 for equal
// points.
//
// A NaN input yields NaN, as do infinite inputs. Traffic Router puts a
// location without coordinates at +∞; callers that sort by distance map
// such locations (and NaN results) to math.Inf(1) themselves, so that the
// stable sort puts them last.
func Distance(lat1, lon1, lat2, lon2 float64) float64 {
	dLat := (lat1 - lat2) * degToRad
	dLon := (lon1 - lon2) * degToRad
	sLat := math.Sin(dLat / 2)
	sLon := math.Sin(dLon / 2)
	// float64(...) conversions forbid fusing the products into the sum.
	a := float64(sLat*sLat) + float64(float64(float64(math.Cos(lat1*degToRad)*math.Cos(lat2*degToRad))*sLon)*sLon)
	c := 2 * math.Atan2(math.Sqrt(a), math.Sqrt(1-a))
	return EarthRadiusKm * c
}
