package httpserver

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/signpost-cdn/signpost/control"
)

type locations struct {
	Locations []string `json:"locations"`
}

func decodeLocations(t *testing.T, body string) []string {
	t.Helper()
	var l locations
	if err := json.Unmarshal([]byte(body), &l); err != nil || !strings.HasSuffix(body, "]}\n") {
		t.Fatalf("body %q: %v", body, err)
	}
	return l.Locations
}

// targetOf returns the delivery service label of a location
// (edge-cache-N.<target>.thecdn.example.com).
var hostRE = regexp.MustCompile(`^http://([a-z0-9-]+)\.([a-z0-9-]+)\.thecdn\.example\.com:8090(/[^?]*)`)

// TestClientSteeringVectors holds spec 15.3 R14-R16: multi-location JSON,
// 302 to the first location unless trred=false.
func TestClientSteeringVectors(t *testing.T) {
	e := newEnv(t, loadSet(t, nil))
	const q = "?fakeClientIpAddress=12.34.56.78"
	t.Run("R14", func(t *testing.T) {
		r := e.do(t, "GET", "http://tr.client-steering-test-1.thecdn.example.com/qwerytuiop/asdfghjkl"+q)
		locs := decodeLocations(t, r.body)
		if r.status != 302 || len(locs) != 2 || r.header.Get("Location") != locs[0] || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %q %q", r.status, r.header.Get("Location"), r.body)
		}
		for k, want := range []string{"client-steering-target-2", "client-steering-target-1"} {
			m := hostRE.FindStringSubmatch(locs[k])
			if m == nil || m[2] != want || !strings.HasSuffix(locs[k], "/qwerytuiop/asdfghjkl"+q) {
				t.Errorf("location %d %q, want target %s", k, locs[k], want)
			}
		}
		for _, v := range []string{"false", "FALSE", "FalsE"} {
			r2 := e.do(t, "GET", "http://tr.client-steering-test-1.thecdn.example.com/qwerytuiop/asdfghjkl"+q+"&trred="+v)
			if r2.status != 200 || r2.header.Get("Location") != "" || len(decodeLocations(t, r2.body)) != 2 {
				t.Errorf("trred=%s: %d %q", v, r2.status, r2.body)
			}
		}
		for _, v := range []string{"true", "TRUE", "T"} {
			r2 := e.do(t, "GET", "http://tr.client-steering-test-1.thecdn.example.com/qwerytuiop/asdfghjkl"+q+"&trred="+v)
			if r2.status != 302 || len(decodeLocations(t, r2.body)) != 2 {
				t.Errorf("trred=%s: %d %q", v, r2.status, r2.body)
			}
		}
		line := e.waitLog(t, `client-steering-test-1.thecdn.example.com/qwerytuiop/asdfghjkl?fakeClientIpAddress=12.34.56.78"`)
		if !strings.Contains(line, `svc="client-steering-test-1|client-steering-target-2|client-steering-target-1"`) ||
			!strings.Contains(line, `rurls="[http://edge-cache-041.client-steering-target-2`) || !strings.Contains(line, "pssc=302") {
			t.Errorf("log line %s", line)
		}
	})
	t.Run("R15", func(t *testing.T) {
		r := e.do(t, "GET", "http://tr.client-steering-test-2.thecdn.example.com/qwerytuiop/asdfghjkl"+q)
		locs := decodeLocations(t, r.body)
		want := []string{"steering-target-2", "steering-target-1", "client-steering-target-2", "client-steering-target-4",
			"client-steering-target-3", "client-steering-target-1", "steering-target-4", "steering-target-3"}
		if r.status != 302 || len(locs) != len(want) {
			t.Fatalf("%d %q", r.status, r.body)
		}
		for k := range want {
			if m := hostRE.FindStringSubmatch(locs[k]); m == nil || m[2] != want[k] {
				t.Errorf("location %d %q, want target %s", k, locs[k], want[k])
			}
		}
	})
	t.Run("R16", func(t *testing.T) {
		r := e.do(t, "GET", "http://cdn.client-steering-diversity-test.thecdn.example.com/foo?fakeClientIpAddress=192.168.42.10")
		locs := decodeLocations(t, r.body)
		var got []string
		for _, l := range locs {
			if m := hostRE.FindStringSubmatch(l); m != nil {
				got = append(got, m[1]+"@"+m[2])
			}
		}
		want := "edge-cache-csd-1@csd-target-4 edge-cache-csd-2@csd-target-2 edge-cache-csd-3@csd-target-3 edge-cache-csd-1@csd-target-5 edge-cache-csd-1@csd-target-1"
		if r.status != 302 || strings.Join(got, " ") != want {
			t.Errorf("%d %v\n want %s", r.status, got, want)
		}
	})
	t.Run("option", func(t *testing.T) {
		// Quirk 8 fixed: the header narrows CLIENT_STEERING to the target.
		r := e.do(t, "GET", "http://tr.client-steering-test-1.thecdn.example.com/qwerytuiop/asdfghjkl"+q, "X-TC-Steering-Option", "client-steering-target-1")
		locs := decodeLocations(t, r.body)
		if m := hostRE.FindStringSubmatch(r.header.Get("Location")); r.status != 302 || len(locs) != 1 || m == nil || m[2] != "client-steering-target-1" {
			t.Errorf("%d %q", r.status, r.body)
		}
		r = e.do(t, "GET", "http://tr.client-steering-test-1.thecdn.example.com/qwerytuiop/asdfghjkl"+q, "X-TC-Steering-Option", "ds-02")
		if r.status != 503 || r.body != "" {
			t.Errorf("ds-02: %d %q", r.status, r.body)
		}
	})
}

