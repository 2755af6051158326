package httpserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/control"
)

// editJSON applies fn to the decoded document (bare, not the "response"
// wrapper) of file name when it is the file being read.
func editJSON(tb testing.TB, file string, fn func(doc map[string]any)) func(string, []byte) []byte {
	return func(name string, data []byte) []byte {
		if name != file {
			return data
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			tb.Fatal(err)
		}
		fn(doc)
		out, err := json.Marshal(doc)
		if err != nil {
			tb.Fatal(err)
		}
		return out
	}
}

func dsOf(doc map[string]any, id string) map[string]any {
	return doc["deliveryServices"].(map[string]any)[id].(map[string]any)
}

// selfSigned returns base64 PEM certificate and key for the names.
func selfSigned(tb testing.TB, names ...string) (crt, key string) {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		tb.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(k)
	return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}))
}

// withValidHTTPToHTTPS replaces the fixture's http-to-https-test entry
// (whose key belongs to another certificate) with a working one.
func withValidHTTPToHTTPS(tb testing.TB) func(string, []byte) []byte {
	crt, key := selfSigned(tb, "*.http-to-https-test.thecdn.example.com")
	return editJSON(tb, control.FileTLSKeys, func(doc map[string]any) {
		for _, e := range doc["response"].([]any) {
			m := e.(map[string]any)
			if m["deliveryservice"] == "http-to-https-test" {
				m["certificate"] = map[string]any{"crt": crt, "key": key}
			}
		}
	})
}

