// Command ceiling measures the load generator's own ceiling (scripts/make/
// bench-e2e.sh): a DNS server and a bare fasthttp server that answer every
// request correctly for a snapshot directory with as little work as
// possible, so that `signpost loadtest run` checks every answer and counts
// them as good. DNS: one UDP socket, one datagram per system call, the
// first cache address of the delivery service from a map. HTTP: a 302 to
// the first cache of the delivery service named by the Host header.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/signpost-cdn/signpost/loadtest"
)

func main() {
	dnsAddr := flag.String("dns", "", "UDP listen address")
	httpAddr := flag.String("http", "", "HTTP listen address")
	snap := flag.String("snapshot", "", "snapshot directory")
	zone := flag.String("zone", "", "write a zone file answering every DNS delivery service as this server does, and exit")
	hosts := flag.String("hosts", "", "write the host names of the HTTP delivery services a plain HTTP request is redirected for, one per line, and exit")
	flag.Parse()
	cdn, err := loadtest.LoadCDN(*snap)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
	a4, a6, loc := map[string][4]byte{}, map[string][16]byte{}, map[string][]byte{}
	for _, s := range cdn.Services {
		var addrs []netip.Addr
		for a := range s.Addrs {
			addrs = append(addrs, a)
		}
		sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
		for _, a := range addrs {
			if _, ok := a4[s.FQDN]; !ok && a.Is4() {
				a4[s.FQDN] = a.As4()
			}
			if _, ok := a6[s.FQDN]; !ok && a.Is6() {
				a6[s.FQDN] = a.As16()
			}
		}
		var hosts []string
		for h := range s.Hosts {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		if len(hosts) > 0 {
			loc[s.FQDN] = []byte("http://" + hosts[0] + "/x")
		}
	}
	if *hosts != "" {
		var b strings.Builder
		for _, s := range cdn.Services {
			if s.Type == loadtest.TypeHTTP && s.AcceptHTTP && !s.RedirectToHTTPS && !s.CoverageZoneOnly && s.Caches > 0 {
				b.WriteString(s.FQDN + "\n")
			}
		}
		if err := os.WriteFile(*hosts, []byte(b.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "ceiling:", err)
			os.Exit(1)
		}
		return
	}
	if *zone != "" {
		if err := writeZone(*zone, cdn, a4, a6); err != nil {
			fmt.Fprintln(os.Stderr, "ceiling:", err)
			os.Exit(1)
		}
		return
	}
	errc := make(chan error, 2)
	if *dnsAddr != "" {
		c, err := net.ListenPacket("udp", *dnsAddr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ceiling:", err)
			os.Exit(1)
		}
		uc := c.(*net.UDPConn)
		_ = uc.SetReadBuffer(4 << 20)
		_ = uc.SetWriteBuffer(4 << 20)
		go func() { errc <- serveDNS(uc, &dnsAnswers{a4: a4, a6: a6}) }()
	}
	if *httpAddr != "" {
		srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
			host := ctx.Host()
			if i := strings.LastIndexByte(string(host), ':'); i >= 0 {
				host = host[:i]
			}
			ctx.SetStatusCode(fasthttp.StatusFound)
			ctx.Response.Header.SetCanonical([]byte("Location"), loc[string(host)])
		}, NoDefaultServerHeader: true, NoDefaultContentType: true}
		go func() { errc <- srv.ListenAndServe(*httpAddr) }()
	}
	fmt.Fprintln(os.Stderr, "ceiling:", <-errc)
	os.Exit(1)
}

// dnsAnswers holds the one address each DNS name is answered with.
type dnsAnswers struct {
	a4 map[string][4]byte
	a6 map[string][16]byte
}

// answer appends to dst the answer to the query q: A/AAAA queries get one
// address, the OPT record is dropped, anything else gets an empty NOERROR
// answer. ok is false for a datagram too short to be a query.
func (d *dnsAnswers) answer(dst, q []byte) (out []byte, ok bool) {
	var name [256]byte
	n := len(q)
	if n < 17 {
		return dst, false
	}
	off, nl := 12, 0
	for off < n && q[off] != 0 && q[off] < 64 && off+1+int(q[off]) < n && nl+int(q[off])+1 < len(name) {
		if nl > 0 {
			name[nl] = '.'
			nl++
		}
		nl += copy(name[nl:], q[off+1:off+1+int(q[off])])
		off += 1 + int(q[off])
	}
	end := off + 5
	if end > n {
		return dst, false
	}
	qtype := binary.BigEndian.Uint16(q[off+1:])
	start := len(dst)
	dst = append(dst, q[:end]...)
	dst[start+2] |= 0x80
	binary.BigEndian.PutUint16(dst[start+10:], 0)
	switch qtype {
	case 1:
		if a, ok := d.a4[string(name[:nl])]; ok {
			dst = append(dst, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
			dst = append(dst, a[:]...)
			binary.BigEndian.PutUint16(dst[start+6:], 1)
		}
	case 28:
		if a, ok := d.a6[string(name[:nl])]; ok {
			dst = append(dst, 0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16)
			dst = append(dst, a[:]...)
			binary.BigEndian.PutUint16(dst[start+6:], 1)
		}
	}
	return dst, true
}

// writeZone writes the CDN domain as a zone (for a peer DNS server such as
// Knot) with the same A and AAAA answers serveDNS gives, so the load
// generator's checks pass against the peer too.
func writeZone(path string, cdn *loadtest.CDN, a4 map[string][4]byte, a6 map[string][16]byte) error {
	origin := strings.TrimSuffix(strings.ToLower(cdn.Table.Snapshot().Config.DomainName), ".")
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s.\n$TTL 60\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 60\n@ IN NS ns1\nns1 IN A 127.0.0.1\n", origin)
	for _, s := range cdn.Services {
		if s.Type != loadtest.TypeDNS || !strings.HasSuffix(s.FQDN, "."+origin) {
			continue
		}
		if a, ok := a4[s.FQDN]; ok {
			fmt.Fprintf(&b, "%s. IN A %s\n", s.FQDN, netip.AddrFrom4(a))
		}
		if a, ok := a6[s.FQDN]; ok {
			fmt.Fprintf(&b, "%s. IN AAAA %s\n", s.FQDN, netip.AddrFrom16(a))
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
