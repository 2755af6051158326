package dnsserver

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/testrun"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// startServer runs a Server on 127.0.0.1:0 until the test ends.
func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Addr == "" && cfg.UDPConns == nil {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	testrun.Start(t, "Run", 5*time.Second, s.Run)
	return s
}

func exchange(t *testing.T, net, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: net, Timeout: 2 * time.Second, UDPSize: 65535}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s exchange %v: %v", net, m.Question, err)
	}
	return r
}

// udpLoops are the UDP loops a test runs in turn: recvmmsg batches with
// either wait, and the one-datagram portable loop.
func udpLoops() []udpLoop {
	return []udpLoop{{"recvmmsg-kernel-wait", WaitKernel, false}, {"recvmmsg-poll-wait", WaitPoll, false}, {"portable", WaitAuto, true}}
}

type udpLoop struct {
	name     string
	wait     UDPWait
	portable bool
}

func TestServerUDPAndTCP(t *testing.T) {
	for _, mode := range udpLoops() {
		t.Run(mode.name, func(t *testing.T) {
			s := startServer(t, Config{Handler: newStaticHandler(t), UDPWait: mode.wait, portable: mode.portable})
			addr := s.UDPAddr().String()
			for _, proto := range []string{"udp", "tcp"} {
				r := exchange(t, proto, addr, newQuery("a.test.example.", dns.TypeA))
				if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.1" {
					t.Fatalf("%s: %v", proto, r)
				}
				if r.IsEdns0() != nil {
					t.Fatalf("%s: OPT without EDNS in the query", proto)
				}
				r = exchange(t, proto, addr, newQuery("x.y.test.example.", dns.TypeA))
				if r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 {
					t.Fatalf("%s NXDOMAIN: %v", proto, r)
				}
			}
			// EDNS: OPT back, DO echoed, ECS echoed with the handler's scope.
			m := addECS(newQuery("a.test.example.", dns.TypeA), "192.168.33.0/24")
			m.IsEdns0().SetDo()
			r := exchange(t, "udp", addr, m)
			opt := r.IsEdns0()
			if opt == nil || !opt.Do() || opt.UDPSize() != 1232 || len(opt.Option) != 1 {
				t.Fatalf("EDNS: %v", r)
			}
			if e := opt.Option[0].(*dns.EDNS0_SUBNET); e.SourceNetmask != 24 || e.SourceScope != 24 || e.Address.String() != "192.168.33.0" {
				t.Fatalf("ECS echo: %v", e)
			}
			// Truncation: 100 A records do not fit 512 bytes over UDP, fit over TCP.
			r = exchange(t, "udp", addr, newQuery("many.test.example.", dns.TypeA))
			if !r.Truncated || len(r.Answer) != 0 {
				t.Fatalf("UDP many: tc %v answers %d", r.Truncated, len(r.Answer))
			}
			r = exchange(t, "tcp", addr, newQuery("many.test.example.", dns.TypeA))
			if r.Truncated || len(r.Answer) != 100 {
				t.Fatalf("TCP many: tc %v answers %d", r.Truncated, len(r.Answer))
			}
			if st := s.Stats(); st.Rcodes[0] < 4 || st.Rcodes[3] != 2 || st.Truncated != 1 || st.QTypes[0] < 6 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestServerNotReadyUntilHandler(t *testing.T) {
	s := startServer(t, Config{})
	c := &dns.Client{Net: "udp", Timeout: 300 * time.Millisecond}
	if _, _, err := c.Exchange(newQuery("a.test.example.", dns.TypeA), s.UDPAddr().String()); err == nil {
		t.Fatal("answered before a handler was installed")
	}
	if st := s.Stats(); st.Drops[DropNotReady] == 0 {
		t.Fatalf("not_ready drops %v", st.Drops)
	}
	s.SetHandler(newStaticHandler(t))
	if r := exchange(t, "udp", s.UDPAddr().String(), newQuery("a.test.example.", dns.TypeA)); len(r.Answer) != 1 {
		t.Fatalf("after SetHandler: %v", r)
	}
}

// writeFramed writes one query with the 2-byte length prefix.
func writeFramed(t *testing.T, c net.Conn, m *dns.Msg) {
	t.Helper()
	b := packMsg(t, m)
	if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)); err != nil {
		t.Fatal(err)
	}
}

func readFramed(t *testing.T, c net.Conn) *dns.Msg {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		t.Fatalf("read length: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read body: %v", err)
	}
	var m dns.Msg
	if err := m.Unpack(b); err != nil {
		t.Fatal(err)
	}
	return &m
}

