package router

import (
	"slices"
	"strings"
	"testing"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/router/routertest"
)

// steer routes req (matched to a steering delivery service) with option.
func steer(t *testing.T, tab *Table, req *Request, option string) (bool, *Selection, *MultiSelection) {
	t.Helper()
	var sc Scratch
	sel := new(Selection)
	ms := new(MultiSelection)
	ds := tab.MatchDS(req, &sc)
	if ds == nil || tab.SteeringEntry(ds) == nil {
		t.Fatalf("%s is not a steering delivery service", req.Host)
	}
	multi, err := tab.RouteSteering(ds, req, []byte(option), &sc, ms, sel)
	if err != nil {
		t.Fatal(err)
	}
	return multi, sel, ms
}

// TestSteeringVectors holds spec 15.3 R11-R13 (STEERING, single route).
func TestSteeringVectors(t *testing.T) {
	tab := fixtureTable(t)
	const path = "/qwerytuiop/force-to-target-2/asdfghjkl"
	for _, tc := range []struct {
		name, path, option string
		wantDS, wantCache  string
	}{
		{"R11", path, "", "steering-target-2", "edge-cache-032"},
		{"R12", path, "steering-target-1", "steering-target-1", "edge-cache-032"},
		{"R13", path, "ds-02", "", ""},
		{"filter-1", "/qwerytuiop/force-to-target-1/asdfghjkl", "", "steering-target-1", ""},
		{"ring", "/stuff", "", "steering-target-2", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httpReq("foo.steering-test-1.thecdn.example.com", tc.path, "fakeClientIpAddress=12.34.3.5", "12.34.3.5")
			multi, sel, _ := steer(t, tab, req, tc.option)
			if multi {
				t.Fatal("multi")
			}
			if tc.wantDS == "" {
				if sel.DS != nil || sel.Type != ResultDSMiss || sel.Detail != DetailDSNotFound {
					t.Fatalf("got %v %v/%v, want DS_MISS", sel.DS, sel.Type, sel.Detail)
				}
				return
			}
			if sel.DS == nil || sel.DS.ID != tc.wantDS {
				t.Fatalf("target %v, want %s", sel.DS, tc.wantDS)
			}
			if len(sel.Caches) == 0 {
				t.Fatalf("no cache: %v/%v", sel.Type, sel.Detail)
			}
			if c := tab.caches[sel.Caches[0]]; tc.wantCache != "" && c.ID != tc.wantCache {
				t.Errorf("cache %s, want %s", c.ID, tc.wantCache)
			}
			if ref, _ := tab.caches[sel.Caches[0]].Reference(sel.DS.Index); !strings.Contains(ref, "."+tc.wantDS+".") {
				t.Errorf("reference %q", ref)
			}
		})
	}
	// SteeringTarget of a plain delivery service is itself.
	var sc Scratch
	ds, _ := tab.DeliveryService("http-only-test")
	if got, _ := tab.SteeringTarget(ds, httpReq("x", "/", "", "1.2.3.4"), nil, &sc); got != ds {
		t.Errorf("plain service: %v", got)
	}
}

// TestSteeringSplit: the weighted split of steering-test-1 is about
// 10%/90% (spec 8.3, ±0.9%).
func TestSteeringSplit(t *testing.T) {
	tab := fixtureTable(t)
	ds, _ := tab.DeliveryService("steering-test-1")
	var sc Scratch
	n, one := 20000, 0
	for i := range n {
		req := httpReq("foo.steering-test-1.thecdn.example.com", "/asset/"+strings.Repeat("x", i%7)+itoa(i)+".ts", "", "12.34.3.5")
		tg, err := tab.SteeringTarget(ds, req, nil, &sc)
		if err != nil || tg == nil {
			t.Fatal(err)
		}
		if tg.ID == "steering-target-1" {
			one++
		}
	}
	if share := float64(one) / float64(n); share < 0.091 || share > 0.109 {
		t.Errorf("steering-target-1 share %.4f, want 0.10±0.009", share)
	}
}

func itoa(i int) string {
	var b [20]byte
	k := len(b)
	for {
		k--
		b[k] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[k:])
		}
	}
}

func resultIDs(ms *MultiSelection) (targets, caches []string) {
	for _, r := range ms.Results {
		targets = append(targets, r.Target.ID)
		caches = append(caches, r.Cache.ID)
	}
	return targets, caches
}

