//go:build linux

package dnsserver

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

// sockaddrLen holds a sockaddr_in6 (28 bytes), which also fits sockaddr_in.
const sockaddrLen = unix.SizeofSockaddrInet6

// udpBatch is one worker's fixed slab: one buffer per datagram, the
// peer addresses and one mmsghdr per datagram, allocated once. As in
// gdnsd, the same header receives a query and sends its answer: the
// answer is written over the query, the kernel has filled in the sender's
// address and its length, and only the iovec's length changes (0: no
// answer). golang.org/x/net/ipv4.PacketConn.ReadBatch is not used: it
// allocates a *net.UDPAddr and its IP slice per message (x/net v0.62.0
// internal/socket parseInetAddr); calling recvmmsg through
// syscall.RawConn with pre-bound closures allocates nothing.
type udpBatch struct {
	rx       []byte // one rxSlot per datagram; the response replaces the query
	names    [][sockaddrLen]byte
	hdrs     []unix.Mmsghdr
	iov      []unix.Iovec
	ctrl     []byte // one ctrlSlot per datagram, with destinations (withControl)
	n        int    // result of the last system call
	errno    syscall.Errno
	received int // datagrams of the last successful recvmmsg (headers to reset)
	sendFrom int // the next header to send from
	sendTo   int // the datagrams of the batch
}

func newUDPBatch(n int) *udpBatch {
	b := &udpBatch{
		rx:    make([]byte, n*rxSlot),
		names: make([][sockaddrLen]byte, n),
		hdrs:  make([]unix.Mmsghdr, n),
		iov:   make([]unix.Iovec, n),
		// Every header counts as written, so the first resetRx sets them all.
		received: n,
	}
	for i := range n {
		b.iov[i].Base = &b.rx[i*rxSlot]
		b.hdrs[i].Hdr.Iov = &b.iov[i]
		b.hdrs[i].Hdr.SetIovlen(1)
		b.hdrs[i].Hdr.Name = &b.names[i][0]
	}
	return b
}

// withControl gives every header a control buffer, for a socket that
// reports each datagram's destination (recvDestination): the kernel fills
// it with the query and processBatch turns it into the answer's source
// (replySource).
func (b *udpBatch) withControl() {
	b.ctrl = make([]byte, len(b.hdrs)*ctrlSlot)
	for i := range b.hdrs {
		b.hdrs[i].Hdr.Control = &b.ctrl[i*ctrlSlot]
	}
	b.received = len(b.hdrs) // so the next resetRx sets every control length
}

// recv reads up to a batch with one recvmmsg: with MSG_DONTWAIT for the
// poll wait, or MSG_WAITFORONE for the kernel wait, which sleeps until at
// least one datagram is queued (the socket is then in blocking mode with a
// receive timeout, see kernelWaitTimeout).
//
// raw calls through RawSyscall: the scheduler is not told. A call that
// never blocks (the poll wait's, and every sendmmsg) is always raw:
// telling the scheduler (entersyscall) would only invite sysmon to hand
// the P to another thread in the middle of it. The kernel wait is raw
// under load too, so the worker keeps its P as a running goroutine while
// it sleeps. With Syscall the P sat in a system call, and sysmon kept
// retaking it and handing it to other threads (about 1,100 wake-ups a
// second, the worker moving between three threads); without, bench-dns's
// routed queries per CPU-second rose by 2-5 % (docs/dns-server.md). The
// runtime still gets the worker to a safe point when it must (a GC stop,
// sysmon's preemption of a goroutine that has run for 10 ms): its
// preemption signal interrupts recvmmsg, which fails with EINTR rather
// than restarting because the socket has a receive timeout (signal(7)),
// and serveUDP then yields.
//
// An idle worker would be interrupted that way every 10 ms (0.8 % of a
// core per worker), so after an interrupted or timed-out wait serveUDP
// sleeps through Syscall (raw false), where the scheduler sees the sleep
// and sysmon leaves it alone, until datagrams flow again.
func (b *udpBatch) recv(fd, flags int, raw bool) {
	b.resetRx()
	var n uintptr
	var errno syscall.Errno
	if raw {
		n, _, errno = unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)), uintptr(flags), 0, 0)
	} else {
		n, _, errno = unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)), uintptr(flags), 0, 0)
	}
	b.n, b.errno = int(n), errno
	if errno == 0 {
		b.received = int(n)
	}
}

