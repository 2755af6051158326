package router

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestSortKey(t *testing.T) {
	for _, tc := range []struct{ regex, want string }{
		{`.*\.foo\..*`, "foo"},
		{`(.*\.|^)foo\..*`, "foo"},
		{`.*abcde.*`, "abcde."},
		{`/foo/.*`, "foo/."},
		{`.*`, "."},
		{`.*-.`, "."},
		{`.*\.http-only-test\..*`, "http-only-test"},
		{`***`, ""},
	} {
		if got := sortKey(tc.regex); got != tc.want {
			t.Errorf("sortKey(%q) = %q, want %q", tc.regex, got, tc.want)
		}
	}
}

// TestCompareKeys is Traffic Router's ComparableStringByLengthTest.
func TestCompareKeys(t *testing.T) {
	keys := []string{"b", "ab", "a", "bac", "ba", "abc"}
	slices.SortFunc(keys, compareKeys)
	want := []string{"abc", "bac", "ab", "ba", "a", "b"}
	if !slices.Equal(keys, want) {
		t.Fatalf("order = %v, want %v", keys, want)
	}
}

func hostMatcher(ds int32, kinds ...any) dsMatcher {
	m := dsMatcher{ds: ds}
	for i := 0; i < len(kinds); i += 2 {
		re := kinds[i+1].(string)
		m.reqs = append(m.reqs, requestMatcher{kind: kinds[i].(MatchKind), regex: re, key: sortKey(re), re: regexp.MustCompile("(?i)^(?:" + re + ")$")})
	}
	return m
}

// TestMatcherOrder is RequestMatcherTest.itSupportsOrderingByItsRegex and
// the subset rule of spec 1.13.
func TestMatcherOrder(t *testing.T) {
	ms := []dsMatcher{
		hostMatcher(0, MatchHost, `.*bcd.*`),
		hostMatcher(1, MatchHost, `.*abcd.*`),
		hostMatcher(2, MatchHost, `.*bcdef.*`),
		hostMatcher(3, MatchHost, `.*abcde.*`),
	}
	sortMatchers(ms)
	var got []int32
	for _, m := range ms {
		got = append(got, m.ds)
	}
	if want := []int32{3, 2, 1, 0}; !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}

	host := hostMatcher(0, MatchHost, `.*\.foo\..*`)
	hostPath := hostMatcher(1, MatchHost, `.*\.foo\..*`, MatchPath, `/bar/.*`)
	if compareMatchers(&hostPath, &host) >= 0 || compareMatchers(&host, &hostPath) <= 0 {
		t.Fatal("HOST+PATH must sort before the same HOST alone")
	}
	same := hostMatcher(2, MatchHost, `.*\.foo\..*`)
	if compareMatchers(&host, &same) != 0 {
		t.Fatal("identical matchsets must compare equal")
	}
}

// TestCacheRegisterOrder is CacheRegisterTest (spec 15.5): path
// foo/abcde/bar picks "delivery service 2" (.*abcde.* beats .*abcd.* and
// .*abc.*); a request without a path picks the HOST-only matcher.
func TestCacheRegisterOrder(t *testing.T) {
	ms := []dsMatcher{
		hostMatcher(1, MatchHost, `.*\.service01-kabletown.com`),
		hostMatcher(2, MatchHost, `.*\.service01-kabletown.com`, MatchPath, `.*abcde.*`),
		hostMatcher(3, MatchHost, `.*\.service01-kabletown.com`, MatchPath, `.*abcd.*`),
		hostMatcher(4, MatchHost, `.*\.service01-kabletown.com`, MatchPath, `.*abc.*`),
	}
	sortMatchers(ms)
	first := func(host, path string, hasPath bool) int32 {
		for _, m := range ms {
			ok := true
			for _, r := range m.reqs {
				switch r.kind {
				case MatchHost:
					ok = ok && r.re.MatchString(host)
				case MatchPath:
					ok = ok && hasPath && r.re.MatchString(path)
				}
			}
			if ok {
				return m.ds
			}
		}
		return -1
	}
	if got := first("foo.service01-kabletown.com", "foo/abcde/bar", true); got != 2 {
		t.Errorf("HTTP request matched ds %d, want 2", got)
	}
	if got := first("foo.service01-kabletown.com", "", false); got != 1 {
		t.Errorf("DNS request matched ds %d, want 1", got)
	}
}

