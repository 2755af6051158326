package loadtest

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// redirectServer is a loopback fasthttp server redirecting every request
// to loc.
func redirectServer(t testing.TB, loc string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := []byte(loc)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetStatusCode(302)
		ctx.Response.Header.SetCanonical([]byte("Location"), l)
	}}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

// newTestHTTPWorker returns an HTTP worker talking to a loopback fasthttp
// server that redirects every request to cache-1.svc.example.net.
func newTestHTTPWorker(t testing.TB) (*httpWorker, *recorder) {
	t.Helper()
	addr := redirectServer(t, "http://cache-1.svc.example.net/x")
	sh := &shared{cdn: fakeCDN(), s: &sampler{max: 5}, start: time.Now(), timeout: 2 * time.Second}
	rec := newRecorder(ProtoHTTP, sh.s)
	reqs := []httpRequest{{svc: 0, host: "tr.svc.example.net", path: "/a", client: "198.18.0.1",
		wire: []byte("GET /a HTTP/1.1\r\nHost: tr.svc.example.net\r\nX-MM-Client-IP: 198.18.0.1\r\n\r\n")}}
	w := newHTTPWorker(sh, rec, ProtoHTTP, reqs, addr, nil, 1, 0)
	t.Cleanup(w.close)
	return w, rec
}