// resetRx restores the fields that recvmmsg overwrote, and the answers'
// lengths, in the headers of the datagrams it last returned (the only ones
// written since).
func (b *udpBatch) resetRx() {
	for i := range b.hdrs[:b.received] {
		b.hdrs[i].Hdr.Namelen = sockaddrLen
		b.hdrs[i].Hdr.Flags = 0
		b.iov[i].SetLen(rxSlot)
		if b.ctrl != nil {
			b.hdrs[i].Hdr.SetControllen(ctrlSlot)
		}
	}
	b.received = 0
}

// skipUnanswered moves sendFrom past datagrams without an answer and
// reports whether one is left to send.
func (b *udpBatch) skipUnanswered() bool {
	for b.sendFrom < b.sendTo && b.iov[b.sendFrom].Len == 0 {
		b.sendFrom++
	}
	return b.sendFrom < b.sendTo
}

// send writes, without blocking, the run of answers that starts at
// sendFrom (which has one) and ends before the next datagram without.
func (b *udpBatch) send(fd int) {
	end := b.sendFrom + 1
	for end < b.sendTo && b.iov[end].Len != 0 {
		end++
	}
	hdrs := b.hdrs[b.sendFrom:end]
	n, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), unix.MSG_DONTWAIT, 0, 0)
	b.n, b.errno = int(n), errno
}

// udpWaiter parks a worker until its socket is readable (or writable)
// without keeping the socket in Go's network poller.
//
// A socket registered with epoll carries a wait-queue entry for as long as
// it is registered, and every datagram sent then runs an epoll wake-up
// callback when its buffer is freed (sock_wfree -> sk_write_space): about
// a tenth of the server's CPU under dnsperf. Sleeping in recvmmsg
// (WaitKernel) avoids that but needs a P of its own per worker (see recv).
// So, for WaitPoll, the socket is registered only while the worker waits:
// in a private epoll instance, itself registered once in Go's poller, with
// EPOLL_CTL_ADD before the park and EPOLL_CTL_DEL after it. Under load a
// batch rarely finds the queue empty, and then costs two epoll_ctl calls.
type udpWaiter struct {
	fd     int      // the UDP socket
	ep     *os.File // the private epoll instance, in Go's poller
	rc     syscall.RawConn
	ev     unix.EpollEvent
	b      *udpBatch
	ctlErr error
	recvFn func(uintptr) bool
	sendFn func(uintptr) bool
	addFn  func(uintptr)
	delFn  func(uintptr)
}

func newUDPWaiter(fd int, b *udpBatch) (*udpWaiter, error) {
	efd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	if err := unix.SetNonblock(efd, true); err != nil {
		unix.Close(efd)
		return nil, fmt.Errorf("epoll instance: non-blocking mode: %w", err)
	}
	ep := os.NewFile(uintptr(efd), "dns-udp-wait")
	// A deadline can be set only on a descriptor in the poller: this
	// proves the registration, without which Read below would spin.
	if err := ep.SetReadDeadline(time.Time{}); err != nil {
		ep.Close()
		return nil, fmt.Errorf("epoll instance not pollable: %w", err)
	}
	rc, err := ep.SyscallConn()
	if err != nil {
		ep.Close()
		return nil, err
	}
	w := &udpWaiter{fd: fd, ep: ep, rc: rc, b: b}
	w.ev.Fd = int32(fd)
	w.recvFn = func(uintptr) bool { w.b.recv(w.fd, unix.MSG_DONTWAIT, true); return w.b.errno != unix.EAGAIN }
	w.sendFn = func(uintptr) bool { w.b.send(w.fd); return w.b.errno != unix.EAGAIN }
	// The epoll descriptor is used only inside rc's callbacks, which hold
	// it open: a concurrent close cannot hand its number to another file.
	w.addFn = func(efd uintptr) { w.ctlErr = unix.EpollCtl(int(efd), unix.EPOLL_CTL_ADD, w.fd, &w.ev) }
	w.delFn = func(efd uintptr) { w.ctlErr = unix.EpollCtl(int(efd), unix.EPOLL_CTL_DEL, w.fd, nil) }
	return w, nil
}

