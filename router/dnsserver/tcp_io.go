package dnsserver

import (
	"io"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// connIO reads and writes one TCP connection with raw read(2) and
// write(2) calls through its syscall.RawConn, so that the scheduler is
// not told: the socket is non-blocking (Go's poller owns it), so each call
// returns at once, and a call that would block (EAGAIN) parks the
// goroutine on the poller as net.Conn's own Read and Write do, deadlines
// included.
//
// Through net.Conn each read and write is a system call in the scheduler's
// sense (entersyscall). A TCP write on a busy core lasts long enough for
// sysmon to find the P in it, take it and hand it on, and sysmon then keeps
// waking every 20 µs. At 34K queries a second over 4 connections, a
// DNS-only router (`--dns-wait kernel`) made about 1.47 context switches
// per query through net.Conn and 0.96 with the raw calls (perf stat, two
// 4 s windows each); head to head (ab.sh, WORKLOAD=tcp RATE=34000, 12
// rounds) the raw calls answered 1.295x the queries per CPU-second (14.1
// against 18.5 µs per query; docs/benchmarks-dns.md). The UDP loop sends
// with RawSyscall for the same reason (udp_linux.go, recv).
//
// A connection that is not a syscall.Conn (a listener given in
// Config.TCPListener may wrap its connections) uses net.Conn's Read and
// Write. A connIO lives in the pooled tcpConnState; its callbacks are
// bound once, so a read or write allocates nothing.
type connIO struct {
	c       net.Conn
	rc      syscall.RawConn // nil: c's own Read and Write
	buf     []byte
	n       int
	errno   syscall.Errno
	readFn  func(fd uintptr) bool
	writeFn func(fd uintptr) bool
}

func newConnIO() *connIO {
	x := &connIO{}
	x.readFn = func(fd uintptr) bool { return x.call(unix.SYS_READ, fd) }
	x.writeFn = func(fd uintptr) bool { return x.call(unix.SYS_WRITE, fd) }
	return x
}

// call makes one raw read or write of x.buf on fd and reports whether it
// is done (anything but EAGAIN, after which RawConn waits on the poller).
func (x *connIO) call(trap, fd uintptr) bool {
	for {
		r, _, e := unix.RawSyscall(trap, fd, uintptr(unsafe.Pointer(unsafe.SliceData(x.buf))), uintptr(len(x.buf)))
		if e == unix.EINTR {
			continue
		}
		x.n, x.errno = int(r), e
		return e != unix.EAGAIN
	}
}

// attach points x at c for the life of one connection.
func (x *connIO) attach(c net.Conn) {
	x.c, x.rc = c, nil
	if sc, ok := c.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			x.rc = rc
		}
	}
}

// detach drops the connection, so that the pool does not keep it.
func (x *connIO) detach() { x.c, x.rc, x.buf = nil, nil, nil }

// Read reads once into b, as net.Conn's Read: io.EOF when the peer has
// closed, a deadline error when the read deadline passes first.
func (x *connIO) Read(b []byte) (int, error) {
	if x.rc == nil || len(b) == 0 {
		return x.c.Read(b)
	}
	x.buf = b
	err := x.rc.Read(x.readFn)
	x.buf = nil
	switch {
	case err != nil:
		return 0, err
	case x.errno != 0:
		return 0, x.errno
	case x.n == 0:
		return 0, io.EOF
	}
	return x.n, nil
}

// Write writes all of b, as net.Conn's Write: partial writes go on, a
// full send buffer waits on the poller until the write deadline.
func (x *connIO) Write(b []byte) error {
	if x.rc == nil {
		_, err := x.c.Write(b)
		return err
	}
	for len(b) > 0 {
		x.buf = b
		err := x.rc.Write(x.writeFn)
		x.buf = nil
		switch {
		case err != nil:
			return err
		case x.errno != 0:
			return x.errno
		}
		b = b[x.n:]
	}
	return nil
}
