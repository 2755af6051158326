//go:build linux

package loadtest

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxGSOSegments is the most datagrams one UDP_SEGMENT send may carry
// (the kernel's UDP_MAX_SEGMENTS is 64 before Linux 6.9, 128 after).
const maxGSOSegments = 64

// mmsgIO batches datagrams on a connected UDP socket with sendmmsg and
// recvmmsg called through syscall.RawConn with closures bound once, so a
// batch costs two system calls and no allocation.
//
// Sending uses UDP generic segmentation offload (UDP_SEGMENT, Linux 4.18)
// when the kernel has it: a run of consecutive datagrams of equal length
// goes as one message of several iovecs with a UDP_SEGMENT control
// message, and the kernel builds one packet for the run and cuts it into
// datagrams late (in software on loopback). The route lookup, the IP
// output path and, on loopback, the receive path up to UDP run once per
// run instead of once per datagram: on loopback this more than halves the
// sender's cost per datagram (docs/loadtest.md). The router receives
// ordinary datagrams. Without GSO (older kernels, an error the first time
// it is used) every datagram is its own message.
//
// One goroutine sends and another receives: each side has its own fields.
type mmsgIO struct {
	rc             syscall.RawConn
	txHdrs, rxHdrs []unix.Mmsghdr
	txIov, rxIov   []unix.Iovec
	// txOOB holds one UDP_SEGMENT control message per header; txRun[h]
	// is the number of datagrams header h carries in the current call.
	txOOB          []byte
	txRun          []int
	gso            bool
	tx, rx         mmsgResult
	sendFn, recvFn func(fd uintptr) bool
}

// mmsgResult is one side's system call: how many messages were offered,
// how many went, and the error.
type mmsgResult struct {
	count, n int
	errno    syscall.Errno
}

var oobSpace = unix.CmsgSpace(2)

func newUDPIO(c *net.UDPConn, batch int) (udpIO, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	m := &mmsgIO{rc: rc, txHdrs: make([]unix.Mmsghdr, batch), rxHdrs: make([]unix.Mmsghdr, batch),
		txIov: make([]unix.Iovec, batch), rxIov: make([]unix.Iovec, batch),
		txOOB: make([]byte, batch*oobSpace), txRun: make([]int, batch)}
	for i := range batch {
		m.rxHdrs[i].Hdr.Iov = &m.rxIov[i]
		m.rxHdrs[i].Hdr.SetIovlen(1)
		h := (*unix.Cmsghdr)(unsafe.Pointer(&m.txOOB[i*oobSpace]))
		h.Level, h.Type = unix.SOL_UDP, unix.UDP_SEGMENT
		h.SetLen(unix.CmsgLen(2))
	}
	// The kernel has UDP GSO when the socket option is known.
	_ = rc.Control(func(fd uintptr) {
		_, err := unix.GetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_SEGMENT)
		m.gso = err == nil
	})
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

// prepare fills the headers for bufs (at most len(m.txIov) of them) and
// returns how many headers it used.
func (m *mmsgIO) prepare(bufs [][]byte) int {
	h := 0
	for i := 0; i < len(bufs); {
		j := i + 1
		if m.gso {
			for j < len(bufs) && j-i < maxGSOSegments && len(bufs[j]) == len(bufs[i]) {
				j++
			}
		}
		for k := i; k < j; k++ {
			m.txIov[k].Base = &bufs[k][0]
			m.txIov[k].SetLen(len(bufs[k]))
		}
		hdr := &m.txHdrs[h].Hdr
		hdr.Iov = &m.txIov[i]
		hdr.SetIovlen(j - i)
		if j-i > 1 {
			oob := m.txOOB[h*oobSpace : (h+1)*oobSpace]
			*(*uint16)(unsafe.Pointer(&oob[unix.CmsgLen(0)])) = uint16(len(bufs[i]))
			hdr.Control = &oob[0]
			hdr.SetControllen(oobSpace)
		} else {
			hdr.Control = nil
			hdr.SetControllen(0)
		}
		m.txRun[h] = j - i
		h++
		i = j
	}
	return h
}

func (m *mmsgIO) sendBatch(bufs [][]byte) (int, error) {
	sent := 0
	for sent < len(bufs) {
		chunk := bufs[sent:min(len(bufs), sent+len(m.txIov))]
		m.tx = mmsgResult{count: m.prepare(chunk)}
		if err := m.rc.Write(m.sendFn); err != nil {
			return sent, err
		}
		if m.tx.errno != 0 {
			if m.gso && m.tx.n == 0 && m.txRun[0] > 1 && gsoRefused(m.tx.errno) {
				m.gso = false // this path cannot segment: one datagram per message
				continue
			}
			return sent, m.tx.errno
		}
		for h := range m.tx.n {
			sent += m.txRun[h]
		}
		if m.tx.n == 0 {
			break
		}
	}
	return sent, nil
}

// gsoRefused reports whether errno is how a kernel or device without UDP
// segmentation refuses a UDP_SEGMENT send.
func gsoRefused(errno syscall.Errno) bool {
	return errno == unix.EIO || errno == unix.EINVAL || errno == unix.EOPNOTSUPP || errno == unix.ENOPROTOOPT
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
