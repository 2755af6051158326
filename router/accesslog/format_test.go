package accesslog

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// ms returns the time at epoch milliseconds m.
func ms(m int64) time.Time { return time.UnixMilli(m) }

// wireName converts "www.example.com." to uncompressed wire form.
func wireName(t testing.TB, s string) []byte {
	t.Helper()
	if s == "." {
		return []byte{0}
	}
	var b []byte
	for _, l := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if len(l) == 0 || len(l) > 63 {
			t.Fatalf("bad label in %q", s)
		}
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// baseHTTP is the request of Traffic Router's HTTPAccessEventBuilderTest: GET
// http://example.com/index.html?foo=bar HTTP/1.1 from 192.168.7.6.
func baseHTTP() HTTPRecord {
	return HTTPRecord{
		Start:  ms(144140678000),
		Remote: netip.MustParseAddr("192.168.7.6"),
		URL:    []byte("http://example.com/index.html"),
		Query:  []byte("foo=bar"),
		Method: []byte("GET"),
		Proto:  []byte("HTTP/1.1"),
	}
}

func TestAppendHTTPGolden(t *testing.T) {
	const hereitis = "http://example.com/hereitis/index.html?foo=bar"
	tests := []struct {
		name string
		edit func(r *HTTPRecord)
		want string
	}{
		{
			// spec §11.1 example 1 (itAddsResponseData)
			name: "spec1 CZ with location",
			edit: func(r *HTTPRecord) {
				r.Result = ResultCZ
				r.HasLocation, r.Lat, r.Lon = true, 39.7528, -104.9997
				r.Status = 302
				r.Elapsed = 225111001 - 100111001
				r.RURL = []byte(hereitis)
			},
			want: `144140678.000 qtype=HTTP chi=192.168.7.6 rhi=- url="http://example.com/index.html?foo=bar" cqhm=GET cqhv=HTTP/1.1 rtype=CZ rloc="39.75,-104.99" rdtl=- rerr="-" rgb="-" pssc=302 ttms=125.000 rurl="http://example.com/hereitis/index.html?foo=bar" rurls="-" uas="null" svc="-" rh="-"`,
		},
		{
			// spec §11.1 example 2 (itRecordsMissResultDetails)
			name: "spec2 MISS DS_NO_BYPASS",
			edit: func(r *HTTPRecord) {
				r.Result, r.Details = ResultMiss, DetailsDSNoBypass
				r.Status = 503
				r.Elapsed = 100789000 - 100000101
			},
			want: `144140678.000 qtype=HTTP chi=192.168.7.6 rhi=- url="http://example.com/index.html?foo=bar" cqhm=GET cqhv=HTTP/1.1 rtype=MISS rloc="-" rdtl=DS_NO_BYPASS rerr="-" rgb="-" pssc=503 ttms=0.789 rurl="-" rurls="-" uas="null" svc="-" rh="-"`,
		},
		{
			// spec §11.1 example 3 (itUsesXMmClientIpHeaderForChi)
			name: "spec3 X-MM-Client-IP",
			edit: func(r *HTTPRecord) {
				r.Remote = netip.MustParseAddr("12.34.56.78")
				r.ClientOverride = []byte("192.168.100.100")
			},
			want: `144140678.000 qtype=HTTP chi=192.168.100.100 rhi=12.34.56.78 url="http://example.com/index.html?foo=bar" cqhm=GET cqhv=HTTP/1.1 rtype=- rloc="-" rdtl=- rerr="-" rgb="-" rurl="-" rurls="-" uas="null" svc="-" rh="-"`,
		},
		{
			name: "upstream itAddsMuiltiResponseData",
			edit: func(r *HTTPRecord) {
				r.Result = ResultCZ
				r.HasLocation, r.Lat, r.Lon = true, 39.7528, -104.9997
				r.Status = 302
				r.Elapsed = 125000000
				r.RURL = []byte(hereitis)
				r.RURLs = [][]byte{[]byte(hereitis), []byte("http://example.com/thereitis/index.html?boo=baz")}
			},
			want: `144140678.000 qtype=HTTP chi=192.168.7.6 rhi=- url="http://example.com/index.html?foo=bar" cqhm=GET cqhv=HTTP/1.1 rtype=CZ rloc="39.75,-104.99" rdtl=- rerr="-" rgb="-" pssc=302 ttms=125.000 rurl="http://example.com/hereitis/index.html?foo=bar" rurls="[http://example.com/hereitis/index.html?foo=bar, http://example.com/thereitis/index.html?boo=baz]" uas="null" svc="-" rh="-"`,
		},
		{
			name: "upstream itRoundsUpToNearestMicroSecond",
			edit: func(r *HTTPRecord) {
				r.Result = ResultError
				r.Status = 302
				r.Elapsed = 100234999 - 100111001
				r.RURL = []byte(hereitis)
			},
			want: `144140678.000 qtype=HTTP chi=192.168.7.6 rhi=- url="http://example.com/index.html?foo=bar" cqhm=GET cqhv=HTTP/1.1 rtype=ERROR rloc="-" rdtl=- rerr="-" rgb="-" pssc=302 ttms=0.124 rurl="http://example.com/hereitis/index.html?foo=bar" rurls="-" uas="null" svc="-" rh="-"`,
		},
		{
			name: "upstream itRecordsTrafficRouterErrors",
			edit: func(r *HTTPRecord) {
				r.Result = ResultError
				r.Status = 302
				r.Elapsed = 567002 - 111001
				r.Err = "RuntimeException: you're doing it wrong"
				r.RURL = []byte(hereitis)
			},
			want: `144140678.000 qtype=HTTP chi=192.168.7.6 rhi=- url="http://example.com/index.html?foo=bar" cqhm=GET cqhv=HTTP/1.1 rtype=ERROR rloc="-" rdtl=- rerr="RuntimeException: you're doing it wrong" rgb="-" pssc=302 ttms=0.456 rurl="http://example.com/hereitis/index.html?foo=bar" rurls="-" uas="null" svc="-" rh="-"`,
		},
		{
			name: "upstream itUsesFakeIpParameterForChi",
			edit: func(r *HTTPRecord) { r.ClientOverride = []byte("192.168.123.123") },
			want: `144140678.000 qtype=HTTP chi=192.168.123.123 rhi=192.168.7.6 url="http://example.com/index.html?foo=bar" cqhm=GET cqhv=HTTP/1.1 rtype=- rloc="-" rdtl=- rerr="-" rgb="-" rurl="-" rurls="-" uas="null" svc="-" rh="-"`,
		},
		{
			name: "override equal to peer prints rhi=-",
			edit: func(r *HTTPRecord) { r.ClientOverride = []byte("192.168.7.6") },
			want: `144140678.000 qtype=HTTP chi=192.168.7.6 rhi=- url="http://example.com/index.html?foo=bar" cqhm=GET cqhv=HTTP/1.1 rtype=- rloc="-" rdtl=- rerr="-" rgb="-" rurl="-" rurls="-" uas="null" svc="-" rh="-"`,
		},
		{
			name: "user agent, services, headers, rgb, IPv6 peer, no query",
			edit: func(r *HTTPRecord) {
				r.Start = ms(1700000000007)
				r.Remote = netip.MustParseAddr("2001:db8::1")
				r.Query = nil
				r.Result, r.Details = ResultRGAlt, DetailsRegionalGeoAlternateWithCache
				r.HasLocation, r.Lat, r.Lon = true, 40, -87
				r.RGB = RegionalGeo{Set: true, Outcome: RegionalGeoAlternateWithCache, Rule: RegionalGeoRuleInclude, HasPostal: true, Postal: "N7G"}
				r.Status = 302
				r.Elapsed = 1500
				r.UserAgent = []byte("Mozilla/5.0 Gecko/20100101 Firefox/68.0")
				r.Services = []string{"steering-ds", "target-1", "target-2"}
				r.Headers = []Header{
					{Name: "If-Modified-Since", Value: []byte("Thurs, 15 July 2010 12:00:00 UTC")},
					{Name: "Empty", Value: nil},
					{Name: "Arbitrary", Value: []byte(`The cow says "moo"`)},
				}
			},
			want: `1700000000.007 qtype=HTTP chi=2001:db8:0:0:0:0:0:1 rhi=- url="http://example.com/index.html" cqhm=GET cqhv=HTTP/1.1 rtype=RGALT rloc="40.00,-87.00" rdtl=REGIONAL_GEO_ALTERNATE_WITH_CACHE rerr="-" rgb="N7G:0:I:0:0" pssc=302 ttms=0.002 rurl="-" rurls="-" uas="Mozilla/5.0 Gecko/20100101 Firefox/68.0" svc="steering-ds|target-1|target-2" rh="If-Modified-Since: Thurs, 15 July 2010 12:00:00 UTC" rh="Arbitrary: The cow says 'moo'"`,
		},
		{
			name: "static file: rtype - hides rdtl, empty method and proto",
			edit: func(r *HTTPRecord) {
				r.Details = DetailsDSNotFound
				r.Method, r.Proto = nil, nil
				r.URL = nil
			},
			want: `144140678.000 qtype=HTTP chi=192.168.7.6 rhi=- url="-" cqhm=- cqhv=- rtype=- rloc="-" rdtl=- rerr="-" rgb="-" rurl="-" rurls="-" uas="null" svc="-" rh="-"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := baseHTTP()
			tt.edit(&r)
			got := string(AppendHTTP(nil, &r))
			if got != tt.want {
				t.Errorf("line mismatch\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func TestAppendRGB(t *testing.T) {
	tests := []struct {
		g    RegionalGeo
		want string
	}{
		{RegionalGeo{}, "-"},
		{RegionalGeo{Set: true, Outcome: RegionalGeoAllowed, Rule: RegionalGeoRuleExclude}, "-:1:X:0:0"},
		{RegionalGeo{Set: true, Outcome: RegionalGeoDenied, Rule: RegionalGeoRuleInclude, HasPostal: true, Postal: "V5G"}, "V5G:0:-:0:0"},
		{RegionalGeo{Set: true, Outcome: RegionalGeoAllowed, HasPostal: true, Whitelisted: true, Fallback: true}, ":1:-:1:1"},
		{RegionalGeo{Set: true, Outcome: RegionalGeoAlternateWithoutCache, Rule: RegionalGeoRuleExclude, HasPostal: true, Postal: "V5G"}, "V5G:0:X:0:0"},
	}
	for _, tt := range tests {
		if got := string(appendRGB(nil, &tt.g)); got != tt.want {
			t.Errorf("appendRGB(%+v) = %q, want %q", tt.g, got, tt.want)
		}
	}
}

func baseDNS(t testing.TB) DNSRecord {
	return DNSRecord{
		Received:   ms(144140678000),
		Client:     netip.MustParseAddr("192.168.10.11"),
		Resolver:   netip.MustParseAddr("192.168.10.11"),
		HasMessage: true,
		ID:         65535,
		QName:      wireName(t, "www.example.com."),
		QType:      1,
		QClass:     1,
	}
}

func fooBarBaz() []DNSAnswer {
	return []DNSAnswer{
		{TTL: 1, Text: []byte("foo")},
		{TTL: 2, Text: []byte("bar")},
		{TTL: 3, Text: []byte("baz")},
	}
}

func TestAppendDNSGolden(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *DNSRecord)
		want string
	}{
		{
			// spec §11.2 example 1 (itAddsResponseData)
			name: "spec1 static answer",
			edit: func(r *DNSRecord) {
				r.Elapsed = 789123000
				r.Answers = fooBarBaz()
			},
			want: `144140678.000 qtype=DNS chi=192.168.10.11 rhi=- ttms=789.123 xn=65535 fqdn=www.example.com. type=A class=IN rcode=NOERROR rtype=- rloc="-" rdtl=- rerr="-" ttl="1 2 3" ans="foo bar baz" svc="-"`,
		},
		{
			// spec §11.2 example 2 (itLogsResolverAndClient)
			name: "spec2 resolver and client",
			edit: func(r *DNSRecord) {
				r.Resolver = netip.MustParseAddr("10.0.0.211")
				r.Elapsed = 789000321
				r.Result = ResultCZ
				r.HasLocation, r.Lat, r.Lon = true, 39.7528, -104.9997
				r.Answers = []DNSAnswer{{TTL: 1, Text: []byte("foo")}}
				r.Service = "test"
			},
			want: `144140678.000 qtype=DNS chi=192.168.10.11 rhi=10.0.0.211 ttms=789.000 xn=65535 fqdn=www.example.com. type=A class=IN rcode=NOERROR rtype=CZ rloc="39.75,-104.99" rdtl=- rerr="-" ttl="1" ans="foo" svc="test"`,
		},
		{
			// spec §11.2 example 3 (AbstractProtocolTest): an A answer from wire rdata
			name: "spec3 A record",
			edit: func(r *DNSRecord) {
				r.Client = netip.MustParseAddr("192.168.23.45")
				r.Resolver = r.Client
				r.Elapsed = 345123000
				r.Answers = []DNSAnswer{{TTL: 3600, Type: 1, RData: []byte{192, 168, 8, 9}}}
			},
			want: `144140678.000 qtype=DNS chi=192.168.23.45 rhi=- ttms=345.123 xn=65535 fqdn=www.example.com. type=A class=IN rcode=NOERROR rtype=- rloc="-" rdtl=- rerr="-" ttl="3600" ans="192.168.8.9" svc="-"`,
		},
		{
			// spec §11.2 example 4 (AbstractProtocolTest): unparseable query
			name: "spec4 parse failure",
			edit: func(r *DNSRecord) {
				r.Client = netip.MustParseAddr("192.168.23.45")
				r.Resolver = r.Client
				r.Elapsed = 345123000
				r.HasMessage = false
				r.Err = "Bad Request:WireParseException:end of input"
			},
			want: `144140678.000 qtype=DNS chi=192.168.23.45 rhi=- ttms=345.123 xn=- fqdn=- type=- class=- rcode=- rtype=- rloc="-" rdtl=- rerr="Bad Request:WireParseException:end of input" ttl="-" ans="-" svc="-"`,
		},
		{
			name: "upstream itCreatesServerErrorData",
			edit: func(r *DNSRecord) {
				r.Elapsed = 789876321
				r.Rcode = 2
				r.Err = "Server Error:RuntimeException:boom it failed"
			},
			want: `144140678.000 qtype=DNS chi=192.168.10.11 rhi=- ttms=789.876 xn=65535 fqdn=www.example.com. type=A class=IN rcode=SERVFAIL rtype=- rloc="-" rdtl=- rerr="Server Error:RuntimeException:boom it failed" ttl="-" ans="-" svc="-"`,
		},
		{
			name: "upstream itAddsResultTypeData MISS",
			edit: func(r *DNSRecord) {
				r.Elapsed = 246001
				r.Result, r.Details = ResultMiss, DetailsDSNotFound
				r.HasLocation, r.Lat, r.Lon = true, 39.7528, -104.9997
				r.Answers = fooBarBaz()
			},
			want: `144140678.000 qtype=DNS chi=192.168.10.11 rhi=- ttms=0.246 xn=65535 fqdn=www.example.com. type=A class=IN rcode=NOERROR rtype=MISS rloc="39.75,-104.99" rdtl=DS_NOT_FOUND rerr="-" ttl="1 2 3" ans="foo bar baz" svc="-"`,
		},
		{
			name: "DNS coordinate pattern, AAAA and CNAME rdata, escaped qname, NXDOMAIN",
			edit: func(r *DNSRecord) {
				r.Client = netip.MustParseAddr("2001:db8::7")
				r.Resolver = netip.MustParseAddr("::ffff:10.0.0.1")
				r.QName = []byte("\x0aJohn Wayne\x07example\x00")
				r.QType, r.QClass, r.Rcode = 28, 1, 3
				r.Result, r.Details = ResultGeo, DetailsNone
				r.HasLocation, r.Lat, r.Lon = true, 40, 0.5
				r.Answers = []DNSAnswer{
					{TTL: 30, Type: 5, RData: []byte("\x04edge\x03cdn\x00")},
					{TTL: 30, Type: 28, RData: netip.MustParseAddr("2001:dead:beef:124:1::2").AsSlice()},
				}
				r.Service = "ds1"
			},
			want: `144140678.000 qtype=DNS chi=2001:db8:0:0:0:0:0:7 rhi=10.0.0.1 ttms=0.000 xn=65535 fqdn=John\032Wayne.example. type=AAAA class=IN rcode=NXDOMAIN rtype=GEO rloc="40.0,.5" rdtl=- rerr="-" ttl="30 30" ans="edge.cdn. 2001:dead:beef:124:1:0:0:2" svc="ds1"`,
		},
		{
			name: "no question leaves two spaces (Java createQuery returns empty)",
			edit: func(r *DNSRecord) {
				r.QName = nil
				r.Rcode = 1
			},
			want: `144140678.000 qtype=DNS chi=192.168.10.11 rhi=- ttms=0.000 xn=65535  rcode=FORMERR rtype=- rloc="-" rdtl=- rerr="-" ttl="-" ans="-" svc="-"`,
		},
		{
			name: "no message without error prints ans only",
			edit: func(r *DNSRecord) { r.HasMessage = false },
			want: `144140678.000 qtype=DNS chi=192.168.10.11 rhi=- ttms=0.000 xn=- fqdn=- type=- class=- rcode=- rtype=- rloc="-" rdtl=- rerr="-" ans="-" svc="-"`,
		},
		{
			name: "unknown type, class and rcode mnemonics",
			edit: func(r *DNSRecord) {
				r.QName = []byte{0}
				r.QType, r.QClass, r.Rcode = 65280, 7, 12
			},
			want: `144140678.000 qtype=DNS chi=192.168.10.11 rhi=- ttms=0.000 xn=65535 fqdn=. type=TYPE65280 class=CLASS7 rcode=RESERVED12 rtype=- rloc="-" rdtl=- rerr="-" ttl="-" ans="-" svc="-"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := baseDNS(t)
			tt.edit(&r)
			got := string(AppendDNS(nil, &r))
			if got != tt.want {
				t.Errorf("line mismatch\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}
