//go:build linux

package dnsserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"

	"github.com/signpost-cdn/signpost/internal/dnswire"
	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/internal/metrics"
)

// fillBatch puts A queries for the names into b as recvmmsg would, each
// from its own IPv4 sender port (10000 + index), and returns them packed.
func fillBatch(tb testing.TB, b *udpBatch, qs []string) [][]byte {
	tb.Helper()
	msgs := make([][]byte, len(qs))
	for i, name := range qs {
		m := newQuery(name, dns.TypeA)
		m.Id = uint16(i)
		msgs[i] = packMsg(tb, m)
	}
	fillBatchMsgs(b, msgs)
	return msgs
}

// fillBatchMsgs puts the messages into b as recvmmsg would (see fillBatch).
// The responses overwrite the queries, so a batch is refilled before it is
// processed again.
func fillBatchMsgs(b *udpBatch, msgs [][]byte) {
	for i, msg := range msgs {
		copy(b.rx[i*rxSlot:], msg)
		b.hdrs[i].Len = uint32(len(msg))
		b.hdrs[i].Hdr.Flags = 0
		b.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet4
		b.iov[i].SetLen(rxSlot)
		sa := b.names[i][:]
		clear(sa)
		binary.NativeEndian.PutUint16(sa[0:2], unix.AF_INET)
		binary.BigEndian.PutUint16(sa[2:4], uint16(10000+i))
		copy(sa[4:8], []byte{127, 0, 0, 1})
		if b.ctrl != nil { // a wildcard-bound socket's (withControl)
			b.hdrs[i].Hdr.SetControllen(putPktinfo4(b.ctrl[i*ctrlSlot:]))
		}
	}
	b.n = len(msgs)
}

// TestProcessBatchAnswersInPlace: each response is written over its query
// in the receive slot, and is byte for byte what Serve writes into a
// separate buffer, also where the answer overwrites the query's OPT and
// ECS option, for names in mixed case, a NODATA, an NXDOMAIN, a REFUSED
// and a FORMERR (two questions).
func TestProcessBatchAnswersInPlace(t *testing.T) {
	var msgs [][]byte
	add := func(m *dns.Msg) { m.Id = uint16(len(msgs)); msgs = append(msgs, packMsg(t, m)) }
	add(newQuery("www.test.example.", dns.TypeA))
	add(addECS(newQuery("WwW.TeSt.ExAmPlE.", dns.TypeA), "198.51.100.0/24"))
	add(addECS(newQuery("www.test.example.", dns.TypeA), "2001:db8:1::/48"))
	add(addECS(newQuery("www.test.example.", dns.TypeAAAA), "198.51.100.0/24"))
	add(addECS(newQuery("a.b.c.test.example.", dns.TypeA), "198.51.100.0/24"))
	add(newQuery("www.other.example.", dns.TypeA))
	twoQ := newQuery("www.test.example.", dns.TypeA)
	twoQ.Question = append(twoQ.Question, twoQ.Question[0])
	add(twoQ)
	h := newStaticHandler(t)
	want := make([][]byte, len(msgs))
	ref := NewProcessor(h)
	for i, msg := range msgs {
		want[i] = ref.Serve(make([]byte, 0, 1232), msg, netip.MustParseAddrPort("127.0.0.1:"+strconv.Itoa(10000+i)), UDP)
		if want[i] == nil {
			t.Fatalf("query %d: no reference response", i)
		}
	}
	b := newUDPBatch(len(msgs) + 1)
	fillBatchMsgs(b, msgs)
	(&Server{}).processBatch(b, NewProcessor(h))
	if b.sendFrom != 0 || b.sendTo != len(msgs) {
		t.Fatalf("queued [%d, %d), want [0, %d)", b.sendFrom, b.sendTo, len(msgs))
	}
	for i := range msgs {
		if b.hdrs[i].Hdr.Iov != &b.iov[i] || b.iov[i].Base != &b.rx[i*rxSlot] {
			t.Fatalf("response %d is not in its query's slot", i)
		}
		got := unsafe.Slice(b.iov[i].Base, b.iov[i].Len)
		if !bytes.Equal(got, want[i]) {
			t.Fatalf("response %d in place:\n%x\nwant (Serve into a separate buffer):\n%x", i, got, want[i])
		}
	}
}

