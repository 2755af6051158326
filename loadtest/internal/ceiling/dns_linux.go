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
// dnsBatch queries, one sendmmsg sends their answers, so the server's
// cost per query is small next to the generator's.
func serveDNS(c *net.UDPConn, d *dnsAnswers) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var (
		rxHdrs, txHdrs [dnsBatch]unix.Mmsghdr
		rxIov, txIov   [dnsBatch]unix.Iovec
		names          [dnsBatch]unix.RawSockaddrInet6
		in             = make([]byte, dnsBatch*4096)
		out            = make([]byte, 0, dnsBatch*512)
		n              int
		errno          syscall.Errno
	)
	for i := range dnsBatch {
		rxIov[i].Base = &in[i*4096]
		rxIov[i].SetLen(4096)
		rxHdrs[i].Hdr.Iov = &rxIov[i]
		rxHdrs[i].Hdr.SetIovlen(1)
		rxHdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&names[i]))
		txHdrs[i].Hdr.Iov = &txIov[i]
		txHdrs[i].Hdr.SetIovlen(1)
		txHdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&names[i]))
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
	for {
		if err := rc.Read(recv); err != nil {
			return err
		}
		if errno != 0 {
			continue // an ICMP error of an earlier answer
		}
		out, k = out[:0], 0
		for i := range n {
			q := in[i*4096 : i*4096+int(rxHdrs[i].Len)]
			var ok bool
			offs[k] = len(out)
			if out, ok = d.answer(out, q); ok {
				txHdrs[k].Hdr.Name = rxHdrs[i].Hdr.Name
				txHdrs[k].Hdr.Namelen = rxHdrs[i].Hdr.Namelen
				k++
			}
		}
		offs[k] = len(out)
		// out may have grown: point the iovecs at it only now.
		for j := range k {
			txIov[j].Base = &out[offs[j]]
			txIov[j].SetLen(offs[j+1] - offs[j])
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
