package httpserver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/router"
	"github.com/signpost-cdn/signpost/router/accesslog"
)

// newBenchServer returns a published server (no listeners), with an
// access log written to io.Discard when withLog.
func newBenchServer(tb testing.TB, withLog bool) *Server {
	tb.Helper()
	var cfg Config
	if withLog {
		cfg.AccessLog = discardAccessLog(tb)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { cfg.AccessLog.Run(ctx); close(done) }()
		tb.Cleanup(func() { cancel(); <-done })
	}
	return newFixtureServer(tb, cfg)
}

// discardAccessLog returns an access log writer to io.Discard (not running).
func discardAccessLog(tb testing.TB) *accesslog.Writer {
	tb.Helper()
	w, err := accesslog.New(accesslog.Config{Out: io.Discard})
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// newFixtureServer returns a Server for cfg (Router and, when unset,
// Logger filled in) with the fixture's table published; it is not running.
func newFixtureServer(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	rt := router.New(hashring.MD5, nil)
	tab, err := rt.Publish(loadSet(tb, nil))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Router = rt
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Publish(tab); err != nil {
		tb.Fatal(err)
	}
	return s
}

// runFixtureServer runs newFixtureServer(cfg) (and its access log, if any)
// until cancel; done receives Run's result.
func runFixtureServer(t *testing.T, cfg Config) (s *Server, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	s = newFixtureServer(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	if cfg.AccessLog != nil {
		go cfg.AccessLog.Run(ctx)
	}
	d := make(chan error, 1)
	go func() { d <- s.Run(ctx) }()
	return s, cancel, d
}

// benchCtx returns a reusable RequestCtx holding the request.
func benchCtx(host, target string, hdr ...string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod("GET")
	req.Header.SetRequestURI(target)
	req.Header.SetHost(host)
	req.Header.Set("User-Agent", "bench/1.0")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5555}, nil)
	return ctx
}

// benchCases are representative routing requests.
var benchCases = []struct {
	name, host, target string
	hdr                []string
}{
	{"cz-302", "tr.http-only-test.thecdn.example.com", "/stuff/video.m3u8?fakeClientIpAddress=12.34.0.123", nil},
	{"cz-header-client", "tr.http-and-https-test.thecdn.example.com", "/a/b/c.ts", []string{"X-MM-Client-IP", "12.34.8.77"}},
	{"deep", "cdn.csd-target-1.thecdn.example.com", "/foo?fakeClientIpAddress=192.168.42.10", nil},
	{"json", "tr.http-only-test.thecdn.example.com", "/stuff?fakeClientIpAddress=12.34.0.123&format=json", nil},
	{"geo-miss", "tr.http-only-test.thecdn.example.com", "/stuff?fakeClientIpAddress=10.99.0.1", nil},
	{"ds-miss", "www.example.org", "/", nil},
}

func BenchmarkRouting(b *testing.B) {
	s := newBenchServer(b, true)
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			ctx := benchCtx(bc.host, bc.target, bc.hdr...)
			b.ReportAllocs()
			for b.Loop() {
				ctx.Response.Reset()
				s.serveRouting(ctx)
			}
		})
	}
}

// benchMixHosts are the services of make bench-http's request mix.
var benchMixHosts = []string{
	"tr.http-only-test.thecdn.example.com", "tr.http-and-https-test.thecdn.example.com",
	"tr.http-to-https-test.thecdn.example.com", "cdn.csd-target-1.thecdn.example.com",
	"tr.steering-target-1.thecdn.example.com", "tr.csd-target-2.thecdn.example.com",
	"tr.client-steering-target-1.thecdn.example.com", "tr.federation-test.thecdn.example.com",
}

