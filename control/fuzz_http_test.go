package control

import "testing"

// FuzzParseHTTPDatasets covers the anonymous IP policy, regional
// geo-blocking and TLS key decoders (seed corpus in
// testdata/fuzz/FuzzParseHTTPDatasets): no input panics, a value comes
// without an error and an error without a value, every rejected TLS entry
// is also a warning.
func FuzzParseHTTPDatasets(f *testing.F) {
	f.Add([]byte(`{"anonymousIp":{"blockAnonymousVPN":true,"blockHostingProvider":true,"blockPublicProxy":"true","blockTorExitNode":false},"ip4Whitelist":["10.0.0.0/8"],"ip6Whitelist":["::1/128"],"redirectUrl":"http://x"}`))
	f.Add([]byte(`{"deliveryServices":[{"deliveryServiceId":"d","urlRegex":".*a","redirectUrl":"b","geoLocation":{"includePostalCode":["A"],"coordinateRange":[{"minLat":0,"maxLat":1,"minLon":0,"maxLon":1}]},"ipWhiteList":["1.2.3.4/22"]}]}`))
	f.Add([]byte(`{"response":[{"deliveryservice":"d","hostname":"*.d.example.com","certificate":{"crt":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t","key":"eA=="}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if a, err := ParseAnonymousPolicy("a", data); (a == nil) == (err == nil) {
			t.Fatal("anonymous policy: value/error mismatch")
		}
		if r, err := ParseRegionalGeoblock("r", data); (r == nil) == (err == nil) {
			t.Fatal("regional geoblock: value/error mismatch")
		}
		k, err := ParseTLSKeys("k", data)
		if (k == nil) == (err == nil) {
			t.Fatal("tls keys: value/error mismatch")
		}
		if k != nil && len(k.Warnings) < len(k.Rejected) {
			t.Fatal("tls keys: rejected entry without warning")
		}
	})
}