// TestProcessBatchRecoversPanic: a panicking handler drops its query only
// (counted as DropPanic); the queries before and after it in the batch are
// answered over their queries, addressed to their own senders.
func TestProcessBatchRecoversPanic(t *testing.T) {
	s := &Server{}
	p := NewProcessor(newStaticHandler(t))
	b := newUDPBatch(8)
	qs := []string{"panic.test.example.", "a.test.example.", "panic.test.example.", "panic.test.example.", "b.test.example.", "panic.test.example."}
	fillBatch(t, b, qs)
	s.processBatch(b, p)
	if b.sendFrom != 0 || b.sendTo != len(qs) {
		t.Fatalf("queued [%d, %d), want [0, %d)", b.sendFrom, b.sendTo, len(qs))
	}
	for i, name := range qs {
		answered := name != "panic.test.example."
		if !answered {
			if b.iov[i].Len != 0 {
				t.Fatalf("datagram %d: panicked, yet an answer of %d bytes is queued", i, b.iov[i].Len)
			}
			continue
		}
		h := &b.hdrs[i]
		if h.Hdr.Name != &b.names[i][0] || h.Hdr.Namelen != unix.SizeofSockaddrInet4 {
			t.Fatalf("answer %d not addressed to its sender", i)
		}
		if got := sockaddrAddrPort(b.names[i][:]); got != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(10000+i)) {
			t.Fatalf("answer %d: sender %s", i, got)
		}
		var r dns.Msg
		if err := r.Unpack(unsafe.Slice(b.iov[i].Base, b.iov[i].Len)); err != nil {
			t.Fatal(err)
		}
		if int(r.Id) != i || r.Question[0].Name != name || len(r.Answer) != 1 {
			t.Fatalf("answer %d: %v", i, &r)
		}
	}
	if st := p.Stats(); st.Drops[DropPanic] != 4 || st.Rcodes[0] != 2 {
		t.Fatalf("drops %v, rcodes %v", st.Drops, st.Rcodes)
	}
}

