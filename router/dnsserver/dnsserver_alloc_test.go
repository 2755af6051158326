//go:build !race

package dnsserver

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

func TestServeAllocs(t *testing.T) {
	p := NewProcessor(newStaticHandler(t))
	dst := make([]byte, 0, dnswire.MaxTCPSize)
	for name, msg := range map[string][]byte{
		"A":        packMsg(t, newQuery("a.test.example.", dns.TypeA)),
		"A-ecs":    packMsg(t, addECS(newQuery("a.test.example.", dns.TypeA), "192.168.33.0/24")),
		"nxdomain": packMsg(t, newQuery("x.y.test.example.", dns.TypeA)),
		"many":     packMsg(t, newQuery("many.test.example.", dns.TypeA)),
		"refused":  packMsg(t, newQuery("www.google.com.", dns.TypeA)),
		"formerr":  packMsg(t, newQuery("a.test.example.", dns.TypeA))[:20],
	} {
		for _, tr := range []Transport{UDP, TCP} {
			if n := testing.AllocsPerRun(1000, func() { p.Serve(dst, msg, testClient, tr) }); n != 0 {
				t.Errorf("%s over %v: %v allocs per query", name, tr, n)
			}
		}
	}
}

// TestServerLoopbackAllocs sends queries over loopback UDP and TCP and
// checks the process-wide malloc count per query. The client side (one
// reused socket, preallocated buffers) allocates nothing per query, so the
// delta is the server's. The UDP workers run in both wait modes (the
// kernel wait's sleep in recvmmsg, the poll wait's park on epoll).
func TestServerLoopbackAllocs(t *testing.T) {
	for _, wait := range []UDPWait{WaitKernel, WaitPoll} {
		t.Run(wait.String(), func(t *testing.T) { testServerLoopbackAllocs(t, wait) })
	}
}

func testServerLoopbackAllocs(t *testing.T, wait UDPWait) {
	if wait == WaitKernel {
		reserveProcs(t, 1)
	}
	s := startServer(t, Config{Handler: newStaticHandler(t), Workers: 1, UDPWait: wait})
	q := packMsg(t, addECS(newQuery("a.test.example.", dns.TypeA), "10.0.0.0/24"))
	uc, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(s.UDPAddr()))
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	buf := make([]byte, 2048)
	roundTrip := func() {
		if _, err := uc.Write(q); err != nil {
			t.Fatal(err)
		}
		if _, err := uc.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	uc.SetDeadline(time.Now().Add(30 * time.Second))
	for range 200 { // warm up: pools, the poller, lazily grown buffers
		roundTrip()
	}
	const n = 5000
	perQuery := mallocsPer(n, roundTrip)
	// The budget is for runtime noise (timers, GC workers), not per query.
	if perQuery > 0.05 {
		t.Fatalf("UDP: %.3f mallocs per query", perQuery)
	}
	t.Logf("UDP: %.4f mallocs per query", perQuery)

	tc, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	framed := append([]byte{byte(len(q) >> 8), byte(len(q))}, q...)
	tcpTrip := func() {
		if _, err := tc.Write(framed); err != nil {
			t.Fatal(err)
		}
		l := buf[1024:1026] // preallocated: a local array would escape
		if _, err := io.ReadFull(tc, l); err != nil {
			t.Fatal(err)
		}
		want := int(l[0])<<8 | int(l[1])
		for got := 0; got < want; {
			m, err := tc.Read(buf[got:want])
			if err != nil {
				t.Fatal(err)
			}
			got += m
		}
	}
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	for range 200 {
		tcpTrip()
	}
	perQuery = mallocsPer(n, tcpTrip)
	// SetReadDeadline/SetWriteDeadline per message may reallocate runtime
	// timers occasionally; per query it must stay far below one.
	if perQuery > 0.05 {
		t.Fatalf("TCP: %.3f mallocs per query", perQuery)
	}
	t.Logf("TCP: %.4f mallocs per query", perQuery)
}

func mallocsPer(n int, f func()) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(n)
}
