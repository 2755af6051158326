package loadtest

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// newTestHTTPWorker returns an HTTP worker talking to an in-memory fasthttp
// server that redirects every request to cache-1.svc.example.net.
func newTestHTTPWorker(t testing.TB) (*httpWorker, *recorder) {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	loc := []byte("http://cache-1.svc.example.net/x")
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetStatusCode(302)
		ctx.Response.Header.SetCanonical([]byte("Location"), loc)
	}}
	go srv.Serve(ln) //nolint:errcheck // ends when ln closes
	t.Cleanup(func() { ln.Close() })
	sh := &shared{cdn: fakeCDN(), s: &sampler{max: 5}, start: time.Now(), timeout: 2 * time.Second}
	rec := newRecorder(ProtoHTTP, sh.s)
	hc := &fasthttp.HostClient{Addr: "mem", Dial: func(string) (net.Conn, error) { return ln.Dial() }, MaxConns: 4}
	reqs := []httpRequest{{svc: 0, host: "tr.svc.example.net", path: "/a", url: "http://tr.svc.example.net/a", client: "198.18.0.1"}}
	return newHTTPWorker(sh, rec, ProtoHTTP, reqs, []*fasthttp.HostClient{hc}, 0), rec
}
