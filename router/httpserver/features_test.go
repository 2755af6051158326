package httpserver

import (
	"strings"
	"testing"

	"github.com/signpost-cdn/signpost/control"
)

// chain applies several edits in order.
func chain(edits ...func(string, []byte) []byte) func(string, []byte) []byte {
	return func(name string, data []byte) []byte {
		for _, e := range edits {
			data = e(name, data)
		}
		return data
	}
}

func editDS(t *testing.T, id string, fn func(ds map[string]any)) func(string, []byte) []byte {
	return editJSON(t, control.FileSnapshot, func(doc map[string]any) { fn(dsOf(doc, id)) })
}

const httpOnly = "http://tr.http-only-test.thecdn.example.com"

// A client outside every coverage zone and unknown to MaxMind: geo falls
// back to the service's miss location.
const missClient = "fakeClientIpAddress=10.99.0.1"

func TestResponseHeadersAndMethods(t *testing.T) {
	e := newEnv(t, loadSet(t, editDS(t, "http-only-test", func(ds map[string]any) {
		ds["responseHeaders"] = map[string]any{"X-Test": "yes", "Access-Control-Allow-Origin": "*"}
		ds["sslEnabled"] = "false"
	})))
	want := "http://edge-cache-001.http-only-test.thecdn.example.com:8090/stuff?fakeClientIpAddress=12.34.0.123"
	for _, m := range []string{"GET", "POST", "PUT", "DELETE", "OPTIONS"} {
		r := e.do(t, m, httpOnly+"/stuff?fakeClientIpAddress=12.34.0.123")
		if r.status != 302 || r.header.Get("Location") != want || r.header.Get("X-Test") != "yes" ||
			r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Content-Length") != "0" {
			t.Errorf("%s: %d %v", m, r.status, r.header)
		}
		if r.header.Get("Server") != "" || r.header.Get("Content-Type") != "" {
			t.Errorf("%s: extra headers %v", m, r.header)
		}
	}
	r := e.do(t, "GET", httpOnly+"/stuff?fakeClientIpAddress=12.34.0.123&format=json")
	if r.header.Get("X-Test") != "yes" || r.status != 200 {
		t.Errorf("JSON: %d %v", r.status, r.header)
	}
	// HEAD: same headers and length, no body.
	raw := e.raw(t, "HEAD /stuff?fakeClientIpAddress=12.34.0.123&format=json HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com\r\n\r\n")
	if !strings.HasPrefix(raw, "HTTP/1.1 200 OK\r\n") || !strings.Contains(raw, "Content-Length: 128\r\n") || !strings.HasSuffix(raw, "\r\n\r\n") {
		t.Errorf("HEAD:\n%s", raw)
	}
	// Error statuses carry no service headers.
	if r := e.do(t, "GET", "https://tr.https-only-test.thecdn.example.com/x", "Host", "tr.http-only-test.thecdn.example.com"); r.status != 503 || r.header.Get("X-Test") != "" {
		t.Errorf("TLS mismatch: %d %v", r.status, r.header)
	}
}

func TestClientOverride(t *testing.T) {
	e := newEnv(t, loadSet(t, nil))
	want := "http://edge-cache-001.http-only-test.thecdn.example.com:8090/stuff"
	// The header wins over the parameter; the parameter name is matched in
	// any letter case.
	for _, tc := range []struct {
		target string
		hdr    []string
	}{
		{"/stuff", []string{"X-MM-Client-IP", "12.34.0.123"}},
		{"/stuff?FAKECLIENTIPADDRESS=12.34.0.123", nil},
		{"/stuff?fakeClientIPAddress=12.34.0.123", nil},
		{"/stuff?fakeClientIpAddress=10.0.0.1", []string{"X-MM-Client-IP", "12.34.0.123"}},
	} {
		r := e.do(t, "GET", httpOnly+tc.target, tc.hdr...)
		if r.status != 302 || !strings.HasPrefix(r.header.Get("Location"), want) {
			t.Errorf("%s %v: %d %q", tc.target, tc.hdr, r.status, r.header.Get("Location"))
		}
	}
	line := e.waitLog(t, "chi=12.34.0.123 rhi=0.0.0.0")
	if !strings.Contains(line, `url="http://tr.http-only-test.thecdn.example.com/stuff"`) ||
		!strings.Contains(line, `rh="Accept: `) && !strings.Contains(line, `rh="-"`) {
		t.Errorf("log line %s", line)
	}
}