// TestHTTPVectors holds spec 15.3 R1-R22 (R14-R16, the multi-location
// answers, are in TestClientSteeringVectors).
func TestHTTPVectors(t *testing.T) {
	e := newEnv(t, loadSet(t, withValidHTTPToHTTPS(t)))
	const q = "?fakeClientIpAddress=12.34.0.123"
	for _, tc := range []struct {
		name, method, url string
		hdr               []string
		status            int
		location, body    string
	}{
		{name: "R1", url: "http://tr.http-only-test.thecdn.example.com/stuff" + q, status: 302,
			location: "http://edge-cache-001.http-only-test.thecdn.example.com:8090/stuff" + q},
		{name: "R2", url: "http://tr.http-only-test.thecdn.example.com/stuff" + q + "&format=json", status: 200,
			body: `{"location": "http://edge-cache-001.http-only-test.thecdn.example.com:8090/stuff` + q + `&format=json" }` + "\n"},
		{name: "R3", url: "http://tr.http-only-test.thecdn.example.com/stuff" + q + "&trred=false", status: 200,
			body: `{"locations":["http://edge-cache-001.http-only-test.thecdn.example.com:8090/stuff` + q + `&trred=false"]}` + "\n"},
		{name: "R3-case", url: "http://tr.http-only-test.thecdn.example.com/stuff" + q + "&trred=FalsE", status: 200,
			body: `{"locations":["http://edge-cache-001.http-only-test.thecdn.example.com:8090/stuff` + q + `&trred=FalsE"]}` + "\n"},
		{name: "R3-true", url: "http://tr.http-only-test.thecdn.example.com/stuff" + q + "&trred=T", status: 302,
			location: "http://edge-cache-001.http-only-test.thecdn.example.com:8090/stuff" + q + "&trred=T"},
		{name: "R4", url: "http://foo.invalid-delivery-service-id.bar/stuff", status: 503},
		{name: "R5", url: "http://tr.https-only-test.bar/stuff", status: 503},
		{name: "R6", url: "https://tr.https-only-test.thecdn.example.com/stuff" + q, status: 302,
			location: "https://edge-cache-002.https-only-test.thecdn.example.com/stuff" + q},
		{name: "R7", url: "http://tr.http-to-https-test.bar/stuff?fakeClientIpAddress=12.34.7.9", status: 302,
			location: "https://edge-cache-071.http-to-https-test.thecdn.example.com/stuff?fakeClientIpAddress=12.34.7.9"},
		{name: "R8", url: "http://tr.http-and-https-test.bar/stuff?fakeClientIpAddress=12.34.8.77", status: 302,
			location: "http://edge-cache-081.http-and-https-test.thecdn.example.com:8090/stuff?fakeClientIpAddress=12.34.8.77"},
		{name: "R8-https", url: "https://tr.http-and-https-test.thecdn.example.com/stuff?fakeClientIpAddress=12.34.8.77", status: 302,
			location: "https://edge-cache-081.http-and-https-test.thecdn.example.com/stuff?fakeClientIpAddress=12.34.8.77"},
		// The SNI name has a certificate; the Host names an HTTP-only service.
		{name: "R9", url: "https://tr.https-only-test.thecdn.example.com/stuff", hdr: []string{"Host", "tr.csd-target-1.bar"}, status: 503},
		{name: "R10", url: "http://localhost/crs/stats" + q, hdr: []string{"Host", "foo.http-only-test.bar"}, status: 302,
			location: "http://edge-cache-001.http-only-test.thecdn.example.com:8090/crs/stats" + q},
		{name: "R11", url: "http://foo.steering-test-1.thecdn.example.com/qwerytuiop/force-to-target-2/asdfghjkl?fakeClientIpAddress=12.34.3.5",
			status: 302, location: "http://edge-cache-032.steering-target-2.thecdn.example.com:8090/qwerytuiop/force-to-target-2/asdfghjkl?fakeClientIpAddress=12.34.3.5"},
		{name: "R12", url: "http://foo.steering-test-1.thecdn.example.com/qwerytuiop/force-to-target-2/asdfghjkl?fakeClientIpAddress=12.34.3.5",
			hdr: []string{"X-TC-Steering-Option", "steering-target-1"}, status: 302,
			location: "http://edge-cache-032.steering-target-1.thecdn.example.com:8090/qwerytuiop/force-to-target-2/asdfghjkl?fakeClientIpAddress=12.34.3.5"},
		{name: "R12-lower", url: "http://foo.steering-test-1.thecdn.example.com/qwerytuiop/force-to-target-2/asdfghjkl?fakeClientIpAddress=12.34.3.5",
			hdr: []string{"x-tc-steering-option", "steering-target-1"}, status: 302,
			location: "http://edge-cache-032.steering-target-1.thecdn.example.com:8090/qwerytuiop/force-to-target-2/asdfghjkl?fakeClientIpAddress=12.34.3.5"},
		{name: "R13", url: "http://foo.steering-test-1.thecdn.example.com/qwerytuiop/force-to-target-2/asdfghjkl?fakeClientIpAddress=12.34.3.5",
			hdr: []string{"X-TC-Steering-Option", "ds-02"}, status: 503},
		{name: "R17", url: "http://tr.api:3333/crs/coveragezone/cachelocation?ip=100.3.3.123&deliveryServiceId=steering-target-1", status: 200,
			body: `"id":"location-3"`},
		{name: "R18a", url: "http://tr.api:3333/crs/consistenthash/cache/coveragezone?ip=12.34.0.123&deliveryServiceId=https-only-test&requestPath=/some/path/thing",
			status: 200, body: `{"id":"edge-cache-001",`},
		{name: "R18b", url: "http://tr.api:3333/crs/consistenthash/cache/coveragezone?ip=12.34.0.123&deliveryServiceId=https-only-test&requestPath=/another/different/path",
			status: 200, body: `{"id":"edge-cache-002",`},
		{name: "R18c", url: "http://tr.api:3333/crs/consistenthash/cache/coveragezone?ip=12.34.0.123&deliveryServiceId=https-only-test&requestPath=/some/path/thing.m3u8",
			status: 200, body: `{"id":"edge-cache-002",`},
		{name: "R18d", url: "http://tr.api:3333/crs/consistenthash/cache/coveragezone?ip=12.34.0.123&deliveryServiceId=https-only-test&requestPath=/other/path/other_thing.m3u8",
			status: 200, body: `{"id":"edge-cache-002",`},
		{name: "R19", url: "http://tr.api:3333/crs/consistenthash/deliveryservice?deliveryServiceId=steering-test-1&requestPath=/some/path/force-to-target-2/more/asdfasdf",
			status: 200, body: `{"id":"steering-target-2",`},
		{name: "R19-1", url: "http://tr.api:3333/crs/consistenthash/deliveryservice?deliveryServiceId=steering-test-1&requestPath=/some/path/force-to-target-1/more/asdfasdf",
			status: 200, body: `{"id":"steering-target-1",`},
		{name: "R19-ring", url: "http://tr.api:3333/crs/consistenthash/deliveryservice?deliveryServiceId=steering-test-1&requestPath=/some/path/thing",
			status: 200, body: `{"id":"steering-target-2",`},
		{name: "R19-plain", url: "http://tr.api:3333/crs/consistenthash/deliveryservice?deliveryServiceId=http-only-test&requestPath=/x",
			status: 200, body: `{"id":"http-only-test",`},
		{name: "R19-unknown", url: "http://tr.api:3333/crs/consistenthash/deliveryservice?deliveryServiceId=nope&requestPath=/x",
			status: 404, body: `{}`},
		{name: "steering-cache", url: "http://tr.api:3333/crs/consistenthash/cache/coveragezone/steering?ip=12.34.3.5&deliveryServiceId=steering-test-1&requestPath=/qwerytuiop/force-to-target-2/asdfghjkl",
			status: 200, body: `{"id":"edge-cache-032",`},
		{name: "steering-cache-miss", url: "http://tr.api:3333/crs/consistenthash/cache/coveragezone/steering?ip=192.0.2.1&deliveryServiceId=steering-test-1&requestPath=/x",
			status: 404, body: `{}`},
		{name: "R20", url: "http://tr.api:3333/crs/deliveryservices?url=http%3A%2F%2Ftrafficrouter01.steering-target-1.thecdn.example.com%2Fstuff",
			status: 200, body: `{"id":"steering-target-1"}`},
		{name: "R20-unknown", url: "http://tr.api:3333/crs/deliveryservices?url=http%3A%2F%2Fwww.example.org%2Fstuff", status: 404},
		{name: "R20-bad", url: "http://tr.api:3333/crs/deliveryservices?url=httptrafficrouter01.steering-target-1.thecdn.example.com", status: 400},
		{name: "R21", url: "http://tr.api:3333/crs/coveragezone/caches?deliveryServiceId=ds-07&cacheLocationId=location-5", status: 404},
		{name: "R22", url: "http://tr.api:3333/crs/consistenthash/patternbased/regex?regex=(.*)&requestPath=/this/path/is/longer/than/28/characters", status: 400,
			body: `{"Bad Input":"Request Path length is restricted by API to 28 characters"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			r := e.do(t, method, tc.url, tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (body %q, Location %q)", r.status, tc.status, r.body, r.header.Get("Location"))
			}
			if got := r.header.Get("Location"); got != tc.location {
				t.Errorf("Location %q\n want %q", got, tc.location)
			}
			if tc.body != "" && !strings.Contains(r.body, tc.body) {
				t.Errorf("body %q\n want %q", r.body, tc.body)
			}
			if tc.status == 200 && strings.HasPrefix(tc.body, "{\"location") && r.header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
		})
	}
	// R17 in detail: caches edge-cache-03x on port 8090.
	r := e.do(t, "GET", "http://tr.api:3333/crs/coveragezone/cachelocation?ip=100.3.3.123&deliveryServiceId=steering-target-1")
	var loc struct {
		ID     string `json:"id"`
		Caches []struct {
			ID   string `json:"id"`
			Port int    `json:"port"`
		} `json:"caches"`
	}
	if err := json.Unmarshal([]byte(r.body), &loc); err != nil || len(loc.Caches) == 0 {
		t.Fatalf("R17: %v %s", err, r.body)
	}
	for _, c := range loc.Caches {
		if !strings.HasPrefix(c.ID, "edge-cache-03") || c.Port != 8090 {
			t.Errorf("R17 cache %+v", c)
		}
	}
	// R20: the body is exactly the id object.
	if r := e.do(t, "GET", "http://tr.api:3333/crs/deliveryservices?url=http%3A%2F%2Ftrafficrouter01.steering-target-1.thecdn.example.com%2Fstuff"); r.body != `{"id":"steering-target-1"}` {
		t.Errorf("R20 body %q", r.body)
	}
}

// TestFixtureCertificateFallback: the fixture's http-to-https-test key
// does not match its certificate, so that service routes over http://
// (R7 falls back) and says why in the log and at /crs/certificates.
func TestFixtureCertificateFallback(t *testing.T) {
	e := newEnv(t, loadSet(t, nil))
	r := e.do(t, "GET", "http://tr.http-to-https-test.bar/stuff?fakeClientIpAddress=12.34.7.9")
	want := "http://edge-cache-071.http-to-https-test.thecdn.example.com:8090/stuff?fakeClientIpAddress=12.34.7.9"
	if r.status != 302 || r.header.Get("Location") != want {
		t.Fatalf("%d %q", r.status, r.header.Get("Location"))
	}
	if !strings.Contains(e.appLog.String(), "deliveryService=http-to-https-test state=rejected") ||
		!strings.Contains(e.appLog.String(), "private key does not match public key") {
		t.Errorf("log: %s", e.appLog.String())
	}
	api := e.do(t, "GET", "http://tr.api:3333/crs/certificates")
	if !strings.Contains(api.body, `{"deliveryService":"http-to-https-test","hostname":"*.http-to-https-test.thecdn.example.com","state":"rejected","reason":"response[3].certificate: private key does not match public key"}`) {
		t.Errorf("/crs/certificates: %s", api.body)
	}
	// The other services keep their certificates.
	if r := e.do(t, "GET", "https://tr.https-only-test.thecdn.example.com/stuff?fakeClientIpAddress=12.34.0.123"); r.status != 302 ||
		!strings.HasPrefix(r.header.Get("Location"), "https://") {
		t.Errorf("https-only-test: %d %q", r.status, r.header.Get("Location"))
	}
}

// TestDeepCaching: csd-target-1 has deepCachingType ALWAYS; the client
// 192.168.42.10 is in the deep zone csd-group.
func TestDeepCaching(t *testing.T) {
	e := newEnv(t, loadSet(t, nil))
	r := e.do(t, "GET", "http://cdn.csd-target-1.thecdn.example.com/foo?fakeClientIpAddress=192.168.42.10")
	if r.status != 302 || !regexp.MustCompile(`^http://edge-cache-csd-[12]\.csd-target-1\.thecdn\.example\.com:8090/foo\?fakeClientIpAddress=192\.168\.42\.10$`).MatchString(r.header.Get("Location")) {
		t.Fatalf("%d %q", r.status, r.header.Get("Location"))
	}
	line := e.waitLog(t, "chi=192.168.42.10")
	if !strings.Contains(line, "rtype=DEEP_CZ") || !strings.Contains(line, `svc="csd-target-1"`) {
		t.Errorf("log line %s", line)
	}
}