// TestFlushBatchSendsRuns: flushBatch sends each run of answered
// datagrams with one sendmmsg from the receive headers, skips the
// unanswered ones, and each client socket gets exactly its own answer.
func TestFlushBatchSendsRuns(t *testing.T) {
	srv, _ := loopbackUDP(t, unix.SOCK_NONBLOCK)
	// Answered (a, b, c) and unanswered (panic) in runs of one, two and none.
	qs := []string{"panic.test.example.", "a.test.example.", "panic.test.example.", "panic.test.example.", "b.test.example.", "c.test.example.", "panic.test.example."}
	b := newUDPBatch(len(qs) + 1)
	fillBatch(t, b, qs)
	clients := make([]int, len(qs))
	for i := range qs {
		c, sa := loopbackUDP(t, unix.SOCK_NONBLOCK)
		binary.BigEndian.PutUint16(b.names[i][2:4], uint16(sa.Port))
		clients[i] = c
	}
	w, err := newUDPWaiter(srv, b)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	s := &Server{}
	p := NewProcessor(newStaticHandler(t))
	s.processBatch(b, p)
	if err := s.flushBatch(w, b, p); err != nil {
		t.Fatal(err)
	}
	if b.sendFrom != b.sendTo {
		t.Fatalf("flushBatch stopped at %d of %d", b.sendFrom, b.sendTo)
	}
	buf := make([]byte, 1500)
	for i, name := range qs {
		n, _, err := unix.Recvfrom(clients[i], buf, 0)
		if name == "panic.test.example." {
			if err != unix.EAGAIN {
				t.Fatalf("client %d (no answer) got %d bytes, err %v", i, n, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		var r dns.Msg
		if err := r.Unpack(buf[:n]); err != nil {
			t.Fatal(err)
		}
		if int(r.Id) != i || r.Question[0].Name != name || len(r.Answer) != 1 {
			t.Fatalf("client %d: %v", i, &r)
		}
	}
	if st := p.Stats(); st.Drops[DropWriteError] != 0 {
		t.Fatalf("drops %v", st.Drops)
	}
}

// BenchmarkProcessBatch measures the Linux UDP engine's per-query path
// (per query: ns/op over a batch of 32) without the system calls; each
// iteration also copies the 32 queries back in, as recvmmsg would.
func BenchmarkProcessBatch(b *testing.B) {
	s := &Server{}
	p := NewProcessor(newStaticHandler(b))
	bt := newUDPBatch(DefaultBatch)
	qs := make([]string, DefaultBatch)
	for i := range qs {
		qs[i] = "www.test.example."
	}
	benchProcessBatch(b, s, p, bt, fillBatch(b, bt, qs))
}

// benchProcessBatch runs msgs through processBatch as one batch per
// iteration, refilling it first (the responses replaced the queries), and
// reports ns per query.
func benchProcessBatch(b *testing.B, s *Server, p *Processor, bt *udpBatch, msgs [][]byte) {
	b.ReportAllocs()
	for b.Loop() {
		fillBatchMsgs(bt, msgs)
		s.processBatch(bt, p)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/query")
}

// BenchmarkProcessBatchRouted is BenchmarkProcessBatch over the fixture
// CDN: routed A and AAAA queries for a DNS delivery service's routing name
// with Client Subnets spread over the coverage zones (as make bench-dns's
// routed workload), among static answers and NXDOMAINs, with the metrics
// on as `signpost route` has them. It is also the DNS half of the profile
// that make pgo builds (cmd/signpost/default.pgo).
func BenchmarkProcessBatchRouted(b *testing.B) {
	s, p, bt, msgs := routedBatch(b)
	benchProcessBatch(b, s, p, bt, msgs)
}

// routedBatch is the batch of BenchmarkProcessBatchRouted over the fixture
// CDN, served once (checked to answer NOERROR but for its NXDOMAINs), and
// a Processor with the metrics on as `signpost route` has them.
func routedBatch(tb testing.TB) (*Server, *Processor, *udpBatch, [][]byte) {
	tb.Helper()
	h, _ := newRouting(tb, fixture.DefaultDir(tb), Options{Metrics: metrics.NewRegistry(metrics.Options{})})
	s := &Server{}
	p := NewProcessor(h)
	bt := newUDPBatch(DefaultBatch)
	const routed = "edge.dns-test.thecdn.example.com."
	msgs := make([][]byte, DefaultBatch)
	for i := range msgs {
		var m *dns.Msg
		switch {
		case i%16 == 7:
			m = newQuery("mm.steering-test-1.thecdn.example.com.", dns.TypeA) // static
		case i%16 == 15:
			m = addECS(newQuery("nonexistent.thecdn.example.com.", dns.TypeA), "12.34.3.0/24")
		case i%4 == 3:
			m = addECS(newQuery(routed, dns.TypeAAAA), fmt.Sprintf("2001:dead:beef:%x::/56", i%10))
		default:
			// 12.34.N.0/24, 100.N.0.0/16 and 10.N.0.0/20 are cache group N's.
			subnet := []string{"12.34.%d.0/24", "100.%d.7.0/24", "10.%d.3.0/24"}[i%3]
			m = addECS(newQuery(routed, dns.TypeA), fmt.Sprintf(subnet, i%10))
		}
		m.Id = uint16(i)
		msgs[i] = packMsg(tb, m)
	}
	fillBatchMsgs(bt, msgs)
	s.processBatch(bt, p)
	if n := p.Stats().Rcodes[dnswire.RcodeSuccess]; n < DefaultBatch-DefaultBatch/16 {
		tb.Fatalf("%d of %d queries answered NOERROR", n, DefaultBatch)
	}
	return s, p, bt, msgs
}

// TestKernelWaitLetsGCRun: workers asleep in recvmmsg hold their Ps as
// running goroutines (RawSyscall), so a stop-the-world GC must get them to
// a safe point through the runtime's preemption signal, which interrupts
// the call (EINTR, since the socket has a receive timeout). Each GC must
// finish far sooner than that timeout. A GC that cannot stop the world
// hangs the whole process, so the check runs in a child process that the
// test kills after a deadline.
func TestKernelWaitLetsGCRun(t *testing.T) {
	if os.Getenv(gcChildEnv) == "1" {
		kernelWaitGCChild(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*kernelWaitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestKernelWaitLetsGCRun$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), gcChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("GC with workers asleep in recvmmsg: child still running after %v (stop-the-world hung):\n%s", 4*kernelWaitTimeout, out)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: TestKernelWaitLetsGCRun") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

const gcChildEnv = "SIGNPOST_TEST_KERNEL_WAIT_GC_CHILD"

func kernelWaitGCChild(t *testing.T) {
	reserveProcs(t, 2)
	s := startServer(t, Config{Workers: 2, UDPWait: WaitKernel, Handler: newStaticHandler(t)})
	exchange(t, "udp", s.UDPAddr().String(), newQuery("a.test.example.", dns.TypeA))
	time.Sleep(50 * time.Millisecond) // the workers are back asleep
	for i := range 5 {
		start := time.Now()
		runtime.GC()
		if d := time.Since(start); d > kernelWaitTimeout/5 {
			t.Fatalf("GC %d took %v with workers asleep in recvmmsg (receive timeout %v)", i, d, kernelWaitTimeout)
		}
	}
	// The workers still answer after the GCs.
	exchange(t, "udp", s.UDPAddr().String(), newQuery("a.test.example.", dns.TypeA))
}

// TestResetRxOnlyWrittenHeaders: resetRx restores the headers recvmmsg
// wrote last time and only those; a new batch has all of them ready.
func TestResetRxOnlyWrittenHeaders(t *testing.T) {
	b := newUDPBatch(4)
	b.resetRx()
	for i := range b.hdrs {
		if b.hdrs[i].Hdr.Namelen != sockaddrLen || b.iov[i].Len != rxSlot {
			t.Fatalf("header %d: namelen %d, iovec %d bytes after the first reset", i, b.hdrs[i].Hdr.Namelen, b.iov[i].Len)
		}
	}
	// A real recvmmsg returns two datagrams from an IPv4 sender, one
	// truncated (it writes their namelen and flags), then finds the queue
	// empty (a failed call writes nothing).
	fd := udpSocketWithTwoDatagrams(t)
	b.recv(fd, unix.MSG_DONTWAIT, true)
	if b.errno != 0 || b.n != 2 || b.hdrs[0].Hdr.Namelen != unix.SizeofSockaddrInet4 || b.hdrs[1].Hdr.Flags&unix.MSG_TRUNC == 0 {
		t.Fatalf("recvmmsg: n %d errno %v, namelen %d, flags %#x", b.n, b.errno, b.hdrs[0].Hdr.Namelen, b.hdrs[1].Hdr.Flags)
	}
	// The answers replaced the two queries (one had none).
	b.iov[0].SetLen(60)
	b.iov[1].SetLen(0)
	b.recv(fd, unix.MSG_DONTWAIT, true)
	if b.errno != unix.EAGAIN {
		t.Fatalf("second recvmmsg: errno %v, want EAGAIN", b.errno)
	}
	b.resetRx()
	for i := range b.hdrs {
		if h := b.hdrs[i].Hdr; h.Namelen != sockaddrLen || h.Flags != 0 || b.iov[i].Len != rxSlot {
			t.Fatalf("header %d: namelen %d flags %#x iovec %d bytes after reset", i, h.Namelen, h.Flags, b.iov[i].Len)
		}
	}
}

// udpSocketWithTwoDatagrams returns a bound IPv4 UDP socket (closed when the
// test ends) holding a short datagram and one longer than rxSlot.
func udpSocketWithTwoDatagrams(t *testing.T) int {
	t.Helper()
	fd, sa := loopbackUDP(t, 0)
	for _, size := range []int{12, rxSlot + 1} {
		if err := unix.Sendto(fd, make([]byte, size), 0, sa); err != nil {
			t.Fatal(err)
		}
	}
	return fd
}

// loopbackUDP returns an IPv4 UDP socket (with the extra type flags, such
// as SOCK_NONBLOCK) bound to an ephemeral port of 127.0.0.1, closed when
// the test ends, and its address.
func loopbackUDP(t *testing.T, flags int) (int, *unix.SockaddrInet4) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|flags, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, sa.(*unix.SockaddrInet4)
}