func TestStripSpecialQueryParams(t *testing.T) {
	e := newEnv(t, loadSet(t, editJSON(t, control.FileSnapshot, func(doc map[string]any) {
		doc["config"].(map[string]any)["strip.special.query.params"] = "true"
	})))
	base := "http://edge-cache-001.http-only-test.thecdn.example.com:8090/foo"
	for target, want := range map[string]string{
		"/foo?trred=true&fakeClientIpAddress=12.34.0.123":                      base,
		"/foo?b=1&trred=true&a=2&asdf=foo&fakeClientIpAddress=12.34.0.123&c=3": base + "?b=1&a=2&asdf=foo&c=3",
		"/foo;urlsig=abc/x%20y?fakeClientIpAddress=12.34.0.123&keep=%2F":       "http://edge-cache-001.http-only-test.thecdn.example.com:8090/foo;urlsig=abc/x%20y?keep=%2F",
	} {
		r := e.do(t, "GET", httpOnly+target)
		if r.header.Get("Location") != want {
			t.Errorf("%s: %q, want %q", target, r.header.Get("Location"), want)
		}
	}
}

func TestBypass(t *testing.T) {
	e := newEnv(t, loadSet(t, editJSON(t, control.FileHealth, func(doc map[string]any) {
		dsOf(doc, "steering-target-2")["isAvailable"] = false
	})))
	r := e.do(t, "GET", "http://tr.steering-target-2.thecdn.example.com/a/b?x=1")
	if r.status != 302 || r.header.Get("Location") != "http://steering-target-2.overflowcdn.net/a/b?x=1" {
		t.Fatalf("%d %q", r.status, r.header.Get("Location"))
	}
	line := e.waitLog(t, "steering-target-2.thecdn.example.com/a/b")
	if !strings.Contains(line, "rtype=DS_REDIRECT") || !strings.Contains(line, "pssc=302") {
		t.Errorf("log %s", line)
	}
	// No bypass: 503, MISS/DS_NO_BYPASS.
	e2 := newEnv(t, loadSet(t, editJSON(t, control.FileHealth, func(doc map[string]any) {
		doc["deliveryServices"].(map[string]any)["http-only-test"] = map[string]any{"isAvailable": false, "disabledLocations": []any{}}
	})))
	if r := e2.do(t, "GET", httpOnly+"/z"); r.status != 503 {
		t.Errorf("no bypass: %d", r.status)
	}
	if line := e2.waitLog(t, "http-only-test.thecdn.example.com/z"); !strings.Contains(line, "rtype=MISS") || !strings.Contains(line, "rdtl=DS_NO_BYPASS") {
		t.Errorf("log %s", line)
	}
}

// TestGeoLimitRedirect covers the three redirect URL types of spec 4.6 on
// a coverageZoneOnly service with a client outside the coverage zones.
func TestGeoLimitRedirect(t *testing.T) {
	for _, tc := range []struct {
		url, location string
		status        int
		rtype         string
	}{
		{"http://blocked.example.org/sorry", "http://blocked.example.org/sorry", 302, "rtype=GEO_REDIRECT"},
		{"/relative/ignored", "http://edge-cache-", 302, "rtype=GEO_REDIRECT"},
		{"http://tr.http-only-test.thecdn.example.com/same", "http://edge-cache-", 302, "rtype=GEO_REDIRECT"},
		{"http://[bad", "", 503, "rtype=MISS"},
	} {
		e := newEnv(t, loadSet(t, editDS(t, "http-only-test", func(ds map[string]any) {
			ds["coverageZoneOnly"] = "true"
			ds["geoLimitRedirectURL"] = tc.url
		})))
		r := e.do(t, "GET", httpOnly+"/movie?"+missClient)
		if r.status != tc.status || !strings.HasPrefix(r.header.Get("Location"), tc.location) {
			t.Errorf("%s: %d %q", tc.url, r.status, r.header.Get("Location"))
		}
		if tc.location == "http://edge-cache-" && !strings.HasSuffix(r.header.Get("Location"), "/movie?"+missClient) {
			t.Errorf("%s: DS_URL must keep the request path: %q", tc.url, r.header.Get("Location"))
		}
		if line := e.waitLog(t, "/movie"); !strings.Contains(line, tc.rtype) {
			t.Errorf("%s: log %s", tc.url, line)
		}
	}
}

