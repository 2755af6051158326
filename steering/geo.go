package steering

import (
	"cmp"
	"slices"

	"github.com/signpost-cdn/signpost/geo"
)

// GeoKey is what the CLIENT_STEERING geolocation sort needs of one result
// (spec §8.4): the target's order, geo order and origin location, and the
// location of the cache chosen for it (its cache group's coordinates).
type GeoKey struct {
	Order, GeoOrder int64
	// HasOrigin is the target's HasGeo; OriginLat/OriginLon its origin.
	HasOrigin            bool
	OriginLat, OriginLon float64
	// CacheLat/CacheLon locate the chosen cache.
	CacheLat, CacheLon float64
	// Index is the caller's; SortByGeo moves it with its key.
	Index int32
}

// Compare is Traffic Router's SteeringGeolocationComparator for a client at
// (lat, lon): results with an origin location come first; with the same
// cache and origin locations the lower geo order first; otherwise the
// smaller total distance client→cache→origin first, and on equal totals the
// nearer cache.
func Compare(lat, lon float64, a, b *GeoKey) int {
	switch {
	case a.HasOrigin && !b.HasOrigin:
		return -1
	case !a.HasOrigin && b.HasOrigin:
		return 1
	case !a.HasOrigin && !b.HasOrigin:
		return 0
	}
	if a.CacheLat == b.CacheLat && a.CacheLon == b.CacheLon && a.OriginLat == b.OriginLat && a.OriginLon == b.OriginLon {
		return cmp.Compare(a.GeoOrder, b.GeoOrder)
	}
	ca := geo.Distance(lat, lon, a.CacheLat, a.CacheLon)
	cb := geo.Distance(lat, lon, b.CacheLat, b.CacheLon)
	ta := ca + geo.Distance(a.CacheLat, a.CacheLon, a.OriginLat, a.OriginLon)
	tb := cb + geo.Distance(b.CacheLat, b.CacheLon, b.OriginLat, b.OriginLon)
	if ta == tb {
		return javaDoubleCompare(ca, cb)
	}
	return javaDoubleCompare(ta, tb)
}

// javaDoubleCompare is Double.compare for the finite, non-negative
// distances compared here (NaN last).
func javaDoubleCompare(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	case a != a && b != b:
		return 0
	case a != a:
		return 1
	}
	return -1
}

// SortByGeo applies Traffic Router's geoSortSteeringResults once the
// client is located at (lat, lon): a stable sort of keys by Compare, then a
// stable sort by target order. Both sorts follow Java's TimSort for short
// arrays (run detection, then binary insertion), so that even the
// comparator's non-transitive corners order as Traffic Router does (for 32
// results or more TimSort merges runs; the binary insertion used here agrees
// with it whenever the comparator is consistent). Callers find their
// results again through GeoKey.Index. It does not allocate.
func SortByGeo(keys []GeoKey, lat, lon float64) {
	timSort(keys, byGeo, lat, lon)
	timSort(keys, byOrder, lat, lon)
}

type sortMode uint8

const (
	byGeo sortMode = iota
	byOrder
)

func compareBy(m sortMode, lat, lon float64, a, b *GeoKey) int {
	if m == byOrder {
		return cmp.Compare(a.Order, b.Order)
	}
	return Compare(lat, lon, a, b)
}

// timSort sorts s stably as java.util.TimSort does for short arrays.
func timSort(s []GeoKey, m sortMode, lat, lon float64) {
	n := len(s)
	if n < 2 {
		return
	}
	run := 2
	if compareBy(m, lat, lon, &s[1], &s[0]) < 0 {
		for run < n && compareBy(m, lat, lon, &s[run], &s[run-1]) < 0 {
			run++
		}
		slices.Reverse(s[:run])
	} else {
		for run < n && compareBy(m, lat, lon, &s[run], &s[run-1]) >= 0 {
			run++
		}
	}
	for start := run; start < n; start++ {
		pivot := s[start]
		left, right := 0, start
		for left < right {
			mid := int(uint(left+right) >> 1)
			if compareBy(m, lat, lon, &pivot, &s[mid]) < 0 {
				right = mid
			} else {
				left = mid + 1
			}
		}
		copy(s[left+1:start+1], s[left:start])
		s[left] = pivot
	}
}