// TestClientSteeringVectors holds spec 15.3 R14-R16 (CLIENT_STEERING).
func TestClientSteeringVectors(t *testing.T) {
	tab := fixtureTable(t)
	t.Run("R14", func(t *testing.T) {
		req := httpReq("tr.client-steering-test-1.thecdn.example.com", "/qwerytuiop/asdfghjkl", "fakeClientIpAddress=12.34.56.78", "12.34.56.78")
		multi, _, ms := steer(t, tab, req, "")
		targets, _ := resultIDs(ms)
		if !multi || !slices.Equal(targets, []string{"client-steering-target-2", "client-steering-target-1"}) {
			t.Fatalf("multi %v targets %v (%v/%v)", multi, targets, ms.Type, ms.Detail)
		}
	})
	t.Run("R15", func(t *testing.T) {
		req := httpReq("tr.client-steering-test-2.thecdn.example.com", "/qwerytuiop/asdfghjkl", "fakeClientIpAddress=12.34.56.78", "12.34.56.78")
		_, _, ms := steer(t, tab, req, "")
		targets, _ := resultIDs(ms)
		want := []string{"steering-target-2", "steering-target-1", "client-steering-target-2", "client-steering-target-4",
			"client-steering-target-3", "client-steering-target-1", "steering-target-4", "steering-target-3"}
		if !slices.Equal(targets, want) {
			t.Fatalf("targets %v\n want %v (%v/%v)", targets, want, ms.Type, ms.Detail)
		}
	})
	t.Run("R16", func(t *testing.T) {
		req := httpReq("cdn.client-steering-diversity-test.thecdn.example.com", "/foo", "fakeClientIpAddress=192.168.42.10", "192.168.42.10")
		_, _, ms := steer(t, tab, req, "")
		targets, caches := resultIDs(ms)
		if want := []string{"csd-target-4", "csd-target-2", "csd-target-3", "csd-target-5", "csd-target-1"}; !slices.Equal(targets, want) {
			t.Fatalf("targets %v, want %v", targets, want)
		}
		if want := []string{"edge-cache-csd-1", "edge-cache-csd-2", "edge-cache-csd-3", "edge-cache-csd-1", "edge-cache-csd-1"}; !slices.Equal(caches, want) {
			t.Errorf("caches %v, want %v", caches, want)
		}
		var types []string
		for _, r := range ms.Results {
			types = append(types, r.Type.String())
		}
		// csd-target-4 and -5 are not deep caching services (GEO via the
		// miss location); -3 found its cache outside the deep zone but
		// keeps DEEP_CZ, as Traffic Router does.
		if want := []string{"GEO", "DEEP_CZ", "DEEP_CZ", "GEO", "DEEP_CZ"}; !slices.Equal(types, want) {
			t.Errorf("result types %v, want %v", types, want)
		}
		if ms.Type != ms.Results[0].Type {
			t.Errorf("rtype %v, first result %v", ms.Type, ms.Results[0].Type)
		}
	})
	t.Run("option", func(t *testing.T) {
		req := httpReq("tr.client-steering-test-1.thecdn.example.com", "/qwerytuiop/asdfghjkl", "", "12.34.56.78")
		_, _, ms := steer(t, tab, req, "client-steering-target-1")
		if targets, _ := resultIDs(ms); !slices.Equal(targets, []string{"client-steering-target-1"}) {
			t.Errorf("option: %v", targets)
		}
		_, _, ms = steer(t, tab, req, "ds-02")
		if len(ms.Results) != 0 || ms.Type != ResultDSMiss || ms.Detail != DetailDSNotFound {
			t.Errorf("option ds-02: %d results %v/%v", len(ms.Results), ms.Type, ms.Detail)
		}
	})
}

// geoSteeringSet is the fixture with client-steering-test-1's targets
// turned into STEERING_GEO_ORDER targets with origins, and
// client-steering-test-2 removed.
func geoSteeringSet(t *testing.T, targets string) *control.Set {
	t.Helper()
	set := routertest.LoadSet(t, fixture.DefaultDir(t))
	s, err := control.ParseSteering("steering.json", []byte(`{"response":[{"deliveryService":"client-steering-test-1","clientSteering":true,
		"targets":`+targets+`}]}`))
	if err != nil {
		t.Fatal(err)
	}
	set.Steering = s
	return set
}

// TestClientSteeringGeo: STEERING_GEO_ORDER targets are grouped by origin
// and ordered by distance from the client (located by its coverage zone);
// the lower geoOrder wins within an origin; targets without origin last.
func TestClientSteeringGeo(t *testing.T) {
	tab0 := fixtureTable(t)
	// Where are the target caches for this client?
	req := httpReq("tr.client-steering-test-1.thecdn.example.com", "/qwerytuiop/asdfghjkl", "", "12.34.3.5")
	_, _, ms0 := steer(t, tab0, req, "")
	if len(ms0.Results) != 2 {
		t.Fatalf("results %d", len(ms0.Results))
	}
	c := &tab0.locs[ms0.Results[0].Cache.Loc]
	// Origins: target-1 at its cache (total = client→cache), target-2 on
	// the other side of the earth (far), so target-1 comes first; with
	// the same origin the geoOrder decides.
	for _, tc := range []struct {
		name, targets string
		want          []string
	}{
		{"distance", `[{"deliveryService":"client-steering-target-1","weight":5000,"geoOrder":0,"latitude":` + ftoa(c.Latitude) + `,"longitude":` + ftoa(c.Longitude) + `},
			{"deliveryService":"client-steering-target-2","weight":5000,"geoOrder":0,"latitude":-40,"longitude":100}]`,
			[]string{"client-steering-target-1", "client-steering-target-2"}},
		{"geoOrder", `[{"deliveryService":"client-steering-target-1","weight":5000,"geoOrder":2,"latitude":10,"longitude":10},
			{"deliveryService":"client-steering-target-2","weight":5000,"geoOrder":1,"latitude":10,"longitude":10}]`,
			nil},
		{"no origin last", `[{"deliveryService":"client-steering-target-2","weight":5000},
			{"deliveryService":"client-steering-target-1","weight":5000,"latitude":10,"longitude":10}]`,
			[]string{"client-steering-target-1", "client-steering-target-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := NewBuilder(hashring.MD5, nil).Build(geoSteeringSet(t, tc.targets))
			if err != nil {
				t.Fatal(err)
			}
			_, _, ms := steer(t, tab, req, "")
			targets, _ := resultIDs(ms)
			want := tc.want
			if want == nil {
				// Same origin: the geoOrder decides only between results
				// whose caches are in the same cache group too.
				if ms.Results[0].Cache.Loc == ms.Results[1].Cache.Loc {
					want = []string{"client-steering-target-2", "client-steering-target-1"}
				} else {
					want = targets
				}
			}
			if !slices.Equal(targets, want) {
				t.Errorf("%v, want %v", targets, want)
			}
		})
	}
}

func ftoa(f float64) string {
	return strings.TrimRight(strings.TrimRight(strconvF(f), "0"), ".")
}