// BenchmarkRoutingMix rotates over the 1,024 requests of make bench-http
// (8 services, 64 paths, 16 client addresses; no access log, as there), so
// the handler's in-process cost can be profiled on the very mix the
// throughput target uses. Each iteration parses the raw request into one
// reused RequestCtx, as the server does (the headers are then in cache);
// the parse is included (the ceiling of make bench-http pays it too):
//
//	go test -run '^$' -bench RoutingMix -cpuprofile cpu.out ./router/httpserver
func BenchmarkRoutingMix(b *testing.B) {
	s := newBenchServer(b, false)
	raw := make([][]byte, 1024)
	for i := range raw {
		client := fmt.Sprintf("12.34.%d.%d", i%10, i%250+1)
		if i%16 == 15 {
			client = fmt.Sprintf("192.168.42.%d", i%250+1)
		}
		raw[i] = fmt.Appendf(nil, "GET /video/%d/segment%d.ts?session=%d HTTP/1.1\r\nHost: %s\r\nX-MM-Client-IP: %s\r\nUser-Agent: wrk\r\n\r\n",
			i%64, i, i, benchMixHosts[i%len(benchMixHosts)], client)
	}
	ctx := benchCtx("x", "/")
	var rd bytes.Reader
	br := bufio.NewReader(&rd)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rd.Reset(raw[i%len(raw)])
		br.Reset(&rd)
		ctx.Request.Reset()
		ctx.Response.Reset()
		if err := ctx.Request.Read(br); err != nil {
			b.Fatal(err)
		}
		s.serveRouting(ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusFound {
			b.Fatalf("%s: status %d", ctx.Request.Header.Host(), ctx.Response.StatusCode())
		}
		i++
	}
}

// TestLatencySampling: without an access log one request in
// latencySampleEvery of a keep-alive connection is timed, and every request
// is counted; with one, every request is timed.
func TestLatencySampling(t *testing.T) {
	for _, withLog := range []bool{false, true} {
		ln := fasthttputil.NewInmemoryListener()
		cfg := Config{HTTPListener: ln}
		if withLog {
			cfg.AccessLog = discardAccessLog(t)
		}
		s, cancel, done := runFixtureServer(t, cfg)
		c, err := ln.Dial()
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		const n = 4 * latencySampleEvery
		for range n {
			c.Write([]byte("GET /x?fakeClientIpAddress=12.34.0.123 HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com\r\n\r\n"))
			var resp fasthttp.Response
			if err := resp.Read(br); err != nil || resp.StatusCode() != fasthttp.StatusFound {
				t.Fatalf("response: %d, %v", resp.StatusCode(), err)
			}
		}
		c.Close()
		want := uint64(n / latencySampleEvery)
		if withLog {
			want = n
		}
		if got := s.m.latency.Count(); got != want {
			t.Errorf("access log %v: %d requests timed, want %d", withLog, got, want)
		}
		if got := s.tallies.timed.Load(); got != want {
			t.Errorf("access log %v: /crs/stats average over %d requests, want %d", withLog, got, want)
		}
		if got := s.tallies.total.Load(); got != n {
			t.Errorf("access log %v: %d requests counted, want %d", withLog, got, n)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestParseIPv4Fast: the dotted-quad fast path agrees with netip.ParseAddr
// wherever it answers, and answers for every plain address.
func TestParseIPv4Fast(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	alpha := "0123456789.."
	check := func(s string) {
		got, ok := parseIPv4Fast([]byte(s))
		want, err := netip.ParseAddr(s)
		if ok && (err != nil || got != want) {
			t.Fatalf("%q: fast %v, netip %v %v", s, got, want, err)
		}
		if !ok && err == nil && want.Is4() && !strings.Contains(s, ":") {
			t.Fatalf("%q: fast path declined a plain IPv4 address", s)
		}
	}
	for _, s := range []string{"12.34.0.1", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.", "1..2.3", "1.2.3.4.5", "1234.1.1.1", ""} {
		check(s)
	}
	for range 200000 {
		b := make([]byte, 1+rng.IntN(15))
		for i := range b {
			b[i] = alpha[rng.IntN(len(alpha))]
		}
		check(string(b))
	}
	for range 20000 {
		check(fmt.Sprintf("%d.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256)))
	}
}