// recvWait receives a batch, parking until one arrives. It returns an
// error once the waiter is closed.
func (w *udpWaiter) recvWait() error { return w.wait(unix.EPOLLIN, w.recvFn) }

// sendWait sends from b.sendFrom, parking while the send buffer is full.
func (w *udpWaiter) sendWait() error { return w.wait(unix.EPOLLOUT, w.sendFn) }

func (w *udpWaiter) wait(events uint32, try func(uintptr) bool) error {
	w.ev.Events = events
	if err := w.rc.Control(w.addFn); err != nil {
		return err
	}
	if w.ctlErr != nil {
		return fmt.Errorf("epoll_ctl ADD: %w", w.ctlErr)
	}
	// The first try runs before the park: a datagram that arrived
	// between the caller's EAGAIN and the ADD is read at once.
	err := w.rc.Read(try)
	if cerr := w.rc.Control(w.delFn); cerr != nil {
		return cerr
	}
	if err == nil && w.ctlErr != nil {
		err = fmt.Errorf("epoll_ctl DEL: %w", w.ctlErr)
	}
	return err
}

// close wakes a parked worker (its wait returns an error).
func (w *udpWaiter) close() { w.ep.Close() }

// sockaddrAddrPort decodes a sockaddr_in or sockaddr_in6 without
// allocating; IPv4-mapped IPv6 addresses are unmapped.
func sockaddrAddrPort(sa []byte) netip.AddrPort {
	port := binary.BigEndian.Uint16(sa[2:4])
	switch binary.NativeEndian.Uint16(sa[0:2]) {
	case unix.AF_INET:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(sa[4:8])), port)
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(sa[8:24])).Unmap(), port)
	}
	return netip.AddrPort{}
}

// serveUDP runs one worker on one socket until ctx ends.
//
// The worker takes the socket out of Go's network poller: it duplicates
// the descriptor and closes c, which removes it from the runtime's epoll
// set. With WaitKernel it then sleeps in recvmmsg when the queue is empty;
// with WaitPoll udpWaiter parks it. Sends never block (MSG_DONTWAIT): a
// full send buffer parks the worker in udpWaiter in both modes.
func (s *Server) serveUDP(ctx context.Context, c *net.UDPConn, dstInfo bool, p *Processor) error {
	if s.cfg.portable {
		return s.serveUDPPortable(ctx, c, dstInfo, p)
	}
	local := c.LocalAddr()
	fd, err := detachUDP(c)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	b := newUDPBatch(s.cfg.Batch)
	if dstInfo {
		b.withControl()
	}
	w, err := newUDPWaiter(fd, b)
	if err != nil {
		return fmt.Errorf("dnsserver: UDP socket %s: %w", local, err)
	}
	blocking := s.cfg.UDPWait == WaitKernel
	if blocking {
		if err := kernelWait(fd); err != nil {
			w.close()
			return fmt.Errorf("dnsserver: UDP socket %s: %w", local, err)
		}
	}
	// wake ends a wait: it closes the waiter and, for a worker asleep in
	// recvmmsg, shuts the socket's receive side down (recvmmsg then
	// returns). The worker closes fd only after wake has finished.
	woken := make(chan struct{})
	wake := func() {
		defer close(woken)
		if blocking {
			_ = unix.Shutdown(fd, unix.SHUT_RD)
		}
		w.close()
	}
	stop := context.AfterFunc(ctx, wake)
	defer func() {
		if stop() {
			wake()
		}
		<-woken
	}()
	// waitFailed reports a failed wait, which is no failure once ctx ended
	// (closing the waiter is how the worker is woken then).
	waitFailed := func(err error) error {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("dnsserver: UDP socket %s: wait: %w", local, err)
	}
	// The done channel, not ctx.Err (a mutex), is checked twice per batch.
	done := ctx.Done()
	raw := true // see recv
	for !closed(done) {
		if blocking {
			b.recv(fd, unix.MSG_WAITFORONE, raw)
			if b.errno == unix.EINTR || b.errno == unix.EAGAIN {
				// A signal (the runtime asking for a safe point) or the
				// receive timeout, with nothing received: yield, and sleep
				// where the scheduler sees it until datagrams flow again.
				raw = false
				runtime.Gosched()
				continue
			}
			raw = true
		} else {
			b.recv(fd, unix.MSG_DONTWAIT, true)
			if b.errno == unix.EAGAIN {
				if err := w.recvWait(); err != nil {
					return waitFailed(err)
				}
			}
		}
		if b.errno != 0 {
			// Transient errors (EINTR, ICMP-induced ECONNREFUSED, ENOMEM): retry.
			continue
		}
		if closed(done) {
			return nil
		}
		s.processBatch(b, p)
		if err := s.flushBatch(w, b, p); err != nil {
			return waitFailed(err)
		}
	}
	return nil
}