func TestAnonymousBlocking(t *testing.T) {
	enable := editDS(t, "http-only-test", func(ds map[string]any) { ds["anonymousBlockingEnabled"] = "true" })
	e := newEnv(t, loadSet(t, enable))
	r := e.do(t, "GET", httpOnly+"/x?fakeClientIpAddress=1.2.0.1")
	if r.status != 302 || r.header.Get("Location") != "http://youvebeenblocked.com" {
		t.Errorf("VPN client: %d %q", r.status, r.header.Get("Location"))
	}
	if line := e.waitLog(t, "chi=1.2.0.1"); !strings.Contains(line, "rtype=ANON_BLOCK") || !strings.Contains(line, "pssc=302") {
		t.Errorf("log %s", line)
	}
	if r := e.do(t, "GET", httpOnly+"/x?fakeClientIpAddress=65.0.0.1"); r.status != 302 || !strings.Contains(r.header.Get("Location"), "edge-cache") {
		t.Errorf("Tor client (not blocked by policy): %d %q", r.status, r.header.Get("Location"))
	}
	// Without redirectUrl: 403.
	e2 := newEnv(t, loadSet(t, chain(enable, editJSON(t, control.FileAnonymousPolicy, func(doc map[string]any) {
		delete(doc, "redirectUrl")
	}))))
	if r := e2.do(t, "GET", httpOnly+"/x?fakeClientIpAddress=71.160.223.1"); r.status != 403 {
		t.Errorf("hosting provider without redirect: %d", r.status)
	}
	// Services without the flag are not blocked.
	if r := e2.do(t, "GET", "http://tr.http-and-https-test.bar/x?fakeClientIpAddress=1.2.0.1"); r.status == 403 {
		t.Error("service without anonymousBlockingEnabled blocked")
	}
}

func TestRegionalGeoBlocking(t *testing.T) {
	e := newEnv(t, loadSet(t, chain(
		editDS(t, "http-only-test", func(ds map[string]any) { ds["regionalGeoBlocking"] = "true" }),
		editJSON(t, control.FileRegionalGeoblock, func(doc map[string]any) {
			doc["deliveryServices"] = append(doc["deliveryServices"].([]any),
				map[string]any{"deliveryServiceId": "http-only-test", "urlRegex": ".*/live1", "redirectUrl": "alt/path",
					"geoLocation": map[string]any{"excludePostalCode": []any{"V5G"}}},
				map[string]any{"deliveryServiceId": "http-only-test", "urlRegex": ".*/live3", "redirectUrl": "http://blocked.example.org/x",
					"geoLocation": map[string]any{"includePostalCode": []any{"V5G"}}},
				map[string]any{"deliveryServiceId": "http-only-test", "urlRegex": ".*/open", "redirectUrl": "/never",
					"geoLocation": map[string]any{"includePostalCode": []any{"V5G"}}, "ipWhiteList": []any{"12.34.0.0/16"}})
		}))))
	for _, tc := range []struct {
		target, location string
		status           int
		log              string
	}{
		{"/live1?fakeClientIpAddress=12.34.0.123&q=1", "http://edge-cache-001.http-only-test.thecdn.example.com:8090/alt/path", 302, `rtype=RGALT rloc="`},
		{"/live3?fakeClientIpAddress=12.34.0.123", "http://blocked.example.org/x", 302, "rdtl=REGIONAL_GEO_ALTERNATE_WITHOUT_CACHE"},
		{"/live2?fakeClientIpAddress=12.34.0.123", "", 520, `rdtl=REGIONAL_GEO_NO_RULE rerr="-" rgb="-:0:-:0:0"`},
		{"/open?fakeClientIpAddress=12.34.0.123", "http://edge-cache-001.http-only-test.thecdn.example.com:8090/open?fakeClientIpAddress=12.34.0.123", 302, `rgb="-:1:I:0:1"`},
	} {
		r := e.do(t, "GET", httpOnly+tc.target)
		if r.status != tc.status || r.header.Get("Location") != tc.location {
			t.Errorf("%s: %d %q", tc.target, r.status, r.header.Get("Location"))
		}
		path := tc.target[:strings.IndexByte(tc.target, '?')]
		if line := e.waitLog(t, "thecdn.example.com"+path); !strings.Contains(line, tc.log) {
			t.Errorf("%s: log %s", tc.target, line)
		}
	}
}

