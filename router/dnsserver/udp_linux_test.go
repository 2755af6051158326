//go:build linux

package dnsserver

import (
	"bytes"
	"context"
	"encoding/binary"
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
		b.rxHdrs[i].Len = uint32(len(msg))
		b.rxHdrs[i].Hdr.Flags = 0
		b.rxHdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet4
		sa := b.names[i][:]
		clear(sa)
		binary.NativeEndian.PutUint16(sa[0:2], unix.AF_INET)
		binary.BigEndian.PutUint16(sa[2:4], uint16(10000+i))
		copy(sa[4:8], []byte{127, 0, 0, 1})
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
	if b.sendTo != len(msgs) {
		t.Fatalf("queued %d responses, want %d", b.sendTo, len(msgs))
	}
	for i := range msgs {
		if b.txIov[i].Base != &b.rx[i*rxSlot] {
			t.Fatalf("response %d is not in its query's slot", i)
		}
		got := unsafe.Slice(b.txIov[i].Base, b.txIov[i].Len)
		if !bytes.Equal(got, want[i]) {
			t.Fatalf("response %d in place:\n%x\nwant (Serve into a separate buffer):\n%x", i, got, want[i])
		}
	}
}

// TestProcessBatchRecoversPanic: a panicking handler drops its query only
// (counted as DropPanic); the queries before and after it in the batch are
// answered and addressed to their own senders.
func TestProcessBatchRecoversPanic(t *testing.T) {
	s := &Server{}
	p := NewProcessor(newStaticHandler(t))
	b := newUDPBatch(8)
	qs := []string{"panic.test.example.", "a.test.example.", "panic.test.example.", "panic.test.example.", "b.test.example.", "panic.test.example."}
	fillBatch(t, b, qs)
	s.processBatch(b, p)
	if b.sendFrom != 0 || b.sendTo != 2 {
		t.Fatalf("queued [%d, %d), want [0, 2)", b.sendFrom, b.sendTo)
	}
	for k, want := range []int{1, 4} {
		h := &b.txHdrs[k]
		if h.Hdr.Name != &b.names[want][0] || h.Hdr.Namelen != unix.SizeofSockaddrInet4 {
			t.Fatalf("response %d not addressed to sender %d", k, want)
		}
		if got := sockaddrAddrPort(b.names[want][:]); got != netip.MustParseAddrPort("127.0.0.1:"+[]string{"10001", "10004"}[k]) {
			t.Fatalf("response %d: sender %s", k, got)
		}
		resp := unsafe.Slice(b.txIov[k].Base, b.txIov[k].Len)
		var r dns.Msg
		if err := r.Unpack(resp); err != nil {
			t.Fatal(err)
		}
		if int(r.Id) != want || r.Question[0].Name != qs[want] || len(r.Answer) != 1 {
			t.Fatalf("response %d: %v", k, &r)
		}
	}
	if st := p.Stats(); st.Drops[DropPanic] != 4 || st.Rcodes[0] != 2 {
		t.Fatalf("drops %v, rcodes %v", st.Drops, st.Rcodes)
	}
}

// BenchmarkProcessBatch measures the Linux UDP engine's per-query path
// (per query: ns/op over a batch of 32) without the system calls.
func BenchmarkProcessBatch(b *testing.B) {
	s := &Server{}
	p := NewProcessor(newStaticHandler(b))
	bt := newUDPBatch(DefaultBatch)
	qs := make([]string, DefaultBatch)
	for i := range qs {
		qs[i] = "www.test.example."
	}
	msgs := fillBatch(b, bt, qs)
	b.ReportAllocs()
	for b.Loop() {
		fillBatchMsgs(bt, msgs) // the responses replaced the queries
		s.processBatch(bt, p)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*DefaultBatch), "ns/query")
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
	for i := range b.rxHdrs {
		if b.rxHdrs[i].Hdr.Namelen != sockaddrLen {
			t.Fatalf("header %d: namelen %d after the first reset", i, b.rxHdrs[i].Hdr.Namelen)
		}
	}
	// A real recvmmsg returns two datagrams from an IPv4 sender, one
	// truncated (it writes their namelen and flags), then finds the queue
	// empty (a failed call writes nothing).
	fd := udpSocketWithTwoDatagrams(t)
	b.recv(fd, unix.MSG_DONTWAIT, true)
	if b.errno != 0 || b.n != 2 || b.rxHdrs[0].Hdr.Namelen != unix.SizeofSockaddrInet4 || b.rxHdrs[1].Hdr.Flags&unix.MSG_TRUNC == 0 {
		t.Fatalf("recvmmsg: n %d errno %v, namelen %d, flags %#x", b.n, b.errno, b.rxHdrs[0].Hdr.Namelen, b.rxHdrs[1].Hdr.Flags)
	}
	b.recv(fd, unix.MSG_DONTWAIT, true)
	if b.errno != unix.EAGAIN {
		t.Fatalf("second recvmmsg: errno %v, want EAGAIN", b.errno)
	}
	b.resetRx()
	for i := range b.rxHdrs {
		if h := b.rxHdrs[i].Hdr; h.Namelen != sockaddrLen || h.Flags != 0 {
			t.Fatalf("header %d: namelen %d flags %#x after reset", i, h.Namelen, h.Flags)
		}
	}
}

// udpSocketWithTwoDatagrams returns a bound IPv4 UDP socket (closed when the
// test ends) holding a short datagram and one longer than rxSlot.
func udpSocketWithTwoDatagrams(t *testing.T) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
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
	for _, size := range []int{12, rxSlot + 1} {
		if err := unix.Sendto(fd, make([]byte, size), 0, sa); err != nil {
			t.Fatal(err)
		}
	}
	return fd
}