// closed reports whether done is closed, without blocking.
func closed(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// kernelWaitTimeout is the receive timeout of a socket whose worker sleeps
// in recvmmsg (WaitKernel). It exists because only a socket with a
// receive timeout makes a signal interrupt recvmmsg with EINTR: without
// one the kernel restarts the call, and a stop-the-world GC would wait for
// the next datagram behind a worker in a RawSyscall. Its length only sets
// how often an idle worker (sleeping through Syscall, see recv)
// wakes for nothing.
const kernelWaitTimeout = 5 * time.Second

// kernelWait prepares fd for WaitKernel: blocking mode and a receive
// timeout (kernelWaitTimeout).
func kernelWait(fd int) error {
	tv := unix.NsecToTimeval(kernelWaitTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("receive timeout (SO_RCVTIMEO): %w", err)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		return fmt.Errorf("blocking mode: %w", err)
	}
	return nil
}

// detachUDP returns a duplicate of c's descriptor and closes c.
func detachUDP(c *net.UDPConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, fmt.Errorf("dnsserver: duplicate UDP socket %s: %w", c.LocalAddr(), derr)
	}
	c.Close()
	return fd, nil
}

// processBatch runs every received datagram through p, each answer
// written over its query and its length set in the datagram's iovec (0:
// no answer).
func (s *Server) processBatch(b *udpBatch, p *Processor) {
	for i := 0; i < b.n; {
		i = processFrom(b, p, i)
	}
	p.flushCounts()
	if b.ctrl != nil {
		for i := range b.hdrs[:b.n] {
			h := &b.hdrs[i].Hdr
			h.SetControllen(replySource(b.ctrl[i*ctrlSlot : i*ctrlSlot+int(h.Controllen)]))
		}
	}
	b.sendFrom, b.sendTo = 0, b.n
}

// processFrom serves the datagrams of b from i on and returns where it
// stopped. A panicking handler stops it after that datagram, counted as
// DropPanic and without an answer, as Processor.Serve does; processBatch
// then goes on with the next. One recovery per batch instead of one per
// query.
func processFrom(b *udpBatch, p *Processor, i int) (next int) {
	defer func() {
		if recover() != nil {
			p.shard.drops[DropPanic].Add(1)
			b.iov[i].SetLen(0)
			next = i + 1
		}
	}()
	for ; i < b.n; i++ {
		if b.hdrs[i].Hdr.Flags&unix.MSG_TRUNC != 0 {
			p.shard.drops[DropOversize].Add(1)
			b.iov[i].SetLen(0)
			continue
		}
		slot := b.rx[i*rxSlot : (i+1)*rxSlot]
		msg := slot[:b.hdrs[i].Len]
		client := sockaddrAddrPort(b.names[i][:])
		// The response overwrites the query in its slot, as gdnsd does:
		// Parse has copied what the answer needs (the writer echoes the
		// question from msg before it writes anything after it), and the
		// lines the kernel just filled are the ones the kernel reads back.
		resp := p.serve(slot[:0:dnswire.MaxUDPSize], msg, client, UDP)
		b.iov[i].SetLen(len(resp))
	}
	return i
}

// flushBatch sends the answers, one sendmmsg per run of datagrams with
// an answer, skipping one that the kernel refuses (counted) and retrying
// the rest; a full send buffer parks.
func (s *Server) flushBatch(w *udpWaiter, b *udpBatch, p *Processor) error {
	for b.skipUnanswered() {
		b.send(w.fd)
		if b.errno == unix.EAGAIN {
			if err := w.sendWait(); err != nil {
				return err
			}
		}
		switch {
		case b.errno == unix.EINTR:
			continue
		case b.errno != 0:
			p.shard.drops[DropWriteError].Add(1)
			b.sendFrom++
			continue
		}
		b.sendFrom += b.n
	}
	return nil
}