// TestClientSteeringRegionalGeo: regional geo-blocking of a CLIENT_STEERING
// entry is enforced (quirk 10 fixed): no rule or an alternate with cache
// is a denial (520); an alternate without cache is a 302 with that one
// location; a whitelisted client routes normally.
func TestClientSteeringRegionalGeo(t *testing.T) {
	const id = "client-steering-test-1"
	e := newEnv(t, loadSet(t, chain(
		editDS(t, id, func(ds map[string]any) { ds["regionalGeoBlocking"] = "true" }),
		editJSON(t, control.FileRegionalGeoblock, func(doc map[string]any) {
			doc["deliveryServices"] = append(doc["deliveryServices"].([]any),
				map[string]any{"deliveryServiceId": id, "urlRegex": ".*/withcache", "redirectUrl": "alt/path",
					"geoLocation": map[string]any{"includePostalCode": []any{"V5G"}}},
				map[string]any{"deliveryServiceId": id, "urlRegex": ".*/elsewhere", "redirectUrl": "http://blocked.example.org/x",
					"geoLocation": map[string]any{"includePostalCode": []any{"V5G"}}},
				map[string]any{"deliveryServiceId": id, "urlRegex": ".*/open", "redirectUrl": "/never",
					"geoLocation": map[string]any{"includePostalCode": []any{"V5G"}}, "ipWhiteList": []any{"12.34.0.0/16"}})
		}))))
	base := "http://tr." + id + ".thecdn.example.com"
	const q = "?fakeClientIpAddress=12.34.56.78"
	if r := e.do(t, "GET", base+"/norule"+q); r.status != 520 || r.body != "" {
		t.Errorf("no rule: %d %q", r.status, r.body)
	}
	if r := e.do(t, "GET", base+"/withcache"+q); r.status != 520 {
		t.Errorf("alternate with cache: %d %q", r.status, r.body)
	}
	r := e.do(t, "GET", base+"/elsewhere"+q)
	if r.status != 302 || r.header.Get("Location") != "http://blocked.example.org/x" ||
		r.body != `{"locations":["http://blocked.example.org/x"]}`+"\n" {
		t.Errorf("alternate without cache: %d %q %q", r.status, r.header.Get("Location"), r.body)
	}
	if r := e.do(t, "GET", base+"/open"+q); r.status != 302 || len(decodeLocations(t, r.body)) != 2 {
		t.Errorf("whitelisted: %d %q", r.status, r.body)
	}
	line := e.waitLog(t, `/norule?fakeClientIpAddress=12.34.56.78"`)
	if !strings.Contains(line, "rtype=RGDENY") || !strings.Contains(line, "pssc=520") {
		t.Errorf("log %s", line)
	}
}
