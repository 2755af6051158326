// Command ceiling is the pair of reference points that scripts/make/
// bench-dns.sh measures `signpost route` against besides Knot and gdnsd.
// Both answer every query with the same A record and do no routing:
//
//   - --mode go: the bare Go UDP responder of ../shared/BENCHMARKING.md
//     ("the ceiling for Go on this kernel"): one goroutine, one datagram
//     per ReadFromUDPAddrPort and per WriteToUDPAddrPort, the answer built
//     in one reused buffer (the query's header and question, QR and AA
//     set, one A record).
//   - --mode server: router/dnsserver.Server, with the sockets, batches,
//     waits, parsing, metrics shards and answer writer of `signpost route`,
//     behind a handler that appends the one A record (and echoes the
//     client subnet, as the router does). The gap between it and the
//     router is what zones and routing cost; the gap between it and the
//     peers is the server machinery's.
//
// Not to be confused with loadtest/internal/ceiling, the load generator's
// reference for bench-e2e: that one answers each delivery service from a
// map, with batched reads and writes, so it never limits the generator.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"github.com/signpost-cdn/signpost/internal/dnswire"
	"github.com/signpost-cdn/signpost/router/dnsserver"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("ceiling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:15399", "UDP listen address (server mode: UDP and TCP)")
	mode := fs.String("mode", "go", "go (one datagram per system call) or server (router/dnsserver with a fixed answer)")
	answer := fs.String("answer", "192.0.2.20", "IPv4 address of the A record in every answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	a, err := netip.ParseAddr(*answer)
	if err != nil || !a.Is4() {
		fmt.Fprintf(stderr, "ceiling: --answer %q: not an IPv4 address\n", *answer)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch *mode {
	case "go":
		err = serveGo(ctx, *addr, a.As4())
	case "server":
		err = serveServer(ctx, *addr, a)
	default:
		fmt.Fprintf(stderr, "ceiling: --mode %q: want go or server\n", *mode)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "ceiling:", err)
		return 1
	}
	return 0
}

// serveGo answers on addr one datagram per system call until ctx ends.
func serveGo(ctx context.Context, addr string, a [4]byte) error {
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	uc := c.(*net.UDPConn)
	stop := context.AfterFunc(ctx, func() { uc.Close() })
	defer stop()
	in := make([]byte, 4096)
	out := make([]byte, 0, 512)
	for {
		n, from, err := uc.ReadFromUDPAddrPort(in)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			continue // an ICMP error of an earlier answer
		}
		var ok bool
		if out, ok = appendAnswer(out[:0], in[:n], a); ok {
			_, _ = uc.WriteToUDPAddrPort(out, from)
		}
	}
}

// appendAnswer appends to dst the answer to query: its header and its one
// question, QR and AA set (opcode and RD kept), one A record with a
// pointer to the question name and a TTL of 300. It reports false for a
// datagram that is not a query with one uncompressed question.
func appendAnswer(dst, query []byte, a [4]byte) ([]byte, bool) {
	const hdr = dnswire.HeaderLen
	if len(query) < hdr+5 || query[2]&0x80 != 0 || query[4] != 0 || query[5] != 1 {
		return dst, false
	}
	p := hdr
	for p < len(query) && query[p] != 0 {
		if query[p] > 63 {
			return dst, false // a pointer or a reserved label type
		}
		p += 1 + int(query[p])
	}
	end := p + 1 + 4 // the root label, type and class
	if end > len(query) {
		return dst, false
	}
	dst = append(dst, query[:end]...)
	dst[2] = 0x80 | 0x04 | dst[2]&0x79 // QR, AA; opcode and RD kept, TC cleared
	dst[3] = 0                         // RA, Z, AD, CD and RCODE cleared
	// QDCOUNT 1, ANCOUNT 1, NSCOUNT 0, ARCOUNT 0.
	copy(dst[4:hdr], []byte{0, 1, 0, 1, 0, 0, 0, 0})
	return append(dst, 0xC0, hdr, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, a[0], a[1], a[2], a[3]), true
}

// serveServer runs router/dnsserver.Server on addr with a handler that
// answers every query with rr until ctx ends.
func serveServer(ctx context.Context, addr string, a netip.Addr) error {
	rr, err := dnswire.NewA(a, 300)
	if err != nil {
		return err
	}
	owner := dnswire.OwnerAt(dnswire.QuestionOffset)
	h := dnsserver.HandlerFunc(func(w *dnsserver.Response, q *dnswire.Query, _ netip.AddrPort) {
		w.SetAuthoritative(true)
		if q.ECS {
			w.SetECSScope(q.ECSSource)
		}
		w.AppendTTL(dnswire.Answer, owner, &rr, 300)
	})
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := dnsserver.New(dnsserver.Config{Addr: addr, Handler: h, Logger: log})
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
