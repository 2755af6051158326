package router

import "testing"

func benchSteering(b *testing.B, req *Request, option string) {
	tab := fixtureTable(b)
	var sc Scratch
	var sel Selection
	var ms MultiSelection
	opt := []byte(option)
	b.ReportAllocs()
	for b.Loop() {
		ds := tab.MatchDS(req, &sc)
		if _, err := tab.RouteSteering(ds, req, opt, &sc, &ms, &sel); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSteering: STEERING, target by the weighted ring, then the
// target's cache.
func BenchmarkSteering(b *testing.B) {
	benchSteering(b, httpReq("foo.steering-test-1.thecdn.example.com", "/stuff", "", "12.34.3.5"), "")
}

// BenchmarkSteeringFilter: STEERING, target pinned by a filter.
func BenchmarkSteeringFilter(b *testing.B) {
	benchSteering(b, httpReq("foo.steering-test-1.thecdn.example.com", "/qwerytuiop/force-to-target-2/asdfghjkl", "", "12.34.3.5"), "")
}

// BenchmarkClientSteering5: CLIENT_STEERING with five targets (deep
// caching, diversity).
func BenchmarkClientSteering5(b *testing.B) {
	benchSteering(b, httpReq("cdn.client-steering-diversity-test.thecdn.example.com", "/foo", "", "192.168.42.10"), "")
}
