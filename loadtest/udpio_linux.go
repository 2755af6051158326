//go:build linux

package loadtest

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgIO batches datagrams on a connected UDP socket with sendmmsg and
// recvmmsg called through syscall.RawConn with closures bound once, so a
// batch costs two system calls and no allocation. One goroutine sends and
// another receives: each side has its own fields.
type mmsgIO struct {
	rc             syscall.RawConn
	txHdrs, rxHdrs []unix.Mmsghdr
	txIov, rxIov   []unix.Iovec
	tx, rx         mmsgResult
	sendFn, recvFn func(fd uintptr) bool
}

// mmsgResult is one side's system call: how many messages were offered,
// how many went, and the error.
type mmsgResult struct {
	count, n int
	errno    syscall.Errno
}

func newUDPIO(c *net.UDPConn, batch int) (udpIO, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	m := &mmsgIO{rc: rc, txHdrs: make([]unix.Mmsghdr, batch), rxHdrs: make([]unix.Mmsghdr, batch),
		txIov: make([]unix.Iovec, batch), rxIov: make([]unix.Iovec, batch)}
	for i := range batch {
		m.txHdrs[i].Hdr.Iov = &m.txIov[i]
		m.txHdrs[i].Hdr.SetIovlen(1)
		m.rxHdrs[i].Hdr.Iov = &m.rxIov[i]
		m.rxHdrs[i].Hdr.SetIovlen(1)
	}
	m.sendFn, m.recvFn = m.send, m.recv
	return m, nil
}

func (m *mmsgIO) send(fd uintptr) bool {
	n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&m.txHdrs[0])), uintptr(m.tx.count), 0, 0, 0)
	if errno == unix.EAGAIN || errno == unix.EINTR {
		return false
	}
	m.tx.n, m.tx.errno = int(n), errno
	return true
}

func (m *mmsgIO) recv(fd uintptr) bool {
	for i := range m.rx.count {
		m.rxHdrs[i].Hdr.Flags = 0
	}
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&m.rxHdrs[0])), uintptr(m.rx.count), unix.MSG_DONTWAIT, 0, 0)
	if errno == unix.EAGAIN || errno == unix.EINTR {
		return false
	}
	m.rx.n, m.rx.errno = int(n), errno
	return true
}

func (m *mmsgIO) sendBatch(bufs [][]byte) (int, error) {
	sent := 0
	for sent < len(bufs) {
		k := min(len(bufs)-sent, len(m.txHdrs))
		for i := range k {
			m.txIov[i].Base = &bufs[sent+i][0]
			m.txIov[i].SetLen(len(bufs[sent+i]))
		}
		m.tx = mmsgResult{count: k}
		if err := m.rc.Write(m.sendFn); err != nil {
			return sent, err
		}
		if m.tx.errno != 0 {
			return sent, m.tx.errno
		}
		sent += m.tx.n
		if m.tx.n == 0 {
			break
		}
	}
	return sent, nil
}

func (m *mmsgIO) recvBatch(bufs [][]byte, sizes []int) (int, error) {
	k := min(len(bufs), len(m.rxHdrs))
	for i := range k {
		m.rxIov[i].Base = &bufs[i][0]
		m.rxIov[i].SetLen(len(bufs[i]))
	}
	m.rx = mmsgResult{count: k}
	if err := m.rc.Read(m.recvFn); err != nil {
		return 0, err
	}
	if m.rx.errno != 0 {
		return 0, m.rx.errno
	}
	for i := range m.rx.n {
		sizes[i] = int(m.rxHdrs[i].Len)
	}
	return m.rx.n, nil
}