func TestRequiredLiteral(t *testing.T) {
	for _, tc := range []struct{ regex, want string }{
		{`.*\.foo\..*`, ".foo."},
		{`(.*\.|^)Foo-Bar\..*`, "foo-bar."},
		{`.*`, ""},
		{`a|b`, ""},
		{`edge\.cdn\.example\.com`, "edge.cdn.example.com"},
		{`.*\.caf\x{e9}\..*`, ""},
	} {
		if got := string(requiredLiteral(tc.regex)); got != tc.want {
			t.Errorf("requiredLiteral(%q) = %q, want %q", tc.regex, got, tc.want)
		}
	}
	// The prefilter never rejects a host the regex accepts.
	m := requestMatcher{re: regexp.MustCompile(`(?i)^(?:(.*\.|^)foo\..*)$`), must: requiredLiteral(`(.*\.|^)foo\..*`)}
	for _, h := range []string{"foo.example.com", "a.foo.example.com", "xfoo.example.com", "bar.example.com"} {
		if m.matchHost([]byte(h)) != m.re.MatchString(h) {
			t.Errorf("%s: prefilter disagrees with the regex", h)
		}
	}
}

func TestLabelMatcherAgreesWithRegex(t *testing.T) {
	patterns := []string{
		`.*\.foo\..*`, `(.*\.|^)foo\..*`, `.*\.Foo-Bar_1\..*`, `(.*\.|^)a\.b\..*`,
		`.*\.x\..*`, `(.*\.|^)steering-target-1\..*`,
	}
	for _, p := range patterns {
		if parseLabelRegex(p) == nil {
			t.Fatalf("%s: not recognized", p)
		}
	}
	for _, p := range []string{`.*foo\..*`, `.*\.foo.*`, `.*\.fo+\..*`, `.*\.\..*`, `.*\.foo\.`, `^foo\..*`, `.*\.caf\x{e9}\..*`} {
		if parseLabelRegex(p) != nil {
			t.Errorf("%s: recognized, want the regex path", p)
		}
	}
	hosts := []string{
		"foo.example.com", "a.foo.example.com", "xfoo.example.com", "foo", "foo.", ".foo.", "a.foo", "a.foo.",
		"foofoo.foo.x", "a.b.foo.b.c", "a.b.x", "b.a.b.c", "foo-bar_1.x", "q.foo-bar_1.x", "q.foo-bar_1x",
		"x.x.x", "..x..", "", "steering-target-1.a", "r.steering-target-1.b", "r.steering-target-1-b-b.c",
		"a\nb.foo.c", "a.\u212aoo.c", "a.fo\u017f.c", "é.foo.c",
	}
	// Random hosts over a small alphabet hit the boundary cases often.
	rng := rand.New(rand.NewPCG(1, 2))
	alpha := "fo.abx-1"
	for range 20000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alpha[rng.IntN(len(alpha))]
		}
		hosts = append(hosts, string(b))
	}
	for _, p := range patterns {
		m := requestMatcher{re: regexp.MustCompile("(?i)^(?:" + p + ")$"), must: requiredLiteral(p), label: parseLabelRegex(p)}
		for _, h := range hosts {
			lower := strings.ToLower(h)
			if got, want := m.matchHost([]byte(lower)), m.re.MatchString(lower); got != want {
				t.Errorf("%s on %q: fast path %v, regex %v", p, lower, got, want)
			}
		}
	}
}

// TestMatchDSIndexAgreesWithLinear compares the indexed MatchDS with the
// plain loop over every matcher on the fixture, for hosts built from the
// services' names, their routing names and junk labels, HTTP and DNS.
func TestMatchDSIndexAgreesWithLinear(t *testing.T) {
	tab := fixtureTable(t)
	if len(tab.hostIndex) == 0 {
		t.Fatal("no label matchers indexed on the fixture")
	}
	labels := []string{"tr", "cdn", "edge", "thecdn", "example", "com", "x", "", "test", "dee-ehs-06", "ccr"}
	for i := range tab.ds {
		labels = append(labels, tab.ds[i].ID, tab.ds[i].RoutingName)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var sc Scratch
	matched := 0
	for range 30000 {
		n := 1 + rng.IntN(5)
		parts := make([]string, n)
		for k := range parts {
			parts[k] = labels[rng.IntN(len(labels))]
		}
		host := strings.ToLower(strings.Join(parts, "."))
		if _, exact := tab.exact[host]; exact {
			continue
		}
		for _, http := range []bool{true, false} {
			req := &Request{Host: []byte(host), Path: []byte("/force-to-target-1/x"), HTTP: http}
			got, want := tab.MatchDS(req, &sc), tab.matchDSLinear(req, &sc)
			if got != want {
				t.Fatalf("%q (http %v): indexed %v, linear %v", host, http, dsID(got), dsID(want))
			}
			if got != nil {
				matched++
			}
		}
	}
	if matched < 1000 {
		t.Fatalf("only %d of 60,000 requests matched a service: the test says little", matched)
	}
}

func dsID(ds *DeliveryService) string {
	if ds == nil {
		return "<nil>"
	}
	return ds.ID
}