func TestTCPPipelining(t *testing.T) {
	s := startServer(t, Config{Handler: newStaticHandler(t)})
	c, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Ten queries in one write, then one split across writes.
	var all []byte
	for i := range 10 {
		m := newQuery("a.test.example.", dns.TypeA)
		if i%3 == 0 {
			m = newQuery("many.test.example.", dns.TypeA)
		}
		m.Id = uint16(100 + i)
		b := packMsg(t, m)
		all = append(all, binary.BigEndian.AppendUint16(nil, uint16(len(b)))...)
		all = append(all, b...)
	}
	if _, err := c.Write(all); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		r := readFramed(t, c)
		if r.Id != uint16(100+i) || r.Rcode != 0 || len(r.Answer) == 0 {
			t.Fatalf("answer %d: id %d %v", i, r.Id, r)
		}
	}
	m := newQuery("a.test.example.", dns.TypeA)
	m.Id = 7
	b := packMsg(t, m)
	framed := append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
	for _, part := range [][]byte{framed[:1], framed[1:5], framed[5:]} {
		if _, err := c.Write(part); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := readFramed(t, c); r.Id != 7 {
		t.Fatalf("split query: %v", r)
	}
}

// connClosed reports whether the server closed c within d.
func connClosed(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	var b [1]byte
	_, err := c.Read(b[:])
	return err == io.EOF || (err != nil && !isTimeout(err))
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestTCPTimeouts(t *testing.T) {
	// Idle: closed after the idle timeout, not before.
	s := startServer(t, Config{Handler: newStaticHandler(t), TCPIdleTimeout: 300 * time.Millisecond, TCPReadTimeout: 5 * time.Second})
	idle := testrun.DialTCP(t, s.TCPAddr().String())
	start := time.Now()
	if !connClosed(idle, 3*time.Second) || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("idle connection closed after %v", time.Since(start))
	}
	// Slowloris: a message dribbled one byte every 50 ms is cut by the
	// per-message read timeout although the connection is never idle.
	s = startServer(t, Config{Handler: newStaticHandler(t), TCPIdleTimeout: 10 * time.Second, TCPReadTimeout: 200 * time.Millisecond})
	slow := testrun.DialTCP(t, s.TCPAddr().String())
	b := packMsg(t, newQuery("a.test.example.", dns.TypeA))
	framed := append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
	start = time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		if connClosed(slow, 5*time.Second) {
			closed <- time.Since(start)
		}
		close(closed)
	}()
	for _, c := range framed {
		if _, err := slow.Write([]byte{c}); err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	d, ok := <-closed
	if !ok || d > 2*time.Second {
		t.Fatalf("slow sender: closed %v after %v", ok, d)
	}
}

func TestTCPCaps(t *testing.T) {
	s := startServer(t, Config{Handler: newStaticHandler(t), MaxTCPConns: 6, MaxTCPConnsPerClient: 4})
	addr := s.TCPAddr().String()
	dial := func() net.Conn { return testrun.DialTCP(t, addr) }
	// Per-client cap: the fifth connection from 127.0.0.1 is closed at once.
	var held []net.Conn
	for range 4 {
		c := dial()
		writeFramed(t, c, newQuery("a.test.example.", dns.TypeA))
		readFramed(t, c) // admitted and served
		held = append(held, c)
	}
	if extra := dial(); !connClosed(extra, time.Second) {
		t.Fatal("fifth connection from one client was not closed")
	}
	if st := s.Stats(); st.TCPRejected == 0 || st.TCPActive != 4 {
		t.Fatalf("rejected %d active %d", st.TCPRejected, st.TCPActive)
	}
	for _, c := range held {
		c.Close()
	}
}

