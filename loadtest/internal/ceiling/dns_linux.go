//go:build linux

package main

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dnsBatch is the number of datagrams per recvmmsg and sendmmsg.
const dnsBatch = 64

// serveDNS answers queries on c in batches: one recvmmsg takes up to
// dnsBatch queries, one sendmmsg sends their answers, runs of equal-sized
// answers to one client as a single segmented (UDP GSO) message, so the
// server's cost per query is small next to the generator's.
func serveDNS(c *net.UDPConn, d *dnsAnswers) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var (
		rxHdrs, txHdrs [dnsBatch]unix.Mmsghdr
		rxIov, txIov   [dnsBatch]unix.Iovec
		names          [dnsBatch]unix.RawSockaddrInet6
		oob            [dnsBatch][32]byte
		in             = make([]byte, dnsBatch*4096)
		out            = make([]byte, 0, dnsBatch*512)
		n              int
		errno          syscall.Errno
		gso            bool
	)
	_ = rc.Control(func(fd uintptr) {
		_, err := unix.GetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_SEGMENT)
		gso = err == nil
	})
	space := unix.CmsgSpace(2)
	for i := range dnsBatch {
		rxIov[i].Base = &in[i*4096]
		rxIov[i].SetLen(4096)
		rxHdrs[i].Hdr.Iov = &rxIov[i]
		rxHdrs[i].Hdr.SetIovlen(1)
		rxHdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&names[i]))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[i][0]))
		h.Level, h.Type = unix.SOL_UDP, unix.UDP_SEGMENT
		h.SetLen(unix.CmsgLen(2))
	}
	recv := func(fd uintptr) bool {
		for i := range dnsBatch {
			rxHdrs[i].Hdr.Namelen = uint32(unsafe.Sizeof(names[i]))
			rxHdrs[i].Hdr.Flags = 0
		}
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&rxHdrs[0])), dnsBatch, unix.MSG_DONTWAIT, 0, 0)
		if e == unix.EAGAIN || e == unix.EINTR {
			return false
		}
		n, errno = int(r), e
		return true
	}
	var k, sent int
	send := func(fd uintptr) bool {
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&txHdrs[sent])), uintptr(k-sent), 0, 0, 0)
		if e == unix.EAGAIN || e == unix.EINTR {
			return false
		}
		n, errno = int(r), e
		return true
	}
	var offs [dnsBatch + 1]int
	var from [dnsBatch]int
	for {
		if err := rc.Read(recv); err != nil {
			return err
		}
		if errno != 0 {
			continue // an ICMP error of an earlier answer
		}
		out = out[:0]
		m := 0
		for i := range n {
			q := in[i*4096 : i*4096+int(rxHdrs[i].Len)]
			var ok bool
			offs[m] = len(out)
			if out, ok = d.answer(out, q); ok {
				from[m] = i
				m++
			}
		}
		offs[m] = len(out)
		// out may have grown: point the iovecs at it only now. A run of
		// answers of one size to one client is one message.
		k = 0
		for j := 0; j < m; {
			size := offs[j+1] - offs[j]
			e := j + 1
			for gso && e < m && offs[e+1]-offs[e] == size && sameAddr(&rxHdrs[from[e]].Hdr, &rxHdrs[from[j]].Hdr) {
				e++
			}
			txIov[k].Base = &out[offs[j]]
			txIov[k].SetLen(offs[e] - offs[j])
			h := &txHdrs[k].Hdr
			h.Iov = &txIov[k]
			h.SetIovlen(1)
			h.Name, h.Namelen = rxHdrs[from[j]].Hdr.Name, rxHdrs[from[j]].Hdr.Namelen
			if e-j > 1 {
				*(*uint16)(unsafe.Pointer(&oob[k][unix.CmsgLen(0)])) = uint16(size)
				h.Control = &oob[k][0]
				h.SetControllen(space)
			} else {
				h.Control = nil
				h.SetControllen(0)
			}
			k++
			j = e
		}
		for sent = 0; sent < k; {
			if err := rc.Write(send); err != nil {
				return err
			}
			if errno != 0 || n <= 0 {
				break // a client gone: drop the rest of the batch
			}
			sent += n
		}
	}
}

// sameAddr reports whether two received messages came from one address.
func sameAddr(a, b *unix.Msghdr) bool {
	if a.Namelen != b.Namelen {
		return false
	}
	return unsafe.String(a.Name, a.Namelen) == unsafe.String(b.Name, b.Namelen)
}
