package router

import (
	"net/netip"
	"testing"

	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/router/routertest"
)

func fixtureTable(tb testing.TB) *Table {
	tb.Helper()
	tab, err := NewBuilder(hashring.MD5, nil).Build(routertest.LoadSet(tb, fixture.DefaultDir(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	return tab
}

func httpReq(host, path, query, client string) *Request {
	return &Request{Host: []byte(host), Path: []byte(path), RawQuery: []byte(query),
		Client: netip.MustParseAddr(client).Unmap(), HTTP: true}
}

func (t *Table) cacheIDs(ids []int32) []string {
	out := make([]string, len(ids))
	for i, ci := range ids {
		out[i] = t.caches[ci].ID
	}
	return out
}

// TestHTTPVectors holds the routing part of spec 15.3 (the Location URL
// itself is the HTTP server's; here the cache and its reference FQDN).
func TestHTTPVectors(t *testing.T) {
	tab := fixtureTable(t)
	for _, tc := range []struct {
		name               string
		req                *Request
		secure             bool
		wantType           ResultType
		wantDetail         ResultDetail
		wantCache, wantRef string
		wantLoc            string
	}{
		{"R1", httpReq("tr.http-only-test.thecdn.example.com", "/stuff", "fakeClientIpAddress=12.34.0.123", "12.34.0.123"), false,
			ResultCZ, DetailDSCZBackupCG, "edge-cache-002", "edge-cache-001.http-only-test.thecdn.example.com", "location-0"},
		{"R4", httpReq("foo.invalid-delivery-service-id.bar", "/", "", "12.34.0.123"), false,
			ResultDSMiss, DetailDSNotFound, "", "", ""},
		{"R5", httpReq("tr.https-only-test.bar", "/stuff", "", "12.34.0.123"), false,
			ResultError, DetailDSTLSMismatch, "", "", ""},
		{"R6", httpReq("tr.https-only-test.thecdn.example.com", "/stuff", "fakeClientIpAddress=12.34.0.123", "12.34.0.123"), true,
			ResultCZ, DetailDSCZBackupCG, "edge-cache-002", "edge-cache-002.https-only-test.thecdn.example.com", "location-0"},
		{"R7", httpReq("tr.http-to-https-test.bar", "/stuff", "fakeClientIpAddress=12.34.7.9", "12.34.7.9"), false,
			ResultCZ, DetailDSCZBackupCG, "edge-cache-071", "edge-cache-071.http-to-https-test.thecdn.example.com", "location-7"},
		{"R8", httpReq("tr.http-and-https-test.bar", "/stuff", "fakeClientIpAddress=12.34.8.77", "12.34.8.77"), false,
			ResultCZ, DetailDSCZBackupCG, "edge-cache-081", "edge-cache-081.http-and-https-test.thecdn.example.com", "location-8"},
		{"R8s", httpReq("tr.http-and-https-test.bar", "/stuff", "fakeClientIpAddress=12.34.8.77", "12.34.8.77"), true,
			ResultCZ, DetailDSCZBackupCG, "edge-cache-081", "edge-cache-081.http-and-https-test.thecdn.example.com", "location-8"},
		{"R9", httpReq("tr.csd-target-1.bar", "/stuff", "", "12.34.0.123"), true,
			ResultError, DetailDSTLSMismatch, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Secure = tc.secure
			var sc Scratch
			var sel Selection
			if err := tab.RouteHTTP(tc.req, &sc, &sel); err != nil {
				t.Fatal(err)
			}
			if sel.Type != tc.wantType || sel.Detail != tc.wantDetail {
				t.Fatalf("result %v/%v, want %v/%v", sel.Type, sel.Detail, tc.wantType, tc.wantDetail)
			}
			if tc.wantCache == "" {
				if len(sel.Caches) != 0 {
					t.Fatalf("caches %v, want none", tab.cacheIDs(sel.Caches))
				}
				return
			}
			if len(sel.Caches) == 0 {
				t.Fatal("no cache chosen")
			}
			c := &tab.caches[sel.Caches[0]]
			if c.ID != tc.wantCache {
				t.Errorf("cache %s, want %s (order %v)", c.ID, tc.wantCache, tab.cacheIDs(sel.Caches))
			}
			if ref, _ := c.Reference(sel.DS.Index); ref != tc.wantRef {
				t.Errorf("reference %s, want %s", ref, tc.wantRef)
			}
			if sel.LocName != tc.wantLoc {
				t.Errorf("location %s, want %s", sel.LocName, tc.wantLoc)
			}
		})
	}
}

// TestConsistentHashVectors holds C1-C4 and C6-C10 of spec 15.2 through the
// full HTTP selection (deterministic: dispersion limit 1).
func TestConsistentHashVectors(t *testing.T) {
	tab := fixtureTable(t)
	for _, tc := range []struct {
		host, path, client, want string
	}{
		{"tr.https-only-test.thecdn.example.com", "/stuff", "12.34.0.123", "edge-cache-002"},
		{"tr.https-only-test.thecdn.example.com", "/some/path/thing", "12.34.0.123", "edge-cache-001"},
		{"tr.https-only-test.thecdn.example.com", "/another/different/path", "12.34.0.123", "edge-cache-002"},
		{"tr.http-to-https-test.thecdn.example.com", "/stuff", "12.34.7.9", "edge-cache-071"},
		{"tr.http-and-https-test.thecdn.example.com", "/stuff", "12.34.8.1", "edge-cache-081"},
	} {
		req := httpReq(tc.host, tc.path, "", tc.client)
		req.Secure = true
		var sc Scratch
		var sel Selection
		if err := tab.RouteHTTP(req, &sc, &sel); err != nil || len(sel.Caches) == 0 {
			t.Fatalf("%s%s: %v %v/%v", tc.host, tc.path, err, sel.Type, sel.Detail)
		}
		if got := tab.caches[sel.Caches[0]].ID; got != tc.want {
			t.Errorf("%s%s from %s: %s, want %s", tc.host, tc.path, tc.client, got, tc.want)
		}
	}
}

func dnsReq(qname, client string, v6 bool) *Request {
	return &Request{Host: []byte(qname), Client: netip.MustParseAddr(client), V6: v6}
}

// TestDNSVectors holds the routing part of D2-D4 (spec 15.4).
func TestDNSVectors(t *testing.T) {
	tab := fixtureTable(t)
	var sc Scratch
	var sel Selection

	// D2: dns-test from 12.34.0.5: 2 of {12.34.0.100, .101, .102}.
	if !tab.RouteDNS(dnsReq("edge.dns-test.thecdn.example.com", "12.34.0.5", false), &sc, &sel) {
		t.Fatal("D2: not a routing name")
	}
	if sel.Type != ResultCZ || len(sel.Caches) != 2 {
		t.Fatalf("D2: %v/%v caches %v", sel.Type, sel.Detail, tab.cacheIDs(sel.Caches))
	}
	for _, ci := range sel.Caches {
		if a := tab.caches[ci].IP.String(); a != "12.34.0.100" && a != "12.34.0.101" && a != "12.34.0.102" {
			t.Errorf("D2: address %s", a)
		}
	}

	// D3: federation-test from 12.34.10.1 (CZ miss): CNAME foo.kabletown.net.
	if !tab.RouteDNS(dnsReq("edge.federation-test.thecdn.example.com", "12.34.10.1", false), &sc, &sel) {
		t.Fatal("D3: not a routing name")
	}
	if sel.Type != ResultFed || sel.Federation == nil || sel.Federation.CNAME != "foo.kabletown.net." {
		t.Fatalf("D3: %v/%v %+v", sel.Type, sel.Detail, sel.Federation)
	}

	// D4: federation-test from 12.34.0.5: CZ (closest with caches,
	// location-4), all three caches.
	if !tab.RouteDNS(dnsReq("edge.federation-test.thecdn.example.com", "12.34.0.5", false), &sc, &sel) {
		t.Fatal("D4: not a routing name")
	}
	if sel.Type != ResultCZ || sel.LocName != "location-4" || len(sel.Caches) != 3 {
		t.Fatalf("D4: %v/%v %s caches %v", sel.Type, sel.Detail, sel.LocName, tab.cacheIDs(sel.Caches))
	}

	// Not a routing name: the zone answers.
	if tab.RouteDNS(dnsReq("mm.steering-test-1.thecdn.example.com", "12.34.0.5", false), &sc, &sel) {
		t.Fatal("mm.steering-test-1 must not be a routing name")
	}
}