func TestStaticFiles(t *testing.T) {
	e := newEnv(t, loadSet(t, nil))
	for _, p := range []string{"/crossdomain.xml", "/clientaccesspolicy.xml"} {
		r := e.do(t, "GET", "http://anything.example.org"+p)
		if r.status != 200 || !strings.Contains(r.body, "<?xml") || r.header.Get("Content-Type") != "text/xml" {
			t.Errorf("%s: %d %q", p, r.status, r.body)
		}
		if line := e.waitLog(t, "anything.example.org"+p); !strings.Contains(line, "rtype=- rloc=\"-\" rdtl=-") {
			t.Errorf("log %s", line)
		}
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, loadSet(t, nil))
	long := strings.Repeat("a", 10000)
	for _, tc := range []struct {
		name, req string
		status    string
	}{
		{"bad escape", "GET /a%zz HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com\r\n\r\n", "400"},
		{"encoded slash", "GET /a%2Fb HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com\r\n\r\n", "400"},
		{"above root", "GET /../etc/passwd HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com\r\n\r\n", "400"},
		{"host with space", "GET / HTTP/1.1\r\nHost: tr.http only\r\n\r\n", "400"},
		{"host bad port", "GET / HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com:80x\r\n\r\n", "400"},
		{"host bad ipv6", "GET / HTTP/1.1\r\nHost: [zz::1]\r\n\r\n", "400"},
		{"empty host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", "400"},
		{"asterisk", "OPTIONS * HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com\r\n\r\n", "400"},
		{"long path", "GET /" + long + " HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com\r\n\r\n", "431"},
		{"long header", "GET / HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com\r\nX-Big: " + long + "\r\n\r\n", "431"},
		{"unknown DS", "GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n", "503"},
		{"bad override ignored", "GET /?fakeClientIpAddress=not-an-ip HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com\r\n\r\n", "302"},
		{"ipv6 host literal", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", "503"},
		{"absolute form", "GET http://tr.http-only-test.thecdn.example.com/abs?fakeClientIpAddress=12.34.0.123 HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com\r\n\r\n", "302"},
	} {
		got := e.raw(t, tc.req)
		if !strings.HasPrefix(got, "HTTP/1.1 "+tc.status) {
			t.Errorf("%s: %.80q", tc.name, got)
		}
	}
	if got := e.raw(t, "GET http://tr.http-only-test.thecdn.example.com/abs?fakeClientIpAddress=12.34.0.123 HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com\r\n\r\n"); !strings.Contains(got, "Location: http://edge-cache-001.http-only-test.thecdn.example.com:8090/abs?") {
		t.Errorf("absolute form: %q", got)
	}
}

func TestAPIMisc(t *testing.T) {
	e := newEnv(t, loadSet(t, nil))
	e.do(t, "GET", httpOnly+"/warm?fakeClientIpAddress=12.34.0.123")
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/healthz", 200, "ok"},
		{"/readyz", 200, "ready"},
		{"/metrics", 200, `signpost_http_responses_total{code="302"} 1`},
		{"/metrics", 200, "signpost_http_table_generation 1"},
		{"/crs/stats", 200, `"tr.http-only-test.thecdn.example.com":{"czCount":1,`},
		{"/crs/stats/ip/12.34.0.123", 200, `"locationByCoverageZone":{"city":"","countryCode":"","countryName":"","id":"cache-group-0"`},
		{"/crs/stats/ip/192.168.42.10", 200, `"locationByDeepCoverageZone":{"caches":["edge-cache-csd-1","edge-cache-csd-2"]`},
		{"/crs/stats/ip/nonsense", 400, ""},
		{"/crs/stats/zones/caches", 200, `"dynamicZoneCaches":{"requestCount":0`},
		{"/crs/locations", 200, `{"locations":["location-0",`},
		{"/crs/locations/caches", 200, `"location-0":[{"cacheId":"`},
		{"/crs/locations/location-3/caches", 200, `{"caches":[{"cacheId":"edge-cache-03`},
		{"/crs/locations/nowhere/caches", 404, ""},
		{"/crs/coveragezone/caches?deliveryServiceId=steering-target-1&cacheLocationId=location-3", 200, `[{"id":"edge-cache-03`},
		{"/crs/coveragezone/cachelocation?ip=12.34.0.123", 400, "deliveryServiceId"},
		{"/crs/coveragezone/cachelocation?ip=12.34.0.123&deliveryServiceId=nope", 404, ""},
		{"/crs/deepcoveragezone/cachelocation?ip=192.168.42.10&deliveryServiceId=csd-target-1", 200, `"id":"deep.csd-group"`},
		{"/crs/consistenthash/cache/deep/coveragezone?ip=192.168.42.10&deliveryServiceId=csd-target-1&requestPath=/foo", 200, `{"id":"edge-cache-csd-`},
		{"/crs/consistenthash/cache/geolocation?ip=12.34.0.123&deliveryServiceId=https-only-test&requestPath=/foo", 200, `{"id":"edge-cache-`},
		{"/crs/consistenthash/cache/coveragezone?ip=10.99.0.1&deliveryServiceId=https-only-test&requestPath=/foo", 404, `{}`},
		{"/crs/consistenthash/patternbased/regex?regex=/(.*)/&requestPath=/a/b/c", 200, `{"requestPath":"/a/b/c","consistentHashRegex":"/(.*)/","resultingPathToConsistentHash":"a/b"}`},
		{"/crs/consistenthash/patternbased/deliveryservice?deliveryServiceId=https-only-test&requestPath=/a/b", 200, `"resultingPathToConsistentHash":"/a/b"`},
		{"/crs/steering", 200, `[{"deliveryService":"steering-test-1","clientSteering":false,"targets":[{"deliveryService":"steering-target-1","weight":1000,`},
		{"/crs/consistenthash/deliveryservice?deliveryServiceId=steering-test-1&requestPath=/x", 200, `{"id":"steering-target-`},
		{"/crs/consistenthash/deliveryservice?deliveryServiceId=steering-test-1", 400, "requestPath"},
		{"/crs/consistenthash/cache/coveragezone/steering?ip=1.2.3.4&deliveryServiceId=steering-test-1&requestPath=/x", 404, "{}"},
		{"/crs/consistenthash/cache/coveragezone/steering?ip=12.34.3.5&deliveryServiceId=steering-test-1&requestPath=/a/force-to-target-1/b", 200, `{"id":"edge-cache-03`},
		{"/nope", 404, ""},
		{"/crs/certificates", 200, `"state":"rejected"`},
	} {
		r := e.do(t, "GET", "http://tr.api:3333"+tc.path)
		if r.status != tc.status || !strings.Contains(r.body, tc.body) {
			t.Errorf("%s: %d %.300s", tc.path, r.status, r.body)
		}
	}
}
