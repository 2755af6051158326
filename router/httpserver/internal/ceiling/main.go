// Command ceiling is the reference point of scripts/make/bench-http.sh: a
// bare fasthttp server that answers every request with the same 302 (a
// Location as long as the router's), doing no routing at all. It keeps
// fasthttp's defaults: no timeouts, no connection cap (the router enforces
// both); only the Server and Content-Type headers are off, as in the
// router. The router's throughput is reported as a fraction of this
// ceiling.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "listen address")
	flag.Parse()
	location := []byte("http://edge-cache-001.http-only-test.thecdn.example.com:8090/stuff?fakeClientIpAddress=12.34.0.123")
	srv := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetStatusCode(fasthttp.StatusFound)
			ctx.Response.Header.SetCanonical([]byte("Location"), location)
		},
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
	}
	if err := srv.ListenAndServe(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}
