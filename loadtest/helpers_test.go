package loadtest

import (
	"encoding/binary"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"
)

// fakeCDN is a CDN of one DNS and one HTTP delivery service whose only
// cache is 10.0.0.1 / cache-1.svc.example.net.
func fakeCDN() *CDN {
	s := Service{XMLID: "svc", Type: TypeDNS, FQDN: "edge.svc.example.net", AcceptHTTP: true, Caches: 1,
		Addrs: map[netip.Addr]struct{}{netip.MustParseAddr("10.0.0.1"): {}},
		Hosts: map[string]struct{}{"cache-1.svc.example.net": {}}}
	return &CDN{Dir: "fake", Services: []Service{s}, byID: map[string]int{"svc": 0}}
}

func fakeQueries(t testing.TB, n int) []dnsQuery {
	t.Helper()
	var qs []dnsQuery
	for i := range n {
		c := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
		w, err := appendQuery(nil, "edge.svc.example.net", 1, c)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, dnsQuery{wire: w, svc: 0, qtype: 1, client: client{addr: c, pop: popMiss}})
	}
	return qs
}

// appendAnswer appends to dst the answer to query q: its question, QR set,
// one A record a (answer), no OPT record.
func appendAnswer(dst, q []byte, a netip.Addr) []byte {
	end := skipName(q, 12) + 4
	dst = append(dst, q[:end]...)
	dst[2] |= 0x80
	binary.BigEndian.PutUint16(dst[6:], 1)
	binary.BigEndian.PutUint16(dst[10:], 0)
	a4 := a.As4()
	dst = append(dst, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
	return append(dst, a4[:]...)
}

// udpResponder answers every query on a loopback UDP socket with
// 10.0.0.1 (or garbage when garbage is set), allocating nothing.
func udpResponder(t testing.TB, garbage bool) string {
	return udpResponderWith(t, garbage, netip.MustParseAddr("10.0.0.1"))
}

// udpResponderWith answers every query with a.
func udpResponderWith(t testing.TB, garbage bool, a netip.Addr) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { c.Close(); wg.Wait() })
	wg.Go(func() {
		in := make([]byte, 4096)
		out := make([]byte, 0, 4096)
		for {
			n, from, err := c.ReadFromUDPAddrPort(in)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			out = appendAnswer(out[:0], in[:n], a)
			if garbage {
				out = append(out[:2], "garbage!garbage!"...)
			}
			_, _ = c.WriteToUDPAddrPort(out, from)
		}
	})
	return c.LocalAddr().String()
}

// tcpResponder answers DNS over TCP like udpResponder.
func tcpResponder(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				in := make([]byte, 65536)
				out := make([]byte, 2, 4096)
				ans := make([]byte, 0, 4096)
				a := netip.MustParseAddr("10.0.0.1")
				for {
					if _, err := ioReadFull(c, in[:2]); err != nil {
						return
					}
					n := int(binary.BigEndian.Uint16(in))
					if _, err := ioReadFull(c, in[:n]); err != nil {
						return
					}
					ans = appendAnswer(ans[:0], in[:n], a)
					out = append(out[:2], ans...)
					binary.BigEndian.PutUint16(out, uint16(len(out)-2))
					if _, err := c.Write(out); err != nil {
						return
					}
				}
			})
		}
	})
	return ln.Addr().String()
}

func ioReadFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// newTestUDPEngine returns an engine on addr with its receiver running.
func newTestUDPEngine(t testing.TB, addr string) (*udpEngine, *recorder) {
	t.Helper()
	cdn := fakeCDN()
	s := &sampler{max: 5, start: time.Now()}
	rec := newRecorder(ProtoDNSUDP, s)
	e, err := newUDPEngine(cdn, fakeQueries(t, 64), addr, rec, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.start = time.Now()
	e.timeout = int64(2 * time.Second)
	e.window = udpBatch
	e.stopped.Store(true) // the test sends; the receiver only receives
	var wg sync.WaitGroup
	wg.Go(e.recvLoop)
	t.Cleanup(func() { e.conn.Close(); wg.Wait() })
	return e, rec
}

// roundTrip sends one batch and waits for every answer.
func (e *udpEngine) roundTrip(n int) {
	e.sendOnce(n, e.now())
	for e.inflight.Load() > 0 {
		runtime.Gosched()
	}
}
