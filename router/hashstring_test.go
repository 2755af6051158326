package router

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

func TestAppendDecodedPath(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"", "/"},
		{"/", "/"},
		{"/stuff", "/stuff"},
		{"/foo/", "/foo/"},
		{"//a//b", "/a/b"},
		{"/a/./b", "/a/b"},
		{"/a/../b", "/b"},
		{"/a/b/../c", "/a/c"},
		{"/foo/.", "/foo/"},
		{"/foo/..", "/"},
		{"/a%20b/c", "/a b/c"},
		{"/%2e%2e/x", ""},
		{"/782-x.ism;urlsig=O0U9/manifest(format=m3u8-aapl).m3u8", "/782-x.ism/manifest(format=m3u8-aapl).m3u8"},
		{"/a;x=1/b;y", "/a/b"},
	} {
		got, err := AppendDecodedPath(nil, []byte(tc.raw))
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q: want an error, got %q", tc.raw, got)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.raw, got, err, tc.want)
		}
	}
	for _, bad := range []string{"/a%2", "/a%zz", "/a%2Fb", "/.."} {
		if _, err := AppendDecodedPath(nil, []byte(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

// TestPatternString holds vectors P1 and P2 of spec 15.2.
func TestPatternString(t *testing.T) {
	p1 := regexp.MustCompile(`/.*?(/.*?/).*?(.m3u8)`)
	for _, path := range []string{
		"/path12341234/some_stream_name1234/some_info4321.m3u8",
		"/path56785678/some_stream_name1234/some_info8765.m3u8",
	} {
		if got := string(appendPatternString(nil, p1, []byte(path))); got != "/some_stream_name1234/.m3u8" {
			t.Errorf("P1 %s: got %q", path, got)
		}
	}
	p2 := regexp.MustCompile(`/.*?(/.*?/).*?(\.m3u8)`)
	if got := string(appendPatternString(nil, p2, []byte("/text1234/name/asset.m3u8"))); got != "/name/.m3u8" {
		t.Errorf("P2: got %q", got)
	}
	if got := string(appendPatternString(nil, p2, []byte("/nomatch"))); got != "/nomatch" {
		t.Errorf("no match: got %q", got)
	}
	opt := regexp.MustCompile(`/(a)?(b)`)
	if got := string(appendPatternString(nil, opt, []byte("/b"))); got != "nullb" {
		t.Errorf("non-participating group: got %q", got)
	}
}

// TestSignificantQuery holds vectors Q1 and Q2 of spec 15.2.
func TestSignificantQuery(t *testing.T) {
	params := []string{"test", "quest"}
	for _, tc := range []struct{ query, want string }{
		{"test=value&foo=fizz&quest=oth%20ervalue&bar=buzz", "quest=oth ervaluetest=value"},
		{"test=value", "test=value"},
		{"quest=other_value", "quest=other_value"},
		{"test=a&test=a&&test=b", "test=atest=b"},
		{"test=", "test"},
		{"test=a=b", "test=a=b"},
		{"te+st=x&test=a+b", "test=a b"},
		{"", ""},
	} {
		got, _, err := appendSignificantQuery(nil, nil, params, []byte(tc.query))
		if err != nil || string(got) != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.query, got, err, tc.want)
		}
	}
	if _, _, err := appendSignificantQuery(nil, nil, params, []byte("test=%zz")); err == nil {
		t.Error("malformed escape: want an error")
	}
	if got, _, _ := appendSignificantQuery(nil, nil, nil, []byte("test=1")); len(got) != 0 {
		t.Errorf("no params: got %q", got)
	}
}

// TestPlainPathFastPath: the no-work fast path of AppendDecodedPath gives
// what the full decoder gives, on random paths over an alphabet rich in
// the characters that matter.
func TestPlainPathFastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	alpha := "/./a%;b2F"
	plain := 0
	for range 50000 {
		b := make([]byte, rng.IntN(14))
		for i := range b {
			b[i] = alpha[rng.IntN(len(alpha))]
		}
		want, werr := appendDecodedPathSlow([]byte("x"), b)
		got, gerr := AppendDecodedPath([]byte("x"), b)
		if string(got) != string(want) || (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: got %q, %v; want %q, %v", b, got, gerr, want, werr)
		}
		if plainPath(b) {
			plain++
		}
	}
	if plain < 1000 {
		t.Fatalf("only %d plain paths drawn", plain)
	}
}
