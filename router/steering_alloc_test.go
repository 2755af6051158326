//go:build !race

package router

import "testing"

// TestSteeringAllocs: choosing a steering target and its cache (filter,
// option, weighted ring) and a whole CLIENT_STEERING answer allocate
// nothing. (A consistentHashRegex that matches costs one allocation, see
// appendPatternString; the paths here do not match steering-test-1's.)
func TestSteeringAllocs(t *testing.T) {
	tab := fixtureTable(t)
	for _, tc := range []struct {
		name   string
		req    *Request
		option string
	}{
		{"filter", httpReq("foo.steering-test-1.thecdn.example.com", "/qwerytuiop/force-to-target-2/asdfghjkl", "", "12.34.3.5"), ""},
		{"ring", httpReq("foo.steering-test-1.thecdn.example.com", "/stuff", "", "12.34.3.5"), ""},
		{"option", httpReq("foo.steering-test-1.thecdn.example.com", "/stuff", "", "12.34.3.5"), "steering-target-1"},
		{"client-2", httpReq("tr.client-steering-test-1.thecdn.example.com", "/qwerytuiop/asdfghjkl", "", "12.34.56.78"), ""},
		{"client-8", httpReq("tr.client-steering-test-2.thecdn.example.com", "/qwerytuiop/asdfghjkl", "", "12.34.56.78"), ""},
		{"client-diversity-5", httpReq("cdn.client-steering-diversity-test.thecdn.example.com", "/foo", "", "192.168.42.10"), ""},
	} {
		var sc Scratch
		var sel Selection
		var ms MultiSelection
		ds := tab.MatchDS(tc.req, &sc)
		opt := []byte(tc.option)
		run := func() { _, _ = tab.RouteSteering(ds, tc.req, opt, &sc, &ms, &sel) }
		run()
		if n := testing.AllocsPerRun(200, run); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", tc.name, n)
		}
	}
}