// TestSlowTCPDoesNotDelayUDP reproduces TR's CVE-2017-7670 setting: many
// TCP connections that are idle or send one byte and stall must not slow
// UDP answers.
func TestSlowTCPDoesNotDelayUDP(t *testing.T) {
	s := startServer(t, Config{Handler: newStaticHandler(t), MaxTCPConnsPerClient: 1000, Workers: 1})
	var conns []net.Conn
	for i := range 300 {
		c, err := net.Dial("tcp", s.TCPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			c.Write([]byte{0, 40, 0, 1}) // announces 40 bytes, sends 2
		}
		conns = append(conns, c)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// The accept loop runs concurrently: wait until it holds the
	// connections, so UDP is measured while they are all open.
	for deadline := time.Now().Add(time.Second); s.Stats().TCPActive < 250 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	var rtts []time.Duration
	for range 200 {
		r, rtt, err := c.Exchange(newQuery("a.test.example.", dns.TypeA), s.UDPAddr().String())
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("UDP during TCP attack: %v %v", err, r)
		}
		rtts = append(rtts, rtt)
	}
	slices.Sort(rtts)
	// Every query answered; p95 bounded loosely, since the race detector
	// and a 2-core shared machine add their own pauses.
	t.Logf("UDP rtt during TCP attack: p50 %v p95 %v max %v", rtts[100], rtts[190], rtts[199])
	if rtts[190] > 50*time.Millisecond {
		t.Fatalf("UDP p95 %v during the TCP attack", rtts[190])
	}
	if st := s.Stats(); st.TCPActive < 250 {
		t.Fatalf("only %d TCP connections held", st.TCPActive)
	}
}

func TestRunStopsPromptly(t *testing.T) {
	for _, wait := range []UDPWait{WaitKernel, WaitPoll} {
		t.Run(wait.String(), func(t *testing.T) { testRunStopsPromptly(t, wait) })
	}
}

// testRunStopsPromptly stops a server whose UDP workers are all waiting
// (in recvmmsg or parked) and which holds an open TCP connection.
func testRunStopsPromptly(t *testing.T, wait UDPWait) {
	s, err := New(Config{Addr: "127.0.0.1:0", Workers: 3, UDPWait: wait, Handler: newStaticHandler(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	c, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	writeFramed(t, c, newQuery("a.test.example.", dns.TypeA))
	readFramed(t, c)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not stop")
	}
	if !connClosed(c, time.Second) {
		t.Fatal("open TCP connection not closed on stop")
	}
	if err := s.Run(context.Background()); err == nil {
		t.Fatal("second Run must fail")
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("no address")
	}
	if _, err := New(Config{Addr: "127.0.0.1:0", Batch: 5000}); err == nil {
		t.Fatal("batch over limit")
	}
	if _, err := New(Config{Addr: "256.0.0.1:53"}); err == nil {
		t.Fatal("bad address")
	}
}

func TestOversizeDatagramDropped(t *testing.T) {
	s := startServer(t, Config{Handler: newStaticHandler(t), Workers: 1})
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(s.UDPAddr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	big := make([]byte, 65000)
	copy(big, packMsg(t, newQuery("a.test.example.", dns.TypeA)))
	if _, err := c.Write(big); err != nil {
		t.Fatal(err)
	}
	// A normal query right after is answered; the big one was dropped.
	if r := exchange(t, "udp", s.UDPAddr().String(), newQuery("a.test.example.", dns.TypeA)); len(r.Answer) != 1 {
		t.Fatal(r)
	}
	if st := s.Stats(); st.Drops[DropOversize] != 1 {
		t.Fatalf("oversize drops %v", st.Drops)
	}
}

// TestSocketBuffers: UDP sockets get large receive buffers (the kernel
// reports twice the size set; without privileges it caps at rmem_max).
// Checked before Run, which hands each socket's descriptor to its worker
// and closes the *net.UDPConn.
func TestSocketBuffers(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0", Handler: newStaticHandler(t), Workers: 1, SocketBuffer: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.closeAll()
	got := sockoptInt(t, s.udp[0], unix.SOL_SOCKET, unix.SO_RCVBUF)
	if got < 1<<20 {
		t.Fatalf("SO_RCVBUF %d, want at least 1 MiB", got)
	}
	t.Logf("SO_RCVBUF %d", got)
}

func TestParseUDPWait(t *testing.T) {
	for _, w := range []UDPWait{WaitAuto, WaitKernel, WaitPoll} {
		if got, ok := ParseUDPWait(w.String()); !ok || got != w {
			t.Errorf("ParseUDPWait(%q) = %v, %v", w.String(), got, ok)
		}
	}
	if _, ok := ParseUDPWait("spin"); ok {
		t.Error(`ParseUDPWait("spin") accepted`)
	}
}

// sockoptInt reads an integer socket option of c.
func sockoptInt(t *testing.T, c *net.UDPConn, level, opt int) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), level, opt) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}
